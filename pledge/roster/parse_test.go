package roster

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf16"
)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestParseExports reads exports as HR tools write them.
func TestParseExports(t *testing.T) {
	budi := Person{Scheme: "nip", ID: "198703152010011002", Name: "Budi Santoso", Unit: "Bagian Umum", Employment: "PNS", Line: 2}
	andi := Person{Scheme: "nip", ID: "199001012022211003", Name: "Andi Pratama", Unit: "Dinas Kesehatan", Employment: "PPPK", Line: 3}
	for _, tc := range []struct {
		file    string
		data    []byte // instead of file
		people  []Person
		ignored []string
	}{
		{
			// SIMPEG-style: BOM, CRLF, semicolons, Indonesian headers, a
			// row number and a grade column, NIPs with spaces, titles,
			// every status, honorer and THL rows with an agency-issued id,
			// a NIK row, a trailing blank row.
			file: "simpeg-semicolon.csv",
			people: []Person{
				{Scheme: "nip", ID: "198703152010011002", Name: "Dr. Budi Santoso, S.E., M.Si.", Unit: "Bagian Umum", Position: "Kepala Bagian", Employment: "PNS", Line: 2},
				{Scheme: "nip", ID: "199805122024032001", Name: "Siti Aminah, S.Kom.", Unit: "Bagian Umum", Position: "Pranata Komputer", Employment: "PNS", Line: 3},
				{Scheme: "nip", ID: "199001012022211003", Name: "Andi Pratama", Unit: "Dinas Kesehatan", Position: "Perawat", Employment: "PPPK", Line: 4},
				{Scheme: "nip", ID: "198512202025241001", Name: "Wayan Sudarma", Unit: "Dinas Kesehatan", Position: "Pengelola Umum", Employment: "PPPK", Line: 5},
				{Scheme: "agency:7601", ID: "HON-0042", Name: "Rina", Unit: "Dinas Kesehatan", Position: "Tenaga Administrasi", Employment: "NON_ASN", Line: 6},
				{Scheme: "agency:7601", ID: "THL-007", Name: "Yohanis Wenda", Unit: "Dinas Pekerjaan Umum", Position: "Pengemudi", Employment: "NON_ASN", Line: 7},
				{Scheme: "nik", ID: "7604014512900001", Name: "Ni Luh Putu Ayu", Unit: "Dinas Pekerjaan Umum", Employment: "NON_ASN", Line: 8},
			},
			ignored: []string{"No", "Golongan"},
		},
		{
			file: "tab-english.tsv",
			people: []Person{
				{Scheme: "nip", ID: "198703152010011002", Name: "Budi Santoso", Unit: "General Affairs", Position: "Head of Section", Employment: "PNS", Line: 2},
				{Scheme: "nip", ID: "199001012022211003", Name: "Andi Pratama", Unit: "Health Office", Position: "Nurse", Employment: "PPPK", Line: 3},
			},
		},
		{
			// No status column: employment from the NIP (a month → PNS,
			// 21 → PPPK); a quoted name holding a comma.
			file:   "comma-no-status.csv",
			people: []Person{{Scheme: "nip", ID: "198703152010011002", Name: "Santoso, Budi", Unit: "Bagian Umum", Employment: "PNS", Line: 2}, andi},
		},
		{
			// Excel's "sep=;" line names the delimiter; the header is line 2.
			file:   "excel-sep-line.csv",
			people: []Person{{Scheme: "nip", ID: "198703152010011002", Name: "Budi Santoso", Employment: "PNS", Line: 3}},
		},
		{
			file:   "canonical.csv",
			people: []Person{budi, {Scheme: "agency:7601", ID: "HON-0042", Name: "Rina", Unit: "Dinas Kesehatan", Employment: "NON_ASN", Line: 3}},
		},
		{
			// Excel's "Unicode Text": UTF-16LE with a BOM, tabs, CRLF.
			file:   "unicode-text.txt",
			data:   utf16le("NIP\tNama\tUnit Kerja\r\n198703152010011002\tBudi Santoso\tBagian Umum\r\n"),
			people: []Person{budi},
		},
		{
			// Old Mac line ends (CR only), headers in capitals with
			// underscores, a leading apostrophe, messy spaces, an empty
			// status derived from the NIP.
			file:   "mac.csv",
			data:   []byte("NIP_BARU,NAMA_LENGKAP,UNIT_KERJA,STATUS\r'198703152010011002,  Budi \u00a0 Santoso ,Bagian  Umum,\r199001012022211003,Andi Pratama,Dinas Kesehatan,pppk\r"),
			people: []Person{budi, andi},
		},
		{
			// A name broken over two lines in a quoted cell: the next row
			// starts on line 4.
			file:   "multiline.csv",
			data:   []byte("nip,nama,unit\n198703152010011002,\"Budi\nSantoso\",Bagian Umum\n199001012022211003,Andi Pratama,Dinas Kesehatan\n"),
			people: []Person{budi, {Scheme: "nip", ID: "199001012022211003", Name: "Andi Pratama", Unit: "Dinas Kesehatan", Employment: "PPPK", Line: 4}},
		},
		{
			// A quote inside an unquoted cell is a character of the name;
			// a trailing delimiter is an empty, ignored column.
			file:   "quote-in-name.csv",
			data:   []byte("nip,nama,\n198703152010011002,Budi \"Ucok\" Santoso,\n"),
			people: []Person{{Scheme: "nip", ID: "198703152010011002", Name: `Budi "Ucok" Santoso`, Employment: "PNS", Line: 2}},
		},
	} {
		t.Run(tc.file, func(t *testing.T) {
			data := tc.data
			if data == nil {
				data = readTestdata(t, tc.file)
			}
			r, err := Parse(tc.file, data)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(r.People, tc.people) {
				t.Errorf("people:\n got %+v\nwant %+v", r.People, tc.people)
			}
			if !reflect.DeepEqual(r.Ignored, tc.ignored) {
				t.Errorf("ignored: got %q, want %q", r.Ignored, tc.ignored)
			}
			for _, p := range tc.people {
				if got, ok := r.Lookup(p.Scheme, p.ID); !ok || got != p {
					t.Errorf("Lookup(%s, %s) = %+v, %v", p.Scheme, p.ID, got, ok)
				}
			}
			if _, ok := r.Lookup("nip", "199912312024121001"); ok {
				t.Error("Lookup found someone not on the roster")
			}
		})
	}
}

func utf16le(s string) []byte {
	b := []byte{0xFF, 0xFE}
	for _, u := range utf16.Encode([]rune(s)) {
		b = append(b, byte(u), byte(u>>8))
	}
	return b
}

// TestParseErrors: every refusal names the line and the column, as
// "file:line:column: message".
func TestParseErrors(t *testing.T) {
	const header = "NIP;Nama;Unit Kerja;Status\r\n"
	const budi = "198703152010011002;Budi Santoso;Bagian Umum;PNS\r\n"
	for _, tc := range []struct {
		name, data, want string
		dup              bool
	}{
		{"bad-status", header + budi + "199001012015032001;Siti;Bagian Umum;Pensiun\r\n",
			`roster.csv:3:4: Status "Pensiun" is not PNS, CPNS, PPPK, PPPK Paruh Waktu, Honorer, THL or Non ASN`, false},
		{"duplicate-with-spaces", header + budi + "19870315 201001 1 002;Budi S.;Bagian Umum;PNS\r\n",
			`roster.csv:3:1: nip 198703152010011002 is already listed on line 2`, true},
		{"short-row", header + budi + "199001012015032001;Siti\r\n",
			`roster.csv:3:3: 2 fields, but the header has 4 columns`, false},
		{"long-row", header + budi + "199001012015032001;Siti;Umum;PNS;extra\r\n",
			`roster.csv:3:5: 5 fields, but the header has 4 columns`, false},
		{"bad-nip", header + "12345;Siti;Umum;PNS\r\n",
			`roster.csv:2:1: NIP "12345": must be 18 digits`, false},
		{"pns-with-pppk-nip", header + "199001012022211003;Andi;Umum;PNS\r\n",
			`roster.csv:2:1: NIP 199001012022211003: digits 9-14 (202221) are not an appointment year and month YYYYMM (month 21)`, false},
		{"honorer-with-nip", header + "198703152010011002;Budi;Umum;Honorer\r\n",
			`roster.csv:2:1: scheme "nip": NON_ASN staff have no NIP: use "nik" or "agency:<code>"`, false},
		{"underivable-nip", "nip,nama\n198703152010001002,Budi\n",
			`roster.csv:2:1: NIP 198703152010001002: digits 13-14 (00) are neither an appointment month (PNS) nor a PPPK contract code 21-29: give the person's Status`, false},
		{"rounded-nip", "nip,nama\n1.98703E+17,Budi\n",
			`roster.csv:2:1: identifier "1.98703E+17" looks like a number a spreadsheet rounded: format the column as text and export again`, false},
		{"missing-name", header + "198703152010011002;;Umum;PNS\r\n",
			`roster.csv:2:2: name is missing`, false},
		{"missing-nip", header + ";Budi;Umum;PNS\r\n",
			`roster.csv:2:1: NIP is missing`, false},
		{"no-identifier", "NIP;Nama;Skema;ID\n;Budi;;\n",
			`roster.csv:2:1: no identifier: give a NIP, or a scheme (nik or agency:<code>) and an id`, false},
		{"zero-width-space", header + "198703152010011002;Budi\u200bSantoso;Umum;PNS\r\n",
			`roster.csv:2:2: Nama "Budi\u200bSantoso": holds U+200B, a format character such as a zero-width space or a bidirectional override`, false},
		{"not-utf8", header + "198703152010011002;Budi \xe9;Umum;PNS\r\n",
			`roster.csv:2:2: Nama "Budi \xe9": not UTF-8 text: save the export as "CSV UTF-8"`, false},
		{"unclosed-quote", header + "198703152010011002;\"Budi;Umum;PNS\r\n",
			`roster.csv:2:2: a quoted field is never closed: a '"' is missing`, false},
		{"text-after-quote", header + "198703152010011002;\"Budi\" S;Umum;PNS\r\n",
			`roster.csv:2:2: text after a closing quote: a quote inside a quoted field must be doubled ("")`, false},
		{"scheme-without-id", "nip,nama,scheme,id\n,Rina,agency:7601,\n",
			`roster.csv:2:4: id is missing for scheme "agency:7601"`, false},
		{"id-without-scheme", "nip,nama,scheme,id\n,Rina,,HON-0042\n",
			`roster.csv:2:3: scheme is missing for id "HON-0042" (nik, or agency:<code> for an agency-issued number)`, false},
		{"nip-and-id", "nip,nama,scheme,id\n198703152010011002,Rina,agency:7601,HON-0042\n",
			`roster.csv:2:1: the row has both a NIP (198703152010011002) and "agency:7601" "HON-0042": give one`, false},
		{"bad-scheme", "nama,scheme,id\nRina,passport,X123\n",
			`roster.csv:2:3: scheme "passport" is not "nip", "nik" or "agency:<code>"`, false},
		{"two-name-columns", "NIP,Nama,Name\n",
			`roster.csv:1:3: columns 2 ("Nama") and 3 ("Name") are both the name column: keep one`, false},
		{"no-name-column", "NIP,Unit\n198703152010011002,Umum\n",
			`roster.csv:1: the header "NIP,Unit" has no name column (Nama or Name)`, false},
		{"title-row", "DAFTAR PEGAWAI DINAS KESEHATAN\nNIP,Nama\n",
			`roster.csv:1: the header "DAFTAR PEGAWAI DINAS KESEHATAN" has no NIP column, nor scheme and id columns (is the first line the header row?)`, false},
		{"scheme-column-only", "nama,scheme\n",
			`roster.csv:1: the header has a scheme column but no id column: staff without a NIP need both`, false},
		{"empty", "\xef\xbb\xbf\r\n", `roster.csv: empty roster: it needs a header row (NIP or scheme and id, and a name)`, false},
		{"header-only", header, `roster.csv: the roster lists nobody: it has a header but no rows`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("roster.csv", []byte(tc.data))
			if err == nil {
				t.Fatal("accepted")
			}
			if err.Error() != tc.want {
				t.Errorf("error:\n got %s\nwant %s", err, tc.want)
			}
			var re *Error
			if !errors.As(err, &re) || re.File != "roster.csv" {
				t.Errorf("error %v is not a *roster.Error", err)
			}
			if errors.Is(err, ErrDuplicate) != tc.dup {
				t.Errorf("errors.Is(err, ErrDuplicate) = %v", !tc.dup)
			}
		})
	}
}

// TestErrorFields: a caller can show where the problem is without parsing
// the message.
func TestErrorFields(t *testing.T) {
	_, err := Parse("pegawai.csv", []byte("NIP;Nama;Status\n198703152010011002;Budi;Pensiun\n"))
	var re *Error
	if !errors.As(err, &re) {
		t.Fatalf("%v is not a *roster.Error", err)
	}
	if re.File != "pegawai.csv" || re.Line != 2 || re.Column != 3 || re.Header != "Status" {
		t.Errorf("got %+v", re)
	}
}

func TestParseTooLarge(t *testing.T) {
	_, err := Parse("big.csv", make([]byte, MaxSize+1))
	if err == nil || !strings.Contains(err.Error(), "over the") {
		t.Fatalf("got %v", err)
	}
}

// TestMarshalCSV: what roster import stores reads back to the same roster.
func TestMarshalCSV(t *testing.T) {
	r, err := Parse("x", readTestdata(t, "simpeg-semicolon.csv"))
	if err != nil {
		t.Fatal(err)
	}
	b := r.MarshalCSV()
	if !strings.HasPrefix(string(b), "scheme,id,name,unit,position,employment\nnip,198703152010011002,\"Dr. Budi Santoso, S.E., M.Si.\",Bagian Umum,Kepala Bagian,PNS\n") {
		t.Errorf("got\n%s", b)
	}
	again, err := Parse("x", b)
	if err != nil {
		t.Fatal(err)
	}
	if !samePeople(r, again) {
		t.Errorf("round trip:\n got %+v\nwant %+v", again.People, r.People)
	}
}

// samePeople compares rosters but not the lines people came from.
func samePeople(a, b *Roster) bool {
	if len(a.People) != len(b.People) {
		return false
	}
	for i := range a.People {
		p, q := a.People[i], b.People[i]
		p.Line, q.Line = 0, 0
		if p != q {
			return false
		}
	}
	return true
}

func TestNew(t *testing.T) {
	r, err := New([]Person{
		{Scheme: "nip", ID: "198703152010011002", Name: " Budi  Santoso", Unit: "Bagian Umum"},
		{Scheme: "agency:7601", ID: "HON-0042", Name: "Rina"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if p, _ := r.Lookup("nip", "198703152010011002"); p.Name != "Budi Santoso" || p.Employment != "PNS" {
		t.Errorf("got %+v", p)
	}
	if p, _ := r.Lookup("agency:7601", "HON-0042"); p.Employment != "NON_ASN" {
		t.Errorf("got %+v", p)
	}
	_, err = New([]Person{{Scheme: "nip", ID: "198703152010011002", Name: "A"}, {Scheme: "nip", ID: "198703152010011002", Name: "B"}})
	if !errors.Is(err, ErrDuplicate) || err.Error() != "roster: person 2: nip 198703152010011002 is already listed as person 1" {
		t.Errorf("got %v", err)
	}
}
