// Command ceremony plays an agency's signing assembly (apel pagi): a few
// hundred employees, enrolled by the HR registrar, sign the neutrality pledge
// at once through the HTTP API of a pakta server; then the registrar checks
// the roster (who has signed, per unit), and an auditor verifies one random
// employee's bundle offline with only the trust policy.
//
//	go run ./examples/ceremony [-employees 300]
package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"os"
	"sort"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/pakta-id/pakta/ledger"
	"github.com/pakta-id/pakta/ledger/client"
	"github.com/pakta-id/pakta/ledger/httpapi"
	"github.com/pakta-id/pakta/pledge"
	"github.com/pakta-id/pakta/verify"
)

func main() {
	n := flag.Int("employees", 300, "employees at the assembly")
	flag.Parse()
	if err := run(context.Background(), os.Stdout, *n); err != nil {
		log.Fatal(err)
	}
}

const origin = "bkpsdm.mesujikab.go.id/pakta"

var units = []string{"Sekretariat", "Dinas Pendidikan", "Dinas Kesehatan", "Dinas Pertanian", "Kecamatan Mesuji Timur"}

func run(ctx context.Context, out io.Writer, employees int) error {
	dir, err := os.MkdirTemp("", "pakta-ceremony-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	// The agency's server: a log, its checkpoint key, one registrar (HR).
	skey, vkey, _ := note.GenerateKey(rand.Reader, origin)
	signer, _ := note.NewSigner(skey)
	registrar, _ := pledge.GenerateKey(pledge.EdDSA, rand.Reader)
	policy, err := verify.NewPolicy(origin, vkey, []*verify.Registrar{verify.NationalRegistrar("BKPSDM Kabupaten Mamuju", registrar.Public())})
	if err != nil {
		return err
	}
	l, err := ledger.Open(ctx, dir, ledger.Config{Signer: signer, Policy: policy})
	if err != nil {
		return err
	}
	defer l.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := httpapi.NewServer(ln.Addr().String(), httpapi.New(l, httpapi.Options{}), nil)
	go srv.Serve(ln)
	defer srv.Close()
	base := "http://" + ln.Addr().String()
	// Submissions need no credentials (their signatures authorize them);
	// HR's reads of people's pledges are signed with its registrar key,
	// and the server records each one.
	api, err := client.New(base, client.Config{HTTP: &http.Client{Timeout: 30 * time.Second}, Key: registrar, Origin: origin})
	if err != nil {
		return err
	}

	// The roster, as HR keeps it.
	type employee struct {
		person pledge.Person
		key    *pledge.PrivateKey
	}
	staff := make([]employee, employees)
	for i := range staff {
		birth := time.Date(1975, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i*11) // distinct birth dates; appointed at 22, before today
		staff[i].person = pledge.Person{
			Scheme: pledge.SchemeNIP, ID: fmt.Sprintf("%s%d01%d%03d", birth.Format("20060102"), birth.Year()+22, 1+i%2, 1+i%999),
			Name: fmt.Sprintf("Pegawai %03d", i), Unit: units[i%len(units)], Employment: pledge.PNS,
			Agency: pledge.Agency{Code: "1810", Name: "Pemerintah Kabupaten Mesuji"},
		}
	}

	// Morning: each employee makes a key on their phone, HR enrolls it,
	// and the employee signs the pledge, all at once.
	wib := time.FixedZone("WIB", 7*3600)
	text := "Saya menjaga netralitas ASN: tidak memihak, bijak bermedia sosial, dan menolak politik uang."
	// The registrar published the official wording beforehand.
	tmpl := &pledge.Template{Type: pledge.TypeTemplate, ID: "netralitas-2029", Lang: "id", Election: "Pemilu 2029",
		Agencies: []string{"1810"}, Text: text, SHA256: pledge.TextHash(text)}
	published, err := pledge.Sign(tmpl, registrar)
	if err != nil {
		return err
	}
	if _, _, err := api.Submit(ctx, published); err != nil {
		return fmt.Errorf("publishing the template: %w", err)
	}
	absent := map[int]bool{7: true, 42: true, 99: true} // three did not come
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, employees)
	for i := range staff {
		if absent[i] {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			e := &staff[i]
			e.key, _ = pledge.GenerateKey(pledge.EdDSA, rand.Reader)
			now := time.Now().In(wib)
			enr, err := pledge.Enroll(&pledge.Enrollment{Type: pledge.TypeEnrollment, Subject: e.person, JWK: e.key.Public(),
				ValidFrom: now.Add(-time.Hour).Format(time.RFC3339)}, registrar, e.key)
			if err == nil {
				_, _, err = api.Submit(ctx, enr)
			}
			if err != nil {
				errs <- fmt.Errorf("enrolling %s: %w", e.person.ID, err)
				return
			}
			p, err := pledge.NewPledge(e.person, tmpl, "Mesuji", time.Now().In(wib), rand.Reader)
			var jws []byte
			if err == nil {
				jws, err = pledge.Sign(p, e.key)
			}
			if err == nil {
				_, _, err = api.Submit(ctx, jws)
			}
			if err != nil {
				errs <- fmt.Errorf("pledge of %s: %w", e.person.ID, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		return err
	}
	_, size := l.Checkpoint()
	fmt.Fprintf(out, "%d employees enrolled and signed in %s; the log has %d entries\n", employees-len(absent), time.Since(start).Round(time.Millisecond), size)

	// Noon: HR checks the roster against the log, verifying every bundle.
	date := time.Now().In(wib).Format(pledge.DateLayout)
	signed := map[string]int{}
	total := map[string]int{}
	var missing []string
	var sample []byte
	pick, _ := rand.Int(rand.Reader, big.NewInt(int64(employees)))
	for i, e := range staff {
		total[e.person.Unit]++
		bundles, err := api.Pledges(ctx, e.person.Scheme, e.person.ID, date)
		if err != nil {
			return err
		}
		ok := false
		for _, b := range bundles {
			r, err := verify.VerifyBytes(b, policy, &verify.Claim{Scheme: e.person.Scheme, ID: e.person.ID, Date: date})
			if err == nil && r.Passed() {
				ok = true
			}
		}
		if ok {
			signed[e.person.Unit]++
		} else {
			missing = append(missing, fmt.Sprintf("%s (%s, %s)", e.person.Name, e.person.ID, e.person.Unit))
		}
		if (i == int(pick.Int64()) || sample == nil) && len(bundles) > 0 {
			sample = bundles[0]
		}
	}
	sort.Strings(units)
	fmt.Fprintf(out, "roster for %s:\n", date)
	for _, u := range units {
		fmt.Fprintf(out, "  %-24s %3d of %3d signed\n", u, signed[u], total[u])
	}
	fmt.Fprintf(out, "not signed: %v\n", missing)

	// Later: a supervisor checks one bundle offline, with the policy only.
	r, err := verify.VerifyBytes(sample, policy, nil)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "one employee's bundle, verified offline: %s\n", r.Verdict)
	if !r.Passed() || len(missing) != len(absent) {
		return errors.New("the ceremony did not add up")
	}
	return nil
}
