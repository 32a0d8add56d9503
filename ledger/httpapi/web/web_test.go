package web

import (
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func newServer(t *testing.T) *httptest.Server {
	t.Helper()
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-From", "api")
		w.WriteHeader(http.StatusTeapot)
	})
	h, err := New(api, Options{Agencies: map[string]string{"7601": `Kab. "Mamuju" <x>`}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, url string) (*http.Response, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

// TestPage: the page and its assets are served with a strict CSP, the
// page is revalidated and its hashed assets cached for good, there is no
// inline script or style, and anything else goes to the API.
func TestPage(t *testing.T) {
	srv := newServer(t)
	for _, tc := range []struct{ query, lang, button string }{
		{"", "id", "Daftar"}, {"?lang=en", "en", "Enroll"}, {"?lang=xx", "id", "Daftar"},
	} {
		resp, body := get(t, srv.URL+"/"+tc.query)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Security-Policy") != CSP || resp.Header.Get("Cache-Control") != "no-cache" {
			t.Fatalf("%s: %d %v", tc.query, resp.StatusCode, resp.Header)
		}
		if !strings.Contains(body, `<html lang="`+tc.lang+`">`) || !strings.Contains(body, `data-t="enroll_button">`+tc.button+`<`) {
			t.Errorf("%s: not in %s", tc.query, tc.lang)
		}
		if regexp.MustCompile(`<script>|<script [^>]*>[^<]|<style|style=|\son[a-z]+=`).MatchString(body) {
			t.Errorf("%s: inline script or style", tc.query)
		}
		// The agencies are escaped into an attribute.
		if !strings.Contains(body, `data-agencies="{&#34;7601&#34;:&#34;Kab. \&#34;Mamuju\&#34; \u003cx\u003e&#34;}"`) {
			t.Errorf("agencies attribute: %s", regexp.MustCompile(`data-agencies="[^"]*"`).FindString(body))
		}
	}
	_, body := get(t, srv.URL+"/")
	assets := regexp.MustCompile(`/assets/[a-z]+\.[0-9a-f]{10}\.[a-z]+`).FindAllString(body, -1)
	if len(assets) != 4 { // icon, css, js, messages
		t.Fatalf("assets %v", assets)
	}
	for _, a := range assets {
		resp, _ := get(t, srv.URL+a)
		if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Cache-Control"), "immutable") || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: %d %v", a, resp.StatusCode, resp.Header)
		}
	}
	if resp, _ := get(t, srv.URL+"/assets/app.js"); resp.StatusCode != 404 {
		t.Errorf("unhashed asset: %d", resp.StatusCode)
	}
	for _, p := range []string{"/v1/templates", "/checkpoint", "/favicon.ico"} {
		if resp, _ := get(t, srv.URL+p); resp.StatusCode != http.StatusTeapot || resp.Header.Get("X-From") != "api" {
			t.Errorf("%s did not reach the API: %d", p, resp.StatusCode)
		}
	}
	resp, err := http.Post(srv.URL+"/", "text/plain", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 405 {
		t.Errorf("POST /: %d", resp.StatusCode)
	}
}

// TestQR: /qr/<index> is an SVG QR code for a canonical index only.
func TestQR(t *testing.T) {
	srv := newServer(t)
	resp, body := get(t, srv.URL+"/qr/42")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/svg+xml" {
		t.Fatalf("%d %v", resp.StatusCode, resp.Header)
	}
	if err := xml.Unmarshal([]byte(body), new(struct{})); err != nil || !strings.Contains(body, "M") {
		t.Fatalf("not an SVG: %v\n%s", err, body)
	}
	for _, p := range []string{"/qr/", "/qr/042", "/qr/-1", "/qr/1x", "/qr/99999999999999999999999"} {
		if resp, _ := get(t, srv.URL+p); resp.StatusCode != 400 {
			t.Errorf("%s: %d", p, resp.StatusCode)
		}
	}
}

// TestMessages: both languages have the same messages, and every key the
// page and its script use is one of them.
func TestMessages(t *testing.T) {
	h, err := New(http.NotFoundHandler(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	var keys [][]string
	for _, lang := range languages {
		var ks []string
		for k := range h.messages[lang] {
			ks = append(ks, k)
		}
		slices.Sort(ks)
		keys = append(keys, ks)
	}
	if !slices.Equal(keys[0], keys[1]) {
		t.Fatalf("id and en differ:\n%v\n%v", keys[0], keys[1])
	}
	html, _ := files.ReadFile("index.html")
	js, _ := files.ReadFile("assets/app.js")
	used := regexp.MustCompile(`data-t="([a-z_]+)"`).FindAllStringSubmatch(string(html), -1)
	used = append(used, regexp.MustCompile(`(?:setStatus|\bt)\('([a-z_]+)'`).FindAllStringSubmatch(string(js), -1)...)
	if len(used) < 40 {
		t.Fatalf("only %d uses found", len(used))
	}
	for _, u := range used {
		if _, ok := h.messages["id"][u[1]]; !ok {
			t.Errorf("message %q is used but not defined", u[1])
		}
	}
}
