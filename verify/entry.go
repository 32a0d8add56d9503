package verify

import (
	"bytes"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/transparency-dev/merkle/rfc6962"
)

// MaxEntrySize is the largest entry in bytes: C2SP tlog-tiles entry bundles
// prefix each entry with a 16-bit length.
const MaxEntrySize = 65535

// loggedAtLayout is RFC 3339 in UTC with exactly three fractional digits.
// Formatting with it truncates to milliseconds; parsing with it accepts
// exactly three digits.
const loggedAtLayout = "2006-01-02T15:04:05.000Z"

// Entry is a log entry: the JWS accepted by the log and the log's clock when
// the entry's batch was sequenced. Its encoding ([MarshalEntry]) is the Merkle
// leaf.
type Entry struct {
	LoggedAt time.Time
	JWS      []byte
}

// entryJSON fixes the member order of the encoding. Pointers tell a missing
// member from a zero one when parsing.
type entryJSON struct {
	V        *int    `json:"v"`
	LoggedAt *string `json:"logged_at"`
	JWS      *string `json:"jws"`
}

// MarshalEntry returns the canonical entry bytes,
// {"v":1,"logged_at":"<RFC 3339 UTC, milliseconds>","jws":"<JWS>"}, compact.
// LoggedAt is converted to UTC and truncated to milliseconds. It is the only
// encoder of entries: every leaf of the log comes from here.
func MarshalEntry(e Entry) ([]byte, error) {
	b, err := marshalEntry(e)
	if err != nil {
		return nil, fmt.Errorf("verify: entry: %w", err)
	}
	return b, nil
}

func marshalEntry(e Entry) ([]byte, error) {
	if len(e.JWS) == 0 {
		return nil, errors.New("jws is empty")
	}
	if !utf8.Valid(e.JWS) {
		return nil, errors.New("jws is not valid UTF-8")
	}
	t := e.LoggedAt.UTC()
	if y := t.Year(); y < 0 || y > 9999 {
		return nil, fmt.Errorf("logged_at year %d is outside 0000-9999", y)
	}
	// Written by hand, not by reflection: this is on every append and every
	// bundle. The bytes are what encoding the entryJSON struct gives (the
	// vectors in testdata pin them).
	b := make([]byte, 0, len(entryHead)+len(loggedAtLayout)+len(entryMid)+len(e.JWS)+8)
	b = append(b, entryHead...)
	b = t.AppendFormat(b, loggedAtLayout)
	b = append(b, entryMid...)
	b, err := jsontext.AppendQuote(b, e.JWS)
	if err != nil {
		return nil, err
	}
	b = append(b, '}')
	if len(b) > MaxEntrySize {
		return nil, fmt.Errorf("entry is %d bytes, more than %d", len(b), MaxEntrySize)
	}
	return b, nil
}

// ParseEntry parses entry bytes and accepts only the exact bytes MarshalEntry
// would produce for the result: no whitespace, no reordered, unknown or
// duplicate members, no escapes the encoder would not write, v 1 only, and
// logged_at only in its one spelling. A leaf has one encoding, so a verifier
// never has to wonder which of several readings was hashed.
func ParseEntry(b []byte) (Entry, error) {
	e, err := parseEntry(b)
	if err != nil {
		return Entry{}, fmt.Errorf("verify: entry: %w", err)
	}
	return e, nil
}

// The fixed parts of an entry's one encoding.
const (
	entryHead = `{"v":1,"logged_at":"`
	entryMid  = `","jws":`
)

func parseEntry(b []byte) (Entry, error) {
	if len(b) > MaxEntrySize {
		return Entry{}, fmt.Errorf("entry is %d bytes, more than %d", len(b), MaxEntrySize)
	}
	// Fast path for the canonical shape; anything it does not accept goes
	// through the strict decoder below, for the error it deserves.
	if e, ok := parseCanonicalEntry(b); ok {
		return e, nil
	}
	var j entryJSON
	if err := json.Unmarshal(b, &j, json.RejectUnknownMembers(true)); err != nil {
		return Entry{}, err
	}
	switch {
	case j.V == nil:
		return Entry{}, errors.New("missing member v")
	case *j.V != 1:
		return Entry{}, fmt.Errorf("unsupported version v=%d, want 1", *j.V)
	case j.LoggedAt == nil:
		return Entry{}, errors.New("missing member logged_at")
	case j.JWS == nil:
		return Entry{}, errors.New("missing member jws")
	}
	t, err := time.Parse(loggedAtLayout, *j.LoggedAt)
	if err != nil {
		return Entry{}, fmt.Errorf("logged_at %q is not RFC 3339 UTC with milliseconds: %w", abbrev(*j.LoggedAt), err)
	}
	e := Entry{LoggedAt: t, JWS: []byte(*j.JWS)}
	canon, err := marshalEntry(e)
	if err != nil {
		return Entry{}, err
	}
	if !bytes.Equal(canon, b) {
		return Entry{}, errors.New("not in canonical form")
	}
	return e, nil
}

// parseCanonicalEntry reads b if it is exactly what marshalEntry writes.
func parseCanonicalEntry(b []byte) (Entry, bool) {
	at := len(entryHead)
	mid := at + len(loggedAtLayout)
	str := mid + len(entryMid)
	if len(b) < str+3 || string(b[:at]) != entryHead || string(b[mid:str]) != entryMid || b[len(b)-1] != '}' {
		return Entry{}, false
	}
	t, err := time.Parse(loggedAtLayout, string(b[at:mid]))
	if err != nil {
		return Entry{}, false
	}
	jws, err := jsontext.AppendUnquote(nil, b[str:len(b)-1])
	if err != nil {
		return Entry{}, false
	}
	e := Entry{LoggedAt: t, JWS: jws}
	canon, err := marshalEntry(e)
	if err != nil || !bytes.Equal(canon, b) {
		return Entry{}, false
	}
	return e, true
}

// LeafHash returns the RFC 6962 leaf hash of entry bytes, SHA-256(0x00 || entry).
func LeafHash(entry []byte) [32]byte {
	var h [32]byte
	copy(h[:], rfc6962.DefaultHasher.HashLeaf(entry))
	return h
}
