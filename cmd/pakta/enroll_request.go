package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/pakta-id/pakta/ledger"
	"github.com/pakta-id/pakta/pledge"
)

// The path in which nobody but the employee ever holds the employee's key
// (DESIGN.md, "Enrollment requests"): the employee's device makes the key
// and sends a request signed with it alone (enroll request); the registrar,
// having met the person, lists (enroll pending), checks and countersigns it
// locally (enroll approve), and submits the enrollment. The registrar's key
// never leaves its machine either.

// requestJSON is a request as the server gives it to a registrar.
type requestJSON struct {
	Code    string `json:"code"`
	KID     string `json:"kid"`
	JWS     string `json:"jws"`
	Expires string `json:"expires"`
}

func newEnrollRequestCmd() *cobra.Command {
	var server, keyFile, form, tz string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "request --server URL --key K.jwk --form PERSON",
		Short: "Ask to be enrolled: make the key here, sign the request with it, post it",
		Long: `Request enrollment of your own key. If --key does not exist yet, a new
Ed25519 key is made and written there (mode 0600); it never leaves this
machine. The enrollment of --form's person (JSON or YAML, as for
"pakta enroll") is signed with that key alone and posted to --server, which
keeps it for 24 hours and answers with a six-digit code.

Show the code and the key's first 8 characters to your registrar, who
approves it with "pakta enroll approve". Sending the same key again gives
the same code.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if server == "" || keyFile == "" || form == "" {
				return usagef("enroll request needs --server, --key and --form")
			}
			c, err := newClient(server, nil, "")
			if err != nil {
				return err
			}
			loc, err := parseZone(tz)
			if err != nil {
				return usageError(err)
			}
			var p pledge.Person
			if err := readForm(form, &p); err != nil {
				return err
			}
			key, made, err := loadOrMakeKey(keyFile)
			if err != nil {
				return err
			}
			if made {
				fmt.Fprintf(cmd.ErrOrStderr(), "made a new key %s (kid %s), readable by you only: keep it, it is your signature\n", keyFile, key.KeyID())
			}
			e := &pledge.Enrollment{Type: pledge.TypeEnrollment, Subject: p, JWK: key.Public(), ValidFrom: timestamp(time.Now().In(loc))}
			if err := e.Validate(); err != nil {
				return usageError(err)
			}
			jws, err := pledge.SignRequest(e, key)
			if err != nil {
				return err
			}
			status, body, err := c.postRequest(cmd.Context(), jws)
			if err != nil {
				return err
			}
			var s struct {
				Code    string `json:"code"`
				KID     string `json:"kid"`
				Expires string `json:"expires"`
			}
			if err := json.Unmarshal(body, &s); err != nil || s.KID != key.KeyID() {
				return failf("the server's answer does not name this key: %s", body)
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), map[string]any{"code": s.Code, "kid": s.KID, "expires": s.Expires, "created": status == http.StatusCreated})
			}
			w := cmd.OutOrStdout()
			again := ""
			if status == http.StatusOK {
				again = " (this key's request was already pending: same code)"
			}
			fmt.Fprintf(w, "Enrollment request sent%s. Your code:\n\n    %s\n\n", again, bigCode(s.Code))
			fmt.Fprintf(w, "Key: %s   (the registrar checks these 8 characters)\n", shortKID(s.KID))
			fmt.Fprintf(w, "Show both to your registrar before %s.\n", s.Expires)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&server, "server", "", "the log's `URL`")
	f.StringVar(&keyFile, "key", "", "your private JWK `file`; made (0600) if it does not exist")
	f.StringVar(&form, "form", "", "the person as a JSON or YAML `file`")
	f.StringVar(&tz, "tz", "", "time `zone` of valid_from (now): WIB, WITA, WIT, +08:00, … (default local)")
	f.BoolVar(&asJSON, "json", false, "print the code, kid and expiry as JSON")
	return cmd
}

// loadOrMakeKey reads the private key in path, or makes one there.
func loadOrMakeKey(path string) (*pledge.PrivateKey, bool, error) {
	if _, err := os.Stat(path); err == nil {
		k, err := pledge.ReadPrivateKeyFile(path)
		if err != nil {
			return nil, false, usageError(err)
		}
		return k, false, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, false, usageError(err)
	}
	k, err := pledge.GenerateKey(pledge.EdDSA, rand.Reader)
	if err != nil {
		return nil, false, err
	}
	if err := pledge.WritePrivateKeyFile(path, k); err != nil {
		return nil, false, failure(err)
	}
	return k, true, nil
}

// bigCode spaces a code out to be read aloud: "1 2 3 - 4 5 6".
func bigCode(code string) string {
	return strings.Join(strings.Split(code, ""), " ")
}

func shortKID(kid string) string {
	if len(kid) < 8 {
		return kid
	}
	return kid[:8]
}

func newEnrollPendingCmd() *cobra.Command {
	var server, regKey string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "pending --server URL --registrar-key R.jwk",
		Short: "List the pending enrollment requests of your agencies (a registrar's read)",
		Long: `Pending lists the enrollment requests waiting for a registrar of your
agencies: code, the key's first 8 characters, who the request names, and
when it expires. Each request to the server is signed with --registrar-key
(a read token); the key itself never leaves this machine.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if server == "" || regKey == "" {
				return usagef("enroll pending needs --server and --registrar-key")
			}
			c, err := newClient(server, nil, "")
			if err != nil {
				return err
			}
			key, err := pledge.ReadPrivateKeyFile(regKey)
			if err != nil {
				return usageError(err)
			}
			var all []requestJSON
			q := url.Values{"limit": {"1000"}}
			for {
				body, err := c.withKey(key).get(cmd.Context(), "/v1/enrollment-requests", q)
				if err != nil {
					return err
				}
				var page struct {
					Requests   []requestJSON `json:"requests"`
					NextCursor string        `json:"next_cursor"`
				}
				if err := json.Unmarshal(body, &page); err != nil {
					return failf("the server's list does not parse: %w", err)
				}
				all = append(all, page.Requests...)
				if page.NextCursor == "" {
					break
				}
				q.Set("cursor", page.NextCursor)
			}
			if asJSON {
				if all == nil {
					all = []requestJSON{}
				}
				return printJSON(cmd.OutOrStdout(), map[string]any{"requests": all})
			}
			w := cmd.OutOrStdout()
			if len(all) == 0 {
				fmt.Fprintln(w, "no pending enrollment requests for your agencies")
				return nil
			}
			for _, r := range all {
				e, err := checkRequest(r)
				if err != nil {
					fmt.Fprintf(w, "%s  %s  (does not verify: %v)\n", r.Code, shortKID(r.KID), err)
					continue
				}
				s := e.Subject
				fmt.Fprintf(w, "%s  key %s  %s %s  %s  agency %s  expires %s\n", r.Code, shortKID(r.KID), s.Scheme, s.ID, strconv.QuoteToGraphic(s.Name), strconv.QuoteToGraphic(s.Agency.Code), r.Expires)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&server, "server", "", "the log's `URL`")
	f.StringVar(&regKey, "registrar-key", "", "the registrar's private JWK `file` (signs the read)")
	f.BoolVar(&asJSON, "json", false, "print the requests as JSON")
	return cmd
}

// checkRequest verifies a request locally: the server is not trusted to
// have checked it.
func checkRequest(r requestJSON) (*pledge.Enrollment, error) {
	v, err := pledge.VerifyRequest([]byte(r.JWS), pledge.VerifyOptions{})
	if err != nil {
		return nil, err
	}
	e := v.Statement.(*pledge.Enrollment)
	if e.JWK.KeyID() != r.KID {
		return nil, fmt.Errorf("the request enrolls key %s, not %s as the server says", e.JWK.KeyID(), r.KID)
	}
	return e, nil
}

func newEnrollApproveCmd() *cobra.Command {
	var server, regKey, out string
	var yes bool
	cmd := &cobra.Command{
		Use:   "approve --server URL --registrar-key R.jwk [--yes] CODE",
		Short: "Approve an enrollment request: check who it names, countersign it here, submit it",
		Long: `Approve fetches the pending request CODE (a registrar's read, signed with
--registrar-key), verifies it, and shows who it names and the first 8
characters of its key: compare them with the person in front of you and
their phone. Unless --yes, it asks to confirm (y/N); without a terminal it
refuses unless --yes. It then countersigns the request here (the
employee's signature first, then yours) and submits the enrollment to the
log, printing its index; --out writes the enrollment's bundle.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if server == "" || regKey == "" {
				return usagef("enroll approve needs --server and --registrar-key")
			}
			code, err := ledger.ParseCode(args[0])
			if err != nil {
				return usagef("%q is not a request code: six digits, such as 123-456", args[0])
			}
			c, err := newClient(server, nil, "")
			if err != nil {
				return err
			}
			key, err := pledge.ReadPrivateKeyFile(regKey)
			if err != nil {
				return usageError(err)
			}
			ctx := cmd.Context()
			body, err := c.withKey(key).get(ctx, "/v1/enrollment-requests/"+ledger.FormatCode(code), url.Values{"full": {"1"}})
			if err != nil {
				return err
			}
			var r requestJSON
			if err := json.Unmarshal(body, &r); err != nil {
				return failf("the server's request does not parse: %w", err)
			}
			e, err := checkRequest(r)
			if err != nil {
				return failf("request %s does not verify: %w", r.Code, err)
			}
			w := cmd.ErrOrStderr()
			s := e.Subject
			fmt.Fprintf(w, "Request %s names:\n", r.Code)
			fmt.Fprintf(w, "  %-11s %s %s\n", "id", s.Scheme, s.ID)
			fmt.Fprintf(w, "  %-11s %s\n", "name", strconv.QuoteToGraphic(s.Name))
			if s.Position != "" {
				fmt.Fprintf(w, "  %-11s %s\n", "position", strconv.QuoteToGraphic(s.Position))
			}
			if s.Unit != "" {
				fmt.Fprintf(w, "  %-11s %s\n", "unit", strconv.QuoteToGraphic(s.Unit))
			}
			fmt.Fprintf(w, "  %-11s %s %s\n", "agency", strconv.QuoteToGraphic(s.Agency.Code), strconv.QuoteToGraphic(s.Agency.Name))
			fmt.Fprintf(w, "  %-11s %s\n", "employment", s.Employment)
			fmt.Fprintf(w, "  %-11s %s  (compare with the phone)\n", "key", shortKID(r.KID))
			fmt.Fprintf(w, "  %-11s %s\n", "valid from", e.ValidFrom)
			if !yes {
				in := cmd.InOrStdin()
				if !isTerminal(in) {
					return usagef("not approving request %s: stdin is not a terminal to confirm on; check the person and pass --yes", r.Code)
				}
				fmt.Fprintf(w, "Approve this enrollment? [y/N] ")
				line, _ := bufio.NewReader(in).ReadString('\n')
				if a := strings.ToLower(strings.TrimSpace(line)); a != "y" && a != "yes" {
					return failf("not approved: request %s stays pending", r.Code)
				}
			}
			full, err := pledge.Countersign([]byte(r.JWS), key)
			if err != nil {
				return err
			}
			index, dup, bundle, err := c.Submit(ctx, full)
			if err != nil {
				return err
			}
			if out != "" {
				if err := writeOutput(cmd.OutOrStdout(), out, append(bundle, '\n')); err != nil {
					return err
				}
			}
			what := "enrolled"
			if dup {
				what = "already enrolled"
			}
			fmt.Fprintf(cmd.OutOrStdout(), "approved %s: %s %s %s at index %d\n", r.Code, what, s.Scheme, s.ID, index)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&server, "server", "", "the log's `URL`")
	f.StringVar(&regKey, "registrar-key", "", "the registrar's private JWK `file` (countersigns; never sent)")
	f.BoolVar(&yes, "yes", false, "approve without asking (after checking the person yourself)")
	f.StringVar(&out, "out", "", "write the enrollment's bundle to `file`")
	return cmd
}

// isTerminal reports whether r is a terminal: a character device other
// than the null device (where a test or a cron job's stdin often points).
func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	if err != nil || st.Mode()&os.ModeCharDevice == 0 {
		return false
	}
	null, err := os.Stat(os.DevNull)
	return err != nil || !os.SameFile(st, null)
}

// postRequest posts an enrollment request and returns the status and body
// of a 2xx answer.
func (c *client) postRequest(ctx context.Context, jws []byte) (int, []byte, error) {
	status, body, err := c.c.SubmitRequest(ctx, jws)
	return status, body, wrap(err)
}
