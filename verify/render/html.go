package render

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"

	"github.com/pakta-id/pakta/verify"
)

//go:embed report.html.tmpl
var htmlSource string

// The template escapes what it prints (html/template's contextual
// escaping); the sheet has already escaped what is not graphic.
var htmlTemplate = template.Must(template.New("report").Parse(htmlSource))

// WriteHTML writes the report as one self-contained HTML page (no script,
// no outside resource), printable on A4.
func WriteHTML(w io.Writer, r *verify.Report, o Options) error {
	if err := htmlTemplate.Execute(w, build(r, o)); err != nil {
		return fmt.Errorf("render: html: %w", err)
	}
	return nil
}
