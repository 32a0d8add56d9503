package render

import (
	"bytes"
	"strings"
	"testing"

	"github.com/pakta-id/pakta/verify"
)

// TestWriteHistory: a person's history as a document, in both languages,
// times in the person's zone beside UTC, and an entry's markup escaped.
func TestWriteHistory(t *testing.T) {
	h := &History{Origin: "pakta.example/log", Scheme: "nip", ID: "198703152010011002", Name: "Budi <b>Santoso</b>",
		Offset: "+08:00", ReadAt: "2024-11-21T02:00:00Z", Failed: 1,
		Rows: []HistoryRow{
			{Index: 2, Type: "enrollment", LoggedAt: "2023-11-27T00:15:01.123Z", Detail: "key abc enrolled\u202e"},
			{Index: 6, Type: "ruling", LoggedAt: "2024-01-02T03:04:05.000Z", Detail: "case X"},
		}}
	var b bytes.Buffer
	if err := WriteHistory(&b, HTML, h, Options{Lang: verify.Indonesian}); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	for _, want := range []string{
		"Riwayat seseorang di log",
		"Budi &lt;b&gt;Santoso&lt;/b&gt; (nip 198703152010011002)",
		"27 November 2023 pukul 08.15.01 WITA (27 November 2023 pukul 00.15.01 UTC)",
		"putusan otoritas pengawas (indeks 6)",
		`key abc enrolled\u202e`,
		"2 entri; 1 di antaranya tidak terverifikasi",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the html history lacks %q:\n%s", want, page)
		}
	}
	b.Reset()
	if err := WriteHistory(&b, PDF, h, Options{Lang: verify.English}); err != nil || !bytes.HasPrefix(b.Bytes(), []byte("%PDF-")) {
		t.Fatalf("pdf history: %v", err)
	}
	if err := WriteHistory(&b, Text, h, Options{}); err == nil {
		t.Error("a text history is accepted: pakta history prints its own")
	}
}
