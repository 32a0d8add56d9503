package ledger

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pakta-id/pakta/ledger/internal/logtest"
	"github.com/pakta-id/pakta/pledge"
	"github.com/pakta-id/pakta/verify"
)

// trustEnv is a log whose policy has registrars of different scopes: the
// fixture's national one, BKPSDM Mamuju (7601), BKPSDM Majene (7605), and
// one for 7601 retired before the log's clock; at most one correction.
type trustEnv struct {
	*env
	mamuju, majene, retired *pledge.PrivateKey
	policy                  *verify.Policy
}

func newTrustEnv(t *testing.T) *trustEnv {
	te := &trustEnv{mamuju: seedKey(t, "mamuju"), majene: seedKey(t, "majene"), retired: seedKey(t, "retired")}
	te.env = newEnv(t, func(c *Config) {
		regs := []*verify.Registrar{
			verify.NationalRegistrar(logtest.RegistrarName, c.Policy.Registrars[0].JWK),
			{Name: "BKPSDM Kabupaten Mamuju", Agencies: []string{"7601"}, JWK: te.mamuju.Public()},
			{Name: "BKPSDM Kabupaten Majene", Agencies: []string{"7605"}, JWK: te.majene.Public()},
			{Name: "BKD lama", Agencies: []string{"7601"}, JWK: te.retired.Public(), Until: "2023-11-20T00:00:00+08:00"},
		}
		p, err := verify.NewPolicy(c.Policy.Origin, c.Policy.LogKey, regs)
		if err != nil {
			t.Fatal(err)
		}
		p.MaxCorrections = 1
		c.Policy = p
		te.policy = p
	})
	return te
}

// majenePerson is a PNS of agency 7605.
func majenePerson(n int) pledge.Person {
	p := person(n)
	p.Agency = pledge.Agency{Code: "7605", Name: "Pemerintah Kabupaten Majene"}
	return p
}

// TestTrustRules: every rule of DESIGN's trust policy (templates, registrar
// scope and retirement, time, the signer agreeing with the enrollment,
// text, corrections) refuses in the library with the right error, and
// leaves the tree as it was.
func TestTrustRules(t *testing.T) {
	te := newTrustEnv(t)
	e := te.env
	ctx := context.Background()
	e.publish(logtest.Election) // netralitas-2024, for 7601, by the national registrar
	alice, bob := person(20), person(21)
	aliceKey, _ := e.enroll(alice)
	bobKey, bobRaw := logtest.SeedKey(t, seedPrefix+"bob")
	e.append(e.enrollment(bob, bobKey, e.Registrar))
	// unsigned makes a pledge that pledge.Sign would refuse to sign.
	unsigned := func(p *pledge.Pledge) []byte {
		return craft(edHeader(bobKey.KeyID(), "pledge"), statementJSON(t, p), bobRaw)
	}
	// The scoped registrar acts within its scope.
	carol := person(22)
	carolKey := seedKey(t, "carol")
	e.append(e.enrollment(carol, carolKey, te.mamuju))
	mamujuTemplate := e.TemplateStatement("Pilkada Mamuju 2024")
	e.append(e.sign(mamujuTemplate, te.mamuju))
	// Someone of another agency, enrolled by the national registrar.
	dewi := majenePerson(23)
	dewiKey, _ := e.enroll(dewi)
	// Alice pledges and corrects once: the policy's max_corrections.
	first := e.append(e.sign(e.pledgeStatement(alice, logtest.Election), aliceKey))
	fix := e.pledgeStatement(alice, logtest.Election)
	fix.Supersedes = &first.Index
	fixed := e.append(e.sign(fix, aliceKey))

	pledgeFor := func(who pledge.Person, mutate func(*pledge.Pledge)) *pledge.Pledge {
		p := e.PledgeStatement(who, logtest.Election)
		mutate(p)
		return p
	}
	retext := func(p *pledge.Pledge, text string) { p.Text, p.Template.SHA256 = text, pledge.TextHash(text) }
	at := func(p *pledge.Pledge, signedAt string) {
		tm, err := time.Parse(time.RFC3339, signedAt)
		if err != nil {
			t.Fatal(err)
		}
		p.SignedAt, p.Date = signedAt, tm.Format(pledge.DateLayout)
	}
	enroll := func(subject pledge.Person, registrar *pledge.PrivateKey, from, until string) []byte {
		k, _ := pledge.GenerateKey("", nil)
		jws, err := pledge.Enroll(&pledge.Enrollment{Type: pledge.TypeEnrollment, Subject: subject, JWK: k.Public(), ValidFrom: from, ValidUntil: until}, registrar, k)
		if err != nil {
			t.Fatal(err)
		}
		return jws
	}
	template := func(agencies ...string) *pledge.Template {
		tm := e.TemplateStatement("Pemilu 2029")
		tm.Agencies = agencies
		return tm
	}
	secondFix := e.pledgeStatement(alice, logtest.Election)
	secondFix.Supersedes = &fixed.Index

	tests := []struct {
		name     string
		jws      []byte
		is       error
		conflict bool
		want     string
	}{
		// Templates bound to pledges.
		{"pledge under an unpublished template", e.sign(pledgeFor(bob, func(p *pledge.Pledge) { p.Template.ID = "netralitas-lain" }), bobKey), ErrForbidden, false, "template netralitas-lain is not published"},
		{"pledge with another wording", e.sign(pledgeFor(bob, func(p *pledge.Pledge) { retext(p, "Saya TIDAK berjanji untuk netral.") }), bobKey), ErrForbidden, false, "is not the wording of template netralitas-2024"},
		{"pledge for another election", e.sign(pledgeFor(bob, func(p *pledge.Pledge) { p.Election = "Pilkada 2024" }), bobKey), ErrForbidden, false, `is for election "Pilkada 2024", but template netralitas-2024 is for "Pemilu 2024"`},
		{"pledge of an agency the template does not cover", e.sign(pledgeFor(dewi, func(*pledge.Pledge) {}), dewiKey), ErrForbidden, false, `not for the signer's agency "7605"`},
		// Registrar scope and retirement.
		{"enrollment by a registrar of another agency", enroll(person(30), te.majene, "2023-11-01T00:00:00+07:00", ""), ErrForbidden, false, `registrar "BKPSDM Kabupaten Majene" acts for agencies 7605, not for agency "7601"`},
		{"enrollment by a retired registrar", enroll(person(31), te.retired, "2023-11-01T00:00:00+07:00", ""), ErrForbidden, false, `registrar "BKD lama" was retired at 2023-11-20T00:00:00+08:00`},
		{"revocation by a registrar of another agency", e.sign(&pledge.Revocation{Type: pledge.TypeRevocation, KID: aliceKey.KeyID(), Reason: "x"}, te.majene), ErrForbidden, false, "acts for agencies 7605"},
		{"revocation by a retired registrar", e.sign(&pledge.Revocation{Type: pledge.TypeRevocation, KID: aliceKey.KeyID(), Reason: "x"}, te.retired), ErrForbidden, false, "was retired"},
		{"template for every agency by an agency's registrar", e.sign(template("*"), te.mamuju), ErrForbidden, false, `is for every agency ("*")`},
		{"template for another agency", e.sign(template("7601", "7605"), te.mamuju), ErrForbidden, false, `names agency "7605", outside registrar "BKPSDM Kabupaten Mamuju"`},
		{"template by a retired registrar", e.sign(template("7601"), te.retired), ErrForbidden, false, "was retired"},
		// Time.
		{"enrollment whose validity has ended", enroll(person(32), e.Registrar, "2023-01-01T00:00:00+07:00", "2023-11-26T23:59:59+07:00"), ErrForbidden, false, "valid_until 2023-11-26T23:59:59+07:00 had passed"},
		{"signed_at in UTC", e.sign(pledgeFor(bob, func(p *pledge.Pledge) { at(p, "2023-11-27T00:15:00Z") }), bobKey), ErrInvalid, false, "has offset +00:00"},
		{"signed_at at +23:59 (another day)", e.sign(pledgeFor(bob, func(p *pledge.Pledge) { at(p, "2023-11-28T00:14:00+23:59") }), bobKey), ErrInvalid, false, "has offset +23:59"},
		{"signed_at 4 days before logged_at", e.sign(pledgeFor(bob, func(p *pledge.Pledge) { at(p, "2023-11-23T08:00:00+08:00") }), bobKey), ErrInvalid, false, "more than 3 days before"},
		// The signer agrees with the enrollment.
		{"signer with another name", e.sign(pledgeFor(bob, func(p *pledge.Pledge) { p.Signer.Name = "Orang Lain" }), bobKey), ErrForbidden, false, `differs in name ("Orang Lain", not "Pegawai 21")`},
		{"signer with another agency", e.sign(pledgeFor(bob, func(p *pledge.Pledge) { p.Signer.Agency.Code = "7605" }), bobKey), ErrForbidden, false, "differs in agency.code"},
		// Text.
		{"signer name with a bidi override", unsigned(pledgeFor(bob, func(p *pledge.Pledge) { p.Signer.Name = "Pegawai \u202e12" })), ErrInvalid, false, "U+202E"},
		{"election with a zero-width space", unsigned(pledgeFor(bob, func(p *pledge.Pledge) { p.Election = "Pemilu\u200b 2024" })), ErrInvalid, false, "U+200B"},
		{"name not in NFC", unsigned(pledgeFor(bob, func(p *pledge.Pledge) { p.Signer.Name = "Pegawai\u0301 21" })), ErrInvalid, false, "normal form C"},
		// Corrections.
		{"a correction over max_corrections", e.sign(secondFix, aliceKey), nil, true, "max_corrections"},
	}
	signedBefore, sizeBefore := e.log.Checkpoint()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.log.Append(ctx, tt.jws)
			if err == nil {
				t.Fatal("accepted")
			}
			var ce *ConflictError
			if tt.conflict != errors.As(err, &ce) {
				t.Fatalf("conflict = %v, want %v: %v", !tt.conflict, tt.conflict, err)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Fatalf("%v is not %v", err, tt.is)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("%q does not contain %q", err, tt.want)
			}
		})
	}
	if signed, size := e.log.Checkpoint(); size != sizeBefore || string(signed) != string(signedBefore) {
		t.Fatalf("refusals changed the tree: %d → %d", sizeBefore, size)
	}

	// An expired key logs nothing new, even a pledge signed while it was
	// valid: valid until 10:00 WITA, the log's clock at 11:00.
	short := seedKey(t, "short")
	enr, err := pledge.Enroll(&pledge.Enrollment{Type: pledge.TypeEnrollment, Subject: person(33), JWK: short.Public(),
		ValidFrom: "2023-11-01T00:00:00+08:00", ValidUntil: "2023-11-27T10:00:00+08:00"}, e.Registrar, short)
	if err != nil {
		t.Fatal(err)
	}
	e.append(enr)
	late := e.PledgeStatement(person(33), logtest.Election)
	at(late, "2023-11-27T09:30:00+08:00")
	e.clock.Set(logtest.Morning.Add(2 * time.Hour))
	if _, err := e.log.Append(ctx, e.sign(late, short)); !errors.Is(err, ErrForbidden) || !strings.Contains(err.Error(), "expired at 2023-11-27T10:00:00+08:00") {
		t.Fatalf("pledge with a key expired at logged_at: %v", err)
	}

	// A policy that drops a registrar the log used cannot open the log,
	// and the error names it; audit refuses it too.
	e.log.Close()
	e.log = nil
	kept := []*verify.Registrar{te.policy.Registrars[0], te.policy.Registrars[2], te.policy.Registrars[3]}
	dropped, err := verify.NewPolicy(te.policy.Origin, te.policy.LogKey, kept)
	if err != nil {
		t.Fatal(err)
	}
	cfg := e.cfg
	cfg.Policy = dropped
	if _, err := e.tryOpen(cfg); !errors.Is(err, ErrPolicy) || !strings.Contains(err.Error(), te.mamuju.KeyID()) {
		t.Fatalf("opening with a policy that lacks a used registrar: %v", err)
	}
	if _, err := e.audit(ctx, dropped); !errors.Is(err, ErrPolicy) || !strings.Contains(err.Error(), te.mamuju.KeyID()) {
		t.Fatalf("audit with a policy that lacks a used registrar: %v", err)
	}
	// The full policy audits clean: the log's rules and audit's replay agree.
	if _, err := e.audit(ctx, te.policy); err != nil {
		t.Fatalf("audit: %v", err)
	}
}

// TestAuditReplaysTrustRules: a log written under one policy, audited
// under a stricter one, fails at the first entry the stricter rules refuse,
// locally and through the tiles.
func TestAuditReplaysTrustRules(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	fill(t, e, 3, 1) // the template (index 0), then enrollments and pledges of agency 7601
	narrowed := *e.Policy.Registrars[0]
	narrowed.Agencies = []string{"7605"}
	retired := *e.Policy.Registrars[0]
	retired.Until = "2023-11-01T00:00:00+08:00"
	for _, tt := range []struct {
		name string
		reg  *verify.Registrar
		want string
	}{
		{"registrar narrowed to another agency", &narrowed, "7605"},
		{"registrar retired before the log began", &retired, "was retired"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p, err := verify.NewPolicy(e.Policy.Origin, e.Policy.LogKey, []*verify.Registrar{tt.reg})
			if err != nil {
				t.Fatal(err)
			}
			_, err = AuditTiles(ctx, e.log.Tiles(), p, nil, AuditOptions{})
			var ae *AuditError
			if !errors.As(err, &ae) || ae.Index != 0 || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("audit through tiles: %v", err)
			}
		})
	}
}

// TestRootScopeRefused: a certificate-backed pledge whose root the policy
// trusts only for another agency is refused (403), with the same rule the
// verifier applies.
func TestRootScopeRefused(t *testing.T) {
	key, root := x5cKey(t, "7605")
	e := newEnv(t, withRoots(t, root))
	budi := pledge.Person{Scheme: pledge.SchemeNIP, ID: "198001012005011005", Name: "Budi Santoso", Agency: pledge.Agency{Code: "7601", Name: "Pemerintah Kabupaten Mamuju"}, Employment: pledge.PNS}
	_, err := e.log.Append(context.Background(), e.sign(e.pledgeStatement(budi, logtest.Election), key))
	if !errors.Is(err, ErrForbidden) || !strings.Contains(err.Error(), `not for the signer's agency "7601"`) {
		t.Fatalf("x5c pledge under a root of another agency: %v", err)
	}
}

// TestCommittedStatementsCached checks what the log puts in the rules'
// parsed statements when a batch commits: each enrollment and template
// under its own index, equal to a parse of its payload (the rules then use
// it in place of that parse), and nothing else.
func TestCommittedStatementsCached(t *testing.T) {
	e := newEnv(t, nil)
	key := seedKey(t, "cached")
	enrollment := e.enrollment(person(1), key, e.Registrar)
	ei := e.append(enrollment).Index
	template := e.Template("pilkada-2026")
	ti := e.append(template).Index
	pi := e.append(e.sign(e.PledgeStatement(person(1), "pilkada-2026"), key)).Index

	for _, c := range []struct {
		name  string
		index uint64
		jws   []byte
	}{{"enrollment", ei, enrollment}, {"template", ti, template}} {
		got, ok := e.log.rules.parsed.m.load(c.index)
		if !ok {
			t.Errorf("%s at %d: not in the parsed statements", c.name, c.index)
			continue
		}
		j, err := pledge.ParseUnvalidated(c.jws)
		if err != nil {
			t.Fatal(err)
		}
		want, err := pledge.ParseStatement(j.Payload)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s at %d: cached %#v, its payload parses to %#v", c.name, c.index, got, want)
		}
	}
	if _, ok := e.log.rules.parsed.m.load(pi); ok {
		t.Errorf("the pledge at %d is in the parsed statements: nothing reads a pledge back by index", pi)
	}
}

// TestParsedCacheBounded checks that the parsed statements never hold more
// than maxParsed, however many are put.
func TestParsedCacheBounded(t *testing.T) {
	var c parsedCache
	st := &pledge.Template{}
	for i := range uint64(3*maxParsed + 7) {
		c.put(i, st)
	}
	n := 0
	c.m.m.Range(func(any, any) bool { n++; return true })
	if n == 0 || n > maxParsed {
		t.Errorf("%d statements cached after %d puts, want 1 to %d", n, 3*maxParsed+7, maxParsed)
	}
}
