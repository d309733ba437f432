package kycvs

import "errors"

// Code is a stable error code. The same table is used by the Go API, the
// WebAssembly verifier, the JavaScript package (KycvsError.code), the
// issuer's problem+json responses and the expect lines of testdata/vectors.
type Code string

// Verification codes, in the order the verifier checks them (SPEC.md §5).
const (
	CodeTooLarge    Code = "ERR_TOO_LARGE"     // token longer than MaxTokenSize
	CodeMalformed   Code = "ERR_MALFORMED"     // not three strict segments, or a bad header
	CodeAlg         Code = "ERR_ALG"           // alg not on the allow-list
	CodeType        Code = "ERR_TYPE"          // typ is not kycvs+msgpack
	CodeKIDUnknown  Code = "ERR_KID_UNKNOWN"   // kid not in the key set
	CodeSignature   Code = "ERR_SIGNATURE"     // the signature does not verify
	CodeClaims      Code = "ERR_CLAIMS"        // the payload is not a valid claims map
	CodeIssuer      Code = "ERR_ISSUER"        // iss differs
	CodeAudience    Code = "ERR_AUDIENCE"      // aud differs
	CodeExpired     Code = "ERR_EXPIRED"       // now > exp + leeway
	CodeNotYetValid Code = "ERR_NOT_YET_VALID" // now < iat - leeway
	CodeNonce       Code = "ERR_NONCE"         // a nonce was expected and differs
)

// Construction codes.
const (
	CodeJWKS   Code = "ERR_JWKS"   // the key set is not usable
	CodeConfig Code = "ERR_CONFIG" // a required setting is missing or out of range
)

// Issuer codes, used in the issuer's problem+json responses (see README).
const (
	CodeBadRequest       Code = "ERR_BAD_REQUEST"        // 400
	CodeUnauthorized     Code = "ERR_UNAUTHORIZED"       // 401
	CodeOTPInvalid       Code = "ERR_OTP_INVALID"        // 401, with tries left
	CodeOTPExpired       Code = "ERR_OTP_EXPIRED"        // 410
	CodeTxnUnknown       Code = "ERR_TXN_UNKNOWN"        // 404, unknown or already used
	CodeConsentRequired  Code = "ERR_CONSENT_REQUIRED"   // 400
	CodeRateLimited      Code = "ERR_RATE_LIMITED"       // 429, with Retry-After
	CodeUnavailable      Code = "ERR_UNAVAILABLE"        // 503
	CodeNotFound         Code = "ERR_NOT_FOUND"          // 404: no such endpoint
	CodeMethodNotAllowed Code = "ERR_METHOD_NOT_ALLOWED" // 405, with Allow
	CodeMediaType        Code = "ERR_MEDIA_TYPE"         // 415: a body that is not application/json
)

// Embed codes: why the issuer's consent page cannot be opened for a
// verifying entity (GET /embed/check, and the rejections of kycvs-embed.js,
// which uses ERR_UNAVAILABLE when the issuer cannot be reached at all).
const (
	CodeClientUnknown Code = "ERR_CLIENT_UNKNOWN" // 404: no verifying entity has this client id
	CodeOriginRefused Code = "ERR_ORIGIN"         // 403: the page's origin is not registered for the client
)

// Edge worker codes.
const (
	CodeTokenMissing Code = "ERR_TOKEN_MISSING" // 401: no token in the request
	CodeStatusLow    Code = "ERR_STATUS"        // 403: a valid token whose status is below the minimum
	CodeJWKSStale    Code = "ERR_JWKS_STALE"    // 503: the fetched key set is older than the staleness limit
	CodeReplay       Code = "ERR_REPLAY"        // 409: the token was admitted before (its jti is remembered until it expires)
)

// Error is the error type of this package. Every failure of parsing a key
// set, building a verifier, signing or verifying is an *Error.
type Error struct {
	Code    Code
	Message string
}

func (e *Error) Error() string { return string(e.Code) + ": " + e.Message }

// Is reports whether target is an *Error with the same Code, so that
// errors.Is(err, &kycvs.Error{Code: kycvs.CodeExpired}) works.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// CodeOf returns the Code of err if it is or wraps an *Error, and "" otherwise.
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

func errorf(code Code, msg string) *Error { return &Error{Code: code, Message: msg} }
