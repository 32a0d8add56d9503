package ledger

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/pakta-id/pakta/ledger/store"
	"github.com/pakta-id/pakta/pledge"
)

// Page sizes of the list reads (DESIGN.md, "Private reads": limit 1 to
// 1,000, default 100).
const (
	DefaultPageLimit = 100
	MaxPageLimit     = 1000
)

// Page is one page of a list of entries, in log order.
type Page struct {
	// Indexes are at most the requested limit of entry indexes.
	Indexes []uint64
	// More reports that entries follow this page: resume from Next.
	More bool
	// Next is the index to resume from (the last index + 1) when More.
	Next uint64
}

// PledgesPage is Pledges one page at a time: at most limit (1 to
// MaxPageLimit) indexes of the pledges by the person (scheme, id) dated date,
// from index from on, in log order. The scan starts at from, so a page costs
// what it returns whatever the list's length; a request can never make the
// log materialise an unbounded list. A limit out of range, a malformed
// identifier or date is ErrInvalid.
func (l *Log) PledgesPage(ctx context.Context, scheme, id, date string, from uint64, limit int) (Page, error) {
	if err := pledge.ValidateID(scheme, id, "", zeroTime); err != nil {
		return Page{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if !validDate(date) {
		return Page{}, fmt.Errorf("%w: date %q is not YYYY-MM-DD", ErrInvalid, date)
	}
	return l.page(ctx, personDatePrefix(scheme, id, date), from, limit)
}

// EntriesOfPage is EntriesOf one page at a time, as PledgesPage.
func (l *Log) EntriesOfPage(ctx context.Context, scheme, id string, from uint64, limit int) (Page, error) {
	return l.page(ctx, personPrefix(rowPerson, scheme, id), from, limit)
}

// errPageFull stops a scan once a page and one more row are read.
var errPageFull = errors.New("ledger: page full")

// page reads the index rows prefix‖index for index ≥ from, below the latest
// checkpoint's size, at most limit of them.
func (l *Log) page(ctx context.Context, prefix []byte, from uint64, limit int) (Page, error) {
	if limit < 1 || limit > MaxPageLimit {
		return Page{}, fmt.Errorf("%w: page limit %d is not between 1 and %d", ErrInvalid, limit, MaxPageLimit)
	}
	_, size := l.Checkpoint()
	start := append(append([]byte(nil), prefix...), be64(from)...)
	var p Page
	fn := func(key, _ []byte) error {
		if len(key) != len(prefix)+8 {
			return nil
		}
		i := binary.BigEndian.Uint64(key[len(prefix):])
		if i < from || i >= size {
			return nil
		}
		if len(p.Indexes) == limit {
			p.More, p.Next = true, p.Indexes[limit-1]+1
			return errPageFull
		}
		p.Indexes = append(p.Indexes, i)
		return nil
	}
	var err error
	if rs, ok := l.st.(store.RangeScanner); ok {
		err = rs.ScanFrom(ctx, prefix, start, fn)
	} else {
		err = l.st.Scan(ctx, prefix, fn)
	}
	if err != nil && !errors.Is(err, errPageFull) {
		return Page{}, fmt.Errorf("ledger: reading a page of rows %x from index %d: %w", prefix, from, err)
	}
	return p, nil
}
