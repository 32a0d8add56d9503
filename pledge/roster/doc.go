// Package roster reads the list of people an agency expects to sign (its
// roster, as HR exports it) and tells who on it has signed: on time, late, or
// not at all.
//
// One parser serves every user of a roster: "pakta report", "pakta roster
// import", the enrollment-request check of the server, and any HR
// application that embeds pakta. Parse reads the export; Roster.Lookup and
// Roster.Match tell whether a statement's subject is on it, in its exact
// form; Coverage judges the pledges of a log against it.
//
//	r, err := roster.Parse("pegawai.csv", data)
//	if err != nil {
//		return err // "pegawai.csv:12:3: Status "Pensiun" is not PNS, CPNS, …"
//	}
//	var pledges []roster.Signed
//	for _, b := range bundles {
//		rep, err := verify.VerifyBytes(b, policy, nil)
//		...
//		s, err := roster.FromReport(rep)
//		...
//		pledges = append(pledges, s)
//	}
//	report := roster.Coverage(r, pledges, roster.Options{Template: "netralitas-2029"})
//	report.WriteText(os.Stdout)
//
// # Columns
//
// Headers are matched whatever their case, spacing and punctuation ("Unit
// Kerja", "UNIT_KERJA" and "unit kerja" are one header). Recognised:
//
//	NIP       NIP, NIP Baru, NIP 18, NI PPPK, NIP/NI PPPK
//	scheme    scheme, Skema, Jenis ID, Jenis Identitas
//	id        id, No Identitas, Nomor Identitas, ID Pegawai, Nomor Pegawai, No Pegawai, Employee ID
//	name      Nama, Name, Nama Lengkap, Nama Pegawai, Full Name, Nama (dengan gelar)
//	unit      Unit, Unit Kerja, Unit Organisasi, UNOR, Satuan Kerja, Satker, OPD
//	position  Jabatan, Nama Jabatan, Position, Job Title
//	status    Status, Status Pegawai, Status Kepegawaian, Jenis Pegawai, Jenis Kepegawaian,
//	          Kedudukan, Kedudukan Pegawai, Employment, Employment Status
//
// A roster needs a name and an identifier: a NIP column, or scheme and id
// columns (staff without a NIP: scheme "nik" or "agency:<code>"), or both,
// a row then using whichever it fills. Unit, position and status are
// optional. Any other column is ignored and listed in Roster.Ignored.
//
// # Status
//
// As DESIGN fixes it: PNS and CPNS → PNS; PPPK and PPPK Paruh Waktu → PPPK;
// Honorer, THL and Non ASN → NON_ASN (case, spaces and punctuation aside,
// so NON_ASN is accepted too); anything else is an error naming the row.
// Without a status, employment comes from the NIP: digits 13–14 a month →
// PNS, 21–29 → PPPK; a row without a NIP → NON_ASN.
//
// The package is on the verifier's side of pakta: it imports pledge and
// verify, never a database or the CLI.
package roster
