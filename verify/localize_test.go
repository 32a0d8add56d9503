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
