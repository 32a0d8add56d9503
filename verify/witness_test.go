package verify

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"
)

type testWitness struct {
	name   string
	signer *CosignatureSigner
	vkey   string
}

func newTestWitness(t testing.TB, name string, at time.Time) testWitness {
	t.Helper()
	skey, vkey, err := GenerateWitnessKey(name, nil)
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewCosignatureSigner(skey, func() time.Time { return at })
	if err != nil {
		t.Fatal(err)
	}
	if s.Verifier().String() != vkey {
		t.Fatalf("verifier %s, want %s", s.Verifier(), vkey)
	}
	return testWitness{name: name, signer: s, vkey: vkey}
}

// witnessPolicy is the vectors' policy with witnesses added.
func witnessPolicy(t testing.TB, quorum int, ws ...testWitness) *Policy {
	t.Helper()
	_, p := readVectors(t)
	b, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	var list []string
	for _, w := range ws {
		list = append(list, fmt.Sprintf(`{"name": "Saksi %s", "key": %q}`, w.name, w.vkey))
	}
	add := fmt.Sprintf(`"witnesses": [%s], "witness_quorum": %d, "algorithms"`, strings.Join(list, ", "), quorum)
	wp, err := ParsePolicy(bytes.Replace(b, []byte(`"algorithms"`), []byte(add), 1))
	if err != nil {
		t.Fatal(err)
	}
	return wp
}

// cosignBundle adds the witnesses' cosignatures to the checkpoint of every
// proof of a bundle file.
func cosignBundle(t testing.TB, file []byte, ws ...testWitness) *Bundle {
	t.Helper()
	b, err := ParseBundle(file)
	if err != nil {
		t.Fatal(err)
	}
	pr, err := ParseProof([]byte(b.Proof))
	if err != nil {
		t.Fatal(err)
	}
	signed := pr.Checkpoint
	for _, w := range ws {
		line, err := Cosign(signed, w.signer)
		if err != nil {
			t.Fatal(err)
		}
		if signed, err = AddSignatures(signed, line); err != nil {
			t.Fatal(err)
		}
	}
	re := func(s string) string { return strings.Replace(s, string(pr.Checkpoint), string(signed), 1) }
	b.Proof = re(b.Proof)
	if b.Key.Enrollment != nil {
		b.Key.Enrollment.Proof = re(b.Key.Enrollment.Proof)
	}
	if b.Template != nil {
		b.Template.Proof = re(b.Template.Proof)
	}
	return b
}

func TestWitnessCheck(t *testing.T) {
	// pledge-eddsa was logged on 2023-11-27, before its template's
	// deadline; w1 saw it at 08:14 WITA that day, w2 a day later.
	t1 := time.Date(2023, 11, 27, 0, 14, 0, 0, time.UTC)
	t2 := t1.Add(24 * time.Hour)
	w1, w2 := newTestWitness(t, "w1.test/witness", t1), newTestWitness(t, "w2.test/witness", t2)
	liar := testWitness{name: w2.name, vkey: w2.vkey, signer: newTestWitness(t, w2.name, t2).signer} // w2's name, another key
	file := readVector(t, "pledge-eddsa.pakta.json")
	ids := func(r *Report) string {
		var s []string
		for _, c := range r.Checks {
			s = append(s, c.ID)
		}
		return strings.Join(s, " ")
	}
	wantIDs := "bundle checkpoint inclusion signature key template statement time witness"

	t.Run("quorum of two", func(t *testing.T) {
		r := Verify(cosignBundle(t, file, w1, w2), witnessPolicy(t, 2, w1, w2), nil)
		if !r.Passed() || ids(r) != wantIDs {
			t.Fatalf("%s\n%s", ids(r), r.Text())
		}
		c := r.Checks[len(r.Checks)-1]
		for _, want := range []string{`witness "Saksi w1.test/witness" had seen this entry by 27 November 2023 at 00:14:00 UTC (08:14 WITA)`, `"Saksi w2.test/witness"`, "independently confirmed"} {
			if !strings.Contains(c.Reason, want) {
				t.Errorf("reason %q lacks %q", c.Reason, want)
			}
		}
		if len(r.Entry.Witnesses) != 2 || r.Entry.Witnesses[0].Time != "2023-11-27T00:14:00Z" || r.Entry.Witnesses[0].TimeLocal != "2023-11-27T08:14:00+08:00" {
			t.Errorf("witness facts %+v", r.Entry.Witnesses)
		}
		if p := r.Entry.Published; p.Confirmed == nil || !*p.Confirmed {
			t.Errorf("template facts %+v: want confirmed", p)
		}
		if strings.Contains(strings.Join(r.NotProven, "\n"), "fork its history") {
			t.Error("a witnessed report still says forks are not excluded")
		}
		id := r.Localize(Indonesian)
		if s := id.Checks[len(id.Checks)-1].Reason; !strings.Contains(s, "saksi \"Saksi w1.test/witness\" telah melihat entri ini paling lambat 27 November 2023 pukul 00:14:00 UTC (pukul 08:14 WITA)") {
			t.Errorf("Indonesian: %s", s)
		}
	})
	t.Run("quorum of one, one cosignature", func(t *testing.T) {
		r := Verify(cosignBundle(t, file, w2), witnessPolicy(t, 1, w1, w2), nil)
		if !r.Passed() {
			t.Fatal(r.Text())
		}
	})
	t.Run("not witnessed", func(t *testing.T) {
		r := Verify(cosignBundle(t, file), witnessPolicy(t, 1, w1, w2), nil)
		if f := r.Failed(); f == nil || f.ID != CheckWitness || !strings.Contains(f.Reason, "not yet witnessed: fetch it again") {
			t.Fatal(r.Text())
		}
	})
	t.Run("quorum not met", func(t *testing.T) {
		r := Verify(cosignBundle(t, file, w1), witnessPolicy(t, 2, w1, w2), nil)
		if f := r.Failed(); f == nil || f.ID != CheckWitness || !strings.Contains(f.Reason, "needs 2") {
			t.Fatal(r.Text())
		}
	})
	t.Run("a witness that lies", func(t *testing.T) {
		// A cosignature line under w2's name and key hash, made with
		// another key: w2's verifier refuses it.
		b := cosignBundle(t, file, w1)
		pr, _ := ParseProof([]byte(b.Proof))
		line, _ := Cosign(pr.Checkpoint, liar.signer)
		raw, _ := base64.StdEncoding.DecodeString(strings.Fields(string(line))[2])
		v, _ := NewCosignatureVerifier(w2.vkey)
		raw[0], raw[1], raw[2], raw[3] = byte(v.KeyHash()>>24), byte(v.KeyHash()>>16), byte(v.KeyHash()>>8), byte(v.KeyHash())
		forged := fmt.Sprintf("— %s %s\n", w2.name, base64.StdEncoding.EncodeToString(raw))
		signed, err := AddSignatures(pr.Checkpoint, []byte(forged))
		if err != nil {
			t.Fatal(err)
		}
		b.Proof = strings.Replace(b.Proof, string(pr.Checkpoint), string(signed), 1)
		b.Key.Enrollment.Proof = strings.Replace(b.Key.Enrollment.Proof, string(pr.Checkpoint), string(signed), 1)
		b.Template.Proof = strings.Replace(b.Template.Proof, string(pr.Checkpoint), string(signed), 1)
		r := Verify(b, witnessPolicy(t, 1, w1, w2), nil)
		if f := r.Failed(); f == nil || f.ID != CheckWitness || !strings.Contains(f.Reason, "Saksi w2.test/witness") || !strings.Contains(f.Reason, "not valid") {
			t.Fatal(r.Text())
		}
	})
	t.Run("no witnesses in the policy: no witness line", func(t *testing.T) {
		_, p := readVectors(t)
		r := Verify(cosignBundle(t, file, w1), p, &Claim{Scheme: "nip", ID: "198703152010011002", Date: "2023-11-27"})
		if !r.Passed() || strings.Contains(ids(r), "witness") {
			t.Fatal(r.Text())
		}
	})
	t.Run("witness line before the claim", func(t *testing.T) {
		r := Verify(cosignBundle(t, file), witnessPolicy(t, 1, w1), &Claim{Scheme: "nip", ID: "198703152010011002", Date: "2023-11-27"})
		if ids(r) != wantIDs+" claim" || r.Checks[len(r.Checks)-1].Pass {
			t.Fatal(r.Text())
		}
	})
}

func TestCosignatureRejects(t *testing.T) {
	w := newTestWitness(t, "w.test/witness", time.Unix(1700000000, 0))
	l := newTestLog(t, 3)
	s, _ := newTestKey(t, "pakta.test/log")
	signed := l.signedCheckpoint(t, s)
	line, err := Cosign(signed, w.signer)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := base64.StdEncoding.DecodeString(strings.Fields(string(line))[2])
	text := signed[:bytes.LastIndex(signed, []byte("\n\n"))+1]
	v := w.signer.Verifier()
	if !v.Verify(text, raw[4:]) {
		t.Fatal("a fresh cosignature does not verify")
	}
	if tm, ok := cosignatureTime(raw); !ok || tm.Unix() != 1700000000 {
		t.Fatalf("time %v", tm)
	}
	raw[5] ^= 1 // the timestamp is signed
	if v.Verify(text, raw[4:]) {
		t.Fatal("a cosignature with a changed time verifies")
	}
	if _, err := w.signer.Sign([]byte("not a checkpoint\n")); err == nil {
		t.Fatal("the witness key signed something other than a checkpoint")
	}
	if _, err := AddSignatures(signed, []byte("— x AAAA\n")); err == nil {
		t.Fatal("a truncated signature line was added")
	}
	twice, _ := AddSignatures(signed, line)
	if again, _ := AddSignatures(twice, line); !bytes.Equal(again, twice) {
		t.Fatal("a signature line was added twice")
	}
}
