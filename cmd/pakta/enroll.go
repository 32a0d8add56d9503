package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/pakta-id/pakta/pledge"
)

func newEnrollCmd() *cobra.Command {
	var (
		registrarKey, employeeKey, form, out, tz string
		validFrom, validUntil                    string
		p                                        pledge.Person
	)
	cmd := &cobra.Command{
		Use:   "enroll --registrar-key F --key EMPLOYEE.jwk (--form PERSON | --scheme S --id I --name N ...) [--out FILE]",
		Short: "Sign an enrollment: the registrar vouches that a key belongs to a person",
		Long: `Enroll binds a person to a public key. The statement is signed twice (a JWS
JSON serialization): by the registrar (--registrar-key, a key the trust
policy trusts) and by the enrolled key itself (--key, the employee's private
JWK: proof of possession, so that "that was never my key" is answered by the
log itself). Submit the result with "pakta submit".

Here one process holds both keys: whoever runs it (HR) has held the
employee's private key, and "that is not my signature" cannot be settled.
The path in which nobody but the employee ever holds it is
"pakta enroll request" (on the employee's device) and
"pakta enroll approve" (by the registrar); "pakta enroll pending" lists
what waits.

The person comes from flags, or from --form, a JSON or YAML file:
  scheme: nip
  id: "198703152010011002"
  name: Budi Santoso
  position: Analis Kepegawaian   # optional
  unit: Bagian Umum              # optional
  agency: {code: "7601", name: Pemerintah Kabupaten Mamuju}
  employment: PNS                # PNS, PPPK or NON_ASN

--valid-from defaults to now (in --tz, default the local zone); --valid-until
is optional. Both are RFC 3339 timestamps such as 2024-12-31T23:59:59+07:00.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if registrarKey == "" || employeeKey == "" {
				return usagef("enroll needs --registrar-key and --key")
			}
			personFlags := []string{"scheme", "id", "name", "position", "unit", "agency-code", "agency-name", "employment"}
			if form != "" {
				for _, f := range personFlags {
					if cmd.Flags().Changed(f) {
						return usagef("give the person with --form or with flags, not both (--%s)", f)
					}
				}
				var fp pledge.Person // not over the flags' defaults
				if err := readForm(form, &fp); err != nil {
					return err
				}
				p = fp
			}
			if validFrom == "" {
				loc, err := parseZone(tz)
				if err != nil {
					return usageError(err)
				}
				validFrom = timestamp(time.Now().In(loc))
			} else if tz != "" {
				return usagef("--tz applies only when --valid-from is not given")
			}
			reg, err := pledge.ReadPrivateKeyFile(registrarKey)
			if err != nil {
				return usageError(err)
			}
			emp, err := pledge.ReadPrivateKeyFile(employeeKey)
			if err != nil {
				return usageError(err)
			}
			e := &pledge.Enrollment{
				Type: pledge.TypeEnrollment, Subject: p, JWK: emp.Public(),
				ValidFrom: validFrom, ValidUntil: validUntil,
			}
			if err := e.Validate(); err != nil {
				return usageError(err)
			}
			jws, err := pledge.Enroll(e, reg, emp)
			if err != nil {
				return err
			}
			if err := writeOutput(cmd.OutOrStdout(), out, append(jws, '\n')); err != nil {
				return err
			}
			if out != "" && out != "-" {
				fmt.Fprintf(cmd.ErrOrStderr(), "enrollment of %s %s (%s) with key %s written to %s\n", p.Scheme, p.ID, p.Name, emp.KeyID(), out)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&registrarKey, "registrar-key", "", "the registrar's private JWK `file`")
	f.StringVar(&employeeKey, "key", "", "the employee's private JWK `file` (the key to enroll)")
	f.StringVar(&form, "form", "", "the person as a JSON or YAML `file`")
	f.StringVar(&p.Scheme, "scheme", pledge.SchemeNIP, "identifier `scheme`: nip, nik or agency:<code>")
	f.StringVar(&p.ID, "id", "", "the person's `identifier` (a NIP: 18 digits)")
	f.StringVar(&p.Name, "name", "", "full `name`")
	f.StringVar(&p.Position, "position", "", "`position` (optional)")
	f.StringVar(&p.Unit, "unit", "", "work `unit` (optional)")
	f.StringVar(&p.Agency.Code, "agency-code", "", "agency `code`")
	f.StringVar(&p.Agency.Name, "agency-name", "", "agency `name`")
	f.StringVar(&p.Employment, "employment", pledge.PNS, "`employment`: PNS, PPPK or NON_ASN")
	f.StringVar(&validFrom, "valid-from", "", "start of the key's validity, RFC 3339 (default now)")
	f.StringVar(&validUntil, "valid-until", "", "end of the key's validity, RFC 3339 (optional)")
	f.StringVar(&tz, "tz", "", "time `zone` of the default --valid-from: WIB, WITA, WIT, +08:00, … (default local)")
	f.StringVar(&out, "out", "", "write the enrollment JWS to `file` (default stdout)")
	cmd.AddCommand(newEnrollRequestCmd(), newEnrollPendingCmd(), newEnrollApproveCmd())
	return cmd
}
