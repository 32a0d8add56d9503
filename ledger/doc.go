// Package ledger is pakta's transparency log: an append-only RFC 6962
// Merkle tree of signed statements (pledges, enrollments, revocations,
// templates), kept in Pebble, with C2SP checkpoints, tiles and proofs.
//
// Open a log with a checkpoint key (a golang.org/x/mod/sumdb/note signer
// whose name is the log's origin) and a trust policy; Append submits a JWS
// and returns once it is durable and covered by a signed checkpoint; Bundle
// builds the offline evidence for an entry, which package verify checks
// without the log. Audit recomputes a closed log from its entries.
//
// Append is safe for many concurrent callers and meant to be called by many:
// each caller checks its own signatures (so all cores work), and a single
// sequencer applies the log's rules in order, commits a whole batch with one
// sync and signs one checkpoint for it. The acceptance rules are:
//
//   - enrollments, revocations and templates only from the policy's
//     registrars; an enrollment also signed by the enrolled key;
//   - a pledge only with a key enrolled earlier in the log for the signer,
//     not revoked before it, whose enrollment window covers signed_at (or
//     with an x5c chain to a policy root), and any countersignature by a
//     registrar;
//   - signed_at no later than logged_at plus five minutes and no earlier
//     than the policy's tolerance (30 days by default);
//   - the same JWS, or the same statement re-signed, returns the entry
//     already logged; a different pledge by the same signer for the same
//     template and election is a conflict unless it supersedes the latest.
//
// The log is stored through the byte store contract of ledger/store, which
// every engine passes with the conformance suite in ledger/store/storetest:
// Open uses the embedded default (Pebble, ledger/store/pebblestore), New
// takes any engine (ledger/store/pgstore for PostgreSQL).
package ledger
