// Command pakta makes, logs and checks integrity pledges (pakta integritas):
// signed statements appended to a transparency log and verified offline from
// bundles.
//
// Every command is a thin layer over the library: flags, one or two library
// calls, an exit code. Errors go to stderr, prefixed "pakta:".
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

// exitCodesHelp is shown in the root command's help.
const exitCodesHelp = `Exit codes:
  0  success (for verify: every check passed for every bundle)
  1  a check failed, the log refused a submission, something was not found,
     or the log or server failed
  2  bad usage, or an input that cannot be read or is not even of the right
     kind (a missing file, a form or policy that does not parse, a bundle
     file that is not a JSON object)`

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "pakta",
		Short: "Signed integrity pledges in a transparency log, verified offline",
		Long: `pakta makes an integrity pledge (pakta integritas) provable: an employee
signs the pledge as a JWS, the pledge is appended to an append-only Merkle
transparency log, and anyone holding the log's trust policy can later check,
offline, from a bundle file, that employee X signed pledge P on date D.

A log lives in a data directory (default ./pakta-data) made by "pakta init":
  log.key        the log's checkpoint signing key (private, 0600)
  log.vkey       its verifier key (one line)
  registrar.jwk  the first registrar's private JWK (0600)
  policy.json    the trust policy verifiers use
  db/            the log itself

` + exitCodesHelp,
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageError(fmt.Errorf("%w (see %q)", err, c.CommandPath()+" --help"))
	})
	root.AddCommand(
		newInitCmd(),
		newKeygenCmd(),
		newEnrollCmd(),
		newSignCmd(),
		newSubmitCmd(),
		newGetCmd(),
		newHistoryCmd(),
		newPolicyCmd(),
		newProofCmd(),
		newAuditCmd(),
		newBenchCmd(),
		newServeCmd(),
		newVerifyCmd(),
		newReportCmd(),
		newRosterCmd(),
		newWitnessCmd(),
	)
	classifyErrors(root)
	return root
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes the command line args and returns the process exit code.
func run(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root := newRootCmd()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	return reportError(stderr, err)
}
