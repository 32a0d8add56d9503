package pledge_test

import (
	"crypto/rand"
	"fmt"
	"log"

	"github.com/pakta-id/pakta/pledge"
)

// An employee signs the pledge; a verifier that knows the employee's key
// checks it and reads who signed what, when.
func Example() {
	employee, err := pledge.GenerateKey(pledge.EdDSA, rand.Reader)
	if err != nil {
		log.Fatal(err)
	}
	text := "Saya menjaga netralitas ..." // the agency's published template text
	p := &pledge.Pledge{
		Type: pledge.TypePledge,
		ID:   "01HF8Z6W3K9Q2V7N4M5P0R1S2T",
		Signer: pledge.Person{
			Scheme: pledge.SchemeNIP, ID: "198703152010011002", Name: "Andi Pratama",
			Agency:     pledge.Agency{Code: "7601", Name: "Pemerintah Kabupaten Mamuju"},
			Employment: pledge.PNS,
		},
		Template: pledge.TemplateRef{ID: "netralitas-2024", SHA256: pledge.TextHash(text)},
		Text:     text,
		Election: "Pemilu 2024",
		Place:    "Mamuju",
		Date:     "2023-11-27",
		SignedAt: "2023-11-27T08:15:00+08:00", // WITA
	}
	jws, err := pledge.Sign(p, employee)
	if err != nil {
		log.Fatal(err)
	}

	v, err := pledge.Verify(jws, pledge.VerifyOptions{Keys: pledge.NewKeySet(employee.Public())})
	if err != nil {
		log.Fatal(err)
	}
	got := v.Statement.(*pledge.Pledge)
	fmt.Println(got.Signer.Scheme, got.Signer.ID, got.Date, v.Headers[0].Type, v.Signers[0].Key.KeyID() == employee.KeyID())
	// Output: nip 198703152010011002 2023-11-27 pakta-pledge+jws true
}
