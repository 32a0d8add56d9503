package roster

import (
	"regexp"
	"strings"

	"golang.org/x/text/unicode/norm"

	"github.com/pakta-id/pakta/pledge"
)

// Kind is how a statement's subject compares with the roster.
type Kind int

const (
	// NotListed: nobody on the roster has the subject's scheme and id, or
	// someone has but under another name (not only in form). The zero Kind.
	NotListed Kind = iota
	// Exact: the subject is on the roster in the roster's form: the same
	// name, byte for byte, the same employment, and a unit and a position
	// that are the roster's or absent (from the subject or the roster).
	Exact
	// FormDiffers: the subject is on the roster, but the name differs only
	// in case, spacing or academic titles, or the employment, unit or
	// position differ: the signer should sign again in the roster's form
	// (Match.Person.Subject).
	FormDiffers
)

func (k Kind) String() string {
	switch k {
	case Exact:
		return "exact"
	case FormDiffers:
		return "form differs"
	}
	return "not listed"
}

// Match is the result of Roster.Match.
type Match struct {
	Kind Kind
	// Person is the roster's record when Kind is Exact or FormDiffers; the
	// zero Person when NotListed.
	Person Person
}

// Match tells whether a statement's subject (an enrollment request's) is on
// the roster, in the roster's form (see Kind). DESIGN ("Enrollment
// requests"): a subject whose name differs only in case, spacing or titles
// gets 409 with the roster's form, which the device signs again; the agency
// is not the roster's to judge (the registrar's scope and the templates do).
//
// Titles are academic and religious titles before the name (Dr., Drs., Dra.,
// dr., drg., Ir., Prof., H., Hj., Ns., apt.) or after it, separated by
// commas or spaces (S.E., S.Kom., M.Si., A.Md.Kep., Ph.D.: any word of
// letters with a dot between two of them; after a comma, SE, SH, MM … also
// without dots). An initial ("M. Yusuf") is part of a name, not a title.
//
// A subject whose id is listed but whose name differs in more than form is
// NotListed, and Match.Person is empty: enrollment requests are public, and
// the roster must not tell a stranger who holds an id.
func (r *Roster) Match(subject pledge.Person) Match {
	p, ok := r.Lookup(subject.Scheme, subject.ID)
	if !ok {
		return Match{}
	}
	optional := func(roster, subject string) bool { return roster == "" || subject == "" || roster == subject }
	switch {
	case p.Name == subject.Name && p.Employment == subject.Employment &&
		optional(p.Unit, subject.Unit) && optional(p.Position, subject.Position):
		return Match{Kind: Exact, Person: p}
	case SameName(p.Name, subject.Name):
		return Match{Kind: FormDiffers, Person: p}
	}
	return Match{}
}

// SameName reports whether two names differ at most in case, spacing and
// academic titles (see Roster.Match): "Dr. BUDI  santoso, S.E., M.Si." and
// "Budi Santoso" are the same name.
func SameName(a, b string) bool {
	ka, kb := nameKey(a), nameKey(b)
	return ka != "" && ka == kb
}

// nameKey is a name without its titles, lowercase, words separated by one
// space.
func nameKey(name string) string {
	name = norm.NFC.String(name)
	parts := strings.Split(name, ",")
	words := strings.Fields(parts[0])
	for _, part := range parts[1:] {
		ws := strings.Fields(part)
		titles := true
		for _, w := range ws {
			titles = titles && (isTitle(w) || dotless[strings.ToLower(w)])
		}
		if !titles {
			words = append(words, ws...) // not a list of titles: part of the name ("Santoso, Budi")
		}
	}
	for len(words) > 1 && isTitle(words[0]) {
		words = words[1:]
	}
	for len(words) > 1 && isTitle(words[len(words)-1]) {
		words = words[:len(words)-1]
	}
	return strings.ToLower(strings.Join(words, " "))
}

// prefixTitles are titles written before a name, lowercase, without their
// final dot. The one-letter and short ones count only with their dot ("H."),
// so that they are not taken for a name ("Ns" alone could be one).
var prefixTitles = map[string]bool{"dr": true, "drs": true, "dra": true, "drg": true, "ir": true, "prof": true}

var dottedPrefixTitles = map[string]bool{"h": true, "hj": true, "ns": true, "apt": true, "kh": true}

// degree is a degree written with dots: at least two parts of letters
// ("S.E.", "S.Kom", "M.Si.", "A.Md.Kep.", "Ph.D.", "Sp.PD").
var degree = regexp.MustCompile(`^[A-Za-z]{1,6}(\.[A-Za-z]{1,6})+\.?$`)

// dotless are degrees written without dots, recognised after a comma only
// ("Budi Santoso, SE, MM").
var dotless = map[string]bool{
	"se": true, "sh": true, "st": true, "ssos": true, "spd": true, "skom": true, "sip": true, "skm": true,
	"skep": true, "sfarm": true, "sag": true, "ssi": true, "sak": true, "amd": true, "mm": true, "msi": true,
	"mpd": true, "mkes": true, "mt": true, "mh": true, "map": true, "ma": true, "msc": true, "phd": true,
	"ak": true, "ca": true,
}

func isTitle(w string) bool {
	lw := strings.ToLower(w)
	if t, dot := strings.CutSuffix(lw, "."); prefixTitles[t] || dot && dottedPrefixTitles[t] {
		return true
	}
	return degree.MatchString(w)
}
