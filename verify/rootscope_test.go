package verify

import (
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRootScope: a certificate-backed pledge is in scope only when the
// policy root its chain ends in is trusted for the signer's agency (the
// "Agencies" header of the root's PEM block; none means every agency).
func TestRootScope(t *testing.T) {
	_, policy := readVectors(t)
	caPEM, err := os.ReadFile(filepath.Join("..", "testdata", "keys", "vectors-ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(caPEM)
	bundle := readVector(t, "pledge-ps256-x5c.pakta.json")
	for _, tt := range []struct {
		name, agencies, want string
	}{
		{"no header: every agency", "", ""},
		{"the signer's agency", "7601, 9471", ""},
		{"every agency", "*", ""},
		{"another agency", "7605", `trusted for agencies 7605, not for the signer's agency "7601"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b := &pem.Block{Type: "CERTIFICATE", Bytes: block.Bytes}
			if tt.agencies != "" {
				b.Headers = map[string]string{"Agencies": tt.agencies}
			}
			p := *policy
			p.Roots = string(pem.EncodeToMemory(b))
			j, err := p.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			q, err := ParsePolicy(j)
			if err != nil {
				t.Fatal(err)
			}
			r, err := VerifyBytes(bundle, q, nil)
			if err != nil {
				t.Fatal(err)
			}
			if tt.want == "" && !r.Passed() || tt.want != "" && (r.Passed() || r.Failed().ID != CheckKey || !strings.Contains(r.Failed().Reason, tt.want)) {
				t.Fatalf("%s", r.Text())
			}
		})
	}
	for header, want := range map[string]string{"Agencies: *, 7601": "stands alone", "Agencies: 7601,,7605": "empty code", "Scope: 7601": `PEM header "Scope"`} {
		k, v, _ := strings.Cut(header, ": ")
		p := *policy
		p.Roots = string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Headers: map[string]string{k: v}, Bytes: block.Bytes}))
		j, _ := p.Marshal()
		if _, err := ParsePolicy(j); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v", header, err)
		}
	}
}
