package main

import (
	"context"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/pakta-id/pakta/ledger"
	"github.com/pakta-id/pakta/ledger/httpapi"
	"github.com/pakta-id/pakta/ledger/httpapi/web"
)

// The signing page in a real browser (Debian's chromium, driven over the
// DevTools protocol) against the real server on a loopback port over a real
// log, with a roster: enroll (a name in another form is corrected to the
// roster's), approve through the CLI, sign, receipt, and the receipt's
// bundle verifies with pakta verify; the same with the network cut before
// the pledge is submitted (it is sent when the network is back); and a
// second browser context has no key, while the first cannot export its own.
// Screenshots of every step, at phone size (390×844 CSS pixels), are
// written to the test's artifact directory (go test -artifacts).

// requireBrowser, when set (as .ci/run sets it), turns a missing chromium
// into a failure instead of a skip.
const requireBrowser = "PAKTA_REQUIRE_BROWSER"

func findChromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv(requireBrowser) != "" {
		t.Fatalf("chromium is not installed, and %s is set: apt-get install chromium", requireBrowser)
	}
	t.Skip("chromium is not installed (apt-get install chromium): skipping the browser tests")
	return ""
}

const (
	budiNIP = "198703152010011002"
	sitiNIP = "199001012015032001"
)

// pageEnv is a log with a template and a roster, served with the page.
type pageEnv struct {
	dir, url, policy, registrar string
}

func newPageEnv(t *testing.T) *pageEnv {
	t.Helper()
	dir := t.TempDir()
	p := func(name string) string { return filepath.Join(dir, name) }
	mustPakta(t, "init", "--dir", p("log"), "--origin", "pakta.test/page")
	write(t, p("text.txt"), "Saya, Aparatur Sipil Negara, berjanji:\n1. menjaga netralitas sebelum, selama, dan sesudah pemilihan;\n2. menghindari konflik kepentingan dan tidak memihak pasangan calon mana pun;\n3. bijak bermedia sosial, tidak menyebarkan ujaran kebencian atau hoaks;\n4. menolak politik uang dan segala bentuk pemberian.\n")
	deadline := time.Now().Add(30 * 24 * time.Hour).In(time.FixedZone("WITA", 8*3600)).Format(time.RFC3339)
	mustPakta(t, "sign", "template", "--key", p("log/registrar.jwk"), "--id", "netralitas-pilkada-2029", "--election", "Pilkada 2029",
		"--agency", "7601", "--deadline", deadline, "--text", p("text.txt"), "--out", p("template.jws"))
	mustPakta(t, "submit", "--dir", p("log"), "--out", dir, p("template.jws"))
	write(t, p("pegawai.csv"), "NIP;Nama;Unit Kerja;Status\n"+
		"19870315 201001 1 002;Budi Santoso;Bagian Umum;PNS\n"+
		sitiNIP+";Siti Aminah;Dinas Kesehatan;PNS\n"+
		"198203102008012003;Rahmat Hidayat;Bagian Umum;PNS\n")
	mustPakta(t, "roster", "import", "--dir", p("log"), p("pegawai.csv"))

	// As serve wires it: the roster into the request check, the page in
	// front of the API.
	d := dataDir(p("log"))
	var cfg ledger.Config
	if n, err := loadServeRoster(d, &cfg); err != nil || n != 3 {
		t.Fatalf("roster: %d people, %v", n, err)
	}
	l, err := d.openLogConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	page, err := web.New(httpapi.New(l, httpapi.Options{}), web.Options{Agencies: map[string]string{"7601": "Pemerintah Kabupaten Mamuju"}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(page)
	t.Cleanup(func() {
		srv.Close()
		l.Close()
	})
	return &pageEnv{dir: dir, url: srv.URL, policy: d.policy(), registrar: d.registrar()}
}

// tab is one browser tab at phone size, in the WITA zone.
type tab struct {
	t     *testing.T
	ctx   context.Context
	shots string
}

func newTab(t *testing.T, parent context.Context, shots string, opts ...chromedp.ContextOption) *tab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(parent, opts...)
	t.Cleanup(cancel)
	tb := &tab{t: t, ctx: ctx, shots: shots}
	// The first Run starts the tab; its context must have no timeout.
	tb.do(chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: "Asia/Makassar"})
			return err
		}))
	go func() {
		for m, err := range chromedp.Console(ctx) {
			if err != nil {
				return
			}
			if ctx.Err() == nil {
				t.Logf("browser console: %s", m)
			}
		}
	}()
	return tb
}

func (tb *tab) do(actions ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 20*time.Second)
	defer cancel()
	if chromedp.FromContext(tb.ctx).Target == nil {
		ctx = tb.ctx // the first run allocates the tab
	}
	if err := chromedp.Do(ctx, actions...); err != nil {
		tb.t.Fatalf("browser: %v", err)
	}
}

func evalIn[T any](tb *tab, js string) T {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 20*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		tb.t.Fatalf("browser: %s: %v", js, err)
	}
	return v
}

func (tb *tab) text(id string) string {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 20*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.TextContent(chromedp.ID(id)))
	if err != nil {
		tb.t.Fatalf("browser: text of #%s: %v", id, err)
	}
	return strings.TrimSpace(s)
}

// poll waits until the expression is true.
func (tb *tab) poll(js string) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 20*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](js)); err != nil {
		tb.t.Fatalf("browser: waiting for %s: %v", js, err)
	}
}

// visible waits until the element with id is shown.
func (tb *tab) visible(id string) {
	tb.t.Helper()
	tb.do(chromedp.WaitVisible(chromedp.ID(id)))
}

// shot saves a screenshot of the viewport.
func (tb *tab) shot(name string) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 20*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		tb.t.Fatalf("screenshot %s: %v", name, err)
	}
	path := filepath.Join(tb.shots, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		tb.t.Fatal(err)
	}
	tb.t.Logf("screenshot %s", path)
}

// offline cuts the tab's network (and says so to navigator.onLine), or
// restores it.
func (tb *tab) offline(off bool) {
	tb.t.Helper()
	tb.do(chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		if _, err := cdp.Call(ctx, tg, network.Enable, network.EnableParams{}); err != nil {
			return err
		}
		var rules []*network.Conditions
		if off {
			rules = []*network.Conditions{{Offline: true, DownloadThroughput: -1, UploadThroughput: -1}}
		}
		if _, err := cdp.Call(ctx, tg, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{MatchedNetworkConditions: rules}); err != nil {
			return err
		}
		_, err := cdp.Call(ctx, tg, network.OverrideNetworkState, network.OverrideNetworkStateParams{Offline: off, DownloadThroughput: -1, UploadThroughput: -1})
		return err
	}))
}

// stored is the page's IndexedDB record: what the page keeps, and whether
// its private key can be exported (it must not).
const storedJS = `new Promise((resolve, reject) => {
  const req = indexedDB.open('pakta', 1);
  req.onupgradeneeded = () => req.result.createObjectStore('state');
  req.onerror = () => reject(req.error);
  req.onsuccess = () => {
    const db = req.result;
    const get = db.transaction('state').objectStore('state').get('me');
    get.onerror = () => reject(get.error);
    get.onsuccess = async () => {
      const st = get.result;
      db.close();
      if (!st) { resolve({has_key: false}); return; }
      let exported = 'no error';
      try { await crypto.subtle.exportKey('jwk', st.keys.privateKey); } catch (e) { exported = e.name; }
      resolve({has_key: true, kid: st.kid, alg: st.alg, extractable: st.keys.privateKey.extractable,
        export_error: exported, pending: !!st.pending, receipt: !!st.receipt});
    };
  };
})`

type storedState struct {
	HasKey      bool   `json:"has_key"`
	KID         string `json:"kid"`
	Alg         string `json:"alg"`
	Extractable bool   `json:"extractable"`
	ExportError string `json:"export_error"`
	Pending     bool   `json:"pending"`
	Receipt     bool   `json:"receipt"`
}

// enroll fills in step 1 and returns the code the page shows.
func (tb *tab) enroll(url, nip, name, shot string) string {
	tb.t.Helper()
	tb.do(chromedp.Navigate(url))
	tb.visible("enroll-form")
	tb.do(chromedp.SendKeys(chromedp.ID("pid"), nip), chromedp.SendKeys(chromedp.ID("name"), name))
	if shot != "" {
		tb.shot(shot)
	}
	tb.do(chromedp.Click(chromedp.ID("enroll-button")))
	return ""
}

// code waits for the code screen and returns the code and the kid's first
// 8 characters as the page shows them.
func (tb *tab) code() (string, string) {
	tb.t.Helper()
	tb.visible("code-value")
	code := tb.text("code-value")
	if !regexp.MustCompile(`^[0-9]{3}-[0-9]{3}$`).MatchString(code) {
		tb.t.Fatalf("the page shows code %q", code)
	}
	return code, tb.text("kid8")
}

// approve approves a request through the CLI, checking that it shows the
// registrar the kid the phone shows.
func (e *pageEnv) approve(t *testing.T, code, kid8, name string) {
	t.Helper()
	c, out, errs := pakta(t, "enroll", "approve", "--server", e.url, "--registrar-key", e.registrar, "--yes", code)
	if c != 0 || !strings.Contains(errs, kid8) || !strings.Contains(errs, name) || !strings.Contains(out, "approved "+code) {
		t.Fatalf("enroll approve %s: exit %d\n%s\n%s", code, c, out, errs)
	}
}

// sign waits for step 2, fills it in and signs.
func (tb *tab) sign(shot string) {
	tb.t.Helper()
	tb.visible("sign-button")
	if got := tb.text("election"); got != "Pilkada 2029" {
		tb.t.Fatalf("the page shows election %q", got)
	}
	if got := tb.text("text"); !strings.HasPrefix(got, "Saya, Aparatur Sipil Negara") {
		tb.t.Fatalf("the page shows the text %q", got)
	}
	tb.do(chromedp.SendKeys(chromedp.ID("place"), "Mamuju"), chromedp.Click(chromedp.ID("agree")))
	if shot != "" {
		tb.shot(shot)
	}
	tb.do(chromedp.Click(chromedp.ID("sign-button")))
}

// receipt waits for step 3, checks it and returns the bundle the page
// offers for download, written to a file.
func (tb *tab) receipt(e *pageEnv, name, nip, shot string) string {
	tb.t.Helper()
	tb.visible("download")
	if got := tb.text("r-name"); got != name {
		tb.t.Errorf("receipt name %q, want %q", got, name)
	}
	if got := tb.text("r-id"); got != nip {
		tb.t.Errorf("receipt id %q, want %q", got, nip)
	}
	if got := tb.text("r-template"); got != "netralitas-pilkada-2029" {
		tb.t.Errorf("receipt template %q", got)
	}
	if got := tb.text("r-logged"); !strings.HasSuffix(got, " WITA") {
		tb.t.Errorf("receipt logged at %q: not in the device's zone", got)
	}
	index := tb.text("r-index")
	if !evalIn[bool](tb, `new Promise(r => { const i = document.getElementById('qr'); i.complete ? r(i.naturalWidth > 0) : (i.onload = () => r(i.naturalWidth > 0), i.onerror = () => r(false)); })`) {
		tb.t.Error("the receipt's QR code did not load")
	}
	if shot != "" {
		tb.shot(shot)
	}
	// The download is a blob: URL of the bundle the page keeps (the CSP
	// lets no script fetch blob: URLs, this test's included).
	if href := evalIn[string](tb, `document.getElementById('download').href`); !strings.HasPrefix(href, "blob:") {
		tb.t.Errorf("download link %q", href)
	}
	bundle := evalIn[string](tb, strings.Replace(storedJS, "resolve({has_key: true", "resolve(st.receipt.bundle); ({has_key: true", 1))
	file := evalIn[string](tb, `document.getElementById('download').download`)
	if file != index+".pakta.json" {
		tb.t.Errorf("download named %q, index %s", file, index)
	}
	path := filepath.Join(e.dir, file)
	if err := os.WriteFile(path, []byte(bundle), 0o644); err != nil {
		tb.t.Fatal(err)
	}
	return path
}

func TestSigningPageBrowser(t *testing.T) {
	chromium := findChromium(t)
	start := time.Now()
	e := newPageEnv(t)
	shots := t.ArtifactDir()
	t.Logf("screenshots in %s", shots)

	alloc, cancel := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromium), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.WindowSize(390, 844), chromedp.Flag("no-first-run", true), chromedp.Flag("disable-extensions", true))
	defer cancel()
	browser, cancelBrowser := chromedp.NewContext(alloc)
	defer cancelBrowser()
	if err := chromedp.Do(browser); err != nil { // start the browser
		t.Fatalf("starting %s: %v", chromium, err)
	}

	// Budi types his name in another form than the roster's: the server
	// answers 409 with the roster's form, which the page shows and signs
	// again on a tap.
	budi := newTab(t, browser, shots, chromedp.WithNewBrowserContext())
	budi.enroll(e.url, "19870315 201001 1 002", "budi  SANTOSO", "1-daftar")
	budi.visible("fix-button")
	if got := budi.text("fix-name"); got != "Budi Santoso" {
		t.Fatalf("the roster's form shown: %q", got)
	}
	budi.shot("1-daftar-roster")
	budi.do(chromedp.Click(chromedp.ID("fix-button")))
	code, kid8 := budi.code()
	budi.shot("1-daftar-kode")
	st := evalIn[storedState](budi, storedJS)
	if !st.HasKey || st.Extractable || st.ExportError != "InvalidAccessError" || !strings.HasPrefix(st.KID, kid8) || st.Alg != "EdDSA" {
		t.Fatalf("the stored key: %+v", st)
	}
	e.approve(t, code, kid8, `"Budi Santoso"`)
	budi.sign("2-tanda-tangan")
	bundle := budi.receipt(e, "Budi Santoso", "19870315 201001 1 002", "3-tanda-terima")
	if out := mustPakta(t, "verify", "--lang", "en", "--policy", e.policy, "--nip", budiNIP, "--date", time.Now().In(time.FixedZone("WITA", 8*3600)).Format("2006-01-02"), bundle); !strings.Contains(out, "PASS") {
		t.Fatalf("pakta verify:\n%s", out)
	}
	// The receipt stays after a reload: it is in IndexedDB.
	budi.do(chromedp.Reload())
	budi.visible("download")

	// A second context (another profile: another origin's storage) holds
	// no key, and the first cannot export its own.
	other := newTab(t, browser, shots, chromedp.WithNewBrowserContext())
	other.do(chromedp.Navigate(e.url))
	other.visible("enroll-form")
	if st := evalIn[storedState](other, storedJS); st.HasKey {
		t.Fatalf("a second context reads a key: %+v", st)
	}
	other.do(chromedp.Click(chromedp.ID("lang")))
	if got := other.text("enroll-button"); got != "Enroll" {
		t.Errorf("in English the button reads %q", got)
	}
	other.shot("4-konteks-lain-en")
	if st := evalIn[storedState](budi, storedJS); !st.HasKey || st.ExportError != "InvalidAccessError" || !st.Receipt {
		t.Fatalf("Budi's key after signing: %+v", st)
	}

	// Siti signs with the network cut: the pledge is kept on the phone and
	// sent when the network is back.
	siti := newTab(t, browser, shots, chromedp.WithNewBrowserContext())
	siti.enroll(e.url, sitiNIP, "Siti Aminah", "")
	code, kid8 = siti.code()
	e.approve(t, code, kid8, `"Siti Aminah"`)
	siti.visible("sign-button")
	siti.offline(true)
	siti.sign("")
	siti.poll(`document.getElementById('status').className === 'warn'`)
	if st := evalIn[storedState](siti, storedJS); !st.Pending || st.Receipt {
		t.Fatalf("offline, the signed pledge is not kept: %+v", st)
	}
	siti.shot("2-tanda-tangan-offline")
	siti.offline(false)
	bundle = siti.receipt(e, "Siti Aminah", "19900101 201503 2 001", "3-tanda-terima-offline")
	mustPakta(t, "verify", "--policy", e.policy, bundle)
	if st := evalIn[storedState](siti, storedJS); st.Pending || !st.Receipt {
		t.Fatalf("after the network came back: %+v", st)
	}
	t.Logf("browser test took %s", time.Since(start).Round(time.Millisecond))
}
