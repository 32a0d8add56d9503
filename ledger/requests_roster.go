package ledger

import (
	"fmt"

	"github.com/pakta-id/pakta/pledge"
	"github.com/pakta-id/pakta/pledge/roster"
)

// SubjectFormError: a request names someone the roster lists, in another
// form (a name differing only in case, spacing or titles; another
// employment, unit or position). Subject is the roster's form, which the
// device signs again (DESIGN.md, "Enrollment requests"). It matches
// ErrRequestConflict (errors.Is): HTTP 409, with Subject in the detail.
type SubjectFormError struct {
	Subject pledge.Person
}

func (e *SubjectFormError) Error() string {
	return fmt.Sprintf("ledger: %s %s is on the roster as %q (%s): sign the request again in the roster's form", e.Subject.Scheme, e.Subject.ID, e.Subject.Name, e.Subject.Employment)
}

func (e *SubjectFormError) Is(target error) bool { return target == ErrRequestConflict }

// CheckRoster is a RequestConfig.CheckSubject that admits the people on r
// in r's exact form (roster.Match): a subject listed in another form is a
// *SubjectFormError carrying the roster's form (in the subject's agency,
// which the roster does not judge), anyone else ErrForbidden. The refusal
// does not say whether the id is on the roster under another name: a
// request is public, and the roster must not tell a stranger who holds an
// id.
func CheckRoster(r *roster.Roster) func(pledge.Person) error {
	return func(subject pledge.Person) error {
		m := r.Match(subject)
		switch m.Kind {
		case roster.Exact:
			return nil
		case roster.FormDiffers:
			return &SubjectFormError{Subject: m.Person.Subject(subject.Agency)}
		}
		return fmt.Errorf("%w: %s %s named %q is not on this agency's roster: check the number and the name with HR", ErrForbidden, subject.Scheme, subject.ID, subject.Name)
	}
}
