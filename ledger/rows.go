package ledger

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/pakta-id/pakta/ledger/store"
)

// Row keys. The store treats them as opaque bytes; the first byte names the
// kind. Variable-length parts are length-prefixed so that no two tuples
// share a key and a prefix scan of (scheme, id) never matches (scheme, id2).
//
// Immutable rows, written once with the entry they describe:
//
//	'p' sha256(payload)        → index       the same statement again
//	'u' index ruling           → ∅           entry → the rulings about it
//	'm' index                  → meta        statement type, key evidence
//	'i' person index           → type        person → entries
//	'j' person date index      → ∅           person + date → pledges
//	't' date index             → ∅           date → pledges
//
// Mutable rows, the log's current view, overwritten as the log grows:
//
//	'l' person template election → index, corrections  the signer's latest pledge
//	'k' kid                      → keyRecord the key's latest enrollment, revocation
//
// Write-once rows of the current view (set by the first entry that needs
// them, never changed after):
//
//	'T' template id              → index, payload  the published template
//	'R' registrar kid            → index   the first entry the registrar signed
//	'a' index                    → index   the ruling that annulled the entry
const (
	rowDedupPayload = 'p'
	rowMeta         = 'm'
	rowPerson       = 'i'
	rowPersonDate   = 'j'
	rowDate         = 't'
	rowLatest       = 'l'
	rowKey          = 'k'
	rowTemplate     = 'T'
	rowRegistrar    = 'R'
	rowConcern      = 'u'
	rowAnnulled     = 'a'
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

func keyKey(kid string) []byte       { return append([]byte{rowKey}, kid...) }
func registrarKey(kid string) []byte { return append([]byte{rowRegistrar}, kid...) }
func templateKey(id string) []byte   { return appendLP([]byte{rowTemplate}, id) }
func indexValue(i uint64) []byte     { return be64(i) }
func annulKey(i uint64) []byte       { return append([]byte{rowAnnulled}, be64(i)...) }

func concernKey(entry, ruling uint64) []byte {
	return append(append([]byte{rowConcern}, be64(entry)...), be64(ruling)...)
}
func isImmutableRow(key []byte) bool {
	return len(key) > 0 && (key[0] == rowDedupPayload || key[0] == rowMeta || key[0] == rowPerson || key[0] == rowPersonDate || key[0] == rowDate || key[0] == rowConcern)
}

func parseIndex(v []byte) (uint64, error) {
	if len(v) != 8 {
		return 0, fmt.Errorf("ledger: index row of %d bytes, want 8", len(v))
	}
	return binary.BigEndian.Uint64(v), nil
}

// meta is what the log remembers about an entry beyond its bytes: what it
// is, and the other entries its bundle carries: the enrollment that bound a
// pledge's key (none for a certificate-backed key) or the revoked key's, and
// a pledge's template.
type meta struct {
	Type        byte // the statement type: p(ledge), e(nrollment), r(evocation), t(emplate), u (ruling)
	Enrollment  uint64
	HasEnroll   bool
	Template    uint64
	HasTemplate bool
}

const (
	metaEnroll   = 1
	metaTemplate = 2
)

func (m meta) encode() []byte {
	b := []byte{m.Type, 0}
	if m.HasEnroll {
		b[1] |= metaEnroll
		b = binary.BigEndian.AppendUint64(b, m.Enrollment)
	}
	if m.HasTemplate {
		b[1] |= metaTemplate
		b = binary.BigEndian.AppendUint64(b, m.Template)
	}
	return b
}

func decodeMeta(b []byte) (meta, error) {
	bad := fmt.Errorf("ledger: meta row of %d bytes is malformed", len(b))
	if len(b) < 2 || b[1]&^(metaEnroll|metaTemplate) != 0 {
		return meta{}, bad
	}
	m := meta{Type: b[0], HasEnroll: b[1]&metaEnroll != 0, HasTemplate: b[1]&metaTemplate != 0}
	rest := b[2:]
	for _, f := range []struct {
		has bool
		v   *uint64
	}{{m.HasEnroll, &m.Enrollment}, {m.HasTemplate, &m.Template}} {
		if !f.has {
			continue
		}
		if len(rest) < 8 {
			return meta{}, bad
		}
		*f.v, rest = binary.BigEndian.Uint64(rest), rest[8:]
	}
	if len(rest) != 0 {
		return meta{}, bad
	}
	return m, nil
}

// keyRecord is a key's latest enrollment (where it is in the log and its
// payload, the signed statement bytes, from which the rules read whom it
// binds and when it is valid) and its revocation, if any.
type keyRecord struct {
	Index     uint64
	Revoked   bool
	RevokedAt uint64
	Payload   []byte
}

func (r keyRecord) encode() []byte {
	b := binary.BigEndian.AppendUint64(nil, r.Index)
	if r.Revoked {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	b = binary.BigEndian.AppendUint64(b, r.RevokedAt)
	return append(b, r.Payload...)
}

var errBadKeyRecord = errors.New("ledger: key record is malformed")

func decodeKeyRecord(b []byte) (keyRecord, error) {
	if len(b) < 18 || b[8] > 1 {
		return keyRecord{}, errBadKeyRecord
	}
	return keyRecord{
		Index:     binary.BigEndian.Uint64(b),
		Revoked:   b[8] == 1,
		RevokedAt: binary.BigEndian.Uint64(b[9:]),
		Payload:   b[17:],
	}, nil
}

// latestRecord is the signer's latest pledge under a template and election,
// and how many corrections led to it.
type latestRecord struct {
	Index       uint64
	Corrections uint32
}

func (r latestRecord) encode() []byte {
	return binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint64(nil, r.Index), r.Corrections)
}

func decodeLatest(b []byte) (latestRecord, error) {
	if len(b) != 12 {
		return latestRecord{}, fmt.Errorf("ledger: latest-pledge row of %d bytes, want 12", len(b))
	}
	return latestRecord{Index: binary.BigEndian.Uint64(b), Corrections: binary.BigEndian.Uint32(b[8:])}, nil
}

// templateRecord is where a template is logged and its payload.
func encodeTemplateRecord(index uint64, payload []byte) []byte {
	return append(binary.BigEndian.AppendUint64(nil, index), payload...)
}

func decodeTemplateRecord(b []byte) (uint64, []byte, error) {
	if len(b) < 9 {
		return 0, nil, fmt.Errorf("ledger: template row of %d bytes is malformed", len(b))
	}
	return binary.BigEndian.Uint64(b), b[8:], nil
}

var _ = store.ErrNotFound
