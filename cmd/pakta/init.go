package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/mod/sumdb/note"

	"github.com/pakta-id/pakta/ledger"
	"github.com/pakta-id/pakta/pledge"
	"github.com/pakta-id/pakta/verify"
)

func newInitCmd() *cobra.Command {
	var (
		dir, origin string
		asJSON      bool
	)
	cmd := &cobra.Command{
		Use:   "init [--dir D] [--origin O]",
		Short: "Create a new log: its keys, a first registrar and a trust policy",
		Long: `Init creates the data directory D with a new, empty log:
  D/log.key        the checkpoint signing key (a note key named after the origin, 0600)
  D/log.vkey       its verifier key, one line
  D/registrar.jwk  a first registrar's private Ed25519 JWK (0600)
  D/policy.json    the trust policy: this log and that registrar
  D/db/            the log, with a signed checkpoint of size 0
It refuses to overwrite an existing log or any of these files.

The origin names the log in every checkpoint (and is the key's name). It
defaults to "pakta.local/<hostname>"; choose a stable name such as
"pakta.example.go.id/netralitas-2024": it cannot be changed later.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if origin == "" {
				origin = defaultOrigin()
			}
			res, err := initDataDir(cmd.Context(), dataDir(dir), origin)
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), res)
			}
			fmt.Fprintf(cmd.OutOrStdout(), `created a new log in %s
origin:        %s
log key:       %s
registrar kid: %s (%s)
trust policy:  %s (give it to verifiers)
note: the registrar %q may act for every agency ("agencies": ["*"]);
      for a real agency, set its name and agency codes in the policy
`, dir, res.Origin, res.LogKey, res.RegistrarKID, res.RegistrarFile, res.PolicyFile, FirstRegistrarName)
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", defaultDir, "data `directory` to create")
	cmd.Flags().StringVar(&origin, "origin", "", "the log's `origin` (default \"pakta.local/<hostname>\")")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON")
	return cmd
}

// FirstRegistrarName is the name init gives its registrar in the policy.
const FirstRegistrarName = "registrar"

type initResult struct {
	Dir           string `json:"dir"`
	Origin        string `json:"origin"`
	LogKey        string `json:"log_key"`
	RegistrarKID  string `json:"registrar_kid"`
	RegistrarFile string `json:"registrar_file"`
	PolicyFile    string `json:"policy_file"`
}

// defaultOrigin is "pakta.local/<hostname>", or "pakta.local/log" when the
// hostname is unknown.
func defaultOrigin() string {
	h, _ := os.Hostname()
	var b strings.Builder
	for _, r := range strings.ToLower(h) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '.' {
			b.WriteRune(r)
		}
	}
	if b.Len() == 0 {
		return "pakta.local/log"
	}
	return "pakta.local/" + b.String()
}

// initDataDir creates a new log in d (pakta init; pakta serve runs it when
// there is no log yet). It refuses to overwrite anything, and removes what
// it wrote if it fails halfway.
func initDataDir(ctx context.Context, d dataDir, origin string) (res *initResult, err error) {
	for _, p := range []string{d.logKey(), d.logVKey(), d.registrar(), d.policy(), d.db()} {
		if exists(p) {
			return nil, usagef("%s already exists: refusing to overwrite an existing log", p)
		}
	}
	if strings.ContainsAny(origin, " \t\n+") || origin == "" {
		return nil, usagef("origin %q: it must be non-empty, without spaces or '+'", origin)
	}
	skey, vkey, err := note.GenerateKey(rand.Reader, origin)
	if err != nil {
		return nil, usagef("origin %q: %w", origin, err)
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		return nil, err
	}
	reg, err := pledge.GenerateKey(pledge.EdDSA, rand.Reader)
	if err != nil {
		return nil, err
	}
	// A first registrar trusted for every agency, so that a new log works at
	// once; init says so, and a real agency narrows it in policy.json.
	policy, err := verify.NewPolicy(origin, vkey, []*verify.Registrar{verify.NationalRegistrar(FirstRegistrarName, reg.Public())})
	if err != nil {
		return nil, err
	}
	pol, err := policy.Marshal()
	if err != nil {
		return nil, err
	}

	if err := os.MkdirAll(string(d), 0o755); err != nil {
		return nil, failure(err)
	}
	var written []string
	defer func() {
		if err != nil {
			for _, p := range written {
				os.RemoveAll(p)
			}
		}
	}()
	write := func(path string, data []byte, perm os.FileMode) error {
		if err := writeNewFile(path, data, perm); err != nil {
			return failure(err)
		}
		written = append(written, path)
		return nil
	}
	if err := write(d.logKey(), []byte(skey+"\n"), 0o600); err != nil {
		return nil, err
	}
	if err := write(d.logVKey(), []byte(vkey+"\n"), 0o644); err != nil {
		return nil, err
	}
	if err := pledge.WritePrivateKeyFile(d.registrar(), reg); err != nil {
		return nil, failure(err)
	}
	written = append(written, d.registrar())
	if err := write(d.policy(), append(pol, '\n'), 0o644); err != nil {
		return nil, err
	}
	written = append(written, d.db())
	l, err := ledger.Open(ctx, d.db(), ledger.Config{Signer: signer, Policy: policy})
	if err != nil {
		return nil, failure(err)
	}
	if err := l.Close(); err != nil {
		return nil, failure(err)
	}
	return &initResult{
		Dir: string(d), Origin: origin, LogKey: vkey,
		RegistrarKID: reg.KeyID(), RegistrarFile: d.registrar(), PolicyFile: d.policy(),
	}, nil
}
