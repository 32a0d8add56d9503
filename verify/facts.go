package verify

import "time"

// ZoneName names an Indonesian UTC offset: WIB (+07:00), WITA (+08:00) or
// WIT (+09:00); any other offset is named by itself.
func ZoneName(offset string) string {
	switch offset {
	case "+07:00":
		return "WIB"
	case "+08:00":
		return "WITA"
	case "+09:00":
		return "WIT"
	}
	return offset
}

// localTimes fills in a pledge's facts every time a supervisor reads in the
// pledge's own zone beside UTC: the signer's signed_at in UTC, and the
// log's times (the entry, the key's enrollment, the template's publication
// and deadline) in the zone of signed_at, so that a renderer converts
// nothing.
func (f *EntryFacts) localTimes(signedAt, loggedAt time.Time) {
	loc := signedAt.Location()
	f.Zone = ZoneName(offsetOf(signedAt))
	f.SignedAtUTC = signedAt.UTC().Format(time.RFC3339)
	f.LoggedAtLocal = inZone(loggedAt, loc)
	if k := f.Key; k != nil {
		if t, err := time.Parse(time.RFC3339Nano, k.LoggedAt); err == nil {
			k.LoggedAtLocal = inZone(t, loc)
		}
	}
	if p := f.Published; p != nil {
		if t, err := time.Parse(time.RFC3339Nano, p.LoggedAt); err == nil {
			p.LoggedAtLocal = inZone(t, loc)
		}
		if d, err := time.Parse(time.RFC3339, p.Deadline); err == nil {
			p.DeadlineUTC = d.UTC().Format(time.RFC3339)
			p.DeadlineLocal = d.In(loc).Format(time.RFC3339)
		}
	}
}

// inZone writes a log time in a zone, keeping its milliseconds.
func inZone(t time.Time, loc *time.Location) string {
	return t.In(loc).Format("2006-01-02T15:04:05.000-07:00")
}

// notChecked is the reason of a check that did not run (report.go's
// finish).
const notChecked = "not checked, because an earlier check failed"

// Skipped reports whether the check did not run because an earlier one
// failed: it neither passed nor failed on its own.
func (c *Check) Skipped() bool { return !c.Pass && c.Message().Format == notChecked }
