package main

import (
	"crypto/rand"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/pakta-id/pakta/pledge"
)

func newKeygenCmd() *cobra.Command {
	var (
		out, alg string
		asJSON   bool
	)
	cmd := &cobra.Command{
		Use:   "keygen --out FILE [--alg EdDSA|ES256]",
		Short: "Make a signing key (a private JWK file) and its public half",
		Long: `Keygen makes a new signing key for an employee or a registrar. It writes the
private JWK to FILE (mode 0600) and the public JWK next to it (FILE with
".jwk" replaced by ".pub.jwk", or FILE.pub.jwk), and prints the key id (kid,
the RFC 7638 thumbprint). It never prints the private key, and refuses to
overwrite either file.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				return usagef("keygen needs --out FILE")
			}
			if alg != pledge.EdDSA && alg != pledge.ES256 {
				return usagef("--alg %q: keygen makes EdDSA (the default) or ES256 keys", alg)
			}
			pub := publicKeyPath(out)
			for _, p := range []string{out, pub} {
				if exists(p) {
					return usagef("%s already exists: refusing to overwrite it", p)
				}
			}
			k, err := pledge.GenerateKey(alg, rand.Reader)
			if err != nil {
				return err
			}
			if err := pledge.WritePrivateKeyFile(out, k); err != nil {
				return err
			}
			if err := pledge.WritePublicKeyFile(pub, k.Public()); err != nil {
				return err
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), map[string]any{
					"kid": k.KeyID(), "alg": k.Algorithm(), "private_key_file": out, "public_key_file": pub, "jwk": k.Public(),
				})
			}
			fmt.Fprintf(cmd.OutOrStdout(), "kid: %s\nalg: %s\nprivate key: %s (keep it secret)\npublic key: %s\n", k.KeyID(), k.Algorithm(), out, pub)
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "private key `file` to write")
	cmd.Flags().StringVar(&alg, "alg", pledge.EdDSA, "`algorithm`: EdDSA or ES256")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON (with the public JWK)")
	return cmd
}

// publicKeyPath is where keygen writes the public half of the key in path.
func publicKeyPath(path string) string {
	if s, ok := strings.CutSuffix(path, ".jwk"); ok {
		return s + ".pub.jwk"
	}
	return path + ".pub.jwk"
}
