// Package kycvs implements kycvs token format v1: short-lived, signed answers
// to "is this person vaccinated?" (0 not vaccinated, 1 partially, 2 fully),
// bound to one verifying entity and one transaction. SPEC.md in the
// repository is the normative specification; this package is its Go
// implementation.
//
// # Verifying
//
// A verifying entity checks tokens locally, with no round trip to the
// issuer: parse the issuer's JWKS once with [ParseKeySet], build a
// [Verifier] for the expected issuer and audience with [NewVerifier], then
// call [Verifier.Verify] with each token and the nonce of its transaction.
// The nonce is required: an empty one is CodeConfig unless the Verifier was
// built with [WithoutNonce], which only a gate that cannot know the nonce
// should use.
// Every failure is an [*Error] whose [Code] names the first check that
// failed, in the order of SPEC.md §5; the same codes are used by the
// WebAssembly verifier, the JavaScript package and the issuer's HTTP API.
//
// To fetch the issuer's key set and keep it fresh instead (Cache-Control,
// ETag revalidation, a refetch for an unknown kid, fail-closed past a
// maximum age: SPEC.md §6.1), build a [RemoteKeySet] with
// [NewRemoteKeySet] and verify with a [RemoteVerifier] from
// [NewRemoteVerifier]. Package gate puts the same verification in front of
// an HTTP handler.
//
// # Signing
//
// Issuers, and integrators writing tests, sign [Claims] with a [Signer].
//
// # Strictness
//
// The verifier accepts exactly one encoding of each token: three non-empty
// segments of canonical unpadded base64url, a protected header of exactly
// alg, kid and typ, and a payload of exactly one MessagePack map. Where
// general-purpose JOSE libraries are lenient (crit, the JSON serialization,
// line breaks inside segments, non-zero unused base64 bits, tokens of any
// size, duplicate kids, small-order keys) this package rejects.
package kycvs

//go:generate go run ./internal/vectorgen testdata/vectors
