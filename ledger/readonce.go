package ledger

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/pakta-id/pakta/ledger/store"
)

// ReadOnce is one restricted read for RecordReadsOnce: the read, its
// token's nonce and expiry, and the people it names.
type ReadOnce struct {
	Read   Read
	Nonce  string
	Exp    time.Time
	People []PersonRef
}

// RecordReadOnce is UseNonce and RecordRead in one durable write: it
// records that the read token with nonce, valid until exp, was used, and
// that rd read the records of people (each once), all or nothing. A nonce
// already used by a token not yet expired is refused with an error wrapping
// ErrReplay, and nothing is recorded. Below the disk reserve it returns
// ErrDiskFull, and neither the nonce nor the read is recorded.
//
// A restricted read that names people otherwise costs two synced writes
// (the nonce when the token is checked, the record before the answer), and
// a store may serialize its side writes (Pebble's does, to check Absent
// keys): on a busy server those writes were what bounded the rate of
// reads. Call it, instead of the two, once the token's signature is checked
// and the reader is allowed to read people; a read that is refused, or that
// names nobody, still spends its nonce with UseNonce before it is
// answered. With no people, it is UseNonce.
func (l *Log) RecordReadOnce(ctx context.Context, rd Read, nonce string, exp time.Time, people []PersonRef) error {
	return l.RecordReadsOnce(ctx, []ReadOnce{{Read: rd, Nonce: nonce, Exp: exp, People: people}})[0]
}

// RecordReadsOnce is RecordReadOnce for many reads at once, in one durable
// write when none of their nonces was used before (a server groups the
// reads that arrive together, so that they share one sync). It returns
// one error per read, in order: nil once that read is recorded, an error
// wrapping ErrReplay for a nonce used before (or twice among reads), and
// ErrDiskFull for all below the disk reserve.
func (l *Log) RecordReadsOnce(ctx context.Context, reads []ReadOnce) []error {
	errs := make([]error, len(reads))
	fail := func(err error) []error {
		for i := range errs {
			errs[i] = err
		}
		return errs
	}
	if l.isClosed() {
		return fail(ErrClosed)
	}
	if err := l.readsRecordable(); err != nil {
		return fail(err)
	}
	if err := l.purgeNonces(ctx, l.cfg.Clock()); err != nil {
		return fail(err)
	}
	u := &store.SideUpdate{}
	var in []int // the reads u holds
	nonces := make(map[string]bool, len(reads))
	for i, r := range reads {
		if len(r.People) == 0 {
			errs[i] = l.UseNonce(ctx, r.Nonce, r.Exp)
			continue
		}
		if nonces[r.Nonce] {
			errs[i] = fmt.Errorf("%w: nonce %q was used before: sign a new token for each request", ErrReplay, r.Nonce)
			continue
		}
		nonces[r.Nonce] = true
		rows, err := readRows(r.Read, r.Nonce, r.People)
		if err != nil {
			errs[i] = err
			continue
		}
		// The same rows as UseNonce and RecordRead write.
		u.Absent = append(u.Absent, nonceKey(r.Nonce))
		u.Put = append(append(u.Put, nonceRows(r.Nonce, r.Exp.Unix())...), rows...)
		in = append(in, i)
	}
	if len(in) == 0 {
		return errs
	}
	err := l.st.SideUpdate(ctx, u)
	if errors.Is(err, store.ErrExists) {
		// A nonce is remembered: a replay, or the nonce of an expired
		// token that the purge has not reached yet. One at a time,
		// UseNonce tells the two apart, and the others are recorded.
		for _, i := range in {
			r := reads[i]
			if errs[i] = l.UseNonce(ctx, r.Nonce, r.Exp); errs[i] == nil {
				errs[i] = l.RecordRead(ctx, r.Read, r.Nonce, r.People)
			}
		}
		return errs
	}
	if err != nil {
		err = fmt.Errorf("ledger: recording %d reads: %w", len(in), err)
	}
	for _, i := range in {
		errs[i] = err
	}
	return errs
}
