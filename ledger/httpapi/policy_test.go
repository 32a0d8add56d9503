package httpapi

import (
	"bytes"
	"testing"

	"github.com/pakta-id/pakta/verify"
)

// TestPolicyJSON: GET /policy.json is public and serves the policy the log
// runs with (or the file bytes the binary hands in), which a verifier
// parses to the same log.
func TestPolicyJSON(t *testing.T) {
	e := newEnv(t, nil, Options{})
	r := e.get("/policy.json")
	if r.status != 200 || r.header.Get("Content-Type") != "application/json" {
		t.Fatalf("GET /policy.json: %d %q %s", r.status, r.header.Get("Content-Type"), r.body)
	}
	p, err := verify.ParsePolicy(r.body)
	if err != nil {
		t.Fatalf("the served policy does not parse: %v\n%s", err, r.body)
	}
	if p.Origin != e.log.Origin() || p.LogKey != e.log.Policy().LogKey {
		t.Errorf("served policy is for %q (%s), want the log's %q", p.Origin, p.LogKey, e.log.Origin())
	}
	if r := e.do("POST", "/policy.json", "application/json", []byte("{}")); r.status != 405 {
		t.Errorf("POST /policy.json: %d, want 405", r.status)
	}

	file := append(bytes.Clone(r.body), "\n"...) // the file as an editor left it
	e2 := newEnv(t, nil, Options{PolicyJSON: file})
	if r := e2.get("/policy.json"); !bytes.Equal(r.body, file) {
		t.Errorf("GET /policy.json with Options.PolicyJSON served %q, want the file's bytes", r.body)
	}
}
