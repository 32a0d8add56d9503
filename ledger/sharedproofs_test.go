package ledger

import (
	"bytes"
	"context"
	"testing"

	"github.com/pakta-id/pakta/verify"
)

// TestSharedTemplateProofs: bundles under one checkpoint share the
// template's entry and proof, each bundle owning its copy; after the log
// grows, a bundle carries the template's proof under the new checkpoint.
func TestSharedTemplateProofs(t *testing.T) {
	e := newEnv(t, nil)
	var idx []uint64
	for i := range 3 {
		k, _ := e.enroll(person(700 + i))
		idx = append(idx, e.append(e.sign(e.pledgeStatement(person(700+i), "Pemilu 2024"), k)).Index)
	}
	ctx := context.Background()
	b1, err := e.log.Bundle(ctx, idx[0])
	if err != nil {
		t.Fatal(err)
	}
	b2, err := e.log.Bundle(ctx, idx[1])
	if err != nil {
		t.Fatal(err)
	}
	if b1.Template == nil || b1.Template.Proof != b2.Template.Proof || !bytes.Equal(b1.Template.Entry, b2.Template.Entry) {
		t.Fatal("two bundles under one checkpoint carry different template evidence")
	}
	b1.Template.Entry[0] ^= 1 // the caller's own copy
	for _, i := range idx {
		r, _ := verify.VerifyBytes(e.bundle(i), e.Policy, nil)
		if !r.Passed() {
			t.Fatalf("entry %d after a caller changed its copy: %s", i, r.Text())
		}
	}
	// The log grows: the next bundles are under a new checkpoint.
	k, _ := e.enroll(person(710))
	e.append(e.sign(e.pledgeStatement(person(710), "Pemilu 2024"), k))
	b3, err := e.log.Bundle(ctx, idx[2])
	if err != nil {
		t.Fatal(err)
	}
	if b3.Template.Proof == b2.Template.Proof {
		t.Fatal("the template's proof was not renewed under the new checkpoint")
	}
	raw, err := b3.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if r, _ := verify.VerifyBytes(raw, e.Policy, nil); !r.Passed() {
		t.Fatal(r.Text())
	}
}
