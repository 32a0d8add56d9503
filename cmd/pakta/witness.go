package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/pakta-id/pakta/ledger/witness"
	"github.com/pakta-id/pakta/verify"
)

// Files of a witness directory.
const (
	witnessKeyFile  = "witness.key"  // PRIVATE+KEY+… (0600)
	witnessVKeyFile = "witness.vkey" // the cosignature/v1 verifier key, for policies
)

func newWitnessCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "witness",
		Short: "Run a C2SP tlog-witness: cosign other agencies' logs",
		Long: `A witness cosigns a log's checkpoints (C2SP tlog-witness, cosignature/v1)
only if each is signed by the log's key and consistent with every checkpoint
of that log it cosigned before, and stamps each cosignature with its own
clock. Agencies run one for each other: a log that showed two histories
would be caught, and bundles carry a time that is not the log operator's.

  pakta witness keygen --dir W --name witness.example/w1
  pakta witness serve --dir W --log LOG.vkey [--log OTHER.vkey] --listen ADDR

Give each log's operator the line in W/witness.vkey: it goes in the log's
policy.json under "witnesses", with the URL the witness serves on.`,
	}
	cmd.AddCommand(newWitnessKeygenCmd(), newWitnessServeCmd())
	return cmd
}

func newWitnessKeygenCmd() *cobra.Command {
	var dir, name string
	cmd := &cobra.Command{
		Use:   "keygen --dir W --name NAME",
		Short: "Make a witness key: W/witness.key (0600) and W/witness.vkey",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if name == "" {
				return usagef("--name is required: a schema-less URL naming the witness, such as witness.bkpsdm.example/w1")
			}
			skey, vkey, err := verify.GenerateWitnessKey(name, nil)
			if err != nil {
				return usageError(err)
			}
			if err := os.MkdirAll(dir, 0o700); err != nil {
				return failure(err)
			}
			if err := writeNewFile(filepath.Join(dir, witnessKeyFile), []byte(skey+"\n"), 0o600); err != nil {
				return err
			}
			if err := writeNewFile(filepath.Join(dir, witnessVKeyFile), []byte(vkey+"\n"), 0o644); err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), vkey)
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "./pakta-witness", "the witness's `directory`")
	cmd.Flags().StringVar(&name, "name", "", "the witness key's `name`")
	return cmd
}

func newWitnessServeCmd() *cobra.Command {
	var (
		dir, listen string
		logs        []string
	)
	cmd := &cobra.Command{
		Use:   "serve --dir W --log LOG.vkey… [--listen ADDR]",
		Short: "Serve POST /add-checkpoint for the logs given",
		Long: `Serve answers C2SP tlog-witness add-checkpoint requests for the logs whose
verifier keys (log.vkey files, or the keys themselves) --log names. Its state
(the latest size and root cosigned for each log) is W/` + witness.StateFile + `,
written atomically and synced before any cosignature leaves. It exits 0 on
SIGINT or SIGTERM.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(logs) == 0 {
				return usagef("give at least one --log: the verifier key of a log to witness")
			}
			var keys []string
			for _, l := range logs {
				k := l
				if b, err := os.ReadFile(l); err == nil {
					k = strings.TrimSpace(string(b))
				}
				keys = append(keys, k)
			}
			skey, err := os.ReadFile(filepath.Join(dir, witnessKeyFile))
			if err != nil {
				return failf("reading the witness key (run \"pakta witness keygen\" first): %w", err)
			}
			signer, err := verify.NewCosignatureSigner(string(skey), nil)
			if err != nil {
				return failure(err)
			}
			logger := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), nil))
			w, err := witness.New(witness.Config{Signer: signer, Logs: keys, Dir: dir, Logger: logger})
			if err != nil {
				return failure(err)
			}
			ln, err := net.Listen("tcp", listen)
			if err != nil {
				return failure(err)
			}
			srv := &http.Server{
				Handler:           http.MaxBytesHandler(w, witness.MaxRequestSize),
				ReadHeaderTimeout: 5 * time.Second,
				ReadTimeout:       10 * time.Second,
				WriteTimeout:      10 * time.Second,
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			logger.Info("witness serving", "name", signer.Name(), "vkey", signer.Verifier().String(), "addr", ln.Addr().String(), "logs", len(keys))
			fmt.Fprintf(cmd.ErrOrStderr(), "witness %s listening on http://%s\n", signer.Name(), ln.Addr())
			errc := make(chan error, 1)
			go func() { errc <- srv.Serve(ln) }()
			select {
			case err := <-errc:
				return failure(err)
			case <-ctx.Done():
			}
			sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
				return failure(err)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "./pakta-witness", "the witness's `directory` (witness.key, state)")
	cmd.Flags().StringVar(&listen, "listen", "127.0.0.1:7380", "`address` to listen on")
	cmd.Flags().StringArrayVar(&logs, "log", nil, "a log's verifier key, or a `file` holding it (repeatable)")
	return cmd
}
