package pledge

import "time"

// Ruling records a finding of the supervising authority about entries of
// the log (a dispute such as "that is not my signature"), signed by a key
// the trust policy lists as a supervisor's. Annuls names pledges the
// ruling annuls: they stay in the log, reports show them annulled, and the
// signer may pledge again under that template without "supersedes". A
// ruling records a finding; sanctions stay with the employing agency.
type Ruling struct {
	Type      string   `json:"type"`
	Case      string   `json:"case"`
	Concerns  []uint64 `json:"concerns"`
	Finding   string   `json:"finding"`
	Annuls    []uint64 `json:"annuls,omitzero"`
	DecidedAt string   `json:"decided_at"`
}

func (*Ruling) StatementType() string { return TypeRuling }

// maxConcerns bounds the entries one ruling names.
const maxConcerns = 256

// DecidedAtTime is the parsed decided_at, in its own offset.
func (r *Ruling) DecidedAtTime() (time.Time, error) {
	return parseTimestamp(TypeRuling, "decided_at", r.DecidedAt)
}

// Validate implements Statement.
func (r *Ruling) Validate() error {
	const st = TypeRuling
	if r.Type != TypeRuling {
		return fieldError(st, "type", "%q, want %q", r.Type, TypeRuling)
	}
	if err := checkText(st, "case", r.Case, true, maxShort); err != nil {
		return err
	}
	if len(r.Concerns) == 0 {
		return fieldError(st, "concerns", "missing: name the log indexes of the entries the ruling is about")
	}
	if len(r.Concerns) > maxConcerns {
		return fieldError(st, "concerns", "%d entries, at most %d", len(r.Concerns), maxConcerns)
	}
	concerns := make(map[uint64]bool, len(r.Concerns))
	for _, i := range r.Concerns {
		if concerns[i] {
			return fieldError(st, "concerns", "index %d is listed twice", i)
		}
		concerns[i] = true
	}
	annuls := map[uint64]bool{}
	for _, i := range r.Annuls {
		if !concerns[i] {
			return fieldError(st, "annuls", "index %d is not among the entries the ruling concerns", i)
		}
		if annuls[i] {
			return fieldError(st, "annuls", "index %d is listed twice", i)
		}
		annuls[i] = true
	}
	if err := checkString(st, "finding", r.Finding, true, true, maxText); err != nil {
		return err
	}
	if _, err := r.DecidedAtTime(); err != nil {
		return err
	}
	return nil
}
