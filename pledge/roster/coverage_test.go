package roster

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pakta-id/pakta/verify"
)

func mustTime(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// The roster of these tests: Budi and Siti in Bagian Umum, Rina in Dinas
// Kesehatan.
const testRoster = "scheme;id;Nama;Unit Kerja;Status\n" +
	"nip;198703152010011002;Budi Santoso;Bagian Umum;PNS\n" +
	"nip;199001012015032001;Siti Aminah;Bagian Umum;PNS\n" +
	"agency:7601;HON-0042;Rina;Dinas Kesehatan;Honorer\n"

func TestCoverage(t *testing.T) {
	r, err := Parse("roster.csv", []byte(testRoster))
	if err != nil {
		t.Fatal(err)
	}
	deadline := mustTime(t, "2029-01-10T23:59:59+08:00")
	pledge := func(scheme, id string, index uint64, loggedAt, tmpl string) Signed {
		at := mustTime(t, loggedAt)
		return Signed{Scheme: scheme, ID: id, Index: index, LoggedAt: at, SignedAt: at.In(time.FixedZone("", 8*3600)).Format(time.RFC3339),
			Date: at.In(time.FixedZone("", 8*3600)).Format("2006-01-02"), Template: tmpl, Election: "Pemilu 2029", Deadline: deadline}
	}
	pledges := []Signed{
		pledge("nip", "198703152010011002", 4, "2029-01-10T15:59:59Z", "netralitas-2029"),   // one second before the deadline
		pledge("agency:7601", "HON-0042", 5, "2029-01-10T16:00:00.001Z", "netralitas-2029"), // a millisecond late
		pledge("nip", "198703152010011002", 7, "2029-01-12T01:00:00Z", "netralitas-2029"),   // a correction, late: Budi stays on time
		pledge("nip", "199912312024121001", 8, "2029-01-09T01:00:00Z", "netralitas-2029"),   // not on the roster
	}

	rep := Coverage(r, pledges, Options{Template: "netralitas-2029"})
	if want := (Counts{Total: 3, Signed: 2, OnTime: 1, Late: 1, NotSigned: 1}); rep.Counts != want {
		t.Errorf("counts %+v, want %+v", rep.Counts, want)
	}
	if len(rep.Units) != 2 || rep.Units[0].Unit != "Bagian Umum" || rep.Units[1].Unit != "Dinas Kesehatan" {
		t.Fatalf("units %+v", rep.Units)
	}
	budi := rep.Units[0].People[0]
	if budi.Status != OnTime || *budi.Index != 4 || budi.Pledges != 2 || budi.LoggedAt != "2029-01-10T15:59:59.000Z" || budi.Deadline != "2029-01-10T23:59:59+08:00" {
		t.Errorf("Budi: %+v", budi)
	}
	if siti := rep.Units[0].People[1]; siti.Status != NotSigned || siti.Index != nil {
		t.Errorf("Siti: %+v", siti)
	}
	if rina := rep.Units[1].People[0]; rina.Status != Late || *rina.Index != 5 {
		t.Errorf("Rina: %+v", rina)
	}

	var text bytes.Buffer
	if err := rep.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	want := `pledges of template netralitas-2029: 2 of 3 signed (66%): 1 on time, 1 late, 1 not signed

Bagian Umum: 1 of 2 signed (1 on time, 0 late)
  on time     198703152010011002  Budi Santoso  (index 4, logged 2029-01-10T15:59:59.000Z)
  NOT signed  199001012015032001  Siti Aminah

Dinas Kesehatan: 1 of 1 signed (0 on time, 1 late)
  LATE        HON-0042  Rina  (index 5, logged 2029-01-10T16:00:00.001Z, after the deadline 2029-01-10T23:59:59+08:00)
`
	if text.String() != want {
		t.Errorf("text:\n%s\nwant:\n%s", text.String(), want)
	}
	var csv bytes.Buffer
	if err := rep.WriteCSV(&csv); err != nil {
		t.Fatal(err)
	}
	wantCSV := `unit,scheme,id,name,status,index,logged_at,signed_at,template,deadline
Bagian Umum,nip,198703152010011002,Budi Santoso,on_time,4,2029-01-10T15:59:59.000Z,2029-01-10T23:59:59+08:00,netralitas-2029,2029-01-10T23:59:59+08:00
Bagian Umum,nip,199001012015032001,Siti Aminah,not_signed,,,,,
Dinas Kesehatan,agency:7601,HON-0042,Rina,late,5,2029-01-10T16:00:00.001Z,2029-01-11T00:00:00+08:00,netralitas-2029,2029-01-10T23:59:59+08:00
`
	if csv.String() != wantCSV {
		t.Errorf("csv:\n%s\nwant:\n%s", csv.String(), wantCSV)
	}

	// The filters: another election counts nobody; a date counts the
	// pledges of that day only (Rina's is dated the 11th in WITA).
	if rep := Coverage(r, pledges, Options{Election: "Pilkada 2029"}); rep.Signed != 0 || rep.NotSigned != 3 {
		t.Errorf("another election: %+v", rep.Counts)
	}
	if rep := Coverage(r, pledges, Options{Date: "2029-01-10"}); rep.OnTime != 1 || rep.Late != 0 {
		t.Errorf("a date: %+v", rep.Counts)
	}
	// Without a deadline, every pledge is on time.
	for i := range pledges {
		pledges[i].Deadline = time.Time{}
	}
	if rep := Coverage(r, pledges, Options{}); rep.OnTime != 2 || rep.Late != 0 || rep.Units[0].People[0].Deadline != "" {
		t.Errorf("no deadline: %+v", rep.Counts)
	}
}

// TestCoverageEscapes: nothing printed from a roster or an entry can forge
// a line of the text report.
func TestCoverageEscapes(t *testing.T) {
	r, err := New([]Person{{Scheme: "agency:7601", ID: "HON-1", Name: "Rina", Unit: "Umum"}})
	if err != nil {
		t.Fatal(err)
	}
	r.People[0].Name = "Rina\n  on time     HON-2  Forged" // past New's checks, as a caller might
	r.People[0].Unit = "Umum\u202e"
	var b bytes.Buffer
	Coverage(r, nil, Options{Template: "x\ny"}).WriteText(&b)
	if strings.Count(b.String(), "\n") != 4 || !strings.Contains(b.String(), `"Rina\n  on time     HON-2  Forged"`) || !strings.Contains(b.String(), `"Umum\u202e"`) {
		t.Errorf("not escaped:\n%s", b.String())
	}
}

// TestSignedFromBundle: a verified bundle and the same bundle read without
// verification establish the same facts; a bundle that fails is refused.
func TestSignedFromBundle(t *testing.T) {
	dir := filepath.Join("..", "..", "testdata", "bundles")
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	policy, err := verify.ParsePolicy(read("policy.json"))
	if err != nil {
		t.Fatal(err)
	}
	b := read("pledge-eddsa.pakta.json")
	rep, err := verify.VerifyBytes(b, policy, nil)
	if err != nil {
		t.Fatal(err)
	}
	verified, err := FromReport(rep)
	if err != nil {
		t.Fatal(err)
	}
	bu, err := verify.ParseBundle(b)
	if err != nil {
		t.Fatal(err)
	}
	read2, err := ReadBundle(bu)
	if err != nil {
		t.Fatal(err)
	}
	if !verified.LoggedAt.Equal(read2.LoggedAt) || !verified.Deadline.Equal(read2.Deadline) {
		t.Errorf("times differ: %+v vs %+v", verified, read2)
	}
	verified.LoggedAt, read2.LoggedAt = time.Time{}, time.Time{}
	verified.Deadline, read2.Deadline = time.Time{}, time.Time{}
	if verified != read2 {
		t.Errorf("FromReport %+v\nReadBundle %+v", verified, read2)
	}
	if verified.Index != 6 || verified.ID != "198703152010011002" || verified.Template != "netralitas-2024" {
		t.Errorf("got %+v", verified)
	}

	bad, err := verify.VerifyBytes(read("signature-invalid.pakta.json"), policy, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := FromReport(bad); err == nil || !strings.Contains(err.Error(), "fails its [signature] check") {
		t.Errorf("a failing bundle: %v", err)
	}
	enr, err := verify.VerifyBytes(read("enrollment.pakta.json"), policy, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := FromReport(enr); err == nil || !strings.Contains(err.Error(), "not a pledge") {
		t.Errorf("an enrollment: %v", err)
	}
}
