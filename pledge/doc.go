// Package pledge defines what is signed in pakta and by whom: the statement
// types (pledge, enrollment, revocation, template), their validation, JWS
// signing and signature verification, and JWK key files.
//
// It has no storage in it; the ledger, the verifier and the CLI build on it.
package pledge
