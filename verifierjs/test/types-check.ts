// Compiled by types.test.js with tsc --noEmit --strict: the hand-written
// index.d.ts describes the API the brief states, and rejects misuse.
import { createVerifier, KycvsError, type KycvsErrorCode, type VerifyResult, type Verifier, type VerifierWithoutNonce } from "kycvs-verifier";

async function main(jwksText: string, token: string, wasmModule: WebAssembly.Module): Promise<void> {
	const verifier: Verifier = await createVerifier({ jwks: jwksText, issuer: "https://issuer.example", audience: "railway-booking" });
	await createVerifier({ jwks: { keys: [{ kty: "OKP", crv: "Ed25519", x: "x", kid: "k" }] }, issuer: "i", audience: "a", leeway: 30, wasmModule });
	await createVerifier({ jwks: new Uint8Array(0), issuer: "i", audience: "a", wasmURL: new URL("https://cdn.example/kycvs.wasm") });
	const r: VerifyResult = verifier.verify(token, { nonce: "n0nce-value", now: new Date() });
	const status: 0 | 1 | 2 = r.status;
	const nmh: string | undefined = r.nmh;
	const when: number = r.exp - r.iat;
	// @ts-expect-error the nonce is required
	verifier.verify(token, { now: 1_700_000_000 });
	// @ts-expect-error the nonce is required
	verifier.verify(token);
	// @ts-expect-error the second argument is an options object, not the nonce
	verifier.verify(token, "n0nce-value");
	const { verify } = verifier; // a plain function, fine to destructure
	verify(token, { nonce: "n0nce-value" });
	const gate: VerifierWithoutNonce = await createVerifier({ jwks: jwksText, issuer: "i", audience: "a", checkNonce: false });
	gate.verify(token);
	gate.verify(token, { now: new Date() });
	try {
		verifier.verify(token, { nonce: "n0nce-value" });
	} catch (err) {
		if (err instanceof KycvsError) {
			const code: KycvsErrorCode = err.code;
			if (code === "ERR_EXPIRED") console.log(err.message, status, nmh, when);
		}
	}
	// @ts-expect-error verify is synchronous
	await verifier.verify(token, { nonce: "n0nce-value" }).then(() => {});
	// @ts-expect-error issuer is required
	await createVerifier({ jwks: jwksText, audience: "a" });
	// @ts-expect-error now is a Date or a number
	verifier.verify(token, { nonce: "n0nce-value", now: "2026-01-01" });
	// @ts-expect-error not a code
	const bad: KycvsErrorCode = "ERR_NOPE";
	console.log(bad);
}
console.log(main);
