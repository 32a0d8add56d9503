package ledger

import (
	"context"
	"fmt"
	"time"

	"github.com/pakta-id/pakta/pledge"
	"github.com/pakta-id/pakta/verify"
)

// Event is one entry of a person's history: an enrollment of a key in
// their name, a revocation of one, a pledge they signed (a correction
// included), or a ruling of the supervising authority about any of these.
type Event struct {
	Index    uint64
	Type     string // the statement type: pledge, enrollment, revocation, ruling
	LoggedAt time.Time
	Bundle   *verify.Bundle // against the latest checkpoint
	// AnnulledBy is the index of the ruling that annulled this entry, if
	// one did.
	AnnulledBy *uint64
}

// History is one page (at most limit, 1 to MaxPageLimit) of everything the
// log holds about the person (scheme, id), from index from on, in log
// order, each entry with its bundle: what the supervising authority reads
// to rule on "that is not my signature" (every key ever enrolled in the
// person's name, by whom, and what each signed) or on a deadline. A
// malformed identifier or limit is ErrInvalid.
func (l *Log) History(ctx context.Context, scheme, id string, from uint64, limit int) ([]Event, Page, error) {
	if err := pledge.ValidateID(scheme, id, "", zeroTime); err != nil {
		return nil, Page{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	page, err := l.EntriesOfPage(ctx, scheme, id, from, limit)
	if err != nil {
		return nil, Page{}, err
	}
	events := make([]Event, len(page.Indexes))
	for i, index := range page.Indexes {
		if events[i], err = l.event(ctx, index); err != nil {
			return nil, Page{}, err
		}
	}
	return events, page, nil
}

func (l *Log) event(ctx context.Context, index uint64) (Event, error) {
	b, err := l.Bundle(ctx, index)
	if err != nil {
		return Event{}, err
	}
	e, err := verify.ParseEntry(b.Entry)
	if err != nil {
		return Event{}, fmt.Errorf("ledger: entry %d: %w", index, err)
	}
	mb, err := l.st.Get(ctx, metaKey(index))
	if err != nil {
		return Event{}, fmt.Errorf("ledger: entry %d has no meta row: %w", index, err)
	}
	m, err := decodeMeta(mb)
	if err != nil {
		return Event{}, err
	}
	ev := Event{Index: index, Type: metaTypes[m.Type], LoggedAt: e.LoggedAt, Bundle: b}
	if ev.Type == "" {
		return Event{}, fmt.Errorf("ledger: entry %d has meta type %q", index, m.Type)
	}
	if a, err := l.st.Get(ctx, annulKey(index)); err == nil {
		r, err := parseIndex(a)
		if err != nil {
			return Event{}, err
		}
		if _, size := l.Checkpoint(); r < size {
			ev.AnnulledBy = &r
		}
	}
	return ev, nil
}

// metaTypes names the statement type of a meta row.
var metaTypes = map[byte]string{
	'p': pledge.TypePledge, 'e': pledge.TypeEnrollment, 'r': pledge.TypeRevocation,
	't': pledge.TypeTemplate, 'u': pledge.TypeRuling,
}
