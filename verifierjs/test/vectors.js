// The shared test vectors (testdata/vectors/*.json, see its README.md), run
// through verifierjs. Runtime-neutral: the Node suite and the Chromium page
// both import it.

/**
 * Runs one vector with createVerifier and returns what happened, in the
 * vector's own terms: {code} or the result object.
 */
export async function runVector(createVerifier, KycvsError, v) {
	const options = { jwks: v.jwks, issuer: v.issuer, audience: v.audience };
	if (v.leeway !== undefined) options.leeway = v.leeway;
	if (v.no_nonce) options.checkNonce = false;
	try {
		const verifier = await createVerifier(options);
		return { ...verifier.verify(v.token, { nonce: v.nonce, now: v.now }) };
	} catch (err) {
		if (!(err instanceof KycvsError)) return { threw: String(err && err.stack || err) };
		if (typeof err.code !== "string" || !err.code.startsWith("ERR_")) return { threw: `bad code ${err.code}` };
		return { code: err.code };
	}
}

/** Compares got with the vector's expect; returns "" when they match. */
export function mismatch(v, got) {
	const want = canonical(v.expect);
	const have = canonical(got);
	return want === have ? "" : `${v.name}: want ${want}, got ${have}`;
}

function canonical(o) {
	return JSON.stringify(Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1))));
}

/** Runs every vector and returns {passed, failures: [message]}. */
export async function runAll(createVerifier, KycvsError, vectors) {
	const failures = [];
	for (const v of vectors) {
		const m = mismatch(v, await runVector(createVerifier, KycvsError, v));
		if (m) failures.push(m);
	}
	return { passed: vectors.length - failures.length, failures };
}
