package verify

// taggedError attaches a sentinel to a detailed error without repeating the
// sentinel's text in the message: errors.Is finds both, Error shows the detail.
type taggedError struct {
	tag error
	err error
}

func tagged(tag, err error) error { return &taggedError{tag: tag, err: err} }

func (e *taggedError) Error() string   { return e.err.Error() }
func (e *taggedError) Unwrap() []error { return []error{e.tag, e.err} }
