// Package verify checks pakta evidence offline: given a bundle (an entry, its
// inclusion proof and the evidence that binds the signer's key) and a trust
// policy, it decides whether the entry was logged by the trusted log and signed
// by the key the policy accepts, without talking to the log or a database.
//
// This part of the package owns the byte formats the verification reads, each
// with a strict parser and a canonical writer so that signed or hashed bytes are
// never re-interpreted loosely:
//
//   - the log entry, the exact bytes of a Merkle leaf ([MarshalEntry],
//     [ParseEntry], [LeafHash]);
//   - the C2SP tlog-checkpoint note body ([Checkpoint], [ParseCheckpoint],
//     [OpenCheckpoint], [SignCheckpoint]);
//   - the C2SP tlog-proof@v1 text ([Proof], [ParseProof]);
//   - the bundle file, .pakta.json ([Bundle], [ParseBundle]).
//
// Merkle hashing and inclusion verification are delegated to
// github.com/transparency-dev/merkle (RFC 6962); note signatures to
// golang.org/x/mod/sumdb/note. The package does no I/O and does not log.
package verify
