package verify

import (
	"bytes"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"
)

// A fixed test-only log key, so that seed files in testdata/fuzz carry
// signatures the fuzz targets can verify. It signs nothing real.
const (
	fuzzSignerKey   = "PRIVATE+KEY+example.org/log+1ee57ddb+AY9KGM3p9apGsGXRC8vBAUVfmekxvzVRmj7LYWIkuMsW"
	fuzzVerifierKey = "example.org/log+1ee57ddb+AUFkvtUxlDmRl4/53TJFoAhMWCTDOO/3BQwM5tqVst2x"
)

func fuzzKeys(t testing.TB) (note.Signer, note.Verifier) {
	t.Helper()
	s, err := note.NewSigner(fuzzSignerKey)
	if err != nil {
		t.Fatal(err)
	}
	v, err := note.NewVerifier(fuzzVerifierKey)
	if err != nil {
		t.Fatal(err)
	}
	return s, v
}

// fuzzSeeds returns valid encodings of each format from a real 6-entry log.
type seeds struct {
	entry, checkpoint, proof, proofExtra, bundle, bundleX5C []byte
}

func fuzzSeeds(t testing.TB) seeds {
	t.Helper()
	signer, _ := fuzzKeys(t)
	l := newTestLog(t, 6)
	signed := l.signedCheckpoint(t, signer)
	p := l.proof(t, 3, signed)
	withExtra := *p
	withExtra.Extra = []byte("extra data")
	b := &Bundle{
		Entry:    l.entries[3],
		Proof:    string(p.Marshal()),
		Key:      KeyEvidence{Enrollment: &EntryProof{Entry: l.entries[0], Proof: string(l.proof(t, 0, signed).Marshal())}},
		Template: &EntryProof{Entry: l.entries[1], Proof: string(l.proof(t, 1, signed).Marshal())},
	}
	bundle, err := b.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	b.Key.Enrollment = nil
	b.Template = nil
	x5c, err := b.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return seeds{
		entry:      l.entries[3],
		checkpoint: l.checkpoint().Marshal(),
		proof:      p.Marshal(),
		proofExtra: withExtra.Marshal(),
		bundle:     bundle,
		bundleX5C:  x5c,
	}
}

func FuzzEntry(f *testing.F) {
	s := fuzzSeeds(f)
	f.Add(s.entry)
	f.Add([]byte(`{"v":1,"logged_at":"2024-02-14T07:00:00.005Z","jws":"{\"payload\":\"x\",\"signatures\":[]}"}`))
	f.Add([]byte(`{"v":1, "logged_at":"2023-11-27T00:15:01.123Z","jws":"a.b.c"}`))     // whitespace
	f.Add([]byte(`{"v":1,"logged_at":"2023-11-27T00:15:01.123+00:00","jws":"a.b.c"}`)) // offset
	f.Add([]byte(`{"v":1,"logged_at":"2023-11-27T00:15:01.123Z","jws":"a\/b"}`))       // escape
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := ParseEntry(b)
		if err != nil {
			return
		}
		out, err := MarshalEntry(e)
		if err != nil {
			t.Fatalf("MarshalEntry(ParseEntry(%q)): %v", b, err)
		}
		if !bytes.Equal(out, b) {
			t.Fatalf("round trip: %q became %q", b, out)
		}
		if LeafHash(out) != LeafHash(b) {
			t.Fatal("leaf hash changed")
		}
	})
}

func FuzzCheckpoint(f *testing.F) {
	s := fuzzSeeds(f)
	signer, verifier := fuzzKeys(f)
	f.Add(s.checkpoint)
	f.Add([]byte("example.org/log\n0\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\next\n"))
	f.Add([]byte("example.org/log\n01\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n")) // leading zero
	f.Add([]byte("example.org/log\r\n1\r\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		// As a signed note too: must not panic, whatever it is.
		OpenCheckpoint(b, testOrigin, verifier)

		c, err := ParseCheckpoint(b)
		if err != nil {
			return
		}
		if out := c.Marshal(); !bytes.Equal(out, b) {
			t.Fatalf("round trip: %q became %q", b, out)
		}
		signed, err := SignCheckpoint(c, signer)
		if err != nil {
			t.Fatalf("SignCheckpoint(ParseCheckpoint(%q)): %v", b, err)
		}
		got, _, err := OpenCheckpoint(signed, c.Origin, verifier)
		if err != nil {
			t.Fatalf("OpenCheckpoint(SignCheckpoint(%q)): %v", b, err)
		}
		if !bytes.Equal(got.Marshal(), b) {
			t.Fatalf("signed round trip: %q became %q", b, got.Marshal())
		}
	})
}

func FuzzProof(f *testing.F) {
	s := fuzzSeeds(f)
	_, verifier := fuzzKeys(f)
	f.Add(s.proof)
	f.Add(s.proofExtra)
	f.Add([]byte(strings.Replace(string(s.proof), "\nindex 3\n", "\nindex 03\n", 1)))
	f.Add([]byte(strings.ReplaceAll(string(s.proof), "\n", "\r\n")))
	f.Add(append(bytes.Clone(s.proof), "garbage"...))
	entry := s.entry
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParseProof(b)
		if err != nil {
			return
		}
		if out := p.Marshal(); !bytes.Equal(out, b) {
			t.Fatalf("round trip: %q became %q", b, out)
		}
		// Must not panic; the seeds verify, mutations mostly do not.
		p.Verify(entry, testOrigin, verifier)
	})
}

func FuzzBundle(f *testing.F) {
	s := fuzzSeeds(f)
	f.Add(s.bundle)
	f.Add(s.bundleX5C)
	f.Add([]byte(" {\n \"key\": {}, \"v\": 2, \"proof\": \"x\", \"entry\": \"\", \"template\": {\"entry\": \"\", \"proof\": \"\"}\n}\n"))
	f.Add(append(bytes.Clone(s.bundle), "{}"...))
	f.Add([]byte(strings.Replace(string(s.bundle), `"v":2`, `"v":2,"v":2`, 1)))
	f.Add([]byte(strings.Replace(string(s.bundle), `"v":2`, `"v":1`, 1)))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		b1, err := ParseBundle(b)
		if err != nil {
			return
		}
		m1, err := b1.Marshal()
		if err != nil {
			t.Fatalf("Marshal(ParseBundle(%q)): %v", b, err)
		}
		b2, err := ParseBundle(m1)
		if err != nil {
			t.Fatalf("ParseBundle(Marshal(ParseBundle(x))): %v\n%s", err, m1)
		}
		m2, err := b2.Marshal()
		if err != nil || !bytes.Equal(m1, m2) {
			t.Fatalf("Marshal not stable: %v\n%s\n%s", err, m1, m2)
		}
	})
}

// TestFuzzSeedsVerify keeps the fixed-key seeds meaningful: the valid ones
// must pass every check.
func TestFuzzSeedsVerify(t *testing.T) {
	s := fuzzSeeds(t)
	_, verifier := fuzzKeys(t)
	for _, text := range [][]byte{s.proof, s.proofExtra} {
		p, err := ParseProof(text)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.Verify(s.entry, testOrigin, verifier); err != nil {
			t.Fatal(err)
		}
	}
	for _, b := range [][]byte{s.bundle, s.bundleX5C} {
		if _, err := ParseBundle(b); err != nil {
			t.Fatal(err)
		}
	}
}

// FuzzVerify runs the whole verifier on mutations of the vectors, under
// their policy: it never panics, its verdict is pass only when every check
// passed, every check has its line, and whatever the bundle holds, the text
// report has exactly one line per check and nothing else that an entry
// could have forged.
func FuzzVerify(f *testing.F) {
	m, policy := readVectors(f)
	for _, c := range m.Cases {
		f.Add(readVector(f, c.File))
	}
	claim := &Claim{Scheme: "nip", ID: "198703152010011002", Date: "2023-11-27"}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := VerifyBytes(b, policy, claim)
		if err != nil {
			return
		}
		if len(r.Checks) != len(checkOrder) {
			t.Fatalf("%d checks, want %d", len(r.Checks), len(checkOrder))
		}
		failed := false
		for i, c := range r.Checks {
			if c.ID != checkOrder[i] {
				t.Fatalf("check %d is %s, want %s", i, c.ID, checkOrder[i])
			}
			failed = failed || !c.Pass
		}
		if r.Passed() == failed {
			t.Fatalf("verdict %s with a failed check: %v", r.Verdict, failed)
		}
		lines := strings.Split(strings.TrimSuffix(r.Text(), "\n"), "\n")
		if want := len(checkOrder) + 2 + len(r.NotProven); len(lines) != want {
			t.Fatalf("report of %d lines, want %d:\n%s", len(lines), want, r.Text())
		}
		for i, c := range r.Checks {
			if !strings.HasPrefix(lines[i], "PASS ["+c.ID+"] ") && !strings.HasPrefix(lines[i], "FAIL ["+c.ID+"] ") {
				t.Fatalf("line %d is %q", i, lines[i])
			}
		}
	})
}
