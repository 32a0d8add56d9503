package verifypage

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rebuild the committed verifier (go generate)")

// wasmPackage is the verifier the page runs.
const wasmPackage = "github.com/pakta-id/pakta/verify/wasm"

// sumFile records how the committed verify.wasm.gz was built: the Go
// toolchain and the SHA-256 and size of the uncompressed wasm.
const sumFile = "assets/verify.wasm.sum"

// buildWasm builds the verifier as the page serves it: reproducible
// (-trimpath, no VCS stamp, no GOFLAGS from the environment) and without
// its symbol table (-ldflags=-s).
func buildWasm(t *testing.T) []byte {
	t.Helper()
	out := filepath.Join(t.TempDir(), "verify.wasm")
	cmd := exec.Command("go", "build", "-trimpath", "-buildvcs=false", "-ldflags=-s", "-o", out, wasmPackage)
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm", "GOFLAGS=", "GOWASM=", "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", wasmPackage, err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// gzipped compresses deterministically: no name, no time in the header.
func gzipped(b []byte) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

func sumLine(wasm []byte) string {
	s := sha256.Sum256(wasm)
	return fmt.Sprintf("%s\nsha256 %s\nsize %d\n", runtime.Version(), hex.EncodeToString(s[:]), len(wasm))
}

func goroot(t *testing.T) string {
	b, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		t.Fatalf("go env GOROOT: %v", err)
	}
	return strings.TrimSpace(string(b))
}

// TestAssetsUpToDate rebuilds the verifier and fails when the committed
// assets/verify.wasm.gz is not what the source builds to, byte for byte,
// or wasm_exec.js is not the toolchain's. The build is reproducible only
// with the same Go toolchain: under another one the test says so and
// skips. With -update (go generate) it writes the assets instead.
func TestAssetsUpToDate(t *testing.T) {
	if testing.Short() && !*update {
		t.Skip("builds the WebAssembly verifier (a minute cold)")
	}
	execJS, err := os.ReadFile(filepath.Join(goroot(t), "lib", "wasm", "wasm_exec.js"))
	if err != nil {
		t.Fatal(err)
	}
	wasm := buildWasm(t)
	if *update {
		for name, b := range map[string][]byte{
			"assets/verify.wasm.gz": gzipped(wasm),
			sumFile:                 []byte(sumLine(wasm)),
			"assets/wasm_exec.js":   execJS,
		} {
			if err := os.WriteFile(name, b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		t.Logf("wrote the verifier: %d bytes, %d gzipped", len(wasm), len(gzipped(wasm)))
		return
	}
	recorded, err := os.ReadFile(sumFile)
	if err != nil {
		t.Fatal(err)
	}
	if toolchain, _, _ := strings.Cut(string(recorded), "\n"); toolchain != runtime.Version() {
		t.Skipf("the committed verifier was built by %s and this is %s: a build is byte-reproducible only with the same toolchain", toolchain, runtime.Version())
	}
	if got := sumLine(wasm); got != string(recorded) {
		t.Errorf("verify/wasm builds to\n%s\nbut %s records\n%s\nrun go generate ./ledger/httpapi/verifypage", got, sumFile, recorded)
	}
	committed, err := assetFiles.ReadFile("assets/verify.wasm.gz")
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(committed))
	if err != nil {
		t.Fatal(err)
	}
	inflated, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(inflated, wasm) {
		t.Errorf("the committed verify.wasm.gz (%d bytes inflated) is not what verify/wasm builds to (%d bytes): run go generate ./ledger/httpapi/verifypage", len(inflated), len(wasm))
	}
	committedJS, _ := assetFiles.ReadFile("assets/wasm_exec.js")
	if !bytes.Equal(committedJS, execJS) {
		t.Errorf("assets/wasm_exec.js is not this toolchain's lib/wasm/wasm_exec.js: run go generate ./ledger/httpapi/verifypage")
	}
}

// TestVerifierDependencies: the browser's verifier carries no part of the
// log (Pebble, cobra, ledger) and no renderer.
func TestVerifierDependencies(t *testing.T) {
	cmd := exec.Command("go", "list", "-deps", wasmPackage)
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm", "GOFLAGS=")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		for _, banned := range []string{"github.com/cockroachdb/", "github.com/spf13/cobra", "github.com/pakta-id/pakta/ledger", "github.com/pakta-id/pakta/verify/render", "codeberg.org/go-pdf/", "net/http"} {
			if strings.HasPrefix(dep, banned) {
				t.Errorf("verify/wasm depends on %s", dep)
			}
		}
	}
}
