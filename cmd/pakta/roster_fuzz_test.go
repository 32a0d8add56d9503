package main

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzRoster: no roster panics the parser, and every accepted row names a
// person with a valid identifier, once.
func FuzzRoster(f *testing.F) {
	f.Add([]byte("nip,name,unit\n198703152010011002,Budi Santoso,Bagian Umum\n"))
	f.Add([]byte("scheme,id,name,unit,employment\nnip,198703152010011002,Budi,Umum,PNS\nagency:7601,HON-0042,Rina,Dinkes,NON_ASN\n"))
	f.Add([]byte("nip,name,unit\n198703152010011002,A,B\n198703152010011002,A,B\n"))
	f.Add([]byte("\xef\xbb\xbfnip,name,unit\r\n198703152010011002,\"Budi, S.\",Umum\r\n"))
	f.Add([]byte("nip,name\n\"unterminated\n"))
	if files, _ := filepath.Glob("testdata/*.csv"); len(files) > 0 {
		for _, name := range files {
			b, _ := os.ReadFile(name)
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		people, err := parseRoster("roster.csv", data)
		if err != nil {
			return
		}
		seen := map[string]bool{}
		for _, p := range people {
			k := p.Scheme + "\x00" + p.ID
			if seen[k] {
				t.Fatalf("person %s %s accepted twice", p.Scheme, p.ID)
			}
			seen[k] = true
		}
	})
}
