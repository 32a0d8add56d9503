package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pakta-id/pakta/ledger"
	"github.com/pakta-id/pakta/ledger/httpapi"
	"github.com/pakta-id/pakta/ledger/httpapi/web"
	"github.com/pakta-id/pakta/pledge"
	"github.com/pakta-id/pakta/pledge/roster"
)

// TestAssemblyOverHTTP is the signing page's path for a whole agency,
// scripted over HTTP (the browser test drives the page itself for a few):
// 300 people on the roster; 290 come, each makes a key of their own (never
// seen by anyone else: here, a variable of that employee's goroutine) and
// posts an enrollment request; the registrar approves every code with
// "pakta enroll approve"; 200 sign before the template's deadline and 90
// after it; "pakta report" then counts 200 on time, 90 late and 10 not
// signed, judged by logged_at.
func TestAssemblyOverHTTP(t *testing.T) {
	const people, absent, late = 300, 10, 90
	dir := t.TempDir()
	p := func(name string) string { return filepath.Join(dir, name) }
	mustPakta(t, "init", "--dir", p("log"), "--origin", "pakta.test/assembly")
	wib := time.FixedZone("WIB", 7*3600)
	// Due in ten minutes; the late ones sign after the log's clock is
	// moved on by a quarter of an hour.
	deadline := time.Now().Add(10 * time.Minute).In(wib).Truncate(time.Second)
	write(t, p("text.txt"), "Saya menjaga netralitas ASN: tidak memihak, bijak bermedia sosial, dan menolak politik uang.\n")
	mustPakta(t, "sign", "template", "--key", p("log/registrar.jwk"), "--id", "netralitas-2029", "--election", "Pemilu 2029",
		"--agency", "1810", "--deadline", deadline.Format(time.RFC3339), "--text", p("text.txt"), "--out", p("template.jws"))
	mustPakta(t, "submit", "--dir", p("log"), "--out", dir, p("template.jws"))
	tb, err := os.ReadFile(p("template.jws"))
	if err != nil {
		t.Fatal(err)
	}
	tmplJWS, err := pledge.Parse(bytes.TrimSpace(tb))
	if err != nil {
		t.Fatal(err)
	}
	tmpl := tmplJWS.Statement.(*pledge.Template)

	// The roster, as HR exports it.
	var csv strings.Builder
	csv.WriteString("NIP,Nama,Unit Kerja,Status\n")
	units := []string{"Sekretariat", "Dinas Pendidikan", "Dinas Kesehatan", "Kecamatan Mesuji Timur"}
	for i := range people {
		birth := time.Date(1975, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i*11)
		fmt.Fprintf(&csv, "%s%d01%d%03d,Pegawai %03d,%s,PNS\n", birth.Format("20060102"), birth.Year()+22, 1+i%2, 1+i%999, i, units[i%len(units)])
	}
	write(t, p("pegawai.csv"), csv.String())
	mustPakta(t, "roster", "import", "--dir", p("log"), p("pegawai.csv"))
	r, err := readRoster(p("pegawai.csv"))
	if err != nil {
		t.Fatal(err)
	}

	// The server, as serve wires it, with a clock that can be moved on.
	var offset atomic.Int64
	clock := func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	d := dataDir(p("log"))
	cfg := ledger.Config{Clock: clock}
	if _, err := loadServeRoster(d, &cfg); err != nil {
		t.Fatal(err)
	}
	l, err := d.openLogConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	page, err := web.New(httpapi.New(l, httpapi.Options{}), web.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(page)
	closed := false
	defer func() {
		if !closed {
			srv.Close()
			l.Close()
		}
	}()

	// Each employee's device: a key made there, a request signed with it.
	agency := pledge.Agency{Code: "1810", Name: "Pemerintah Kabupaten Mesuji"}
	type device struct {
		subject pledge.Person
		key     *pledge.PrivateKey
		code    string
	}
	devices := make([]*device, 0, people-absent)
	for i, person := range r.People {
		if i%(people/absent) == 7 { // ten stay away
			continue
		}
		alg := pledge.EdDSA
		if i%5 == 0 {
			alg = pledge.ES256 // a browser without Ed25519
		}
		key, err := pledge.GenerateKey(alg, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		devices = append(devices, &device{subject: person.Subject(agency), key: key})
	}
	if len(devices) != people-absent {
		t.Fatalf("%d devices", len(devices))
	}
	parallel(t, devices, func(dv *device) error {
		e := &pledge.Enrollment{Type: pledge.TypeEnrollment, Subject: dv.subject, JWK: dv.key.Public(), ValidFrom: clock().In(wib).Format(time.RFC3339)}
		jws, err := pledge.SignRequest(e, dv.key)
		if err != nil {
			return err
		}
		status, body, err := postJOSE(srv.URL+"/v1/enrollment-requests", jws)
		if err != nil || status != http.StatusCreated {
			return fmt.Errorf("request of %s: %d %s %v", dv.subject.ID, status, body, err)
		}
		var s struct{ Code, KID string }
		if err := json.Unmarshal(body, &s); err != nil || s.KID != dv.key.KeyID() {
			return fmt.Errorf("request of %s: %s %v", dv.subject.ID, body, err)
		}
		dv.code = s.Code
		return nil
	})

	// The registrar approves each code with the CLI, after meeting the
	// person (here: checking the kid the device shows).
	start := time.Now()
	for _, dv := range devices {
		code, out, errs := pakta(t, "enroll", "approve", "--server", srv.URL, "--registrar-key", d.registrar(), "--yes", dv.code)
		if code != 0 || !strings.Contains(errs, dv.key.KeyID()[:8]) || !strings.Contains(out, "approved "+dv.code) {
			t.Fatalf("approve %s: exit %d\n%s%s", dv.code, code, out, errs)
		}
	}
	t.Logf("%d approvals through the CLI in %s", len(devices), time.Since(start).Round(time.Millisecond))

	// The devices learn they were approved, and sign: most before the
	// deadline, the rest after it.
	sign := func(dvs []*device) {
		parallel(t, dvs, func(dv *device) error {
			status, body, err := getURL(srv.URL + "/v1/enrollment-requests/" + dv.code)
			if err != nil || status != 200 || !bytes.Contains(body, []byte(`"approved"`)) {
				return fmt.Errorf("status of %s: %d %s %v", dv.code, status, body, err)
			}
			pl, err := pledge.NewPledge(dv.subject, tmpl, "Mesuji", clock().In(wib), rand.Reader)
			if err != nil {
				return err
			}
			jws, err := pledge.Sign(pl, dv.key)
			if err != nil {
				return err
			}
			for {
				status, body, err = postEntry(srv.URL, jws)
				if status != http.StatusServiceUnavailable {
					break
				}
				time.Sleep(100 * time.Millisecond) // the page waits for Retry-After
			}
			if err != nil || status != http.StatusCreated {
				return fmt.Errorf("pledge of %s: %d %s %v", dv.subject.ID, status, body, err)
			}
			return nil
		})
	}
	onTime := devices[:len(devices)-late]
	sign(onTime)
	offset.Store(int64(15 * time.Minute))
	sign(devices[len(devices)-late:])

	srv.Close()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	closed = true
	var rep roster.Report
	if err := json.Unmarshal([]byte(mustPakta(t, "report", "--dir", p("log"), "--json")), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Total != people || rep.OnTime != len(onTime) || rep.Late != late || rep.NotSigned != absent {
		t.Fatalf("report: %+v, want %d on time, %d late, %d not signed", rep.Counts, len(onTime), late, absent)
	}
	text := mustPakta(t, "report", "--dir", p("log"))
	head, _, _ := strings.Cut(text, "\n\n")
	t.Logf("pakta report (head):\n%s", head)
}

// parallel runs f for every item on a few goroutines, failing t on the
// first error.
func parallel[T any](t *testing.T, items []T, f func(T) error) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, len(items))
	work := make(chan T)
	for range 8 {
		wg.Go(func() {
			for it := range work {
				if err := f(it); err != nil {
					errs <- err
				}
			}
		})
	}
	for _, it := range items {
		work <- it
	}
	close(work)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func postJOSE(url string, jws []byte) (int, []byte, error) {
	resp, err := http.Post(url, httpapi.MediaTypeJOSE, bytes.NewReader(jws))
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

func postEntry(base string, jws []byte) (int, []byte, error) {
	return postJOSE(base+"/v1/entries", jws)
}

func getURL(url string) (int, []byte, error) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}
