// The lifetime check, runtime-neutral (Node with --expose-gc, Chromium with
// --js-flags=--expose-gc): what a hurried integrator does. Destructure
// verify, drop the verifier object, force garbage collection until
// finalizers have run, make many other verifiers (other keys, issuers,
// audiences), collect again, then the detached verify must still accept its
// own token and refuse every token of the others, and the others must still
// accept their own. Returns a list of problems (empty when all is well).

/**
 * Forces collections until an object dropped now has been finalized, so
 * that any finalizer due has had its turn. Returns whether it was.
 */
export async function collect(gc) {
	let done = false;
	const registry = new FinalizationRegistry(() => {
		done = true;
	});
	(() => registry.register({}, 0))();
	for (let i = 0; i < 100 && !done; i++) {
		gc();
		await new Promise((resolve) => setTimeout(resolve, 10));
	}
	return done;
}

/**
 * fixture: { mine: Case, others: Case[] }, Case = { jwks, issuer, audience,
 * nonce, now, token, jti }.
 */
export async function detachedVerify(createVerifier, fixture, gc) {
	const problems = [];
	const { mine, others } = fixture;
	// Only the function is kept; the object that carried it is garbage.
	const { verify } = await createVerifier({ jwks: mine.jwks, issuer: mine.issuer, audience: mine.audience });
	if (!(await collect(gc))) problems.push("finalizers never ran: the check proves nothing");
	const verifiers = [];
	// These stay reachable (objects kept), so any handle they were given is
	// live. Made in two halves with a collection between, so that a handle
	// freed late is offered again too.
	const half = others.length >> 1;
	for (const [i, o] of others.entries()) {
		verifiers.push(await createVerifier({ jwks: o.jwks, issuer: o.issuer, audience: o.audience }));
		if (i === half && !(await collect(gc))) problems.push("finalizers never ran after the first half");
	}
	if (!(await collect(gc))) problems.push("finalizers never ran after the other verifiers");
	try {
		const r = verify(mine.token, { nonce: mine.nonce, now: mine.now });
		if (r.jti !== mine.jti) problems.push(`own token: jti ${r.jti}, want ${mine.jti}`);
	} catch (err) {
		problems.push(`own token refused: ${err.code} ${err.message}`);
	}
	others.forEach((o, i) => {
		try {
			verify(o.token, { nonce: o.nonce, now: o.now });
			problems.push(`the detached verify accepted the token of verifier ${i} (${o.issuer}, ${o.audience})`);
		} catch (err) {
			if (typeof err.code !== "string" || !err.code.startsWith("ERR_") || err.code === "ERR_CONFIG") {
				problems.push(`token of verifier ${i}: ${err.code} ${err.message}`);
			}
		}
		try {
			verifiers[i].verify(o.token, { nonce: o.nonce, now: o.now });
		} catch (err) {
			problems.push(`verifier ${i} refused its own token: ${err.code} ${err.message}`);
		}
	});
	return problems.slice(0, 20);
}
