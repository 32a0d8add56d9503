package pledge

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"

	"github.com/go-jose/go-jose/v4"
	"os"
	"testing"
)

// seedKey is a fixed Ed25519 key: the same seed gives the same key, so
// signatures over the same payload are byte-identical (golden vectors).
func seedKey(t testing.TB, name string) *PrivateKey {
	t.Helper()
	seed := sha256.Sum256([]byte("pakta test key " + name))
	k, err := NewPrivateKey(ed25519.NewKeyFromSeed(seed[:]), "")
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func templateText(t testing.TB) string {
	t.Helper()
	b, err := os.ReadFile("../testdata/templates/netralitas-2024.txt")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func testPerson() Person {
	return Person{
		Scheme: SchemeNIP, ID: "198703152010011002", Name: "Andi Pratama",
		Position: "Analis Kepegawaian", Unit: "Bidang Mutasi",
		Agency:     Agency{Code: "7601", Name: "Pemerintah Kabupaten Mamuju"},
		Employment: PNS,
	}
}

func testPledge(t testing.TB) *Pledge {
	text := templateText(t)
	return &Pledge{
		Type: TypePledge, ID: "01HF8Z6W3K9Q2V7N4M5P0R1S2T",
		Signer:   testPerson(),
		Template: TemplateRef{ID: "netralitas-2024", SHA256: TextHash(text)},
		Text:     text, Election: "Pemilu 2024", Place: "Mamuju",
		Date: "2023-11-27", SignedAt: "2023-11-27T08:15:00+08:00",
	}
}

func testEnrollment(t testing.TB, subject *PrivateKey) *Enrollment {
	return &Enrollment{
		Type: TypeEnrollment, Subject: testPerson(), JWK: subject.Public(),
		ValidFrom: "2023-11-01T00:00:00+07:00", ValidUntil: "2024-12-31T23:59:59+07:00",
	}
}

// payloadWith returns the JSON of v with member key replaced by value (raw
// JSON), or deleted when value is "".
func payloadWith(t testing.TB, v any, key, value string) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if value == "" {
		delete(m, key)
	} else {
		m[key] = json.RawMessage(value)
	}
	b, err = json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// craft builds a compact JWS from a raw protected header and payload,
// signing the bytes with an Ed25519 key directly (for attack vectors that
// go-jose would refuse to produce).
func craft(header string, payload []byte, priv ed25519.PrivateKey) []byte {
	input := rawURL.EncodeToString([]byte(header)) + "." + rawURL.EncodeToString(payload)
	var sig []byte
	if priv != nil {
		sig = ed25519.Sign(priv, []byte(input))
	}
	return []byte(input + "." + rawURL.EncodeToString(sig))
}

func edPriv(k *PrivateKey) ed25519.PrivateKey { return k.jwk.Key.(ed25519.PrivateKey) }

func jsonWebKey(pub any) jose.JSONWebKey { return jose.JSONWebKey{Key: pub} }

func unmarshalLoose(b []byte, v any) error { return json.Unmarshal(b, v) }
