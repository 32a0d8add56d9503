package render

import (
	"fmt"
	"io"
	"strings"

	"codeberg.org/go-pdf/fpdf"
	qrcode "github.com/yeqown/go-qrcode/v2"

	"github.com/pakta-id/pakta/verify"
)

// The PDF is an evidence sheet on A4 that a supervisor signs and files:
// the header (the log, the verdict, the claim, and a QR code carrying the
// bundle's address), the checks, what the failures mean, the facts, the
// pledge text, the key history, what the bundle does not prove, a block
// for the examiner's signature, and on every page a footer with the
// checkpoint.
//
// It uses the PDF core fonts (Helvetica, Times), whose encoding is
// Windows-1252: Indonesian needs nothing more, and a character from an
// entry outside it is printed as its escape (\u4e2d), never dropped.

const (
	pageMargin = 15.0 // mm
	pageWidth  = 210.0
	textWidth  = pageWidth - 2*pageMargin
	labelWidth = 52.0
	qrSize     = 32.0
)

// WritePDF writes the report as an A4 evidence sheet.
func WritePDF(w io.Writer, r *verify.Report, o Options) error {
	s := build(r, o)
	pr := newPrinter(lang(o))
	pdf, enc := newA4(s.Title, s.Checkpoint, pr)

	// Header: the title, the log, the verdict, the claim; the QR code at
	// the right.
	right := textWidth
	if s.Address != "" {
		if err := drawQR(pdf, o.Address, pageWidth-pageMargin-qrSize, pageMargin); err != nil {
			return err
		}
		pdf.SetFont("Helvetica", "", 6.5)
		pdf.SetXY(pageWidth-pageMargin-qrSize, pageMargin+qrSize)
		pdf.MultiCell(qrSize, 2.8, enc(pr.t("Scan to fetch the bundle again")), "", "C", false)
		right = textWidth - qrSize - 4
		pdf.SetXY(pageMargin, pageMargin)
	}
	pdf.SetFont("Helvetica", "B", 15)
	pdf.MultiCell(right, 7, enc(s.Title), "", "L", false)
	pdf.SetFont("Helvetica", "", 9.5)
	if s.Log != "" {
		pdf.MultiCell(right, 4.5, enc(s.Log), "", "L", false)
	}
	if s.Address != "" {
		labelled(pdf, enc, s.AddressLabel, s.Address, right)
	}
	if s.Claim != nil {
		labelled(pdf, enc, pr.t("Claim"), s.Claim.Mark+": "+s.Claim.Reason, right)
	}
	pdf.Ln(1)
	if s.Pass {
		pdf.SetTextColor(10, 90, 10)
		pdf.SetDrawColor(10, 90, 10)
	} else {
		pdf.SetTextColor(160, 0, 0)
		pdf.SetDrawColor(160, 0, 0)
	}
	pdf.SetLineWidth(0.6)
	pdf.SetFont("Helvetica", "B", 12)
	pdf.MultiCell(right, 8, enc(s.Verdict), "1", "L", false)
	pdf.SetLineWidth(0.2)
	pdf.SetDrawColor(0, 0, 0)
	pdf.SetTextColor(0, 0, 0)
	if y := pageMargin + qrSize + 6; s.Address != "" && pdf.GetY() < y {
		pdf.SetY(y)
	}

	heading(pdf, enc, s.ChecksTitle)
	for _, c := range s.Checks {
		switch {
		case c.Pass:
			pdf.SetTextColor(10, 90, 10)
		case c.Skipped:
			pdf.SetTextColor(100, 100, 100)
		default:
			pdf.SetTextColor(160, 0, 0)
		}
		pdf.SetFont("Helvetica", "B", 8.5)
		y := pdf.GetY()
		pdf.CellFormat(labelWidth, 4, enc(c.Mark+" ["+c.ID+"]"), "", 0, "L", false, 0, "")
		pdf.SetTextColor(0, 0, 0)
		pdf.SetFont("Helvetica", "", 8.5)
		pdf.SetXY(pageMargin+labelWidth, y)
		pdf.MultiCell(textWidth-labelWidth, 4, enc(c.Reason), "", "L", false)
		pdf.Ln(0.8)
	}
	if len(s.Meanings) > 0 {
		heading(pdf, enc, s.MeaningsTitle)
		for _, m := range s.Meanings {
			row(pdf, enc, "["+m.ID+"]", m.Text)
		}
	}
	if len(s.Facts) > 0 {
		heading(pdf, enc, s.FactsTitle)
		for _, f := range s.Facts {
			row(pdf, enc, f.Label, f.Value)
		}
	}
	if len(s.Text) > 0 {
		heading(pdf, enc, s.TextTitle)
		pdf.SetFont("Times", "", 11)
		pdf.MultiCell(textWidth, 5, enc(strings.Join(s.Text, "\n")), "L", "L", false)
	}
	if len(s.History) > 0 || s.HistoryNote != "" {
		heading(pdf, enc, s.HistoryTitle)
		for _, h := range s.History {
			mark := ""
			if h.Outside {
				mark = "* "
			}
			row(pdf, enc, mark+h.Event, h.When+": "+h.Detail)
		}
		if s.HistoryNote != "" {
			pdf.SetFont("Helvetica", "I", 8.5)
			pdf.MultiCell(textWidth, 4, enc(s.HistoryNote), "", "L", false)
		}
	}
	heading(pdf, enc, s.NotProvenTitle)
	pdf.SetFont("Helvetica", "", 8.5)
	for _, n := range s.NotProven {
		y := pdf.GetY()
		pdf.CellFormat(4, 4, "-", "", 0, "L", false, 0, "")
		pdf.SetXY(pageMargin+4, y)
		pdf.MultiCell(textWidth-4, 4, enc(n), "", "L", false)
	}

	// The examiner's block: kept on one page.
	if pdf.GetY() > 297-22-45 {
		pdf.AddPage()
	}
	heading(pdf, enc, s.SignTitle)
	pdf.SetFont("Helvetica", "", 9.5)
	for _, f := range s.SignFields {
		pdf.CellFormat(labelWidth, 9, enc(f), "", 0, "L", false, 0, "")
		pdf.CellFormat(textWidth-labelWidth, 9, "", "B", 1, "L", false, 0, "")
	}
	if err := pdf.Output(w); err != nil {
		return fmt.Errorf("render: pdf: %w", err)
	}
	return nil
}

func heading(pdf *fpdf.Fpdf, enc func(string) string, title string) {
	// A heading stays with its first row: none alone at a page's foot.
	if _, pageH := pdf.GetPageSize(); pdf.GetY() > pageH-40 {
		pdf.AddPage()
	}
	pdf.Ln(2.5)
	pdf.SetFont("Helvetica", "B", 11)
	pdf.CellFormat(textWidth, 6, enc(title), "B", 1, "L", false, 0, "")
	pdf.Ln(1.2)
}

// row prints a label and its value beside it, the value wrapping.
func row(pdf *fpdf.Fpdf, enc func(string) string, label, value string) {
	_, pageH := pdf.GetPageSize()
	if pdf.GetY() > pageH-30 {
		pdf.AddPage()
	}
	y := pdf.GetY()
	pdf.SetFont("Helvetica", "B", 8.5)
	pdf.MultiCell(labelWidth-2, 4, enc(label), "", "L", false)
	yl := pdf.GetY()
	pdf.SetFont("Helvetica", "", 8.5)
	if yl < y { // the label went over a page
		y = pdf.GetY()
	}
	pdf.SetXY(pageMargin+labelWidth, y)
	pdf.MultiCell(textWidth-labelWidth, 4, enc(value), "", "L", false)
	if pdf.GetY() < yl {
		pdf.SetY(yl)
	}
	pdf.Ln(0.8)
}

// labelled prints "label: value" in a column of width w.
func labelled(pdf *fpdf.Fpdf, enc func(string) string, label, value string, w float64) {
	pdf.SetFont("Helvetica", "", 9.5)
	pdf.MultiCell(w, 4.5, enc(label+": "+value), "", "L", false)
}

// latin1 escapes every character that Windows-1252 (the core fonts'
// encoding) lacks, as Go writes it (\u4e2d), so that a name in another
// script is shown escaped rather than dropped or garbled. The text has
// already been through esc: what remains is graphic.
func latin1(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r < 0x80 || (r >= 0xA0 && r <= 0xFF) || strings.ContainsRune(cp1252, r):
			b.WriteRune(r)
		case r > 0xFFFF:
			fmt.Fprintf(&b, `\U%08x`, r)
		default:
			fmt.Fprintf(&b, `\u%04x`, r)
		}
	}
	return b.String()
}

// cp1252 holds the characters Windows-1252 puts at 0x80–0x9F.
const cp1252 = "€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ"

// drawQR draws a QR code of text, qrSize wide, its top left at (x, y): as
// vector squares, so that it prints sharp at any resolution.
func drawQR(pdf *fpdf.Fpdf, text string, x, y float64) error {
	q, err := qrcode.NewWith(text, qrcode.WithErrorCorrectionLevel(qrcode.ErrorCorrectionMedium))
	if err != nil {
		return fmt.Errorf("render: qr code: %w", err)
	}
	var m matrixWriter
	if err := q.Save(&m); err != nil {
		return fmt.Errorf("render: qr code: %w", err)
	}
	const quiet = 2 // modules of white around the code (the page is white)
	n := float64(m.mat.Width() + 2*quiet)
	cell := qrSize / n
	pdf.SetFillColor(0, 0, 0)
	m.mat.Iterate(qrcode.IterDirection_ROW, func(cx, cy int, v qrcode.QRValue) {
		if v.IsSet() {
			pdf.Rect(x+float64(cx+quiet)*cell, y+float64(cy+quiet)*cell, cell, cell, "F")
		}
	})
	return nil
}

// matrixWriter keeps the code's matrix: the library's Writer interface,
// without its image writers.
type matrixWriter struct{ mat qrcode.Matrix }

func (m *matrixWriter) Write(mat qrcode.Matrix) error { m.mat = mat; return nil }
func (m *matrixWriter) Close() error                  { return nil }

// newA4 starts an A4 document of pakta's sheets: margins, a page break
// above the footer, the footer (a line of text above "page N of M") on
// every page, and enc, which prints a string in the PDF's Latin-1 fonts
// (what they cannot show escaped).
func newA4(title, footer string, pr *printer) (*fpdf.Fpdf, func(string) string) {
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.SetMargins(pageMargin, pageMargin, pageMargin)
	pdf.SetAutoPageBreak(true, 22)
	pdf.SetTitle(title, true)
	pdf.SetCreator("pakta", true)
	pdf.AliasNbPages("{nb}")
	tr := pdf.UnicodeTranslatorFromDescriptor("") // cp1252
	enc := func(s string) string { return tr(latin1(s)) }
	pdf.SetFooterFunc(func() {
		pdf.SetY(-18)
		pdf.SetFont("Helvetica", "", 7)
		pdf.SetTextColor(60, 60, 60)
		pdf.MultiCell(textWidth, 3.2, enc(footer), "T", "L", false)
		pdf.CellFormat(textWidth, 3.5, enc(pr.t("Page %d of %s", pdf.PageNo(), "{nb}")), "", 0, "R", false, 0, "")
	})
	pdf.AddPage()
	return pdf, enc
}
