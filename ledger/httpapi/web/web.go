// Package web serves the signing page (DESIGN.md, "Enrollment requests: the
// employee holds the key"): the page where an employee, on their own phone,
// makes a key that never leaves it, asks to be enrolled, shows the
// registrar a six-digit code, signs the official pledge and keeps the
// receipt.
//
//	GET /                    the page (Indonesian; ?lang=en for English)
//	GET /assets/<name>       its script, style sheet and messages, named by
//	                         content hash and cached as immutable
//	GET /qr/<index>          an SVG QR code of the address of entry index's bundle
//
// Everything else goes to the API handler the page is wrapped around. The
// page is html/template and plain JavaScript embedded in the binary: no
// framework, no CDN, no inline script or style, under a strict
// Content-Security-Policy. Everything the page does, it does through the
// public API: GET /v1/templates, POST /v1/enrollment-requests, GET
// /v1/enrollment-requests/{code}, POST /v1/entries.
package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"
)

//go:embed index.html assets
var files embed.FS

// Languages of the page; the first is the default.
var languages = []string{"id", "en"}

// CSP is the page's Content-Security-Policy: its own origin only, no
// inline script or style, no frames, no plugins, forms to itself.
// Downloads of the receipt are blob: URLs, which navigation allows.
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
	"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// Options configures the page. The zero value is ready to use.
type Options struct {
	// Agencies names agency codes (code → name, "7601" → "Pemerintah
	// Kabupaten Mamuju"): a statement carries the agency's name beside its
	// code, and templates list codes only. The page offers the codes of the
	// published templates and these; for a code without a name it asks
	// the employee to type the name. nil names none.
	Agencies map[string]string
	// BaseURL is the server's public address, for the bundle address in
	// the receipt's QR code ("https://pakta.example.go.id"); "" means the
	// address the request came to (its Host, and https when it came over
	// TLS).
	BaseURL string
}

// asset is an embedded file served under its hashed name.
type asset struct {
	name  string // "app.3f2a9c1b.js"
	ctype string
	data  []byte
}

// Handler serves the page and passes every other request to the API.
type Handler struct {
	api      http.Handler
	opts     Options
	page     map[string][]byte // language → the rendered page
	assets   map[string]*asset // hashed name → asset
	messages map[string]map[string]string
}

// New returns the page in front of api. It fails only if the embedded files
// are broken (a build error, caught by the tests).
func New(api http.Handler, opts Options) (*Handler, error) {
	h := &Handler{api: api, opts: opts, page: map[string][]byte{}, assets: map[string]*asset{}}
	named := map[string]string{} // plain name → hashed name
	err := fs.WalkDir(files, "assets", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := files.ReadFile(p)
		if err != nil {
			return err
		}
		base := path.Base(p)
		ext := path.Ext(base)
		sum := sha256.Sum256(data)
		a := &asset{name: strings.TrimSuffix(base, ext) + "." + hex.EncodeToString(sum[:5]) + ext, data: data, ctype: contentTypes[ext]}
		if a.ctype == "" {
			return fmt.Errorf("web: asset %s: no content type for %q", p, ext)
		}
		h.assets[a.name] = a
		named[base] = a.name
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("web: reading the embedded assets: %w", err)
	}
	msgs, err := files.ReadFile("assets/messages.json")
	if err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	if err := json.Unmarshal(msgs, &h.messages); err != nil {
		return nil, fmt.Errorf("web: messages.json: %w", err)
	}
	agencies, err := json.Marshal(opts.Agencies)
	if err != nil {
		return nil, fmt.Errorf("web: agencies: %w", err)
	}
	if opts.Agencies == nil {
		agencies = []byte("{}")
	}
	for _, lang := range languages {
		m := h.messages[lang]
		if m == nil {
			return nil, fmt.Errorf("web: messages.json has no %q", lang)
		}
		funcs := template.FuncMap{
			"t": func(key string) (string, error) {
				s, ok := m[key]
				if !ok {
					return "", fmt.Errorf("web: no message %q in %q", key, lang)
				}
				return s, nil
			},
			"asset": func(name string) (string, error) {
				hashed, ok := named[name]
				if !ok {
					return "", fmt.Errorf("web: no asset %q", name)
				}
				return "/assets/" + hashed, nil
			},
		}
		tmpl, err := template.New("index.html").Funcs(funcs).ParseFS(files, "index.html")
		if err != nil {
			return nil, fmt.Errorf("web: %w", err)
		}
		var b bytes.Buffer
		if err := tmpl.Execute(&b, map[string]any{"Lang": lang, "Agencies": string(agencies)}); err != nil {
			return nil, fmt.Errorf("web: rendering the page in %q: %w", lang, err)
		}
		h.page[lang] = b.Bytes()
	}
	return h, nil
}

var contentTypes = map[string]string{
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".json": "application/json",
	".svg":  "image/svg+xml",
}

// ServeHTTP serves the page's paths and passes the rest to the API.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	switch {
	case p == "/":
		h.servePage(w, r)
	case strings.HasPrefix(p, "/assets/"):
		h.serveAsset(w, r, strings.TrimPrefix(p, "/assets/"))
	case strings.HasPrefix(p, "/qr/"):
		h.serveQR(w, r, strings.TrimPrefix(p, "/qr/"))
	default:
		h.api.ServeHTTP(w, r)
	}
}

// secure sets the headers every response of the page carries.
func secure(w http.ResponseWriter) {
	hdr := w.Header()
	hdr.Set("Content-Security-Policy", CSP)
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Referrer-Policy", "no-referrer")
	hdr.Set("X-Frame-Options", "DENY")
	hdr.Set("Cross-Origin-Opener-Policy", "same-origin")
}

// onlyGet answers methods other than GET and HEAD with 405.
func onlyGet(w http.ResponseWriter, r *http.Request) bool {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return true
	}
	w.Header().Set("Allow", "GET, HEAD")
	http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	return false
}

func (h *Handler) servePage(w http.ResponseWriter, r *http.Request) {
	if !onlyGet(w, r) {
		return
	}
	lang := languages[0]
	if l := r.URL.Query().Get("lang"); h.page[l] != nil {
		lang = l
	}
	secure(w)
	// The page names its assets by hash: revalidate it, cache them forever.
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Language", lang)
	w.Header().Set("Vary", "Accept-Encoding")
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(h.page[lang]))
}

func (h *Handler) serveAsset(w http.ResponseWriter, r *http.Request, name string) {
	if !onlyGet(w, r) {
		return
	}
	a, ok := h.assets[name]
	if !ok {
		secure(w)
		http.NotFound(w, r)
		return
	}
	secure(w)
	w.Header().Set("Content-Type", a.ctype)
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(a.data))
}

// serveQR serves an SVG QR code of the address of entry index's bundle
// (GET /v1/entries/{index}): what the receipt shows, for a supervisor's
// phone to read. The index must be canonical decimal; the address is built
// here, so the endpoint cannot be made to encode anything else.
func (h *Handler) serveQR(w http.ResponseWriter, r *http.Request, index string) {
	if !onlyGet(w, r) {
		return
	}
	secure(w)
	n, err := strconv.ParseUint(index, 10, 64)
	if err != nil || strconv.FormatUint(n, 10) != index {
		http.Error(w, "not an entry index", http.StatusBadRequest)
		return
	}
	svg, err := qrSVG(h.baseURL(r) + "/v1/entries/" + index)
	if err != nil {
		http.Error(w, "no QR code", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "image/svg+xml")
	w.Header().Set("Cache-Control", "public, max-age=86400")
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(svg))
}

func (h *Handler) baseURL(r *http.Request) string {
	if h.opts.BaseURL != "" {
		return strings.TrimSuffix(h.opts.BaseURL, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}
