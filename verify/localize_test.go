package verify

import (
	"strings"
	"testing"
)

// Every vector's report reads in Indonesian without a formatting error.
func TestVectorsLocalize(t *testing.T) {
	m, policy := readVectors(t)
	for _, c := range m.Cases {
		if c.Expect == "error" {
			continue
		}
		r, err := VerifyBytes(readVector(t, c.File), policy, c.Claim)
		if err != nil {
			t.Fatal(err)
		}
		id := r.Localize(Indonesian)
		for i, ch := range id.Checks {
			if strings.Contains(ch.Reason, "%!") {
				t.Errorf("%s: [%s] %s", c.Name, ch.ID, ch.Reason)
			}
			if ch.Reason == r.Checks[i].Reason && !strings.HasPrefix(ch.Reason, "%") {
				t.Errorf("%s: [%s] not translated: %s", c.Name, ch.ID, ch.Reason)
			}
		}
		if testing.Verbose() && (c.Name == "pledge-eddsa-claim" || c.Name == "key-signer-name-differs" || c.Name == "claim-wrong-election") {
			t.Log("\n" + id.Text())
		}
	}
}

// Numbers in a report are identifiers: never grouped by thousands.
func TestNumbersUnlocalized(t *testing.T) {
	m := msgf("index %d of %d, key %08x", 1234, uint64(2023), uint32(0xf9365fe6))
	if got := m.In(Printer(Indonesian)); got != "index 1234 of 2023, key f9365fe6" {
		t.Fatalf("got %q", got)
	}
}

// A pledge's facts give every time in its own zone beside UTC.
func TestFactsInPledgeZone(t *testing.T) {
	_, policy := readVectors(t)
	r, err := VerifyBytes(readVector(t, "pledge-wit-midnight.pakta.json"), policy, nil)
	if err != nil || !r.Passed() {
		t.Fatal(err, r.Text())
	}
	f := r.Entry
	for _, c := range []struct{ name, got, want string }{
		{"zone", f.Zone, "WIT"},
		{"signed_at_utc", f.SignedAtUTC, "2023-11-27T15:30:00Z"},
		{"logged_at_local", f.LoggedAtLocal, "2023-11-28T00:31:00.000+09:00"},
		{"key.logged_at_local", f.Key.LoggedAtLocal, "2023-11-27T10:00:03.000+09:00"},
		{"published.logged_at_local", f.Published.LoggedAtLocal, "2023-11-27T10:00:00.000+09:00"},
		{"published.deadline_local", f.Published.DeadlineLocal, "2023-11-27T13:00:00+09:00"},
		{"published.deadline_utc", f.Published.DeadlineUTC, "2023-11-27T04:00:00Z"},
	} {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	if !strings.HasPrefix(f.Text, "PAKTA INTEGRITAS") || f.Root == "" {
		t.Errorf("text %q, root %q", f.Text, f.Root)
	}
}

func TestSkipped(t *testing.T) {
	_, policy := readVectors(t)
	r, err := VerifyBytes(readVector(t, "key-signer-name-differs.pakta.json"), policy, nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range r.Checks {
		if c.Skipped() {
			got = append(got, c.ID)
		}
	}
	if strings.Join(got, " ") != "template statement time" {
		t.Fatalf("skipped %v", got)
	}
}
