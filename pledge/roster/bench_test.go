package roster

import (
	"bytes"
	"fmt"
	"testing"
	"time"
)

// BenchmarkParse10k reads an export of 10,000 people, the staff of a large
// regency: semicolons, NIPs with spaces, every cell cleaned.
func BenchmarkParse10k(b *testing.B) {
	var buf bytes.Buffer
	buf.WriteString("\uFEFFNo;NIP;Nama;Unit Kerja;Jabatan;Status\r\n")
	birth := time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 10000 {
		d := birth.AddDate(0, 0, i)
		fmt.Fprintf(&buf, "%d;%s %d01 %d %03d;Pegawai  %05d, S.E.;Unit %d;Staf;PNS\r\n", i+1, d.Format("20060102"), d.Year()+25, 1+i%2, 1+i%999, i, i%40)
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Parse("bench.csv", data); err != nil {
			b.Fatal(err)
		}
	}
}
