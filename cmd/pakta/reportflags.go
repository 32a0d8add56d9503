package main

import (
	"errors"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/pakta-id/pakta/verify"
	"github.com/pakta-id/pakta/verify/render"
)

// reportFlags say how verify renders its reports.
type reportFlags struct {
	lang, format, out, address string
}

func (f *reportFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.lang, "lang", "id", "report `language`: id (Indonesian) or en (English)")
	fl.StringVar(&f.format, "format", "text", "report `format`: text, json, html or pdf")
	fl.StringVar(&f.out, "out", "", "write the report to `file` instead of stdout")
	fl.StringVar(&f.address, "address", "", "where the bundle can be fetched again (`URL`): printed, and carried by the PDF's QR code")
}

// options checks the flags for n bundles.
func (f *reportFlags) options(n int) (render.Options, render.Format, error) {
	lang, err := verify.ParseLanguage(f.lang)
	if err != nil || f.lang == "" {
		return render.Options{}, "", usagef("--lang %q: choose id (Indonesian) or en (English)", f.lang)
	}
	format, err := render.ParseFormat(f.format)
	if err != nil || f.format == "" {
		return render.Options{}, "", usagef("--format %q: choose text, json, html or pdf", f.format)
	}
	if (format == render.HTML || format == render.PDF) && n != 1 {
		return render.Options{}, "", usagef("--format %s renders one bundle, not %d", format, n)
	}
	return render.Options{Lang: lang, Address: f.address}, format, nil
}

// output is where the reports go: --out, or stdout, which a PDF may not be
// when it is a terminal. close is safe to call twice.
func (f *reportFlags) output(cmd *cobra.Command, format render.Format) (w io.Writer, close func() error, err error) {
	if f.out == "" {
		w = cmd.OutOrStdout()
		if format == render.PDF {
			if file, ok := w.(*os.File); ok {
				if st, err := file.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
					return nil, nil, usagef("--format pdf writes a binary file: give --out FILE or redirect stdout")
				}
			}
		}
		return w, func() error { return nil }, nil
	}
	file, err := os.Create(f.out)
	if err != nil {
		return nil, nil, usageError(err)
	}
	closed := false
	return file, func() error {
		if closed {
			return nil
		}
		closed = true
		return errors.Join(file.Sync(), file.Close())
	}, nil
}
