package verify

import (
	"encoding/base64"
	stdjson "encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// The log part of a bundle (checkpoint signature, origin, inclusion) must be
// checkable with golang.org/x/mod/sumdb alone and the standard library,
// nothing of ours: this test reads the vectors that way.

// interopCheck checks one entry and its tlog-proof@v1 text with sumdb only,
// and returns the signed checkpoint text.
func interopCheck(entry []byte, proofText, origin string, v note.Verifier) (string, error) {
	lines := strings.Split(proofText, "\n")
	if len(lines) < 3 || lines[0] != "c2sp.org/tlog-proof@v1" {
		return "", errors.New("not a tlog-proof@v1")
	}
	i := 1
	if strings.HasPrefix(lines[i], "extra ") {
		i++
	}
	idx, ok := strings.CutPrefix(lines[i], "index ")
	if !ok {
		return "", fmt.Errorf("line %q", lines[i])
	}
	index, err := strconv.ParseInt(idx, 10, 64)
	if err != nil {
		return "", err
	}
	var proof tlog.RecordProof
	for i++; i < len(lines) && lines[i] != ""; i++ {
		h, err := tlog.ParseHash(lines[i])
		if err != nil {
			return "", err
		}
		proof = append(proof, h)
	}
	if i == len(lines) {
		return "", errors.New("no checkpoint")
	}
	signed := strings.Join(lines[i+1:], "\n")
	n, err := note.Open([]byte(signed), note.VerifierList(v))
	if err != nil {
		return "", fmt.Errorf("checkpoint: %w", err)
	}
	body := strings.Split(strings.TrimSuffix(n.Text, "\n"), "\n")
	if len(body) < 3 {
		return "", errors.New("checkpoint body too short")
	}
	if body[0] != origin {
		return "", fmt.Errorf("checkpoint origin %q", body[0])
	}
	size, err := strconv.ParseInt(body[1], 10, 64)
	if err != nil {
		return "", err
	}
	root, err := base64.StdEncoding.DecodeString(body[2])
	if err != nil || len(root) != tlog.HashSize {
		return "", fmt.Errorf("root %q", body[2])
	}
	if err := tlog.CheckRecord(proof, size, tlog.Hash(root), index, tlog.RecordHash(entry)); err != nil {
		return "", fmt.Errorf("inclusion: %w", err)
	}
	return signed, nil
}

// interopBundle checks a bundle's entry and, if present, its enrollment and
// template, all under the same checkpoint.
func interopBundle(b []byte, origin string, v note.Verifier) error {
	var j struct {
		Entry string
		Proof string
		Key   struct {
			Enrollment *struct{ Entry, Proof string }
		}
		Template *struct{ Entry, Proof string }
	}
	if err := stdjson.Unmarshal(b, &j); err != nil {
		return err
	}
	entry, err := base64.StdEncoding.DecodeString(j.Entry)
	if err != nil {
		return err
	}
	cp, err := interopCheck(entry, j.Proof, origin, v)
	if err != nil {
		return err
	}
	for what, e := range map[string]*struct{ Entry, Proof string }{"enrollment": j.Key.Enrollment, "template": j.Template} {
		if e == nil {
			continue
		}
		entry, err := base64.StdEncoding.DecodeString(e.Entry)
		if err != nil {
			return err
		}
		ecp, err := interopCheck(entry, e.Proof, origin, v)
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if ecp != cp {
			return fmt.Errorf("%s: under another checkpoint", what)
		}
	}
	return nil
}

func TestInteropSumDB(t *testing.T) {
	m, _ := readVectors(t)
	// Only the policy's origin and log key, read with the standard library.
	var policy struct {
		Origin string `json:"origin"`
		LogKey string `json:"log_key"`
	}
	if err := stdjson.Unmarshal(readVector(t, m.Policy), &policy); err != nil {
		t.Fatal(err)
	}
	v, err := note.NewVerifier(policy.LogKey)
	if err != nil {
		t.Fatal(err)
	}
	valid := 0
	for _, c := range m.Cases {
		switch c.Expect {
		case "error", CheckBundle:
			continue // not a bundle, or one whose reading is ours to judge
		}
		t.Run(c.Name, func(t *testing.T) {
			err := interopBundle(readVector(t, c.File), policy.Origin, v)
			// sumdb agrees with verify on the log part: it fails exactly
			// when verify's checkpoint or inclusion check fails.
			wantFail := c.Expect == CheckCheckpoint || c.Expect == CheckInclusion
			if wantFail != (err != nil) {
				t.Fatalf("sumdb says %v; verify's first failing check is %s", err, c.Expect)
			}
		})
		if c.Expect == Pass {
			valid++
		}
	}
	if valid < 8 {
		t.Fatalf("only %d valid vectors checked", valid)
	}
}
