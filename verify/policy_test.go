package verify

import (
	"bytes"
	"crypto/rand"
	"errors"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/pakta-id/pakta/pledge"
)

func testPolicy(t testing.TB) (*Policy, []byte) {
	t.Helper()
	_, vkey, err := note.GenerateKey(rand.Reader, "pakta.test/log")
	if err != nil {
		t.Fatal(err)
	}
	reg, _ := pledge.GenerateKey("", rand.Reader)
	p, err := NewPolicy("pakta.test/log", vkey, []*Registrar{NationalRegistrar("Registrar", reg.Public())})
	if err != nil {
		t.Fatal(err)
	}
	b, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return p, b
}

func TestPolicyRoundTrip(t *testing.T) {
	p, b := testPolicy(t)
	q, err := ParsePolicy(b)
	if err != nil {
		t.Fatal(err)
	}
	b2, _ := q.Marshal()
	if !bytes.Equal(b, b2) {
		t.Fatalf("policy changed on a round trip:\n%s\n%s", b, b2)
	}
	if _, ok := q.Registrar(p.Registrars[0].JWK.KeyID()); !ok || q.MaxSigningAge() != 3*24*time.Hour || q.Verifier().Name() != "pakta.test/log" || q.MaxCorrections != 3 {
		t.Fatal("policy lost its meaning on a round trip")
	}
}

func TestParsePolicyRejects(t *testing.T) {
	pol, good := testPolicy(t)
	_, otherKey, _ := note.GenerateKey(rand.Reader, "other.test/log")
	priv, _ := pledge.GenerateKey("", rand.Reader)
	privJWK, _ := priv.MarshalPrivateJWK()
	_, witnessKey, _ := GenerateWitnessKey("witness.test/w1", nil)
	wk := strings.SplitN(witnessKey, "+", 3)
	badHash := wk[0] + "+00000000+" + wk[2]
	edit := func(old, new string) []byte { return bytes.Replace(good, []byte(old), []byte(new), 1) }
	tests := []struct {
		name string
		in   []byte
		want string
	}{
		{"unknown member (a typo)", edit(`"origin"`, `"registrar":[],"origin"`), "registrar"},
		{"case-folded member", edit(`"origin"`, `"Origin"`), "Origin"},
		{"duplicate member", edit(`"origin"`, `"origin":"x","origin"`), "duplicate"},
		{"trailing data", append(bytes.Clone(good), []byte("{}")...), "after top-level value"},
		{"missing origin", edit(`"origin": "pakta.test/log",`, ``), "missing \"origin\""},
		{"log key of another name", edit(pol.LogKey, otherKey), "but origin is"},
		{"log key malformed", edit(pol.LogKey, "pakta.test/log+1234+AAAA"), "log_key"},
		{"algorithm none", edit(`"EdDSA",`, `"none",`), "not one pakta accepts"},
		{"empty algorithms", edit(`"EdDSA",
    "ES256",
    "PS256",
    "RS256"`, ``), "algorithms is empty"},
		{"negative age", edit(`"max_signing_age_days": 3`, `"max_signing_age_days": -1`), "between 1 and"},
		{"negative corrections", edit(`"max_corrections": 3`, `"max_corrections": -1`), "between 1 and"},
		{"private registrar key", edit(`"jwk": {`, `"jwk": `+string(privJWK)+`, "x": {`), "private key"},
		{"registrar as a bare key (the old form)", edit(`"registrars": [`, `"registrars": [`+string(privJWK)+`,`), "registrars"},
		{"registrar without name", edit(`"name": "Registrar",`, ``), "missing \"name\""},
		{"registrar without agencies", edit(`"agencies": [
        "*"
      ],`, ``), "missing \"agencies\""},
		{"registrar star with others", edit(`"*"`, `"*", "7601"`), "stands alone"},
		{"registrar until without offset", edit(`"agencies"`, `"until": "2030-12-31T23:59:59", "agencies"`), "until"},
		{"time zone not an offset", edit(`"+07:00",`, `"WIB",`), "not an offset"},
		{"empty time zones", edit(`"+07:00",
    "+08:00",
    "+09:00"`, ``), "time_zones is empty"},
		{"witness key malformed", edit(`"algorithms"`, `"witnesses": [{"name": "w", "key": "k"}], "algorithms"`), "not name+hash+key"},
		{"witness key of the log's type", edit(`"algorithms"`, `"witnesses": [{"name": "w", "key": "`+otherKey+`"}], "algorithms"`), "not a cosignature/v1 key"},
		{"witness key hash wrong", edit(`"algorithms"`, `"witnesses": [{"name": "w", "key": "`+badHash+`"}], "algorithms"`), "does not match the name and key"},
		{"witness without name", edit(`"algorithms"`, `"witnesses": [{"key": "`+witnessKey+`"}], "algorithms"`), "missing \"name\""},
		{"witness listed twice", edit(`"algorithms"`, `"witnesses": [{"name": "a", "key": "`+witnessKey+`"}, {"name": "b", "key": "`+witnessKey+`"}], "algorithms"`), "listed twice"},
		{"witness url not http", edit(`"algorithms"`, `"witnesses": [{"name": "a", "key": "`+witnessKey+`", "url": "ftp://x"}], "algorithms"`), "not an http(s) URL"},
		{"witness quorum too high", edit(`"algorithms"`, `"witnesses": [{"name": "a", "key": "`+witnessKey+`"}], "witness_quorum": 2, "algorithms"`), "between 1 and"},
		{"witness quorum zero", edit(`"algorithms"`, `"witnesses": [{"name": "a", "key": "`+witnessKey+`"}], "witness_quorum": 0, "algorithms"`), "between 1 and"},
		{"witness quorum alone", edit(`"algorithms"`, `"witness_quorum": 1, "algorithms"`), "without \"witnesses\""},
		{"reader with unknown role", edit(`"algorithms"`, `"readers": [{"name": "Inspektorat", "role": "admin", "jwk": `+string(mustPublic(priv))+`}], "algorithms"`), "role \"admin\""},
		{"bad roots", edit(`"algorithms"`, `"roots": "not pem", "algorithms"`), "no PEM certificate"},
		{"not JSON", []byte("origin = x"), "policy"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParsePolicy(tt.in)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
	if _, err := NewPolicy("a.test/log", otherKey, nil); err == nil || !strings.Contains(err.Error(), "origin") {
		t.Fatalf("log key named differently from origin: %v", err)
	}
}

func TestCheckSigningTime(t *testing.T) {
	p, _ := testPolicy(t)
	logged := time.Date(2023, 11, 27, 0, 15, 1, 0, time.UTC)
	wita := time.FixedZone("WITA", 8*3600)
	for _, tt := range []struct {
		name     string
		signedAt time.Time
		wantErr  string
	}{
		{"08:15 WITA is 00:15 UTC, before logged_at", time.Date(2023, 11, 27, 8, 15, 0, 0, wita), ""},
		{"skew of 4 minutes", logged.Add(4 * time.Minute).In(wita), ""},
		{"skew of 6 minutes", logged.Add(6 * time.Minute).In(wita), "after the log recorded it"},
		{"2 days before", logged.AddDate(0, 0, -2).In(wita), ""},
		{"4 days before (default tolerance 3 days)", logged.AddDate(0, 0, -4).In(wita), "more than 3 days before"},
		{"UTC offset not allowed", logged.Add(-time.Minute), "offset +00:00"},
		{"+23:59 moves the date", logged.Add(-time.Minute).In(time.FixedZone("", 23*3600+59*60)), "offset +23:59"},
		{"WIT allowed", logged.In(time.FixedZone("WIT", 9*3600)), ""},
	} {
		pl := &pledge.Pledge{SignedAt: tt.signedAt.Format(time.RFC3339)}
		err := p.CheckSigningTime(pl, logged)
		if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("%s: error %v, want %q", tt.name, err, tt.wantErr)
		}
		if errors.Is(err, ErrNotAllowed) {
			t.Errorf("%s: a time error is a malformed statement (400), not ErrNotAllowed", tt.name)
		}
	}
}

func mustPublic(k *pledge.PrivateKey) []byte {
	b, err := k.Public().MarshalJSON()
	if err != nil {
		panic(err)
	}
	return b
}

func FuzzPolicy(f *testing.F) {
	_, good := testPolicy(f)
	f.Add(good)
	f.Add([]byte(`{"origin":"a","log_key":"a+00000000+AAAA","registrars":[]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParsePolicy(b)
		if err != nil {
			return
		}
		out, err := p.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		q, err := ParsePolicy(out)
		if err != nil {
			t.Fatalf("a policy we wrote does not read back: %v\n%s", err, out)
		}
		out2, _ := q.Marshal()
		if !bytes.Equal(out, out2) {
			t.Fatal("policy round trip is not stable")
		}
	})
}
