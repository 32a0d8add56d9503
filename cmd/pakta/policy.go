package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/spf13/cobra"

	"github.com/pakta-id/pakta/pledge"
	"github.com/pakta-id/pakta/verify"
)

func newPolicyCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "policy",
		Short: "Edit the trust policy: registrars, their scope and retirement, readers",
		Long: `The trust policy (policy.json) is what every verifier trusts. These commands
edit it and check the result as a verifier would read it; the file is
replaced atomically. Give the new file to every verifier, and restart the
server. A registrar the log has used is never removed: retire it with
"pakta policy retire" (what it signed before stays valid).`,
	}
	cmd.AddCommand(newPolicyAddRegistrarCmd(), newPolicyRetireCmd(), newPolicyAddReaderCmd())
	return cmd
}

// editPolicy reads the policy at path, applies edit, checks the result and
// writes it back atomically.
func editPolicy(path string, edit func(p *verify.Policy) error) (*verify.Policy, error) {
	p, err := readPolicy(path)
	if err != nil {
		return nil, err
	}
	if err := edit(p); err != nil {
		return nil, err
	}
	b, err := p.Marshal()
	if err != nil {
		return nil, err
	}
	q, err := verify.ParsePolicy(b)
	if err != nil {
		return nil, usageError(err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".policy-*.json")
	if err != nil {
		return nil, failure(err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return nil, failure(err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return nil, failure(err)
	}
	if err := tmp.Close(); err != nil {
		return nil, failure(err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return nil, failure(err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return nil, failure(err)
	}
	return q, nil
}

// publicKeyOf reads a JWK file, private or public, and returns its public
// key: a registrar hands over its public key, or runs this with its own.
func publicKeyOf(path string) (*pledge.PublicKey, error) {
	if k, err := pledge.ReadPublicKeyFile(path); err == nil {
		return k, nil
	}
	k, err := pledge.ReadPrivateKeyFile(path)
	if err != nil {
		return nil, usagef("reading the key %s: %w", path, err)
	}
	return k.Public(), nil
}

func newPolicyAddRegistrarCmd() *cobra.Command {
	var path, name, keyPath, until string
	var agencies []string
	cmd := &cobra.Command{
		Use:   "add-registrar --policy P --name NAME --agency CODE… --key K.jwk [--until T]",
		Short: "Trust a registrar for the agencies it acts for",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if name == "" || keyPath == "" || len(agencies) == 0 {
				return usagef("add-registrar needs --name, --agency and --key")
			}
			key, err := publicKeyOf(keyPath)
			if err != nil {
				return err
			}
			if _, err := editPolicy(path, func(p *verify.Policy) error {
				p.Registrars = append(p.Registrars, &verify.Registrar{Name: name, Agencies: agencies, JWK: key, Until: until})
				return nil
			}); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "registrar %q (key %s) trusted for agencies %v in %s\n", name, key.KeyID(), agencies, path)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&path, "policy", dataDir(defaultDir).policy(), "the trust policy `file`")
	f.StringVar(&name, "name", "", "the registrar's `name`, as reports show it")
	f.StringArrayVar(&agencies, "agency", nil, "an agency `code` it acts for (repeat; \"*\" for every agency)")
	f.StringVar(&keyPath, "key", "", "its JWK `file` (public, or private: only the public part is written)")
	f.StringVar(&until, "until", "", "retire it at this `time` (RFC 3339 with offset)")
	return cmd
}

func newPolicyRetireCmd() *cobra.Command {
	var path, name, until string
	cmd := &cobra.Command{
		Use:   "retire --policy P --name NAME --until T",
		Short: "Retire a registrar: what the log records after T signed by it is refused",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if name == "" || until == "" {
				return usagef("retire needs --name and --until")
			}
			if _, err := editPolicy(path, func(p *verify.Policy) error {
				i := slices.IndexFunc(p.Registrars, func(r *verify.Registrar) bool { return r.Name == name })
				if i < 0 {
					return usagef("the policy has no registrar named %q", name)
				}
				p.Registrars[i].Until = until
				return nil
			}); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "registrar %q retired at %s in %s\n", name, until, path)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&path, "policy", dataDir(defaultDir).policy(), "the trust policy `file`")
	f.StringVar(&name, "name", "", "the registrar's `name`")
	f.StringVar(&until, "until", "", "the `time` it stops being trusted (RFC 3339 with offset)")
	return cmd
}

func newPolicyAddReaderCmd() *cobra.Command {
	var path, name, role, keyPath string
	cmd := &cobra.Command{
		Use:   "add-reader --policy P --name NAME --role auditor|supervisor --key K.jwk",
		Short: "Trust a reader: an auditor, or the supervising authority (who also signs rulings)",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if name == "" || keyPath == "" || role == "" {
				return usagef("add-reader needs --name, --role and --key")
			}
			key, err := publicKeyOf(keyPath)
			if err != nil {
				return err
			}
			if _, err := editPolicy(path, func(p *verify.Policy) error {
				p.Readers = append(p.Readers, &verify.Reader{Name: name, Role: role, JWK: key})
				return nil
			}); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "reader %q (%s, key %s) added to %s\n", name, role, key.KeyID(), path)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&path, "policy", dataDir(defaultDir).policy(), "the trust policy `file`")
	f.StringVar(&name, "name", "", "the reader's `name`, as reports show it")
	f.StringVar(&role, "role", "", "auditor or supervisor")
	f.StringVar(&keyPath, "key", "", "its JWK `file` (public, or private: only the public part is written)")
	return cmd
}
