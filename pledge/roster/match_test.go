package roster

import (
	"testing"

	"github.com/pakta-id/pakta/pledge"
)

func TestSameName(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		same bool
	}{
		{"Budi Santoso", "Budi Santoso", true},
		{"Budi Santoso", "BUDI  santoso", true},
		{"Dr. Budi Santoso, S.E., M.Si.", "Budi Santoso", true},
		{"Budi Santoso S.Kom", "budi santoso", true},
		{"Ir. H. Budi Santoso, MM", "Budi Santoso", true},
		{"dr. Siti Aminah, Sp.PD", "Siti Aminah, S.Ked.", true},
		{"Prof Dr Budi Santoso", "Budi Santoso", true},
		{"Ns. Rina, S.Kep.", "Rina", true},
		{"Santoso, Budi", "Santoso Budi", true}, // a comma is spacing, not a title list
		{"M. Yusuf", "Yusuf", false},            // an initial, not a title
		{"Budi Santoso", "Budi Santosa", false},
		{"Budi Santoso", "Budi", false},
		{"Budi Santoso, Ahmad", "Budi Santoso", false},
		{"Dr.", "", false},
		{"", "", false},
	} {
		if got := SameName(tc.a, tc.b); got != tc.same {
			t.Errorf("SameName(%q, %q) = %v, want %v", tc.a, tc.b, got, tc.same)
		}
		if got := SameName(tc.b, tc.a); got != tc.same {
			t.Errorf("SameName(%q, %q) = %v, want %v", tc.b, tc.a, got, tc.same)
		}
	}
}

func TestMatch(t *testing.T) {
	r, err := Parse("roster.csv", readTestdata(t, "simpeg-semicolon.csv"))
	if err != nil {
		t.Fatal(err)
	}
	budi, _ := r.Lookup("nip", "198703152010011002")
	subject := func(name, employment string) pledge.Person {
		return pledge.Person{Scheme: "nip", ID: "198703152010011002", Name: name, Employment: employment,
			Agency: pledge.Agency{Code: "7601", Name: "Pemerintah Kabupaten Mamuju"}}
	}
	with := func(p pledge.Person, unit, position string) pledge.Person {
		p.Unit, p.Position = unit, position
		return p
	}
	for _, tc := range []struct {
		name    string
		subject pledge.Person
		want    Match
	}{
		{"exact", subject("Dr. Budi Santoso, S.E., M.Si.", "PNS"), Match{Exact, budi}},
		{"without titles", subject("Budi Santoso", "PNS"), Match{FormDiffers, budi}},
		{"case and spacing", subject("DR. BUDI SANTOSO,  S.E.,M.Si.", "PNS"), Match{FormDiffers, budi}},
		{"employment", subject("Dr. Budi Santoso, S.E., M.Si.", "PPPK"), Match{FormDiffers, budi}},
		{"unit", with(subject("Dr. Budi Santoso, S.E., M.Si.", "PNS"), "Bag. Umum", ""), Match{FormDiffers, budi}},
		{"position", with(subject("Dr. Budi Santoso, S.E., M.Si.", "PNS"), "", "Kabag"), Match{FormDiffers, budi}},
		{"unit and position as listed", with(subject("Dr. Budi Santoso, S.E., M.Si.", "PNS"), "Bagian Umum", "Kepala Bagian"), Match{Exact, budi}},
		{"another name", subject("Agus Salim", "PNS"), Match{}},
		{"not listed", pledge.Person{Scheme: "nip", ID: "199912312024121001", Name: "Budi Santoso"}, Match{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := r.Match(tc.subject); got != tc.want {
				t.Errorf("got %v %+v, want %v %+v", got.Kind, got.Person, tc.want.Kind, tc.want.Person)
			}
		})
	}
	// The roster's form, as a statement's subject, is an exact match and
	// a valid person.
	s := budi.Subject(pledge.Agency{Code: "7601", Name: "Pemerintah Kabupaten Mamuju"})
	if m := r.Match(s); m.Kind != Exact {
		t.Errorf("the roster's own form is %v", m.Kind)
	}
}
