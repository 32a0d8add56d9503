package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/pakta-id/pakta/pledge"
)

func newSubmitCmd() *cobra.Command {
	var (
		lf     logFlags
		outDir string
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "submit [--dir D | --server URL] [--out DIR] FILE...",
		Short: "Append signed statements (JWS files) to the log and save their bundles",
		Long: `Submit appends each JWS file (a pledge, an enrollment, a template or a
revocation; "-" is stdin) to the log: the local log in --dir (default
./pakta-data), or a server's (--server URL, POST /v1/entries). A log that a
running server holds cannot be opened here: use --server.

For each file it reports the index, or that the statement was already logged
(a duplicate: the same index as before), and writes the bundle, the offline
evidence, to DIR/<index>.pakta.json (--out, default the current directory,
created if missing; an existing bundle file of that index is replaced by the
newer one).

Exit codes: 0 if every file was logged (or already was), 1 if the log
refused any (the reason is printed), 2 for bad usage or an unreadable file.`,
		Args: minArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			jwss := make([][]byte, len(args))
			for i, path := range args {
				b, err := readFileLimited(path, pledge.MaxJWSSize)
				if err != nil && !isTooLarge(err) {
					return usageError(err)
				}
				jwss[i] = bytes.TrimSpace(b)
			}
			if err := makeOutDir(outDir); err != nil {
				return err
			}
			b, err := lf.open(cmd.Context())
			if err != nil {
				return err
			}
			defer b.Close()
			type result struct {
				File      string `json:"file"`
				Index     uint64 `json:"index"`
				Duplicate bool   `json:"duplicate"`
				Bundle    string `json:"bundle,omitempty"`
				Error     string `json:"error,omitempty"`
			}
			var results []result
			code := exitOK
			for i, path := range args {
				index, dup, bundle, err := b.Submit(cmd.Context(), jwss[i])
				if err != nil {
					fmt.Fprintf(cmd.ErrOrStderr(), "pakta: %s: %v\n", path, err)
					results = append(results, result{File: path, Error: err.Error()})
					code = exitFailure
					continue
				}
				file := filepath.Join(outDir, bundleFile(index))
				if err := os.WriteFile(file, append(bundle, '\n'), 0o644); err != nil {
					return failure(err)
				}
				results = append(results, result{File: path, Index: index, Duplicate: dup, Bundle: file})
				if !asJSON {
					what := "logged at index"
					if dup {
						what = "already logged (duplicate) at index"
					}
					fmt.Fprintf(cmd.OutOrStdout(), "%s: %s %d, bundle %s\n", path, what, index, file)
				}
			}
			if asJSON {
				if err := printJSON(cmd.OutOrStdout(), results); err != nil {
					return err
				}
			}
			if err := b.Close(); err != nil {
				return failure(err)
			}
			return silentExit(code)
		},
	}
	lf.register(cmd)
	cmd.Flags().StringVar(&outDir, "out", ".", "`directory` for the bundles (created if missing)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the results as JSON")
	return cmd
}
