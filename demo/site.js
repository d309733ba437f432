// The settings of this copy of the demo. Empty here: served by
// kycvs serve --demo at /demo/, the demo finds its issuer at its own origin
// and uses the client "demo". ./build.sh static DIR writes this file with
// the issuer URL and client id it was given.
export const site = { issuer: "", clientId: "" };
