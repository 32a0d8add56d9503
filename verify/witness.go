package verify

import (
	"time"

	"github.com/pakta-id/pakta/pledge"
)

// WitnessFacts is one witness's cosignature on the bundle's checkpoint: by
// Time, on the witness's own clock, the witness had seen a tree that holds
// the entry, consistent with every earlier view it had of the log.
type WitnessFacts struct {
	Name string `json:"name"` // the policy's name for the witness
	Key  string `json:"key"`  // the witness key's name
	Time string `json:"time"` // RFC 3339, UTC
	// TimeLocal is Time in the pledge's zone (pledges only).
	TimeLocal string `json:"time_local,omitzero"`
}

// checkWitness: with witnesses in the policy, the checkpoint carries valid
// cosignatures of a quorum of them. Their times are evidence of when that
// does not rest on the log operator's clock.
func (r *report) checkWitness() bool {
	p := r.policy
	if len(p.Witnesses) == 0 {
		return true
	}
	valid, invalid := p.Cosignatures(r.note)
	if len(invalid) > 0 {
		r.fail(CheckWitness, "the cosignature of witness %s on the checkpoint is not valid: the checkpoint or the cosignature was altered after the witness signed it, or the witness did not sign it", witnessNames(invalid))
		return false
	}
	need := p.Quorum()
	if len(valid) == 0 {
		r.fail(CheckWitness, "not yet witnessed: fetch it again; the checkpoint carries no cosignature of the policy's witnesses %s, and %d are needed", witnessNames(p.Witnesses), need)
		return false
	}
	if len(valid) < need {
		r.fail(CheckWitness, "not yet witnessed by enough witnesses: fetch it again; the checkpoint carries %d valid cosignature(s) (%s), and the policy needs %d", len(valid), cosignerNames(valid), need)
		return false
	}
	var loc *time.Location
	pl, isPledge := r.v.Statement.(*pledge.Pledge)
	if isPledge {
		if t, err := pl.SignedAtTime(); err == nil {
			loc = t.Location()
		}
	}
	seen := make([]Message, len(valid))
	earliest := valid[0].Time
	for i, c := range valid {
		wf := WitnessFacts{Name: c.Witness.Name, Key: c.Witness.verifier.Name(), Time: c.Time.Format(time.RFC3339)}
		if loc != nil {
			wf.TimeLocal = c.Time.In(loc).Format(time.RFC3339)
			seen[i] = msgf("witness %s had seen this entry by %s (%s %s)", quote(c.Witness.Name), humanLogged(c.Time), c.Time.In(loc).Format("15:04"), ZoneName(offsetOf(c.Time.In(loc))))
		} else {
			seen[i] = msgf("witness %s had seen this entry by %s", quote(c.Witness.Name), humanLogged(c.Time))
		}
		if r.facts != nil {
			r.facts.Witnesses = append(r.facts.Witnesses, wf)
		}
		if c.Time.Before(earliest) {
			earliest = c.Time
		}
	}
	deadline := Message{Format: "%s", Args: []any{""}}
	if tf := r.templateFacts; tf != nil && tf.OnTime != nil && *tf.OnTime {
		if d, err := time.Parse(time.RFC3339, tf.Deadline); err == nil {
			confirmed := !earliest.After(d)
			tf.Confirmed = &confirmed
			if confirmed {
				deadline = msgf("; a witness's time is also before the template's deadline: on time, independently confirmed")
			} else {
				deadline = msgf("; every witness's time is after the template's deadline, so \"on time\" rests on the log's clock alone")
			}
		}
	}
	r.pass(CheckWitness, "%d of the policy's %d witnesses cosigned the checkpoint (%d needed), each consistent with what it saw of the log before: %s%s",
		len(valid), len(p.Witnesses), need, joinWith("%s; %s", seen), deadline)
	return true
}

func witnessNames(ws []*Witness) Message {
	parts := make([]Message, len(ws))
	for i, w := range ws {
		parts[i] = msgf("%s (key %s)", quote(w.Name), w.verifier.Name())
	}
	return joinWith("%s and %s", parts)
}

func cosignerNames(cs []Cosignature) Message {
	ws := make([]*Witness, len(cs))
	for i, c := range cs {
		ws[i] = c.Witness
	}
	return witnessNames(ws)
}
