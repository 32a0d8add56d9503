// Command ceremony plays an agency's signing assembly (apel pagi) the way
// the signing page runs it: a few hundred employees each make a key on their
// own phone and ask to be enrolled; the HR registrar, meeting each person,
// approves their code, countersigning the request on the registrar's own
// machine; the employees sign the neutrality pledge, most before the
// template's deadline, some after it; then the registrar reads the roster's
// coverage (on time, late, not signed, judged by when the log logged each
// pledge), and an auditor verifies one employee's bundle offline with only
// the trust policy. No private key of an employee exists outside that
// employee's device (here: that employee's goroutine).
//
//	go run ./examples/ceremony [-employees 300]
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/pakta-id/pakta/ledger"
	logclient "github.com/pakta-id/pakta/ledger/client"
	"github.com/pakta-id/pakta/ledger/httpapi"
	"github.com/pakta-id/pakta/ledger/httpapi/web"
	"github.com/pakta-id/pakta/pledge"
	"github.com/pakta-id/pakta/pledge/roster"
	"github.com/pakta-id/pakta/verify"
)

func main() {
	n := flag.Int("employees", 300, "employees on the roster")
	flag.Parse()
	if err := run(context.Background(), os.Stdout, *n); err != nil {
		log.Fatal(err)
	}
}

const origin = "bkpsdm.mesujikab.go.id/pakta"

var (
	units  = []string{"Sekretariat", "Dinas Pendidikan", "Dinas Kesehatan", "Dinas Pertanian", "Kecamatan Mesuji Timur"}
	agency = pledge.Agency{Code: "1810", Name: "Pemerintah Kabupaten Mesuji"}
	wib    = time.FixedZone("WIB", 7*3600)
)

// employee is one person's phone: their key never leaves it.
type employee struct {
	person pledge.Person
	key    *pledge.PrivateKey
	code   string // the enrollment request's code, shown to the registrar
	date   string // the date of the pledge signed, "" if none
}

func run(ctx context.Context, out io.Writer, employees int) error {
	dir, err := os.MkdirTemp("", "pakta-ceremony-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	// The roster, as HR keeps it.
	people := make([]roster.Person, employees)
	for i := range people {
		birth := time.Date(1975, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i*11) // distinct birth dates; appointed at 22
		people[i] = roster.Person{Scheme: pledge.SchemeNIP, ID: fmt.Sprintf("%s%d01%d%03d", birth.Format("20060102"), birth.Year()+22, 1+i%2, 1+i%999),
			Name: fmt.Sprintf("Pegawai %03d", i), Unit: units[i%len(units)], Employment: pledge.PNS}
	}
	staff, err := roster.New(people)
	if err != nil {
		return err
	}

	// The agency's server: a log, its checkpoint key, one registrar (HR),
	// enrollment requests checked against the roster, and the signing
	// page. Its clock can be moved on, to play the latecomers.
	skey, vkey, _ := note.GenerateKey(rand.Reader, origin)
	signer, _ := note.NewSigner(skey)
	registrar, _ := pledge.GenerateKey(pledge.EdDSA, rand.Reader)
	policy, err := verify.NewPolicy(origin, vkey, []*verify.Registrar{verify.NationalRegistrar("BKPSDM Kabupaten Mesuji", registrar.Public())})
	if err != nil {
		return err
	}
	var later atomic.Int64
	clock := func() time.Time { return time.Now().Add(time.Duration(later.Load())) }
	l, err := ledger.Open(ctx, dir, ledger.Config{Signer: signer, Policy: policy, Clock: clock,
		Requests: ledger.RequestConfig{CheckSubject: ledger.CheckRoster(staff)}})
	if err != nil {
		return err
	}
	defer l.Close()
	page, err := web.New(httpapi.New(l, httpapi.Options{}), web.Options{Agencies: map[string]string{agency.Code: agency.Name}})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := httpapi.NewServer(ln.Addr().String(), page, nil)
	go srv.Serve(ln)
	defer srv.Close()
	base := "http://" + ln.Addr().String()
	hc := &http.Client{Timeout: 30 * time.Second}
	// HR's reads of people's pledges name people: they are signed with the
	// registrar's key, and the server records each one.
	api, err := logclient.New(base, logclient.Config{HTTP: hc, Key: registrar, Origin: origin, Clock: clock})
	if err != nil {
		return err
	}
	c := &client{base: base, http: hc, api: api, clock: clock}

	// The registrar published the official wording beforehand, due in an
	// hour.
	text := "Saya menjaga netralitas ASN: tidak memihak, bijak bermedia sosial, dan menolak politik uang."
	tmpl := &pledge.Template{Type: pledge.TypeTemplate, ID: "netralitas-2029", Lang: "id", Election: "Pemilu 2029",
		Agencies: []string{agency.Code}, Text: text, SHA256: pledge.TextHash(text),
		Deadline: time.Now().Add(time.Hour).In(wib).Format(time.RFC3339)}
	published, err := pledge.Sign(tmpl, registrar)
	if err != nil {
		return err
	}
	if _, err := c.post(ctx, "/v1/entries", published); err != nil {
		return fmt.Errorf("publishing the template: %w", err)
	}

	// Morning: everyone present makes a key on their phone and asks to be
	// enrolled; the phone shows a code.
	var present []*employee
	absent := 0
	for i, p := range staff.People {
		if i%100 == 7 { // some did not come
			absent++
			continue
		}
		present = append(present, &employee{person: p.Subject(agency)})
	}
	start := time.Now()
	err = each(present, func(e *employee) error {
		var err error
		if e.key, err = pledge.GenerateKey(pledge.EdDSA, rand.Reader); err != nil {
			return err
		}
		req := &pledge.Enrollment{Type: pledge.TypeEnrollment, Subject: e.person, JWK: e.key.Public(), ValidFrom: clock().In(wib).Format(time.RFC3339)}
		jws, err := pledge.SignRequest(req, e.key)
		if err != nil {
			return err
		}
		body, err := c.post(ctx, "/v1/enrollment-requests", jws)
		if err != nil {
			return fmt.Errorf("enrollment request of %s: %w", e.person.ID, err)
		}
		var s struct{ Code, KID string }
		if err := json.Unmarshal(body, &s); err != nil || s.KID != e.key.KeyID() {
			return fmt.Errorf("enrollment request of %s: %s", e.person.ID, body)
		}
		e.code = s.Code
		return nil
	})
	if err != nil {
		return err
	}

	// The registrar meets each person, reads the code and the key's first
	// 8 characters off their phone, and approves: as "pakta enroll
	// approve" does, the request is read with a signed read token,
	// verified here, countersigned here and submitted.
	for _, e := range present {
		if err := c.approve(ctx, registrar, e.code, e.key.KeyID()[:8]); err != nil {
			return fmt.Errorf("approving %s: %w", e.code, err)
		}
	}
	fmt.Fprintf(out, "%d employees enrolled with keys of their own, approved by the registrar, in %s\n", len(present), time.Since(start).Round(time.Millisecond))

	// Each phone learns it was approved and signs; the last few arrive
	// two hours later, after the deadline.
	sign := func(group []*employee) error {
		return each(group, func(e *employee) error {
			body, err := c.get(ctx, "/v1/enrollment-requests/"+e.code)
			if err != nil || !bytes.Contains(body, []byte(`"approved"`)) {
				return fmt.Errorf("status of %s: %s %v", e.code, body, err)
			}
			p, err := pledge.NewPledge(e.person, tmpl, "Mesuji", clock().In(wib), rand.Reader)
			if err != nil {
				return err
			}
			jws, err := pledge.Sign(p, e.key)
			if err != nil {
				return err
			}
			if _, err := c.post(ctx, "/v1/entries", jws); err != nil {
				return fmt.Errorf("pledge of %s: %w", e.person.ID, err)
			}
			e.date = p.Date
			return nil
		})
	}
	late := len(present) / 20
	if err := sign(present[:len(present)-late]); err != nil {
		return err
	}
	later.Store(int64(2 * time.Hour))
	if err := sign(present[len(present)-late:]); err != nil {
		return err
	}
	_, size := l.Checkpoint()
	fmt.Fprintf(out, "%d signed on time, %d late; the log has %d entries\n", len(present)-late, late, size)

	// Noon: HR checks the roster against the log, verifying every bundle.
	var signed []roster.Signed
	var sample []byte
	for _, e := range present {
		bundles, err := c.pledges(ctx, e.person, e.date)
		if err != nil {
			return err
		}
		for _, b := range bundles {
			r, err := verify.VerifyBytes(b, policy, nil)
			if err != nil {
				return err
			}
			s, err := roster.FromReport(r)
			if err != nil {
				return fmt.Errorf("the bundle of %s: %w", e.person.ID, err)
			}
			signed = append(signed, s)
			sample = b
		}
	}
	rep := roster.Coverage(staff, signed, roster.Options{Template: tmpl.ID})
	if err := rep.WriteText(out); err != nil {
		return err
	}

	// Later: a supervisor checks one bundle offline, with the policy only.
	r, err := verify.VerifyBytes(sample, policy, nil)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "one employee's bundle, verified offline: %s\n", r.Verdict)
	if !r.Passed() || rep.OnTime != len(present)-late || rep.Late != late || rep.NotSigned != absent {
		return errors.New("the ceremony did not add up")
	}
	return nil
}

// each runs f for every employee, a few at a time, and returns the first
// error.
func each(es []*employee, f func(*employee) error) error {
	var wg sync.WaitGroup
	work := make(chan *employee)
	var mu sync.Mutex
	var first error
	for range 16 {
		wg.Go(func() {
			for e := range work {
				if err := f(e); err != nil {
					mu.Lock()
					first = firstErr(first, err)
					mu.Unlock()
				}
			}
		})
	}
	for _, e := range es {
		work <- e
	}
	close(work)
	wg.Wait()
	return first
}

func firstErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// client speaks to the log's HTTP API.
type client struct {
	base string
	http *http.Client
	api  *logclient.Client // signs restricted reads with the registrar's key
	// clock is the log's: read tokens are dated by it.
	clock func() time.Time
}

func (c *client) do(req *http.Request) ([]byte, error) {
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 != 2 {
		return nil, fmt.Errorf("HTTP %d: %s", resp.StatusCode, b)
	}
	return b, nil
}

func (c *client) post(ctx context.Context, path string, jws []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+path, bytes.NewReader(jws))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", httpapi.MediaTypeJOSE)
	if jws[0] == '{' {
		req.Header.Set("Content-Type", httpapi.MediaTypeJOSEJSON)
	}
	return c.do(req)
}

func (c *client) get(ctx context.Context, path string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path, nil)
	if err != nil {
		return nil, err
	}
	return c.do(req)
}

// approve is the registrar's side: read the pending request (a restricted
// read, signed with the registrar's key), check it names the key the
// person's phone shows, countersign it and submit the enrollment.
func (c *client) approve(ctx context.Context, registrar *pledge.PrivateKey, code, kid8 string) error {
	path, query := "/v1/enrollment-requests/"+code, "full=1"
	claims, err := pledge.NewReadClaims(pledge.ReadTarget{Aud: origin, Method: http.MethodGet, Path: path, RawQuery: query}, c.clock(), time.Minute, rand.Reader)
	if err != nil {
		return err
	}
	token, err := pledge.SignRead(claims, registrar)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path+"?"+query, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", pledge.ReadScheme+" "+string(token))
	body, err := c.do(req)
	if err != nil {
		return err
	}
	var pending struct{ Code, KID, JWS, Expires string }
	if err := json.Unmarshal(body, &pending); err != nil {
		return err
	}
	// The server is not trusted to have checked the request.
	v, err := pledge.VerifyRequest([]byte(pending.JWS), pledge.VerifyOptions{})
	if err != nil {
		return err
	}
	if kid := v.Statement.(*pledge.Enrollment).JWK.KeyID(); kid != pending.KID || kid[:8] != kid8 {
		return fmt.Errorf("request %s enrolls key %s, not the one the phone shows (%s…)", code, kid, kid8)
	}
	enrollment, err := pledge.Countersign([]byte(pending.JWS), registrar)
	if err != nil {
		return err
	}
	_, err = c.post(ctx, "/v1/entries", enrollment)
	return err
}

// pledges returns the bundles of a person's pledges dated date.
func (c *client) pledges(ctx context.Context, p pledge.Person, date string) ([][]byte, error) {
	if date == "" {
		return nil, nil
	}
	bundles, err := c.api.Pledges(ctx, p.Scheme, p.ID, date)
	if err != nil {
		return nil, err
	}
	bs := make([][]byte, len(bundles))
	for i, b := range bundles {
		bs[i] = b
	}
	return bs, nil
}
