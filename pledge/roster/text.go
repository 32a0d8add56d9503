package roster

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// decode returns data as UTF-8 text: without a UTF-8 byte order mark, and
// converted from UTF-16 when it starts with a UTF-16 one (what Excel's
// "Unicode Text" export writes).
func decode(data []byte) []byte {
	switch {
	case bytes.HasPrefix(data, []byte("\xEF\xBB\xBF")):
		return data[3:]
	case len(data) >= 2 && (data[0] == 0xFF && data[1] == 0xFE || data[0] == 0xFE && data[1] == 0xFF):
		little := data[0] == 0xFF
		data = data[2:]
		u := make([]uint16, len(data)/2)
		for i := range u {
			if little {
				u[i] = uint16(data[2*i]) | uint16(data[2*i+1])<<8
			} else {
				u[i] = uint16(data[2*i])<<8 | uint16(data[2*i+1])
			}
		}
		s := string(utf16.Decode(u))
		if len(data)%2 == 1 {
			s += string(utf8.RuneError) // an odd byte: refused later as not text
		}
		return []byte(s)
	}
	return data
}

// Delimiters Parse recognises, in the order a tie between them is broken:
// names and units hold commas more often than semicolons, and either more
// often than tabs.
var delimiters = []byte{'\t', ';', ','}

// sniff picks the delimiter of the header line (the first line that is not
// blank): the candidate it holds most often outside quotes (a comma when it
// holds none: a one-column header).
func sniff(data []byte) byte {
	data = bytes.TrimLeft(data, "\r\n")
	count := map[byte]int{}
	quoted := false
	for _, c := range data {
		if c == '"' {
			quoted = !quoted
		} else if !quoted && (c == '\n' || c == '\r') {
			break
		} else if !quoted {
			count[c]++
		}
	}
	best := byte(',')
	for _, d := range delimiters {
		if count[d] > count[best] {
			best = d
		}
	}
	return best
}

// sepLine reads Excel's optional first line "sep=X", which names the
// delimiter. It returns the delimiter (0 when there is no such line) and the
// data after that line.
func sepLine(data []byte) (byte, []byte) {
	if len(data) < 5 || !strings.EqualFold(string(data[:4]), "sep=") {
		return 0, data
	}
	rest := data[5:]
	switch {
	case bytes.HasPrefix(rest, []byte("\r\n")):
		rest = rest[2:]
	case bytes.HasPrefix(rest, []byte("\n")), bytes.HasPrefix(rest, []byte("\r")):
		rest = rest[1:]
	case len(rest) == 0:
	default:
		return 0, data
	}
	if bytes.IndexByte(delimiters, data[4]) < 0 {
		return 0, data
	}
	return data[4], rest
}

// scanner splits delimited text into records the way spreadsheets write
// them (RFC 4180): fields separated by the delimiter, optionally quoted with
// '"' (a quote inside doubled), records ended by CRLF, LF or a lone CR. A
// quote inside an unquoted field is taken literally. It keeps the line each
// record starts on, so that errors can name it; encoding/csv cannot name the
// field of a syntax error, which an HR officer needs to find it.
type scanner struct {
	data  []byte
	pos   int
	line  int // the line at pos, from 1
	delim byte
}

// syntaxError is a malformed record at line, field col (from 1).
type syntaxError struct {
	line, col int
	msg       string
}

func (e *syntaxError) Error() string { return e.msg }

// next returns the next record and the line it starts on; io.EOF after the
// last one. An empty line is a record of one empty field.
func (s *scanner) next() ([]string, int, error) {
	if s.pos >= len(s.data) {
		return nil, 0, io.EOF
	}
	start := s.line
	var fields []string
	for {
		col := len(fields) + 1
		var field string
		if s.pos < len(s.data) && s.data[s.pos] == '"' {
			opened := s.line
			s.pos++
			var b strings.Builder
			for {
				if s.pos >= len(s.data) {
					return nil, 0, &syntaxError{opened, col, "a quoted field is never closed: a '\"' is missing"}
				}
				c := s.data[s.pos]
				s.pos++
				if c == '"' {
					if s.pos < len(s.data) && s.data[s.pos] == '"' {
						b.WriteByte('"')
						s.pos++
						continue
					}
					break
				}
				if c == '\r' && s.pos < len(s.data) && s.data[s.pos] == '\n' {
					continue // CRLF inside a field is one line break
				}
				if c == '\n' || c == '\r' {
					s.line++
				}
				b.WriteByte(c)
			}
			field = b.String()
			if s.pos < len(s.data) && !s.atEnd() && s.data[s.pos] != s.delim {
				return nil, 0, &syntaxError{s.line, col, "text after a closing quote: a quote inside a quoted field must be doubled (\"\")"}
			}
		} else {
			i := s.pos
			for i < len(s.data) && s.data[i] != s.delim && s.data[i] != '\n' && s.data[i] != '\r' {
				i++
			}
			field = string(s.data[s.pos:i])
			s.pos = i
		}
		fields = append(fields, field)
		if s.pos >= len(s.data) {
			return fields, start, nil
		}
		if s.data[s.pos] == s.delim {
			s.pos++
			continue
		}
		// A line end.
		if s.data[s.pos] == '\r' && s.pos+1 < len(s.data) && s.data[s.pos+1] == '\n' {
			s.pos++
		}
		s.pos++
		s.line++
		return fields, start, nil
	}
}

func (s *scanner) atEnd() bool { return s.data[s.pos] == '\n' || s.data[s.pos] == '\r' }

// Limits on a cell, as on a statement's single-line members: a name that
// could not be signed is no use on a roster.
const maxCell = 256

// errNotUTF8 is a cell that is not UTF-8 text.
var errNotUTF8 = errors.New("not UTF-8 text: save the export as \"CSV UTF-8\"")

// cleanCell returns a cell's text in the form statements require (DESIGN,
// "Text in statements"): white space of any kind (tabs, line breaks, no-break
// spaces) becomes one U+0020 between words and none around them, and the text
// is NFC. What cannot be made so (control, format, private-use characters,
// such as a zero-width space or a bidirectional override) is an error: the
// roster's form is what a person signs, and what reports print.
func cleanCell(s string) (string, error) {
	if plainASCII(s) && len(s) <= maxCell {
		return s, nil // most cells: nothing to clean
	}
	if !utf8.ValidString(s) {
		return "", errNotUTF8
	}
	s = strings.Join(strings.FieldsFunc(s, unicode.IsSpace), " ")
	for _, r := range s {
		switch {
		case unicode.Is(unicode.Cc, r):
			return "", fmt.Errorf("holds %U, a control character", r)
		case unicode.Is(unicode.Cf, r):
			return "", fmt.Errorf("holds %U, a format character such as a zero-width space or a bidirectional override", r)
		case unicode.Is(unicode.Co, r):
			return "", fmt.Errorf("holds %U, a private-use character", r)
		case r == utf8.RuneError:
			return "", fmt.Errorf("holds %U, the replacement character (was the file converted from another encoding?)", r)
		}
	}
	s = norm.NFC.String(s)
	if len(s) > maxCell {
		return "", fmt.Errorf("%d bytes is over the %d-byte limit", len(s), maxCell)
	}
	return s, nil
}

// plainASCII reports whether s is printable ASCII already in clean form: no
// leading, trailing or doubled space.
func plainASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < ' ' || c > '~' || c == ' ' && (i == 0 || i == len(s)-1 || s[i-1] == ' ') {
			return false
		}
	}
	return true
}
