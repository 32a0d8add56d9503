package render

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pakta-id/pakta/pledge"
	"github.com/pakta-id/pakta/verify"
)

// poppler returns the path of a poppler tool (Debian's poppler-utils;
// .ci/run installs it), or skips the test.
func poppler(t *testing.T, tool string) string {
	t.Helper()
	path, err := exec.LookPath(tool)
	if err != nil {
		t.Skipf("%s not found (apt-get install poppler-utils): %v", tool, err)
	}
	return path
}

// words joins s's words with single spaces: the PDF wraps lines where it
// likes.
func words(s string) string { return strings.Join(strings.Fields(s), " ") }

// TestPDF renders evidence sheets, reads their text back with pdftotext,
// and writes page 1 of each as a PNG test artifact (go test -artifacts
// keeps them under -outputdir).
func TestPDF(t *testing.T) {
	pdftotext, pdftoppm := poppler(t, "pdftotext"), poppler(t, "pdftoppm")
	p := policy(t)
	cases := []struct {
		name string
		r    *verify.Report
		o    Options
		want []string
	}{
		{"pass-id", report(t, p, "pledge-eddsa.pakta.json", &verify.Claim{Scheme: "nip", ID: "198703152010011002", Date: "2023-11-27"}),
			Options{Lang: verify.Indonesian, Address: "https://pakta.example/v1/entries/6", History: []HistoryRow{
				{Index: 21, Type: pledge.TypeRevocation, LoggedAt: "2024-02-01T02:00:00.000Z", Detail: "registrar mencabut kunci lama (ponsel hilang)"},
			}},
			[]string{"HASIL: LULUS", "Andi Pratama", "NIP 198703152010011002",
				"27 November 2023 pukul 08.15.00 WITA (27 November 2023 pukul 00.15.00 UTC)",
				"27 November 2023 pukul 09.00.06 WITA (27 November 2023 pukul 01.00.06 UTC)",
				"TEPAT WAKTU", "BKN Direktorat Kepegawaian", "LULUS [claim]",
				"PAKTA INTEGRITAS NETRALITAS APARATUR",
				"Menolak politik uang dan segala bentuk pemberian, hadiah, atau janji dalam bentuk apa pun yang berkaitan dengan pemilihan.",
				"https://pakta.example/v1/entries/6", "* kunci dicabut (indeks 21)", "Checkpoint: log \"pakta.example/vectors\", 15 entri",
				"Halaman 1 dari 2"}},
		{"late-en", report(t, p, "pledge-wit-midnight.pakta.json", nil), Options{Lang: verify.English},
			[]string{"VERDICT: PASS", "Yohanes Wonda", "28 November 2023, 00:30:00 WIT (27 November 2023, 15:30:00 UTC)",
				"LATE: the log recorded the pledge after the deadline", "Menggunakan media sosial secara bijak"}},
		{"fail-key-en", report(t, p, "key-signer-name-differs.pakta.json", nil), Options{Lang: verify.English},
			[]string{"VERDICT: FAIL, first failed check: [key]", "FAIL [key]", "NOT CHECKED [template]", "\"that is not my signature\""}},
		{"hostile-id", hostile(t), Options{Lang: verify.Indonesian, Address: "https://pakta.example/v1/entries/6"},
			[]string{`Andi\x1b[2J\r\u202eamatarP <script>alert(1)</script>\u2028\u03a9 \u738b`, `Bagian\x00Umum`, `netral\a`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := WritePDF(&b, c.r, c.o); err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(b.Bytes(), []byte("%PDF-")) {
				t.Fatalf("not a PDF: %q", b.Bytes()[:min(20, b.Len())])
			}
			dir := t.ArtifactDir()
			pdfPath := filepath.Join(dir, c.name+".pdf")
			if err := os.WriteFile(pdfPath, b.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(pdftotext, "-enc", "UTF-8", pdfPath, "-").CombinedOutput()
			if err != nil {
				t.Fatalf("pdftotext: %v\n%s", err, out)
			}
			text := words(string(out))
			for _, w := range c.want {
				if !strings.Contains(text, words(w)) {
					t.Errorf("the PDF's text lacks %q; it reads:\n%s", w, out)
				}
			}
			onlyGraphic(t, strings.ReplaceAll(string(out), "\f", "\n"))
			if out, err := exec.Command(pdftoppm, "-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile", pdfPath, filepath.Join(dir, c.name+"-page1")).CombinedOutput(); err != nil {
				t.Fatalf("pdftoppm: %v\n%s", err, out)
			}
			png := filepath.Join(dir, c.name+"-page1.png")
			if fi, err := os.Stat(png); err != nil || fi.Size() < 1000 {
				t.Fatalf("page 1 PNG: %v", err)
			}
			t.Logf("page 1: %s", png)
		})
	}
}
