package roster

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/pakta-id/pakta/pledge"
)

// FuzzParse: no input panics the parser; a refusal is an *Error; an
// accepted roster lists everyone once, with a valid identifier, in the form
// statements carry, and reads back unchanged from MarshalCSV.
func FuzzParse(f *testing.F) {
	for _, pattern := range []string{"*.csv", "*.tsv", "*.txt"} {
		files, _ := filepath.Glob(filepath.Join("testdata", pattern))
		for _, name := range files {
			f.Add(readTestdata(f, filepath.Base(name)))
		}
	}
	f.Add([]byte("nip,name,unit\n198703152010011002,A,B\n198703152010011002,A,B\n"))
	f.Add([]byte("nip,name\n\"unterminated\n"))
	f.Add([]byte("sep=\t\nNIP\tNama\n'19870315 201001 1 002\tBudi\n"))
	f.Add(utf16le("NIP\tNama\r\n198703152010011002\tBudi\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := Parse("roster.csv", data)
		if err != nil {
			var re *Error
			if !errors.As(err, &re) {
				t.Fatalf("%v is not a *roster.Error", err)
			}
			return
		}
		seen := map[key]bool{}
		for _, p := range r.People {
			k := key{p.Scheme, p.ID}
			if seen[k] {
				t.Fatalf("%s %s accepted twice", p.Scheme, p.ID)
			}
			seen[k] = true
			if err := pledge.ValidateID(p.Scheme, p.ID, p.Employment, time.Time{}); err != nil {
				t.Fatalf("accepted an invalid identifier: %v", err)
			}
			for _, s := range []string{p.Name, p.Unit, p.Position} {
				if c, err := cleanCell(s); err != nil || c != s {
					t.Fatalf("%q is not in statement form", s)
				}
			}
			if m := r.Match(p.Subject(pledge.Agency{Code: "1", Name: "A"})); m.Kind != Exact {
				t.Fatalf("%+v does not match itself", p)
			}
		}
		again, err := Parse("roster.csv", r.MarshalCSV())
		if err != nil {
			t.Fatalf("MarshalCSV does not read back: %v\n%s", err, r.MarshalCSV())
		}
		if !samePeople(r, again) {
			t.Fatalf("MarshalCSV changed the roster:\n%+v\n%+v", r.People, again.People)
		}
	})
}
