// Package verify checks pakta evidence offline: given a bundle (an entry, its
// inclusion proof and the evidence that binds the signer's key) and a trust
// policy, it decides whether the entry was logged by the trusted log and signed
// by the key the policy accepts, without talking to the log or a database.
//
// [VerifyBytes] and [Verify] run the checks of the design, in order (bundle,
// checkpoint, inclusion, signature, key, statement, time, and claim when one
// is given), and return a [Report]: every check with a reason a
// non-programmer can read, a verdict that passes only if every check passed,
// and what the bundle does not prove. [Policy] is policy.json, read strictly.
//
// The package also owns the byte formats the verification reads, each
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
