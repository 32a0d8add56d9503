package ledger

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/pakta-id/pakta/ledger/internal/store"
)

// Row keys. The store treats them as opaque bytes; the first byte names the
// kind. Variable-length parts are length-prefixed so that no two tuples
// share a key and a prefix scan of (scheme, id) never matches (scheme, id2).
//
// Immutable rows, written once with the entry they describe:
//
//	'p' sha256(payload)        → index       the same statement again
//	'm' index                  → meta        statement type, key evidence
//	'i' person index           → type        person → entries
//	'j' person date index      → ∅           person + date → pledges
//	't' date index             → ∅           date → pledges
//
// Mutable rows, the log's current view, overwritten as the log grows:
//
//	'l' person template election → index    the signer's latest pledge
//	'k' kid                      → keyRecord the key's latest enrollment, revocation
//	'T' template id              → index
const (
	rowDedupPayload = 'p'
	rowMeta         = 'm'
	rowPerson       = 'i'
	rowPersonDate   = 'j'
	rowDate         = 't'
	rowLatest       = 'l'
	rowKey          = 'k'
	rowTemplate     = 'T'
)

func be64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

func appendLP(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint16(b, uint16(len(s)))
	return append(b, s...)
}

func hashKey(kind byte, data []byte) []byte {
	h := sha256.Sum256(data)
	return append([]byte{kind}, h[:]...)
}

func metaKey(index uint64) []byte { return append([]byte{rowMeta}, be64(index)...) }

func personPrefix(kind byte, scheme, id string) []byte {
	return appendLP(appendLP([]byte{kind}, scheme), id)
}

func personKey(scheme, id string, index uint64) []byte {
	return append(personPrefix(rowPerson, scheme, id), be64(index)...)
}

func personDatePrefix(scheme, id, date string) []byte {
	return append(personPrefix(rowPersonDate, scheme, id), date...)
}

func personDateKey(scheme, id, date string, index uint64) []byte {
	return append(personDatePrefix(scheme, id, date), be64(index)...)
}

func dateKey(date string, index uint64) []byte {
	return append(append([]byte{rowDate}, date...), be64(index)...)
}

func latestKey(scheme, id, template, election string) []byte {
	return appendLP(appendLP(personPrefix(rowLatest, scheme, id), template), election)
}

func keyKey(kid string) []byte     { return append([]byte{rowKey}, kid...) }
func templateKey(id string) []byte { return appendLP([]byte{rowTemplate}, id) }
func indexValue(i uint64) []byte   { return be64(i) }
func isImmutableRow(key []byte) bool {
	return len(key) > 0 && (key[0] == rowDedupPayload || key[0] == rowMeta || key[0] == rowPerson || key[0] == rowPersonDate || key[0] == rowDate)
}

func parseIndex(v []byte) (uint64, error) {
	if len(v) != 8 {
		return 0, fmt.Errorf("ledger: index row of %d bytes, want 8", len(v))
	}
	return binary.BigEndian.Uint64(v), nil
}

// meta is what the log remembers about an entry beyond its bytes: what it
// is, and for a pledge which enrollment bound its key (the bundle's key
// evidence), or none for a certificate-backed key.
type meta struct {
	Type       byte // first letter of the statement type: p, e, r, t
	Enrollment uint64
	HasEnroll  bool
}

func (m meta) encode() []byte {
	b := []byte{m.Type, 0}
	if m.HasEnroll {
		b[1] = 1
		b = binary.BigEndian.AppendUint64(b, m.Enrollment)
	}
	return b
}

func decodeMeta(b []byte) (meta, error) {
	switch {
	case len(b) == 2 && b[1] == 0:
		return meta{Type: b[0]}, nil
	case len(b) == 10 && b[1] == 1:
		return meta{Type: b[0], HasEnroll: true, Enrollment: binary.BigEndian.Uint64(b[2:])}, nil
	}
	return meta{}, fmt.Errorf("ledger: meta row of %d bytes is malformed", len(b))
}

// keyRecord is a key's latest enrollment (where it is in the log, whom it
// binds, its validity window, the public JWK) and its revocation, if any.
type keyRecord struct {
	Index      uint64
	Revoked    bool
	RevokedAt  uint64
	ValidFrom  time.Time
	ValidUntil time.Time // zero: open-ended
	Scheme, ID string
	JWK        []byte
}

func (r keyRecord) encode() []byte {
	b := binary.BigEndian.AppendUint64(nil, r.Index)
	if r.Revoked {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	b = binary.BigEndian.AppendUint64(b, r.RevokedAt)
	b = binary.BigEndian.AppendUint64(b, uint64(r.ValidFrom.UnixNano()))
	var until uint64
	if !r.ValidUntil.IsZero() {
		until = uint64(r.ValidUntil.UnixNano())
	}
	b = binary.BigEndian.AppendUint64(b, until)
	b = appendLP(appendLP(b, r.Scheme), r.ID)
	return append(b, r.JWK...)
}

var errBadKeyRecord = errors.New("ledger: key record is malformed")

func decodeKeyRecord(b []byte) (keyRecord, error) {
	if len(b) < 33 || b[8] > 1 {
		return keyRecord{}, errBadKeyRecord
	}
	r := keyRecord{
		Index:     binary.BigEndian.Uint64(b),
		Revoked:   b[8] == 1,
		RevokedAt: binary.BigEndian.Uint64(b[9:]),
		ValidFrom: time.Unix(0, int64(binary.BigEndian.Uint64(b[17:]))),
	}
	if u := binary.BigEndian.Uint64(b[25:]); u != 0 {
		r.ValidUntil = time.Unix(0, int64(u))
	}
	rest := b[33:]
	var ok bool
	if r.Scheme, rest, ok = readLP(rest); !ok {
		return keyRecord{}, errBadKeyRecord
	}
	if r.ID, rest, ok = readLP(rest); !ok {
		return keyRecord{}, errBadKeyRecord
	}
	r.JWK = rest
	return r, nil
}

func readLP(b []byte) (string, []byte, bool) {
	if len(b) < 2 {
		return "", nil, false
	}
	n := int(binary.BigEndian.Uint16(b))
	if len(b) < 2+n {
		return "", nil, false
	}
	return string(b[2 : 2+n]), b[2+n:], true
}

// covers reports whether t is inside the key's validity window.
func (r keyRecord) covers(t time.Time) bool {
	return !t.Before(r.ValidFrom) && (r.ValidUntil.IsZero() || !t.After(r.ValidUntil))
}

var _ = store.ErrNotFound
