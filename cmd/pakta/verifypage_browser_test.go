package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromium finds a headless browser for the page tests: skipped without
// one, except in CI, which installs it (.ci/run).
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("no chromium on PATH: CI must install it (.ci/run)")
	}
	t.Skip("no chromium on PATH")
	return ""
}

// TestVerifyPageInBrowser: the page at /verify, in headless Chromium,
// verifies bundles with the WebAssembly verifier after the server that
// served it has stopped: a valid bundle passes, a tampered one fails at
// the check that catches it, and a name holding markup is shown as text.
// It also opens a receipt's link (?bundle=) while the server runs.
func TestVerifyPageInBrowser(t *testing.T) {
	browser := chromium(t)
	if testing.Short() {
		t.Skip("runs a browser")
	}
	dir := t.TempDir()
	p := func(name string) string { return filepath.Join(dir, name) }
	enroll, pledgeJWS := setup(t, dir)
	mustPakta(t, "submit", "--dir", p("log"), "--out", dir, enroll, pledgeJWS) // indexes 1, 2
	// Someone whose name holds markup: the page must print it, not parse it.
	sari := `{"scheme": "nip", "id": "199001012015032001", "name": "Sari <b id=\"injected\">Dewi</b>", "agency": {"code": "7601", "name": "Pemerintah Kabupaten Mamuju"}, "employment": "PNS"}`
	mustPakta(t, "keygen", "--out", p("sari.jwk"))
	write(t, p("sari.json"), sari)
	write(t, p("sari-pledge.json"), `{"signer": `+sari+`, "template": "netralitas-2024", "election": "Pemilu 2024", "place": "Mamuju", "tz": "WITA"}`)
	mustPakta(t, "enroll", "--registrar-key", p("log/registrar.jwk"), "--key", p("sari.jwk"), "--form", p("sari.json"), "--out", p("sari-enroll.jws"))
	mustPakta(t, "sign", "--key", p("sari.jwk"), "--form", p("sari-pledge.json"), "--text", p("text.txt"), "--out", p("sari-pledge.jws"))
	mustPakta(t, "submit", "--dir", p("log"), "--out", dir, p("sari-enroll.jws"), p("sari-pledge.jws")) // 3, 4

	// The page's ?bundle= link reads /v1/entries/N, a restricted read
	// since private reads: this demo server serves entries publicly.
	srv := startServer(t, p("log"), "--public-entries")
	stopped := false
	defer func() {
		if !stopped {
			srv.kill()
		}
	}()
	get := func(path string) []byte {
		resp, err := http.Get(srv.url + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
		}
		return b
	}
	valid := get("/v1/entries/2")
	write(t, p("budi.pakta.json"), string(valid))
	write(t, p("sari.pakta.json"), string(get("/v1/entries/4")))
	write(t, p("tampered.pakta.json"), string(tamper(t, valid)))

	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(browser), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck, chromedp.WindowSize(390, 844))
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(alloc)
	defer cancel()
	ctx, cancelTimeout := context.WithTimeout(ctx, 2*time.Minute)
	defer cancelTimeout()
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 844)); err != nil {
		t.Fatalf("starting %s: %v", browser, err)
	}
	var (
		mu      sync.Mutex
		console []string
	)
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			mu.Lock()
			console = append(console, m.String())
			mu.Unlock()
		}
	}()
	fail := func(format string, args ...any) {
		t.Helper()
		mu.Lock()
		defer mu.Unlock()
		t.Fatalf(format+"\nbrowser console:\n%s", append(args, strings.Join(console, "\n"))...)
	}
	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			fail("%s: %v", what, err)
		}
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.TextContent(chromedp.CSS(sel)))
		if err != nil {
			fail("text of %s: %v", sel, err)
		}
		return s
	}
	shots := t.ArtifactDir()
	// screenshot saves the first screen of a 390×844 phone, and the whole
	// page as name-full.png.
	screenshot := func(name string) {
		t.Helper()
		for file, shot := range map[string]chromedp.Action[[]byte]{
			name + ".png":      chromedp.CaptureScreenshot(),
			name + "-full.png": chromedp.FullScreenshot(100),
		} {
			b, err := chromedp.Run(ctx, shot)
			if err != nil {
				fail("screenshot: %v", err)
			}
			if err := os.WriteFile(filepath.Join(shots, file), b, 0o644); err != nil {
				t.Fatal(err)
			}
			if d := os.Getenv("PAKTA_SCREENS"); d != "" {
				os.WriteFile(filepath.Join(d, file), b, 0o644)
			}
		}
	}

	// A receipt's QR link: the page fetches the bundle from its server.
	do("open a receipt link", chromedp.Navigate(srv.url+"/verify?bundle=/v1/entries/2"),
		chromedp.WaitVisible(chromedp.CSS(`#verdict[data-verdict="pass"]`)))
	if v := text("#verdict"); !strings.Contains(v, "LULUS") {
		fail("the receipt link's verdict is %q, want LULUS", v)
	}
	screenshot("verify-receipt-link")

	// Load the page, then stop the server: from here on, nothing but the
	// browser checks.
	do("load /verify", chromedp.Navigate(srv.url+"/verify"), chromedp.WaitReady(chromedp.CSS(`body[data-ready="1"]`)))
	srv.stop(t)
	stopped = true
	if resp, err := http.Get(srv.url + "/policy.json"); err == nil {
		resp.Body.Close()
		t.Fatal("the server still answers after it was stopped")
	}

	do("verify a valid bundle", chromedp.SetUploadFiles(chromedp.CSS("#bundle-file"), []string{p("budi.pakta.json")}),
		chromedp.WaitVisible(chromedp.CSS(`#verdict[data-verdict="pass"]`)))
	if v := text("#verdict"); v != "HASIL: LULUS, semua pemeriksaan lulus" {
		fail("valid bundle: verdict %q", v)
	}
	if f := text("#facts"); !strings.Contains(f, "Budi Santoso") || !strings.Contains(f, "WITA") || !strings.Contains(f, "UTC") {
		fail("valid bundle: the facts lack the signer or the times in WITA and UTC:\n%s", f)
	}
	screenshot("verify-pass")

	do("verify a tampered bundle", chromedp.SetUploadFiles(chromedp.CSS("#bundle-file"), []string{p("tampered.pakta.json")}),
		chromedp.WaitVisible(chromedp.CSS(`#verdict[data-verdict="fail"]`)))
	if v := text("#verdict"); !strings.Contains(v, "GAGAL") || !strings.Contains(v, "[inclusion]") {
		fail("tampered bundle: verdict %q, want GAGAL at [inclusion]", v)
	}
	if c := text(`li[data-check="inclusion"] .mark`); c != "GAGAL" {
		fail("tampered bundle: the inclusion line says %q", c)
	}
	screenshot("verify-tampered")

	// English, on the same report: the toggle needs no server either.
	do("switch to English", chromedp.Click(chromedp.CSS(`button[data-lang="en"]`)))
	if v := text("#verdict"); v != "VERDICT: FAIL, first failed check: [inclusion]" {
		fail("English verdict %q", v)
	}

	do("verify a bundle whose name holds markup", chromedp.SetUploadFiles(chromedp.CSS("#bundle-file"), []string{p("sari.pakta.json")}),
		chromedp.WaitVisible(chromedp.CSS(`#verdict[data-verdict="pass"]`)))
	injected, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById("injected") !== null`))
	if err != nil || injected {
		fail("a name holding markup became markup (%v)", err)
	}
	if f := text("#facts"); !strings.Contains(f, `Sari <b id="injected">Dewi</b>`) {
		fail("the name is not shown as written:\n%s", f)
	}

	// A claim that does not hold fails the claim check, in the browser.
	do("check a claim", chromedp.Click(chromedp.CSS("#claim-box summary")),
		chromedp.SendKeys(chromedp.CSS("#claim-id"), "199001012015032001"),
		chromedp.SetValue(chromedp.CSS("#claim-date"), "2020-01-01"),
		chromedp.Click(chromedp.CSS(`#claim button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#verdict[data-verdict="fail"]`)))
	if v := text("#verdict"); !strings.Contains(v, "[claim]") {
		fail("a wrong claim: verdict %q", v)
	}
	mu.Lock()
	for _, m := range console {
		if strings.Contains(m, "Content Security Policy") || strings.Contains(m, "Refused") {
			t.Errorf("the page broke its own Content-Security-Policy: %s", m)
		}
	}
	mu.Unlock()
	t.Logf("screenshots in %s", shots)
}

// tamper changes one character of the pledge inside a bundle's entry: the
// entry no longer hashes to the leaf the checkpoint's tree holds.
func tamper(t *testing.T, bundle []byte) []byte {
	t.Helper()
	var b map[string]any
	if err := json.Unmarshal(bundle, &b); err != nil {
		t.Fatal(err)
	}
	entry, err := base64.StdEncoding.DecodeString(b["entry"].(string))
	if err != nil {
		t.Fatal(err)
	}
	s := string(entry)
	i := strings.Index(s, `"jws":"`) + len(`"jws":"`) + 40
	repl := byte('A')
	if s[i] == 'A' {
		repl = 'B'
	}
	entry = []byte(s[:i] + string(repl) + s[i+1:])
	b["entry"] = base64.StdEncoding.EncodeToString(entry)
	out, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
