package roster

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/pakta-id/pakta/pledge"
)

// MaxSize is the largest roster Parse reads, in bytes: far above the staff
// of any agency (a million rows of 64 bytes), small enough to hold in memory.
const MaxSize = 64 << 20

// Person is one row of a roster, in the form statements carry (see Parse):
// Scheme and ID are canonical, Employment is PNS, PPPK or NON_ASN.
type Person struct {
	Scheme     string `json:"scheme"`
	ID         string `json:"id"`
	Name       string `json:"name"`
	Unit       string `json:"unit,omitempty"`     // "" when the roster has none
	Position   string `json:"position,omitempty"` // "" when the roster has none
	Employment string `json:"employment"`
	// Line is where the row starts in the file Parse read; 0 for a person
	// given to New.
	Line int `json:"-"`
}

// Subject is the person as a statement names them (an enrollment's subject,
// a pledge's signer), in the roster's form, in the given agency.
func (p Person) Subject(agency pledge.Agency) pledge.Person {
	return pledge.Person{Scheme: p.Scheme, ID: p.ID, Name: p.Name, Position: p.Position, Unit: p.Unit,
		Agency: agency, Employment: p.Employment}
}

// Roster is the list of people expected to sign, as HR keeps it. Parse and
// New make one; the zero Roster lists nobody. A Roster is read-only once
// made, so any number of goroutines may use it.
type Roster struct {
	// People in the order of the file. Lookup and Match index them when the
	// roster is made: change a person through New, not here.
	People []Person
	// Ignored are the header cells Parse did not recognise, as written (a
	// real export has more columns than a roster needs: "No", "Golongan",
	// "Tempat Lahir" …). A caller should show them, so that a misspelt
	// optional column ("Jabtan") does not go unnoticed.
	Ignored []string

	byID map[key]int // index in People
}

type key struct{ scheme, id string }

// Len is the number of people on the roster.
func (r *Roster) Len() int { return len(r.People) }

// Lookup returns the person a statement identifies as (scheme, id), in
// canonical form ("nip", "198703152010011002": no spaces).
func (r *Roster) Lookup(scheme, id string) (Person, bool) {
	i, ok := r.byID[key{scheme, id}]
	if !ok {
		return Person{}, false
	}
	return r.People[i], true
}

// New makes a roster from people an application already holds (an HR
// database), checking them as Parse checks rows: a valid identifier for the
// employment, a name, text in statement form (it is cleaned as Parse cleans
// cells), nobody listed twice. Employment "" is derived as Parse derives it.
func New(people []Person) (*Roster, error) {
	r := &Roster{byID: map[key]int{}}
	for n, p := range people {
		var err error
		for _, f := range []*string{&p.Name, &p.Unit, &p.Position} {
			v := *f
			if *f, err = cleanCell(v); err != nil {
				return nil, fmt.Errorf("roster: person %d (%s %s): %s: %w", n+1, p.Scheme, p.ID, strconv.QuoteToGraphic(v), err)
			}
		}
		if err := r.add(&p); err != nil {
			return nil, fmt.Errorf("roster: person %d: %w", n+1, err)
		}
	}
	return r, nil
}

// add checks a person, derives its employment when "", and appends it.
func (r *Roster) add(p *Person) error {
	if p.Name == "" {
		return fmt.Errorf("%s %s: name is missing", p.Scheme, p.ID)
	}
	if p.Employment == "" {
		emp, err := derive(p.Scheme, p.ID)
		if err != nil {
			return err
		}
		p.Employment = emp
	}
	switch p.Employment {
	case pledge.PNS, pledge.PPPK, pledge.NonASN:
	default:
		return fmt.Errorf("employment %q is not PNS, PPPK or NON_ASN", p.Employment)
	}
	if err := pledge.ValidateID(p.Scheme, p.ID, p.Employment, time.Time{}); err != nil {
		return err
	}
	k := key{p.Scheme, p.ID}
	if first, dup := r.byID[k]; dup {
		if line := r.People[first].Line; line > 0 {
			return &duplicateError{fmt.Sprintf("%s %s is already listed on line %d", p.Scheme, p.ID, line)}
		}
		return &duplicateError{fmt.Sprintf("%s %s is already listed as person %d", p.Scheme, p.ID, first+1)}
	}
	r.byID[k] = len(r.People)
	r.People = append(r.People, *p)
	return nil
}

// ErrDuplicate matches (errors.Is) the error of Parse and New for a person
// listed twice (the same scheme and id): an export that repeats people is
// often pasted from two lists, and a caller may want to say so.
var ErrDuplicate = errors.New("roster: a person is listed twice")

// duplicateError is a person listed twice; its message says where first.
type duplicateError struct{ msg string }

func (e *duplicateError) Error() string        { return e.msg }
func (e *duplicateError) Is(target error) bool { return target == ErrDuplicate }

// derive is the employment of a person without a status (DESIGN,
// "Enrollment requests"): from a NIP's digits 13–14, an appointment month for
// a PNS or a contract code 21–29 for a PPPK; NON_ASN for anyone without a NIP.
func derive(scheme, id string) (string, error) {
	if scheme != pledge.SchemeNIP {
		return pledge.NonASN, nil
	}
	if err := pledge.ValidateID(scheme, id, "", time.Time{}); err != nil {
		return "", err
	}
	switch d, _ := strconv.Atoi(id[12:14]); {
	case d >= 1 && d <= 12:
		return pledge.PNS, nil
	case d >= 21 && d <= 29:
		return pledge.PPPK, nil
	}
	return "", fmt.Errorf("NIP %s: digits 13-14 (%s) are neither an appointment month (PNS) nor a PPPK contract code 21-29: give the person's Status", id, id[12:14])
}

// MarshalCSV writes the roster in the form Parse reads back to the same
// roster: UTF-8 without a byte order mark, commas, LF line ends, the header
// "scheme,id,name,unit,position,employment". It is how "pakta roster import"
// stores a roster: whatever the export looked like, one simple file.
func (r *Roster) MarshalCSV() []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Write([]string{"scheme", "id", "name", "unit", "position", "employment"})
	for _, p := range r.People {
		w.Write([]string{p.Scheme, p.ID, p.Name, p.Unit, p.Position, p.Employment})
	}
	w.Flush() // writes to a bytes.Buffer do not fail
	return b.Bytes()
}

// Error is a roster that Parse refuses, with where: the file, the line (from
// 1; 0 for the file as a whole) and the column (the field's position in its
// row from 1, as a spreadsheet numbers columns A = 1, B = 2 …; 0 for the row
// as a whole). It prints as "roster.csv:12:3: message", the form editors and
// CI logs link to.
type Error struct {
	File   string
	Line   int
	Column int
	// Header is the column's header as written, when Column is set.
	Header string
	Err    error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
		if e.Column > 0 {
			fmt.Fprintf(&b, ":%d", e.Column)
		}
	}
	b.WriteString(": ")
	b.WriteString(e.Err.Error())
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// errorf is an *Error at (line, col) of the file.
func errorf(file string, line, col int, header, format string, args ...any) *Error {
	return &Error{File: file, Line: line, Column: col, Header: header, Err: fmt.Errorf(format, args...)}
}
