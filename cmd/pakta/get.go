package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/pakta-id/pakta/verify"
)

func newGetCmd() *cobra.Command {
	var (
		lf        logFlags
		cf        claimFlags
		outDir    string
		witnessed bool
		wait      time.Duration
		policy    string
	)
	cmd := &cobra.Command{
		Use:   "get [--dir D | --server URL --key K] (INDEX | --nip X --date D | --scheme S --id I --date D) [--out DIR]",
		Short: "Fetch bundles: one entry's, or every pledge of a person on a date",
		Long: `Get fetches bundles, against the log's latest checkpoint, from the local log
in --dir (default ./pakta-data) or from --server URL.

  pakta get INDEX                 the bundle of entry INDEX
  pakta get --nip X --date D      every pledge bundle of NIP X dated D
                                  (--scheme S --id I for staff without a NIP)
  pakta get --witnessed INDEX     wait (up to --wait) until the bundle's
                                  checkpoint carries the quorum of witness
                                  cosignatures that --policy (default the
                                  log's policy.json) asks for

Without --out, a single bundle is printed as it would be saved (a
.pakta.json file), and a query prints {"bundles": [...]} as the server's
GET /v1/pledges does. With --out DIR (created if missing), each bundle is
written to DIR/<index>.pakta.json and the files are listed.

A server's bundles are restricted reads (they name people): --key signs
them, a registrar's private JWK (for its agencies), a policy reader's
(everything), or your own enrolled key (your own records). Every such read
is recorded, and the person sees it in their history.

Exit codes: 0 on success (an empty list included), 1 if the entry does not
exist, a server refuses the read or the log fails, 2 for bad usage.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			query := cf.any()
			switch {
			case query && len(args) != 0:
				return usagef("give an INDEX or a query (--nip/--scheme --id, --date), not both")
			case !query && len(args) != 1:
				return usagef("get takes one INDEX, or a query --nip X --date D (see \"pakta get --help\")")
			}
			var index uint64
			if !query {
				var err error
				if index, err = strconv.ParseUint(args[0], 10, 64); err != nil || (args[0] != "0" && args[0][0] == '0') {
					return usagef("index %q is not a decimal entry index", args[0])
				}
			}
			if witnessed && query {
				return usagef("--witnessed takes an INDEX, not a query")
			}
			if policy == "" {
				policy = dataDir(lf.dir).policy()
			}
			claim, err := (&cf).claimIf(query)
			if err != nil {
				return err
			}
			if outDir != "" {
				if err := makeOutDir(outDir); err != nil {
					return err
				}
			}
			b, err := lf.open(cmd.Context())
			if err != nil {
				return err
			}
			defer b.Close()
			var bundles [][]byte
			if query {
				bundles, err = b.Pledges(cmd.Context(), claim.Scheme, claim.ID, claim.Date)
			} else {
				var one []byte
				if witnessed {
					one, err = witnessedBundle(cmd.Context(), b, index, policy, wait)
				} else {
					one, err = b.Bundle(cmd.Context(), index)
				}
				bundles = [][]byte{one}
			}
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if outDir != "" {
				for _, bu := range bundles {
					i, err := bundleIndex(bu)
					if err != nil {
						return failure(err)
					}
					file := filepath.Join(outDir, bundleFile(i))
					if err := os.WriteFile(file, append(bu, '\n'), 0o644); err != nil {
						return failure(err)
					}
					fmt.Fprintln(out, file)
				}
				if query && len(bundles) == 0 {
					fmt.Fprintf(cmd.ErrOrStderr(), "no pledge by %s %s dated %s\n", claim.Scheme, claim.ID, claim.Date)
				}
				return nil
			}
			if !query {
				_, err := out.Write(append(bundles[0], '\n'))
				return err
			}
			var buf bytes.Buffer
			buf.WriteString(`{"bundles":[`)
			for i, bu := range bundles {
				if i > 0 {
					buf.WriteByte(',')
				}
				buf.Write(bu)
			}
			buf.WriteString("]}\n")
			_, err = out.Write(buf.Bytes())
			return err
		},
	}
	lf.register(cmd)
	lf.registerKey(cmd)
	cf.register(cmd, false)
	cmd.Flags().StringVar(&outDir, "out", "", "write each bundle to `directory`/<index>.pakta.json (created if missing)")
	cmd.Flags().BoolVar(&witnessed, "witnessed", false, "wait for a bundle whose checkpoint a quorum of the policy's witnesses cosigned")
	cmd.Flags().DurationVar(&wait, "wait", 2*time.Minute, "with --witnessed, how long to wait")
	cmd.Flags().StringVar(&policy, "policy", "", "with --witnessed, the trust policy `file` naming the witnesses (default DIR/policy.json)")
	return cmd
}

// witnessedBundle fetches entry index's bundle until its checkpoint carries
// a quorum of the policy's witnesses' cosignatures. Appends are answered
// before witnesses cosign, so a fresh entry's bundle needs a moment.
func witnessedBundle(ctx context.Context, b backend, index uint64, policyFile string, wait time.Duration) ([]byte, error) {
	p, err := readPolicy(policyFile)
	if err != nil {
		return nil, err
	}
	if len(p.Witnesses) == 0 {
		return nil, usagef("the policy %s names no witnesses: nothing to wait for", policyFile)
	}
	deadline := time.Now().Add(wait)
	for {
		one, err := b.Bundle(ctx, index)
		if err != nil {
			return nil, err
		}
		bu, err := verify.ParseBundle(one)
		if err != nil {
			return nil, failure(err)
		}
		pr, err := verify.ParseProof([]byte(bu.Proof))
		if err != nil {
			return nil, failure(err)
		}
		if p.Witnessed(pr.Checkpoint) {
			return one, nil
		}
		if time.Now().After(deadline) {
			return nil, failf("entry %d: no checkpoint with %d witness cosignatures after %v: are the witnesses up? (see pakta_witness_* in /metrics)", index, p.Quorum(), wait)
		}
		select {
		case <-ctx.Done():
			return nil, failure(ctx.Err())
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func newProofCmd() *cobra.Command {
	var (
		lf       logFlags
		from, to uint64
		asJSON   bool
	)
	cmd := &cobra.Command{
		Use:   "proof --from N [--to M] [--dir D | --server URL] [--json]",
		Short: "Print a consistency proof between two tree sizes",
		Long: `Proof prints the RFC 6962 consistency proof that the log's tree of size N is
a prefix of its tree of size M (default: the latest checkpoint's size), one
base64 hash a line; with --json, {"from": N, "to": M, "proof": [...]}, as
GET /v1/proof/consistency answers. 0 < N ≤ M ≤ the log's size.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if from == 0 {
				return usagef("proof needs --from N, N > 0")
			}
			if cmd.Flags().Changed("to") && to < from {
				return usagef("--to %d is below --from %d", to, from)
			}
			b, err := lf.open(cmd.Context())
			if err != nil {
				return err
			}
			defer b.Close()
			size, proof, err := b.Consistency(cmd.Context(), from, to)
			if err != nil {
				return err
			}
			if asJSON {
				if proof == nil {
					proof = [][]byte{}
				}
				return printJSON(cmd.OutOrStdout(), struct {
					From  uint64   `json:"from"`
					To    uint64   `json:"to"`
					Proof [][]byte `json:"proof"` // base64 std
				}{from, size, proof})
			}
			fmt.Fprintf(cmd.OutOrStdout(), "consistency proof from size %d to size %d: %d hashes\n", from, size, len(proof))
			for _, h := range proof {
				fmt.Fprintf(cmd.OutOrStdout(), "%s\n", b64(h))
			}
			return nil
		},
	}
	lf.register(cmd)
	cmd.Flags().Uint64Var(&from, "from", 0, "the smaller tree `size`")
	cmd.Flags().Uint64Var(&to, "to", 0, "the larger tree `size` (default the latest)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the proof as JSON")
	return cmd
}
