// Package verifypage serves the verification page of a pakta server:
//
//	GET /verify[?bundle=URL][&lang=en]   the page
//	GET /verify/assets/{name}            its script, style sheet and verifier
//
// The page checks a bundle in the reader's browser, with the verifier of
// package verify compiled to WebAssembly (verify/wasm), against the trust
// policy fetched once from the server (GET /policy.json) or dropped by the
// reader beside the bundle. Once the page, the verifier and the policy are
// loaded nothing more is asked of the server, so the page proves a bundle
// without trusting the server that served it (a reader who does not trust
// the policy either drops their own copy). ?bundle= names a bundle on the
// same server, as a receipt's QR code does (/v1/entries/{index}); the page
// fetches it and verifies it.
//
// The page is html/template and plain JavaScript, with no framework and no
// outside resource, under a Content-Security-Policy that allows scripts
// only from the server itself (no inline script) and WebAssembly
// compilation ('wasm-unsafe-eval'). Everything the page shows from a bundle
// is inserted as text, never as markup.
//
// The verifier (assets/verify.wasm.gz, the gzipped output of
// GOOS=js GOARCH=wasm go build -trimpath -ldflags=-s ./verify/wasm) and
// Go's wasm_exec.js are committed, built by go generate; a test rebuilds
// them and fails when the committed files differ from the source.
package verifypage

//go:generate go test -run ^TestAssetsUpToDate$ -update

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

//go:embed page.html.tmpl
var pageSource string

var pageTemplate = template.Must(template.New("page").Parse(pageSource))

//go:embed assets/verify.js assets/verify.css assets/wasm_exec.js assets/verify.wasm.gz
var assetFiles embed.FS

// CSP is the page's Content-Security-Policy: scripts, styles and fetches
// from the server itself only, no inline script or style, and
// 'wasm-unsafe-eval', which WebAssembly compilation needs (it allows no
// JavaScript eval).
const CSP = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; connect-src 'self'; " +
	"img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// Options configures the page. The zero value serves it as pakta serve
// does.
type Options struct {
	// PolicyURL is where the page fetches the trust policy; "" means
	// /policy.json.
	PolicyURL string
}

// asset is one file the page loads.
type asset struct {
	body        []byte
	contentType string
	gzipped     bool   // body is gzip: sent as is to clients that accept it
	etag        string // of the content the client ends up with
}

func (a *asset) version() string { return strings.Trim(a.etag, `"`) }

var loadAssets = sync.OnceValues(func() (map[string]*asset, error) {
	out := map[string]*asset{}
	for name, ct := range map[string]string{
		"verify.js":      "text/javascript; charset=utf-8",
		"verify.css":     "text/css; charset=utf-8",
		"wasm_exec.js":   "text/javascript; charset=utf-8",
		"verify.wasm.gz": "application/wasm",
	} {
		b, err := assetFiles.ReadFile("assets/" + name)
		if err != nil {
			return nil, fmt.Errorf("verifypage: %w", err)
		}
		sum := sha256.Sum256(b)
		a := &asset{body: b, contentType: ct, etag: `"` + hex.EncodeToString(sum[:12]) + `"`}
		if n, ok := strings.CutSuffix(name, ".gz"); ok {
			a.gzipped, name = true, n
		}
		out[name] = a
	}
	return out, nil
})

// Handler serves the page and its assets under /verify.
func Handler(o Options) http.Handler {
	if o.PolicyURL == "" {
		o.PolicyURL = "/policy.json"
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /verify", func(w http.ResponseWriter, r *http.Request) { servePage(w, r, o) })
	mux.HandleFunc("GET /verify/assets/{name}", serveAsset)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "verifypage: no such page: "+r.URL.Path, http.StatusNotFound)
	})
	return mux
}

// page is what the template fills in: asset URLs carry their version, so
// that a browser caches them for good and never mixes two builds.
type page struct {
	Lang                    string
	CSS, JS, WasmExec, Wasm string
	Policy                  string
}

func servePage(w http.ResponseWriter, r *http.Request, o Options) {
	assets, err := loadAssets()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	url := func(name string) string { return "/verify/assets/" + name + "?v=" + assets[name].version() }
	p := page{Lang: "id", CSS: url("verify.css"), JS: url("verify.js"), WasmExec: url("wasm_exec.js"), Wasm: url("verify.wasm"), Policy: o.PolicyURL}
	if r.URL.Query().Get("lang") == "en" {
		p.Lang = "en"
	}
	var b bytes.Buffer
	if err := pageTemplate.Execute(&b, p); err != nil {
		http.Error(w, "verifypage: "+err.Error(), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	securityHeaders(h)
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	h.Set("Content-Length", strconv.Itoa(b.Len()))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(b.Bytes())
	}
}

func securityHeaders(h http.Header) {
	h.Set("Content-Security-Policy", CSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
}

func serveAsset(w http.ResponseWriter, r *http.Request) {
	assets, err := loadAssets()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	a, ok := assets[r.PathValue("name")]
	if !ok {
		http.Error(w, "verifypage: no such asset: "+r.PathValue("name"), http.StatusNotFound)
		return
	}
	h := w.Header()
	securityHeaders(h)
	h.Set("Content-Type", a.contentType)
	h.Set("ETag", a.etag)
	// A versioned URL never changes content: cache it for good.
	if r.URL.Query().Get("v") == a.version() {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "no-cache")
	}
	if a.gzipped {
		h.Set("Vary", "Accept-Encoding")
	}
	if match := r.Header.Get("If-None-Match"); match != "" && strings.Contains(match, a.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	if a.gzipped && acceptsGzip(r) {
		h.Set("Content-Encoding", "gzip")
	} else if a.gzipped {
		// A client that takes no gzip (rare) gets the wasm inflated.
		zr, err := gzip.NewReader(bytes.NewReader(a.body))
		if err != nil {
			http.Error(w, "verifypage: "+err.Error(), http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusOK)
		if r.Method != http.MethodHead {
			io.Copy(w, zr)
		}
		return
	}
	h.Set("Content-Length", strconv.Itoa(len(a.body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(a.body)
	}
}

// acceptsGzip reads Accept-Encoding, honouring gzip;q=0.
func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(coding), "gzip") && strings.TrimSpace(coding) != "*" {
			continue
		}
		if q, ok := strings.CutPrefix(strings.ReplaceAll(params, " ", ""), "q="); ok {
			if v, err := strconv.ParseFloat(q, 64); err == nil && v == 0 {
				return false
			}
		}
		return true
	}
	return false
}
