//go:build js && wasm

// Command wasm is the verifier for a browser: built with GOOS=js
// GOARCH=wasm, it exposes one JavaScript function,
//
//	paktaVerify(bundle, policy, claimJSON, lang) → JSON string
//
// where bundle and policy are the files' bytes (a Uint8Array or a string),
// claimJSON is "" or a verify.Claim as JSON ({"scheme","id","date",
// "template","election"}), and lang is "id" or "en". The answer is the
// report as POST /v1/verify returns it, its reasons in lang, with
// "skipped" (the ids of the checks that did not run) beside it; or
// {"error": "..."} when the inputs are not a policy, a bundle or a claim
// at all.
//
// It imports verify and nothing of the log (no Pebble, no cobra, no
// ledger): the page that loads it proves a bundle without trusting the
// server that served it.
package main

import (
	"fmt"
	"syscall/js"

	"github.com/go-json-experiment/json"

	"github.com/pakta-id/pakta/verify"
)

func main() {
	js.Global().Set("paktaVerify", js.FuncOf(func(this js.Value, args []js.Value) any {
		return run(args)
	}))
	// The function must outlive main's return: block forever.
	select {}
}

// result is what paktaVerify answers: the report, or an error.
type result struct {
	*verify.Report `json:",inline"`
	Skipped        []string `json:"skipped,omitzero"`
	Error          string   `json:"error,omitzero"`
}

func run(args []js.Value) (out string) {
	// A panic here would end the Go program and leave the page without a
	// verifier: answer it as an error instead.
	defer func() {
		if p := recover(); p != nil {
			b, _ := json.Marshal(result{Error: fmt.Sprintf("wasm: internal error: %v", p)})
			out = string(b)
		}
	}()
	r, err := verifyArgs(args)
	if err != nil {
		r = &result{Error: err.Error()}
	}
	b, err := json.Marshal(r)
	if err != nil {
		b, _ = json.Marshal(result{Error: err.Error()})
	}
	return string(b)
}

func verifyArgs(args []js.Value) (*result, error) {
	if len(args) != 4 {
		return nil, fmt.Errorf("wasm: paktaVerify takes 4 arguments (bundle, policy, claimJSON, lang), not %d", len(args))
	}
	bundle, err := bytesOf(args[0], verify.MaxBundleSize)
	if err != nil {
		return nil, fmt.Errorf("wasm: the bundle: %w", err)
	}
	policyBytes, err := bytesOf(args[1], maxPolicySize)
	if err != nil {
		return nil, fmt.Errorf("wasm: the policy: %w", err)
	}
	policy, err := verify.ParsePolicy(policyBytes)
	if err != nil {
		return nil, err
	}
	var claim *verify.Claim
	if s := stringOf(args[2]); s != "" {
		claim = new(verify.Claim)
		if err := json.Unmarshal([]byte(s), claim, json.RejectUnknownMembers(true)); err != nil {
			return nil, fmt.Errorf("wasm: the claim: %w", err)
		}
	}
	lang, err := verify.ParseLanguage(stringOf(args[3]))
	if err != nil {
		return nil, err
	}
	rep, err := verify.VerifyBytes(bundle, policy, claim)
	if err != nil {
		return nil, err
	}
	out := &result{Report: rep.Localize(lang)}
	for _, c := range rep.Checks {
		if c.Skipped() {
			out.Skipped = append(out.Skipped, c.ID)
		}
	}
	return out, nil
}

// maxPolicySize bounds the policy a page hands in; a real one is a few KiB.
const maxPolicySize = 1 << 20

// bytesOf copies a Uint8Array, or a string's UTF-8, into Go, refusing more
// than limit bytes (one more is read, so that verify sees an oversized
// bundle as oversized).
func bytesOf(v js.Value, limit int) ([]byte, error) {
	switch {
	case v.Type() == js.TypeString:
		return []byte(v.String()), nil
	case v.InstanceOf(js.Global().Get("Uint8Array")):
		n := v.Get("length").Int()
		if n > limit+1 {
			return nil, fmt.Errorf("%d bytes, more than the %d a verifier reads", n, limit)
		}
		b := make([]byte, n)
		js.CopyBytesToGo(b, v)
		return b, nil
	}
	return nil, fmt.Errorf("expected a Uint8Array or a string, got %s", v.Type())
}

func stringOf(v js.Value) string {
	if v.Type() != js.TypeString {
		return ""
	}
	return v.String()
}
