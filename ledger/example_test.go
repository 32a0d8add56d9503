package ledger_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"log"
	"os"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/pakta-id/pakta/ledger"
	"github.com/pakta-id/pakta/pledge"
	"github.com/pakta-id/pakta/verify"
)

// A government app embeds the log: a registrar enrolls an employee's key,
// the employee's pledge is appended, and the bundle verifies offline.
func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "pakta-example")
	defer os.RemoveAll(dir)

	skey, vkey, _ := note.GenerateKey(rand.Reader, "example.go.id/pakta")
	signer, _ := note.NewSigner(skey)
	registrar, _ := pledge.GenerateKey(pledge.EdDSA, rand.Reader)
	policy, err := verify.NewPolicy("example.go.id/pakta", vkey, []*verify.Registrar{verify.NationalRegistrar("BKPSDM Kabupaten Mamuju", registrar.Public())})
	if err != nil {
		log.Fatal(err)
	}
	l, err := ledger.Open(ctx, dir, ledger.Config{Signer: signer, Policy: policy})
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()

	employee, _ := pledge.GenerateKey(pledge.EdDSA, rand.Reader)
	person := pledge.Person{Scheme: "nip", ID: "198703152010011002", Name: "Andi Pratama",
		Agency: pledge.Agency{Code: "7601", Name: "Pemerintah Kabupaten Mamuju"}, Employment: pledge.PNS}
	now := time.Now().In(time.FixedZone("WITA", 8*3600))
	enrollment, _ := pledge.Enroll(&pledge.Enrollment{Type: pledge.TypeEnrollment, Subject: person,
		JWK: employee.Public(), ValidFrom: now.AddDate(0, -1, 0).Format(time.RFC3339)}, registrar, employee)
	if _, err := l.Append(ctx, enrollment); err != nil {
		log.Fatal(err)
	}

	// The registrar publishes the official wording first.
	text := "Saya menjaga netralitas ..."
	tmpl := &pledge.Template{Type: pledge.TypeTemplate, ID: "netralitas-2029", Lang: "id", Election: "Pemilu 2029",
		Agencies: []string{"7601"}, Text: text, SHA256: pledge.TextHash(text)}
	published, _ := pledge.Sign(tmpl, registrar)
	if _, err := l.Append(ctx, published); err != nil {
		log.Fatal(err)
	}

	p, err := pledge.NewPledge(person, tmpl, "Mamuju", now, rand.Reader)
	if err != nil {
		log.Fatal(err)
	}
	jws, _ := pledge.Sign(p, employee)
	res, err := l.Append(ctx, jws)
	if err != nil {
		log.Fatal(err)
	}

	b, _ := l.Bundle(ctx, res.Index)
	report := verify.Verify(b, policy, &verify.Claim{Scheme: "nip", ID: person.ID, Date: now.Format("2006-01-02")})
	fmt.Println("index", res.Index, "verdict", report.Verdict)
	// Output: index 2 verdict pass
}
