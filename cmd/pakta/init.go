package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/pakta-id/pakta/ledger"
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
`, dir, res.Origin, res.LogKey, res.RegistrarKID, res.RegistrarFile, res.PolicyFile, ledger.FirstRegistrarName)
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", defaultDir, "data `directory` to create")
	cmd.Flags().StringVar(&origin, "origin", "", "the log's `origin` (default \"pakta.local/<hostname>\")")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON")
	return cmd
}

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
// there is no log yet).
func initDataDir(ctx context.Context, d dataDir, origin string) (*initResult, error) {
	info, err := ledger.InitDir(ctx, string(d), origin, nil)
	if err != nil {
		var de *ledger.DirError
		if errors.As(err, &de) && errors.Is(err, fs.ErrExist) {
			return nil, usagef("%s already exists: refusing to overwrite an existing log", de.Path)
		}
		return nil, dirFailure(d, err)
	}
	return &initResult{
		Dir: string(d), Origin: info.Origin, LogKey: info.LogKey,
		RegistrarKID: info.RegistrarKID, RegistrarFile: d.registrar(), PolicyFile: d.policy(),
	}, nil
}
