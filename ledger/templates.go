package ledger

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/pakta-id/pakta/ledger/store"
	"github.com/pakta-id/pakta/pledge"
	"github.com/pakta-id/pakta/verify"
)

// PublishedTemplate is a template in the log: the statement, where it is
// and when the log recorded it.
type PublishedTemplate struct {
	Template *pledge.Template
	Index    uint64
	LoggedAt time.Time
}

// TemplatesPage is one page of Templates.
type TemplatesPage struct {
	Templates []PublishedTemplate
	// More reports that templates follow: resume with After set to the
	// last template's id.
	More bool
}

// Templates lists the published templates (public: a template holds no
// personal data), at most limit (1 to MaxPageLimit) of them, those that
// cover agency when it is not "" (pledge.Template.Covers: its own code or
// "*"), after the template with id after ("" for the first page). The
// order is the order of the template rows (ids by length, then bytes):
// stable, so that a cursor resumes where it stopped. It reads the write-once
// template rows, never the entries of the log, so a page costs the
// templates it skips and returns, however long the log.
func (l *Log) Templates(ctx context.Context, agency, after string, limit int) (TemplatesPage, error) {
	if limit < 1 || limit > MaxPageLimit {
		return TemplatesPage{}, fmt.Errorf("%w: page limit %d is not between 1 and %d", ErrInvalid, limit, MaxPageLimit)
	}
	prefix := []byte{rowTemplate}
	start := prefix
	if after != "" {
		start = append(templateKey(after), 0) // the first row after it
	}
	_, size := l.Checkpoint()
	var p TemplatesPage
	fn := func(key, value []byte) error {
		index, payload, err := decodeTemplateRecord(value)
		if err != nil {
			return err
		}
		if index >= size {
			return nil // committed, not yet under a checkpoint
		}
		st, err := pledge.ParseStatement(payload)
		if err != nil {
			return fmt.Errorf("ledger: template row at index %d: %w", index, err)
		}
		t, ok := st.(*pledge.Template)
		if !ok {
			return fmt.Errorf("ledger: template row at index %d holds a %s", index, st.StatementType())
		}
		if agency != "" && !t.Covers(agency) {
			return nil
		}
		if len(p.Templates) == limit {
			p.More = true
			return errPageFull
		}
		p.Templates = append(p.Templates, PublishedTemplate{Template: t, Index: index})
		return nil
	}
	var err error
	if rs, ok := l.st.(store.RangeScanner); ok {
		err = rs.ScanFrom(ctx, prefix, start, fn)
	} else {
		err = l.st.Scan(ctx, prefix, func(key, value []byte) error {
			if string(key) < string(start) {
				return nil
			}
			return fn(key, value)
		})
	}
	if err != nil && !errors.Is(err, errPageFull) {
		return TemplatesPage{}, fmt.Errorf("ledger: listing templates: %w", err)
	}
	for i := range p.Templates {
		t := &p.Templates[i]
		b, err := l.st.Entry(ctx, t.Index)
		if err != nil {
			return TemplatesPage{}, fmt.Errorf("ledger: template %s at index %d: %w", t.Template.ID, t.Index, err)
		}
		e, err := verify.ParseEntry(b)
		if err != nil {
			return TemplatesPage{}, fmt.Errorf("ledger: template %s at index %d: %w", t.Template.ID, t.Index, err)
		}
		t.LoggedAt = e.LoggedAt
	}
	return p, nil
}
