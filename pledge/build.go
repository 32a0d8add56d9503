package pledge

import (
	"fmt"
	"io"
	"time"
)

// NewPledge makes signer's pledge under template t, signed at signedAt
// (in the signer's own zone: its offset is what signed_at carries and its
// calendar day is the pledge's date), at place. Everything else is derived:
// the type, a random (version 4 UUID) id read from rand, the template's id,
// text, sha256 and election. The pledge is validated; sign it with Sign.
func NewPledge(signer Person, t *Template, place string, signedAt time.Time, rand io.Reader) (*Pledge, error) {
	id, err := NewUUID(rand)
	if err != nil {
		return nil, err
	}
	at := signedAt.Truncate(time.Second)
	p := &Pledge{
		Type: TypePledge, ID: id, Signer: signer,
		Template: TemplateRef{ID: t.ID, SHA256: TextHash(t.Text)},
		Text:     t.Text, Election: t.Election, Place: place,
		Date: at.Format(DateLayout), SignedAt: at.Format(time.RFC3339),
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return p, nil
}

// NewUUID returns a random (version 4) UUID read from rand
// (crypto/rand.Reader in production).
func NewUUID(rand io.Reader) (string, error) {
	var b [16]byte
	if _, err := io.ReadFull(rand, b[:]); err != nil {
		return "", fmt.Errorf("pledge: reading randomness for an id: %w", err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16]), nil
}
