package httpapi

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/pakta-id/pakta/verify"
)

// POST /v1/verify renders the report in the language and format asked.
func TestVerifyRendered(t *testing.T) {
	e := newEnv(t, nil, Options{})
	alice := e.enroll(30)
	r := e.submit(e.sign(e.pledgeStatement(alice.p, "Pemilu 2024"), alice.key))
	if r.status != http.StatusCreated {
		t.Fatalf("%d %s", r.status, r.body)
	}
	bundle := r.body
	for _, c := range []struct {
		query, contentType string
		want               []string
	}{
		{"", "application/json", []string{`"verdict":"pass"`, "the bundle is well-formed"}},
		{"?lang=id", "application/json", []string{`"verdict": "pass"`, `"id": "bundle"`, `"pass": true`, "bundel tersusun dengan benar", `"zone": "WITA"`}},
		{"?lang=en&format=json", "application/json", []string{`"reason": "the bundle is well-formed"`}},
		{"?format=text", "text/plain; charset=utf-8", []string{"HASIL: LULUS", "LULUS [key]", "WITA", "/v1/entries/"}},
		{"?format=text&lang=en&nip=" + alice.p.ID + "&date=2023-11-27", "text/plain; charset=utf-8", []string{"VERDICT: PASS", "PASS [claim]"}},
		{"?format=html&lang=id", "text/html; charset=utf-8", []string{`<html lang="id">`, "Laporan Verifikasi Pakta Integritas", "HASIL: LULUS"}},
		{"?format=pdf", "application/pdf", []string{"%PDF-"}},
	} {
		t.Run(c.query, func(t *testing.T) {
			r := e.do("POST", "/v1/verify"+c.query, "application/json", bundle)
			if r.status != http.StatusOK {
				t.Fatalf("%d %s", r.status, r.body)
			}
			if got := r.header.Get("Content-Type"); got != c.contentType {
				t.Errorf("Content-Type %q, want %q", got, c.contentType)
			}
			if strings.HasPrefix(c.contentType, "application/json") {
				var rep verify.Report
				if err := json.Unmarshal(r.body, &rep); err != nil || !rep.Passed() {
					t.Fatalf("%v %s", err, r.body)
				}
			}
			for _, w := range c.want {
				if !strings.Contains(string(r.body), w) {
					t.Errorf("no %q in\n%.2000s", w, r.body)
				}
			}
		})
	}
	for _, q := range []string{"?lang=fr", "?lang=", "?format=xml", "?format=", "?lang=id&lang=en"} {
		errorOf(t, e.do("POST", "/v1/verify"+q, "application/json", bundle), 400)
	}
}
