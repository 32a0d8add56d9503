package roster_test

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/pakta-id/pakta/pledge"
	"github.com/pakta-id/pakta/pledge/roster"
)

// HR exports its staff list from a spreadsheet: semicolons, Indonesian
// headers, NIPs with spaces, an honorer with an agency-issued number.
func ExampleParse() {
	export := "\uFEFFNIP;Skema;ID;Nama;Unit Kerja;Status\r\n" +
		"19870315 201001 1 002;;;Budi Santoso;Bagian Umum;PNS\r\n" +
		"19900101 2022 21 1 003;;;Andi Pratama;Dinas Kesehatan;PPPK Paruh Waktu\r\n" +
		";agency:7601;HON-0042;Rina;Dinas Kesehatan;Honorer\r\n"
	r, err := roster.Parse("pegawai.csv", []byte(export))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, p := range r.People {
		fmt.Println(p.Scheme, p.ID, p.Name, p.Employment)
	}
	// Output:
	// nip 198703152010011002 Budi Santoso PNS
	// nip 199001012022211003 Andi Pratama PPPK
	// agency:7601 HON-0042 Rina NON_ASN
}

// A refused roster says where the problem is, and a program can tell.
func ExampleError() {
	_, err := roster.Parse("pegawai.csv", []byte("NIP;Nama;Status\n198703152010011002;Budi Santoso;Pensiun\n"))
	fmt.Println(err)
	var re *roster.Error
	if errors.As(err, &re) {
		fmt.Printf("line %d, column %d (%s)\n", re.Line, re.Column, re.Header)
	}
	// Output:
	// pegawai.csv:2:3: Status "Pensiun" is not PNS, CPNS, PPPK, PPPK Paruh Waktu, Honorer, THL or Non ASN
	// line 2, column 3 (Status)
}

// An enrollment request must name someone on the roster, in the roster's
// form: a name that differs only in case, spacing or titles is answered with
// the roster's form, which the device signs again.
func ExampleRoster_Match() {
	r, _ := roster.Parse("pegawai.csv", []byte("NIP,Nama\n198703152010011002,\"Dr. Budi Santoso, M.Si.\"\n"))
	subject := pledge.Person{Scheme: "nip", ID: "198703152010011002", Name: "budi santoso", Employment: "PNS",
		Agency: pledge.Agency{Code: "7601", Name: "Pemerintah Kabupaten Mamuju"}}
	m := r.Match(subject)
	fmt.Println(m.Kind, m.Person.Name)
	fmt.Println(r.Match(m.Person.Subject(subject.Agency)).Kind)
	// Output:
	// form differs Dr. Budi Santoso, M.Si.
	// exact
}

// Coverage judges each person by when the log logged their pledge, against
// the template's deadline. Signed values come from verified bundles
// (roster.FromReport).
func ExampleCoverage() {
	r, _ := roster.Parse("pegawai.csv", []byte("NIP;Nama;Unit Kerja\n"+
		"198703152010011002;Budi Santoso;Bagian Umum\n"+
		"199001012015032001;Siti Aminah;Bagian Umum\n"+
		"199001012022211003;Andi Pratama;Dinas Kesehatan\n"))
	deadline := time.Date(2029, 1, 10, 23, 59, 59, 0, time.FixedZone("WITA", 8*3600))
	pledges := []roster.Signed{
		{Scheme: "nip", ID: "198703152010011002", Index: 4, LoggedAt: deadline.Add(-time.Hour), Template: "netralitas-2029", Deadline: deadline},
		{Scheme: "nip", ID: "199001012022211003", Index: 9, LoggedAt: deadline.Add(time.Hour), Template: "netralitas-2029", Deadline: deadline},
	}
	rep := roster.Coverage(r, pledges, roster.Options{Template: "netralitas-2029"})
	rep.WriteText(os.Stdout)
	// Output:
	// pledges of template netralitas-2029: 2 of 3 signed (66%): 1 on time, 1 late, 1 not signed
	//
	// Bagian Umum: 1 of 2 signed (1 on time, 0 late)
	//   on time     198703152010011002  Budi Santoso  (index 4, logged 2029-01-10T14:59:59.000Z)
	//   NOT signed  199001012015032001  Siti Aminah
	//
	// Dinas Kesehatan: 1 of 1 signed (0 on time, 1 late)
	//   LATE        199001012022211003  Andi Pratama  (index 9, logged 2029-01-10T16:59:59.000Z, after the deadline 2029-01-10T23:59:59+08:00)
}
