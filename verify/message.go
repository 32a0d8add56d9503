package verify

import (
	"fmt"

	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"golang.org/x/text/message/catalog"
)

// Message is a text of a report that can be read in another language: a
// format in English, which is also its key in the translation catalog, and
// its arguments. An argument that is itself a Message is translated with
// it; other arguments (indexes, key ids, names from entries) are printed
// as they are.
type Message struct {
	Format string
	Args   []any
}

// String is the message in English.
func (m Message) String() string { return fmt.Sprintf(m.Format, m.english()...) }

func (m Message) english() []any {
	args := make([]any, len(m.Args))
	for i, a := range m.Args {
		if n, ok := a.(Message); ok {
			a = n.String()
		}
		args[i] = a
	}
	return args
}

// In is the message in the printer's language (English when the catalog
// has no translation of its format).
func (m Message) In(p *message.Printer) string {
	args := make([]any, len(m.Args))
	for i, a := range m.Args {
		switch n := a.(type) {
		case Message:
			a = n.In(p)
		case int, int64, uint64, uint32:
			a = unlocalized{n}
		}
		args[i] = a
	}
	return p.Sprintf(m.Format, args...)
}

// unlocalized prints a number as fmt does: in a report, numbers are
// indexes, sizes, key hashes and years, which x/text would group by
// thousands (2.023 in Indonesian).
type unlocalized struct{ v any }

func (u unlocalized) Format(f fmt.State, verb rune) { fmt.Fprintf(f, fmt.FormatString(f, verb), u.v) }

// Languages a report can be read in.
var (
	English    = language.English
	Indonesian = language.Indonesian
)

// catalog holds the translations of every report message. It is the
// package's own, not x/text's global default: a library registers nothing
// global.
var messages = catalog.NewBuilder(catalog.Fallback(language.English))

// translate registers the Indonesian text of an English format.
func translate(english, indonesian string) {
	if err := messages.SetString(language.Indonesian, english, indonesian); err != nil {
		panic(fmt.Sprintf("verify: translation of %q: %v", english, err))
	}
}

// Printer prints report messages in lang.
func Printer(lang language.Tag) *message.Printer {
	return message.NewPrinter(lang, message.Catalog(messages))
}

// ParseLanguage reads a report language: "id" (Indonesian, the default for
// "") or "en".
func ParseLanguage(s string) (language.Tag, error) {
	switch s {
	case "", "id":
		return language.Indonesian, nil
	case "en":
		return language.English, nil
	}
	return language.Und, fmt.Errorf("verify: report language %q: choose id (Indonesian) or en (English)", s)
}

// Localize returns a copy of the report whose reasons and "does not prove"
// list are in lang. Check ids, pass/fail and the verdict are never
// translated: programs read them.
func (r *Report) Localize(lang language.Tag) *Report {
	p := Printer(lang)
	out := *r
	out.Checks = make([]Check, len(r.Checks))
	for i, c := range r.Checks {
		c.Reason = c.Message().In(p)
		out.Checks[i] = c
	}
	out.NotProven = make([]string, len(r.NotProven))
	for i, s := range r.NotProven {
		out.NotProven[i] = Message{Format: s}.In(p)
	}
	return &out
}
