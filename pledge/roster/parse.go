package roster

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"

	"github.com/pakta-id/pakta/pledge"
)

// column is a column Parse knows.
type column int

const (
	colNIP column = iota
	colScheme
	colID
	colName
	colUnit
	colPosition
	colStatus
	numColumns
)

var columnNames = [numColumns]string{"NIP", "scheme", "id", "name", "unit", "position", "status"}

// aliases maps a header, lowercased with everything but letters and digits
// removed (headerKey), to its column. The package documentation lists them.
var aliases = map[string]column{
	"nip": colNIP, "nipbaru": colNIP, "nip18": colNIP, "nipppk": colNIP, "nipnipppk": colNIP,

	"scheme": colScheme, "skema": colScheme, "jenisid": colScheme, "jenisidentitas": colScheme,

	"id": colID, "noidentitas": colID, "nomoridentitas": colID, "idpegawai": colID,
	"nomorpegawai": colID, "nopegawai": colID, "employeeid": colID,

	"nama": colName, "name": colName, "namalengkap": colName, "namapegawai": colName,
	"fullname": colName, "namadengangelar": colName,

	"unit": colUnit, "unitkerja": colUnit, "unitorganisasi": colUnit, "unor": colUnit,
	"satuankerja": colUnit, "satker": colUnit, "opd": colUnit,

	"jabatan": colPosition, "namajabatan": colPosition, "position": colPosition, "jobtitle": colPosition,

	"status": colStatus, "statuspegawai": colStatus, "statuskepegawaian": colStatus,
	"jenispegawai": colStatus, "jeniskepegawaian": colStatus, "kedudukan": colStatus,
	"kedudukanpegawai": colStatus, "employment": colStatus, "employmentstatus": colStatus,
}

// statuses maps a Status cell (headerKey of it) to an employment, exactly
// as DESIGN ("Enrollment requests") fixes it.
var statuses = map[string]string{
	"pns": pledge.PNS, "cpns": pledge.PNS,
	"pppk": pledge.PPPK, "pppkparuhwaktu": pledge.PPPK,
	"honorer": pledge.NonASN, "thl": pledge.NonASN, "nonasn": pledge.NonASN,
}

// headerKey is how headers and statuses compare: case, spaces and
// punctuation do not count ("Unit Kerja", "UNIT_KERJA", "unit kerja").
func headerKey(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Parse reads a roster as HR exports it: CSV or TSV, UTF-8 (with or without a
// byte order mark) or UTF-16 with one, CRLF, LF or CR line ends. name is the
// file's name, for errors.
//
// The delimiter is the one of ',', ';' and tab that the header line holds
// most often (an Excel "sep=X" first line overrides it). The first line that
// is not blank is the header; blank rows are skipped, and so are rows whose
// recognised cells are all empty (a numbered row of an empty template);
// every other row must have as many cells as the header.
//
// Columns are recognised by their header, in any order and whatever the
// case, spacing and punctuation (the package documentation lists the
// accepted names); other columns are ignored and listed in Roster.Ignored.
// A roster needs a name column and a NIP column, or scheme and id columns, or
// all three: a row with a NIP is "nip" + that NIP, a row without one takes
// its scheme and id ("agency:7601", "HON-0042" for an honorer; "nik").
//
// Cells are cleaned to the form statements carry: white space trimmed and
// collapsed to single spaces, NFC; the spaces of a NIP ("19870315 201001 1
// 002") and the leading apostrophe a spreadsheet keeps text with are
// removed. Employment comes from the Status column (PNS and CPNS → PNS; PPPK
// and PPPK Paruh Waktu → PPPK; Honorer, THL and Non ASN → NON_ASN; anything
// else is an error) or, where there is none or the cell is empty, from the
// NIP (digits 13–14: a month → PNS, 21–29 → PPPK; a row without a NIP →
// NON_ASN). Every identifier must be valid for its employment
// (pledge.ValidateID), and nobody may be listed twice.
//
// A refused roster is an *Error naming the line and column; the first
// problem found is returned.
func Parse(name string, data []byte) (*Roster, error) {
	if len(data) > MaxSize {
		return nil, &Error{File: name, Err: fmt.Errorf("%d bytes is over the %d-byte limit of a roster", len(data), MaxSize)}
	}
	data = decode(data)
	line := 1
	delim, rest := sepLine(data)
	if delim != 0 {
		line = 2
	} else {
		delim = sniff(data)
	}
	p := &parser{file: name, s: scanner{data: rest, line: line, delim: delim}, r: &Roster{byID: map[key]int{}}}
	if err := p.header(); err != nil {
		return nil, err
	}
	for {
		rec, line, err := p.read()
		if errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, err
		}
		if err := p.row(rec, line); err != nil {
			return nil, err
		}
	}
	if len(p.r.People) == 0 {
		return nil, &Error{File: name, Err: errors.New("the roster lists nobody: it has a header but no rows")}
	}
	return p.r, nil
}

// parser is one Parse in progress.
type parser struct {
	file    string
	s       scanner
	r       *Roster
	headers []string        // as written
	col     [numColumns]int // index of each column in a row, -1 if absent
}

// read returns the next record that is not blank.
func (p *parser) read() ([]string, int, error) {
	for {
		rec, line, err := p.s.next()
		var se *syntaxError
		if errors.As(err, &se) {
			return nil, 0, errorf(p.file, se.line, se.col, p.headerOf(se.col-1), "%s", se.msg)
		} else if err != nil {
			return nil, 0, err
		}
		for _, c := range rec {
			if strings.TrimFunc(c, unicode.IsSpace) != "" {
				return rec, line, nil
			}
		}
	}
}

func (p *parser) headerOf(i int) string {
	if i >= 0 && i < len(p.headers) {
		return p.headers[i]
	}
	return ""
}

// header reads the header row and finds the columns.
func (p *parser) header() error {
	rec, line, err := p.read()
	if errors.Is(err, io.EOF) {
		return &Error{File: p.file, Err: errors.New("empty roster: it needs a header row (NIP or scheme and id, and a name)")}
	} else if err != nil {
		return err
	}
	for i := range p.col {
		p.col[i] = -1
	}
	for i, h := range rec {
		h, err := cleanCell(h)
		if err != nil {
			return errorf(p.file, line, i+1, "", "header %s: %w", strconv.QuoteToGraphic(rec[i]), err)
		}
		p.headers = append(p.headers, h)
		c, ok := aliases[headerKey(h)]
		if !ok {
			if h != "" {
				p.r.Ignored = append(p.r.Ignored, h)
			}
			continue
		}
		if j := p.col[c]; j >= 0 {
			return errorf(p.file, line, i+1, h, "columns %d (%s) and %d (%s) are both the %s column: keep one", j+1, show(p.headers[j]), i+1, show(h), columnNames[c])
		}
		p.col[c] = i
	}
	has := func(c column) bool { return p.col[c] >= 0 }
	switch {
	case has(colScheme) && !has(colID):
		return errorf(p.file, line, 0, "", "the header has a scheme column but no id column: staff without a NIP need both")
	case has(colID) && !has(colScheme):
		return errorf(p.file, line, 0, "", "the header has an id column but no scheme column: staff without a NIP need both")
	case !has(colNIP) && !has(colID):
		return errorf(p.file, line, 0, "", "the header %s has no NIP column, nor scheme and id columns (is the first line the header row?)", show(strings.Join(p.headers, string(p.s.delim))))
	case !has(colName):
		return errorf(p.file, line, 0, "", "the header %s has no name column (Nama or Name)", show(strings.Join(p.headers, string(p.s.delim))))
	}
	return nil
}

// row reads one person.
func (p *parser) row(rec []string, line int) error {
	if len(rec) != len(p.headers) {
		col := min(len(rec), len(p.headers)) + 1
		return errorf(p.file, line, col, p.headerOf(col-1), "%d fields, but the header has %d columns", len(rec), len(p.headers))
	}
	at := func(c column, err error) error {
		i := p.col[c]
		return &Error{File: p.file, Line: line, Column: i + 1, Header: p.headers[i], Err: err}
	}
	var cells [numColumns]string
	for c := range numColumns {
		i := p.col[c]
		if i < 0 {
			continue
		}
		v, err := cleanCell(rec[i])
		if err != nil {
			return at(c, fmt.Errorf("%s %s: %w", p.headers[i], show(rec[i]), err))
		}
		cells[c] = v
	}
	if cells == [numColumns]string{} {
		return nil // a numbered but empty row of a spreadsheet template
	}

	// Who: a NIP, or a scheme and an id.
	per := Person{Line: line, Name: cells[colName], Unit: cells[colUnit], Position: cells[colPosition]}
	idCol := colID
	nip := identifier(cells[colNIP], true)
	scheme, id := strings.TrimSpace(cells[colScheme]), identifier(cells[colID], false)
	// The scheme's keyword is lowercase; an agency's code stays as written.
	if n := len(pledge.SchemeAgencyPrefix); len(scheme) >= n && strings.EqualFold(scheme[:n], pledge.SchemeAgencyPrefix) {
		scheme = pledge.SchemeAgencyPrefix + scheme[n:]
	} else {
		scheme = strings.ToLower(scheme)
	}
	if scheme == pledge.SchemeNIP || scheme == pledge.SchemeNIK {
		id = identifier(id, true)
	}
	switch {
	case nip != "" && (scheme == "" || scheme == pledge.SchemeNIP) && (id == "" || id == nip):
		per.Scheme, per.ID, idCol = pledge.SchemeNIP, nip, colNIP
	case nip != "":
		return at(colNIP, fmt.Errorf("the row has both a NIP (%s) and %s %s: give one", nip, show(scheme), show(id)))
	case scheme == "" && id == "" && p.col[colID] < 0:
		return at(colNIP, errors.New("NIP is missing"))
	case scheme == "" && id == "":
		c := colNIP
		if p.col[c] < 0 {
			c = colScheme
		}
		return at(c, errors.New("no identifier: give a NIP, or a scheme (nik or agency:<code>) and an id"))
	case scheme == "":
		return at(colScheme, fmt.Errorf("scheme is missing for id %s (nik, or agency:<code> for an agency-issued number)", show(id)))
	case id == "":
		return at(colID, fmt.Errorf("id is missing for scheme %s", show(scheme)))
	default:
		per.Scheme, per.ID = scheme, id
	}
	if err := looksRounded(per.ID); err != nil {
		return at(idCol, err)
	}

	if per.Name == "" {
		return at(colName, errors.New("name is missing"))
	}
	if v := cells[colStatus]; v != "" {
		emp, ok := statuses[headerKey(v)]
		if !ok {
			return at(colStatus, fmt.Errorf("%s %s is not PNS, CPNS, PPPK, PPPK Paruh Waktu, Honorer, THL or Non ASN", p.headers[p.col[colStatus]], show(v)))
		}
		per.Employment = emp
	}
	if err := p.r.add(&per); err != nil {
		return at(idCol, err)
	}
	return nil
}

// identifier removes what spreadsheets and people add to an identifier: the
// apostrophe that keeps a number as text and, for digits-only schemes (a NIP
// written "19870315 201001 1 002"), the spaces.
func identifier(s string, digits bool) string {
	s = strings.TrimPrefix(strings.TrimSpace(s), "'")
	if digits {
		s = strings.Join(strings.Fields(s), "")
	}
	return s
}

// looksRounded explains an identifier a spreadsheet turned into a number
// ("1.98703E+17"): the digits are lost, and only the export can fix it.
func looksRounded(id string) error {
	mantissa, exp, ok := strings.Cut(strings.ToUpper(id), "E+")
	if ok && exp != "" && strings.Trim(exp, "0123456789") == "" && mantissa != "" && strings.Trim(mantissa, "0123456789.,") == "" {
		return fmt.Errorf("identifier %s looks like a number a spreadsheet rounded: format the column as text and export again", show(id))
	}
	return nil
}

// show prints a string from the roster in a message: quoted, with anything
// that is not graphic escaped, so that no cell can forge the message.
func show(s string) string { return strconv.QuoteToGraphic(s) }
