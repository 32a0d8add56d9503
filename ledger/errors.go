package ledger

import (
	"errors"
	"fmt"
	"time"
)

// Errors Append returns (wrapped) for a submission the log refuses; the
// tree is left exactly as it was. Anything else Append returns is the log's
// own failure (storage, a closed log).
var (
	// ErrInvalid: malformed, badly signed, or against a rule of the log (a
	// signed_at out of bounds, a supersedes that points nowhere). HTTP 400.
	ErrInvalid = errors.New("ledger: invalid submission")
	// ErrForbidden: the key is not enrolled, revoked, enrolled for someone
	// else or outside its validity, or a statement that needs a registrar is
	// not signed by one. HTTP 403.
	ErrForbidden = errors.New("ledger: not authorized")
	// ErrClosed: the log is closed or closing.
	ErrClosed = errors.New("ledger: log is closed")
	// ErrPolicy: Open or Audit was given a trust policy that cannot be the
	// log's: it lacks a registrar whose statements the log holds.
	ErrPolicy = errors.New("ledger: the trust policy does not fit this log")
	// ErrLocked: Open or Audit found the log held by another process (a
	// running server): use its HTTP API instead.
	ErrLocked = errors.New("ledger: the log is in use by another process")
)

// ConflictError: a different statement already holds the place this one
// asks for (a second pledge for the same signer, template and election; a
// key enrolled for someone else). Index is that entry. HTTP 409.
type ConflictError struct {
	Index  uint64
	Reason string
}

func (e *ConflictError) Error() string { return "ledger: conflict: " + e.Reason }

// PushbackError: the sequencer's queue is full. Retry after RetryAfter.
// HTTP 503 with Retry-After.
type PushbackError struct {
	RetryAfter time.Duration
	Pending    int
}

func (e *PushbackError) Error() string {
	return fmt.Sprintf("ledger: %d submissions are waiting to be sequenced; retry in %s", e.Pending, e.RetryAfter)
}
