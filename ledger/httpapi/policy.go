package httpapi

import (
	"net/http"
	"strconv"
)

// getPolicy serves GET /policy.json: the trust policy that verifiers of
// this log use, public (DESIGN.md, "Private reads"). It is what the
// browser's verification page checks bundles with when the reader does not
// bring a policy of their own, so it says which log it is for: a reader can
// compare its origin and log key with a copy obtained elsewhere.
func (h *Handler) getPolicy(w http.ResponseWriter, r *http.Request) error {
	if len(h.policy) == 0 {
		return &httpError{status: http.StatusInternalServerError, msg: "the log's trust policy cannot be served"}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(h.policy)))
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(h.policy)
	}
	return nil
}
