// Command embed is the smallest complete program that embeds pakta: it opens
// the log that "pakta init" made, appends an employee's enrollment and
// signed pledge, and verifies the pledge's bundle offline with nothing but
// the trust policy.
//
//	go run ./examples/embed          # on a new log in a temporary directory
//	go run ./examples/embed DIR      # on the log in DIR (pakta init --dir DIR)
//
// A log that a running server holds cannot be opened: stop it first, or
// submit through its HTTP API. The employee pledges once per template and
// election: on a log that already holds this pledge the second run is refused.
package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/pakta-id/pakta/ledger"
	"github.com/pakta-id/pakta/pledge"
	"github.com/pakta-id/pakta/verify"
)

func main() {
	ctx := context.Background()
	dir := ""
	if len(os.Args) > 1 {
		dir = os.Args[1]
	} else {
		tmp, err := os.MkdirTemp("", "pakta-embed-")
		if err != nil {
			log.Fatal(err)
		}
		defer os.RemoveAll(tmp)
		dir = filepath.Join(tmp, "log")
		// What "pakta init --dir DIR --origin O" does.
		if _, err := ledger.InitDir(ctx, dir, "kepegawaian.mamujukab.go.id/pakta", nil); err != nil {
			log.Fatal(err)
		}
	}
	if err := run(ctx, dir, os.Stdout); err != nil {
		log.Fatal(err)
	}
}

// run plays an employee's signing on the log in dir: the registrar of
// "pakta init" (dir/registrar.jwk) enrolls a new key and publishes the
// template, the employee signs the pledge with the key, and the app logs all
// three and checks the pledge's bundle.
func run(ctx context.Context, dir string, out io.Writer) error {
	registrar, err := pledge.ReadPrivateKeyFile(filepath.Join(dir, ledger.RegistrarFile))
	if err != nil {
		return err
	}
	employee, err := pledge.GenerateKey(pledge.EdDSA, rand.Reader)
	if err != nil {
		return err
	}
	person := pledge.Person{
		Scheme: pledge.SchemeNIP, ID: "198703152010011002", Name: "Andi Pratama",
		Unit: "Bidang Mutasi", Agency: pledge.Agency{Code: "7601", Name: "Pemerintah Kabupaten Mamuju"},
		Employment: pledge.PNS,
	}
	// Enrollment: the registrar and the employee's own key sign it.
	now := time.Now().In(time.FixedZone("WITA", 8*3600))
	enrollment, err := pledge.Enroll(&pledge.Enrollment{
		Type: pledge.TypeEnrollment, Subject: person, JWK: employee.Public(),
		ValidFrom: now.AddDate(0, -1, 0).Format(time.RFC3339), ValidUntil: now.AddDate(1, 0, 0).Format(time.RFC3339),
	}, registrar, employee)
	if err != nil {
		return err
	}
	// The template: the official wording, published by the registrar
	// before anyone signs it. The same template again is the same entry.
	text := "Saya menjaga netralitas dalam pelayanan publik sebelum, selama, dan sesudah pemilihan umum."
	tmpl := &pledge.Template{
		Type: pledge.TypeTemplate, ID: "netralitas-2029", Lang: "id", Election: "Pemilu 2029",
		Agencies: []string{"7601"}, Text: text, SHA256: pledge.TextHash(text),
	}
	published, err := pledge.Sign(tmpl, registrar)
	if err != nil {
		return err
	}
	// The pledge, signed by the employee under that template: NewPledge
	// derives its id, date, text and election.
	p, err := pledge.NewPledge(person, tmpl, "Mamuju", now, rand.Reader)
	if err != nil {
		return err
	}
	signed, err := pledge.Sign(p, employee)
	if err != nil {
		return err
	}
	claim := &verify.Claim{Scheme: person.Scheme, ID: person.ID, Date: now.Format(pledge.DateLayout)}
	report, err := logAndVerify(ctx, dir, claim, enrollment, published, signed)
	if err != nil {
		return err
	}
	fmt.Fprint(out, report.Text())
	if !report.Passed() {
		return fmt.Errorf("the bundle did not verify")
	}
	return nil
}

// The README's "Embedding the library" quotes what follows, byte for byte,
// up to the end marker (cmd/pakta/readme_test.go checks it).
// README:begin

// logAndVerify opens the log that "pakta init" made in dir (its checkpoint
// key and trust policy come from there), appends signed statements, each
// JWS exactly as signed, and checks the last one's bundle offline, as any
// verifier would with the policy alone.
func logAndVerify(ctx context.Context, dir string, claim *verify.Claim, jwss ...[]byte) (*verify.Report, error) {
	l, err := ledger.OpenDir(ctx, dir, ledger.Config{})
	if err != nil {
		return nil, err
	}
	defer l.Close()
	var res ledger.Result
	for _, jws := range jwss {
		res, err = l.Append(ctx, jws) // durable and checkpointed when it returns
		if err != nil {
			return nil, err
		}
	}
	bundle, err := l.Bundle(ctx, res.Index) // the evidence: bundle.Marshal() is a .pakta.json file
	if err != nil {
		return nil, err
	}
	return verify.Verify(bundle, l.Policy(), claim), nil
}

// README:end
