// Command embed is the smallest complete program that embeds pakta: it opens
// a log in a temporary directory, enrolls an employee's key, appends the
// employee's signed pledge, and verifies the pledge's bundle offline with
// nothing but the trust policy.
//
//	go run ./examples/embed
package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log"
	"os"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/pakta-id/pakta/ledger"
	"github.com/pakta-id/pakta/pledge"
	"github.com/pakta-id/pakta/verify"
)

func main() {
	if err := run(context.Background(), os.Stdout); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, out io.Writer) error {
	dir, err := os.MkdirTemp("", "pakta-embed-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	// The log's checkpoint key (its name is the log's origin) and a
	// registrar, who vouches that a key belongs to an employee. A real app
	// keeps these in files (pakta init writes them).
	const origin = "kepegawaian.mamujukab.go.id/pakta"
	skey, vkey, err := note.GenerateKey(rand.Reader, origin)
	if err != nil {
		return err
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		return err
	}
	registrar, err := pledge.GenerateKey(pledge.EdDSA, rand.Reader)
	if err != nil {
		return err
	}
	// The trust policy is what verifiers need: give it to them.
	policy, err := verify.NewPolicy(origin, vkey, []*verify.Registrar{verify.NationalRegistrar("BKPSDM Kabupaten Mamuju", registrar.Public())})
	if err != nil {
		return err
	}
	l, err := ledger.Open(ctx, dir, ledger.Config{Signer: signer, Policy: policy})
	if err != nil {
		return err
	}
	defer l.Close()

	// Enrollment: the registrar and the employee's own key sign it.
	employee, err := pledge.GenerateKey(pledge.EdDSA, rand.Reader)
	if err != nil {
		return err
	}
	person := pledge.Person{
		Scheme: pledge.SchemeNIP, ID: "198703152010011002", Name: "Andi Pratama",
		Unit: "Bidang Mutasi", Agency: pledge.Agency{Code: "7601", Name: "Pemerintah Kabupaten Mamuju"},
		Employment: pledge.PNS,
	}
	wita := time.FixedZone("WITA", 8*3600)
	now := time.Now().In(wita)
	enrollment, err := pledge.Enroll(&pledge.Enrollment{
		Type: pledge.TypeEnrollment, Subject: person, JWK: employee.Public(),
		ValidFrom: now.AddDate(0, -1, 0).Format(time.RFC3339), ValidUntil: now.AddDate(1, 0, 0).Format(time.RFC3339),
	}, registrar, employee)
	if err != nil {
		return err
	}
	enrolled, err := l.Append(ctx, enrollment)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "enrolled key %s for NIP %s at index %d\n", employee.KeyID(), person.ID, enrolled.Index)

	// The template: the official wording, published by the registrar
	// before anyone signs it.
	text := "Saya menjaga netralitas dalam pelayanan publik sebelum, selama, dan sesudah pemilihan umum."
	tmpl := &pledge.Template{
		Type: pledge.TypeTemplate, ID: "netralitas-2029", Lang: "id", Election: "Pemilu 2029",
		Agencies: []string{"7601"}, Text: text, SHA256: pledge.TextHash(text),
	}
	published, err := pledge.Sign(tmpl, registrar)
	if err != nil {
		return err
	}
	if _, err := l.Append(ctx, published); err != nil {
		return err
	}

	// The pledge, signed by the employee under that template.
	p, err := pledge.NewPledge(person, tmpl, "Mamuju", now, rand.Reader)
	if err != nil {
		return err
	}
	jws, err := pledge.Sign(p, employee)
	if err != nil {
		return err
	}
	res, err := l.Append(ctx, jws) // returns once durable and checkpointed
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "pledge logged at index %d at %s\n", res.Index, res.LoggedAt.Format(time.RFC3339))

	// The bundle is everything a verifier needs, offline.
	bundle, err := l.Bundle(ctx, res.Index)
	if err != nil {
		return err
	}
	file, err := bundle.Marshal()
	if err != nil {
		return err
	}
	report, err := verify.VerifyBytes(file, policy, &verify.Claim{Scheme: person.Scheme, ID: person.ID, Date: now.Format(pledge.DateLayout)})
	if err != nil {
		return err
	}
	fmt.Fprint(out, report.Text())
	if !report.Passed() {
		return fmt.Errorf("the bundle did not verify")
	}
	return nil
}
