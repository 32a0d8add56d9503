package ledger

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/pakta-id/pakta/ledger/store"
)

// The reads of enrollment requests: the status to anyone, the content and
// the list to whom the caller allows (a registrar of the subject's agency).

// Status tells anyone where the request with code stands: pending,
// approved (its enrollment is in the log) or expired (its day passed, or
// another request of the same person was approved). A code never given, or
// forgotten a day after its request ended, is ErrNotFound.
func (r *Requests) Status(ctx context.Context, code string) (string, error) {
	c, err := ParseCode(code)
	if err != nil {
		return "", err
	}
	rec, err := r.record(ctx, c)
	if err != nil {
		return "", err
	}
	if rec.Status != RequestPending {
		return rec.Status, nil
	}
	if r.now().UnixMilli() >= rec.Expires {
		return RequestExpired, nil
	}
	// Approved, but the process stopped before the request was settled.
	if _, err := r.l.st.Get(ctx, keyKey(rec.KID)); err == nil {
		return RequestApproved, nil
	}
	return RequestPending, nil
}

// Get returns a pending request's content. A request that is no longer
// pending is ErrNotFound, saying what became of it. Who may read it is the
// caller's to decide (a registrar for PendingRequest.Agency).
func (r *Requests) Get(ctx context.Context, code string) (PendingRequest, error) {
	c, err := ParseCode(code)
	if err != nil {
		return PendingRequest{}, err
	}
	rec, err := r.record(ctx, c)
	if err != nil {
		return PendingRequest{}, err
	}
	if rec.Status != RequestPending || r.now().UnixMilli() >= rec.Expires {
		status := rec.Status
		if status == RequestPending {
			status = RequestExpired
		}
		return PendingRequest{}, fmt.Errorf("%w: enrollment request %s is %s: its content is no longer kept", ErrNotFound, FormatCode(c), status)
	}
	return r.content(ctx, rec)
}

func (r *Requests) content(ctx context.Context, rec *requestRecord) (PendingRequest, error) {
	jws, err := r.l.st.SideGet(ctx, reqJWSKey(rec.Code))
	if err != nil {
		return PendingRequest{}, fmt.Errorf("ledger: reading enrollment request %s: %w", FormatCode(rec.Code), err)
	}
	return PendingRequest{Code: FormatCode(rec.Code), KID: rec.KID, JWS: jws, Expires: time.UnixMilli(rec.Expires).UTC(), Agency: rec.Agency}, nil
}

// List returns up to limit (1 to 1,000) pending requests whose subject's
// agency scope accepts (nil accepts all: a policy reader), in code order,
// after the code after ("" for the first page), and whether more follow.
// For a registrar, scope is its Covers.
func (r *Requests) List(ctx context.Context, scope func(agency string) bool, after string, limit int) ([]PendingRequest, bool, error) {
	if limit < 1 || limit > maxRequestPage {
		return nil, false, fmt.Errorf("%w: page limit %d is not between 1 and %d", ErrInvalid, limit, maxRequestPage)
	}
	start := reqPrefix
	if after != "" {
		c, err := ParseCode(after)
		if err != nil {
			return nil, false, err
		}
		start = append(reqKey(c), 0) // the first code after it
	}
	now := r.now().UnixMilli()
	var recs []*requestRecord
	more := false
	err := r.l.st.SideScan(ctx, reqPrefix, start, func(_, v []byte) error {
		rec, err := decodeRequest(v)
		if err != nil {
			return err
		}
		if rec.Status != RequestPending || now >= rec.Expires || (scope != nil && !scope(rec.Agency)) {
			return nil
		}
		if len(recs) == limit {
			more = true
			return errStopScan
		}
		recs = append(recs, rec)
		return nil
	})
	if err != nil && !errors.Is(err, errStopScan) {
		return nil, false, fmt.Errorf("ledger: listing enrollment requests: %w", err)
	}
	out := make([]PendingRequest, 0, len(recs))
	for _, rec := range recs {
		p, err := r.content(ctx, rec)
		if errors.Is(err, store.ErrNotFound) {
			continue // settled since the scan
		}
		if err != nil {
			return nil, false, err
		}
		out = append(out, p)
	}
	return out, more, nil
}
