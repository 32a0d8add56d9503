// Package render writes a verification report for the people who settle a
// dispute with it: a neutrality supervisor reading it on screen or on
// paper, in Indonesian or English. Text, HTML and PDF show the same sheet:
// the log, the claim and the verdict; every check; what each failed or
// unchecked check means for the dispute; the facts (who, what text, when
// in the pledge's zone and UTC, on time or late, who enrolled the key);
// the key's history; and what the bundle does not prove. JSON is the
// report itself with its reasons translated.
//
// Everything printed from an entry is escaped: no character that is not
// graphic reaches the output raw (HTML is escaped by html/template as
// well, and PDF, whose fonts are Latin-1, escapes what Latin-1 lacks).
//
// The package is apart from verify so that a verifier that only needs the
// report does not carry the PDF and QR code libraries.
package render

import (
	"fmt"
	"io"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"golang.org/x/text/language"

	"github.com/pakta-id/pakta/verify"
)

// Format is an output format.
type Format string

// Formats.
const (
	Text Format = "text"
	JSON Format = "json"
	HTML Format = "html"
	PDF  Format = "pdf"
)

// ParseFormat reads a format name: text (the default for ""), json, html
// or pdf.
func ParseFormat(s string) (Format, error) {
	switch f := Format(s); f {
	case "":
		return Text, nil
	case Text, JSON, HTML, PDF:
		return f, nil
	}
	return "", fmt.Errorf("render: format %q: choose text, json, html or pdf", s)
}

// ContentType is the media type of a format, for HTTP.
func (f Format) ContentType() string {
	switch f {
	case JSON:
		return "application/json"
	case HTML:
		return "text/html; charset=utf-8"
	case PDF:
		return "application/pdf"
	}
	return "text/plain; charset=utf-8"
}

// Options say how to render a report. The zero value renders in
// Indonesian, with no QR code and no history beyond the bundle.
type Options struct {
	// Lang is the language of the words (verify.Indonesian or
	// verify.English); the zero tag means Indonesian. Check ids, field
	// names and JSON members stay untranslated.
	Lang language.Tag
	// Address is where the bundle can be fetched again (a URL, such as the
	// log's /v1/entries/{index}, or a file name): printed, and carried by
	// the PDF's QR code. Empty: none.
	Address string
	// History holds extra rows of the person's key history, from a source
	// outside the bundle (pakta history, which needs a server and a
	// reader's key): shown after what the bundle proves, marked as outside
	// the proof.
	History []HistoryRow
}

// HistoryRow is one event in a person's history that the bundle does not
// carry, as a history query returns it.
type HistoryRow struct {
	Index    uint64 `json:"index"`
	Type     string `json:"type"`      // enrollment, revocation, pledge, ruling…
	LoggedAt string `json:"logged_at"` // RFC 3339, the log's clock
	Detail   string `json:"detail"`    // what happened, in words (escaped when printed)
}

// Write renders r in format f.
func Write(w io.Writer, f Format, r *verify.Report, o Options) error {
	switch f {
	case Text, "":
		return WriteText(w, r, o)
	case JSON:
		return WriteJSON(w, r, o)
	case HTML:
		return WriteHTML(w, r, o)
	case PDF:
		return WritePDF(w, r, o)
	}
	return fmt.Errorf("render: unknown format %q", f)
}

// WriteJSON writes the report as indented JSON with its reasons and "does
// not prove" list in o.Lang; ids, pass/fail and the verdict stay as they
// are, for programs.
func WriteJSON(w io.Writer, r *verify.Report, o Options) error {
	b, err := r.Localize(lang(o)).MarshalJSONIndent()
	if err != nil {
		return fmt.Errorf("render: %w", err)
	}
	_, err = w.Write(append(graphicJSON(b), '\n'))
	return err
}

// graphicJSON writes every character of JSON text that is not graphic
// (outside strings only the indentation's spaces and line breaks are; a
// string may hold a right-to-left override, which JSON allows raw) as a
// \u escape: the same JSON value, which no terminal or viewer can be made
// to show as something else.
func graphicJSON(b []byte) []byte {
	var out []byte
	for i, r := range string(b) {
		if r == '\n' || unicode.IsGraphic(r) {
			if out != nil {
				out = utf8.AppendRune(out, r)
			}
			continue
		}
		if out == nil {
			out = append([]byte{}, b[:i]...)
		}
		if r > 0xFFFF {
			r1, r2 := utf16.EncodeRune(r)
			out = fmt.Appendf(out, `\u%04x\u%04x`, r1, r2)
		} else {
			out = fmt.Appendf(out, `\u%04x`, r)
		}
	}
	if out == nil {
		return b
	}
	return out
}

func lang(o Options) language.Tag {
	if o.Lang == language.English {
		return verify.English
	}
	return verify.Indonesian
}
