package verifypage

import (
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

func serve(t *testing.T, path string, header ...string) *http.Response {
	t.Helper()
	req := httptest.NewRequest("GET", path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	Handler(Options{}).ServeHTTP(w, req)
	return w.Result()
}

func body(t *testing.T, r *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestPage: the page names its versioned assets and the policy, under a
// Content-Security-Policy with no inline script, and holds no inline
// script, style or event handler that the policy would block.
func TestPage(t *testing.T) {
	r := serve(t, "/verify?bundle=/v1/entries/3")
	page := body(t, r)
	if r.StatusCode != 200 || r.Header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("GET /verify: %d %s", r.StatusCode, r.Header.Get("Content-Type"))
	}
	csp := r.Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "script-src 'self' 'wasm-unsafe-eval';", "connect-src 'self'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "'unsafe-eval'") {
		t.Errorf("CSP allows inline script or eval: %q", csp)
	}
	if r.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Error("no X-Content-Type-Options: nosniff")
	}
	if regexp.MustCompile(`<script(?:\s[^>]*)?>\s*[^<\s]`).MatchString(page) || strings.Contains(page, "<style") || regexp.MustCompile(`\son[a-z]+=`).MatchString(page) {
		t.Errorf("the page holds inline script, style or an event handler:\n%s", page)
	}
	if strings.Contains(page, "http://") || strings.Contains(page, "https://") {
		t.Errorf("the page loads something from elsewhere:\n%s", page)
	}
	for _, want := range []string{`data-policy="/policy.json"`, `<html lang="id">`} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %s", want)
		}
	}
	assets := regexp.MustCompile(`/verify/assets/[a-z_.]+\?v=[0-9a-f]+`).FindAllString(page, -1)
	if len(assets) != 4 {
		t.Fatalf("the page names %d versioned assets, want 4: %v", len(assets), assets)
	}
	for _, a := range assets {
		r := serve(t, a, "Accept-Encoding", "gzip")
		if r.StatusCode != 200 || !strings.Contains(r.Header.Get("Cache-Control"), "immutable") {
			t.Errorf("GET %s: %d, Cache-Control %q", a, r.StatusCode, r.Header.Get("Cache-Control"))
		}
		if r2 := serve(t, a, "If-None-Match", r.Header.Get("ETag")); r2.StatusCode != http.StatusNotModified {
			t.Errorf("GET %s with its ETag: %d, want 304", a, r2.StatusCode)
		}
	}
	if !strings.Contains(body(t, serve(t, "/verify?lang=en")), `<html lang="en">`) {
		t.Error("?lang=en does not start the page in English")
	}
}

// TestWasmAsset: the verifier goes out gzipped to browsers, which all
// accept it, and inflated to a client that does not; always as
// application/wasm, which WebAssembly.instantiateStreaming requires.
func TestWasmAsset(t *testing.T) {
	r := serve(t, "/verify/assets/verify.wasm", "Accept-Encoding", "gzip, deflate, br")
	if r.Header.Get("Content-Type") != "application/wasm" || r.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("verify.wasm: %q, encoding %q", r.Header.Get("Content-Type"), r.Header.Get("Content-Encoding"))
	}
	zr, err := gzip.NewReader(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	wasm, err := io.ReadAll(zr)
	if err != nil || !strings.HasPrefix(string(wasm), "\x00asm") {
		t.Fatalf("the gzipped verifier is not WebAssembly: %v", err)
	}
	for _, ae := range []string{"", "identity", "gzip;q=0"} {
		plain := body(t, serve(t, "/verify/assets/verify.wasm", "Accept-Encoding", ae))
		if plain != string(wasm) {
			t.Errorf("Accept-Encoding %q: %d bytes, not the inflated verifier", ae, len(plain))
		}
	}
	if r := serve(t, "/verify/assets/verify.wasm.gz"); r.StatusCode != 404 {
		t.Errorf("the .gz name is served: %d", r.StatusCode)
	}
	if r := serve(t, "/verify/assets/verify.wasm.sum"); r.StatusCode != 404 {
		t.Errorf("the build record is served: %d", r.StatusCode)
	}
	if r := serve(t, "/verify/assets/verify.js"); r.Header.Get("Cache-Control") != "no-cache" {
		t.Errorf("an unversioned asset URL is cached for good: %q", r.Header.Get("Cache-Control"))
	}
	if r := serve(t, "/verify/other"); r.StatusCode != 404 {
		t.Errorf("GET /verify/other: %d", r.StatusCode)
	}
}
