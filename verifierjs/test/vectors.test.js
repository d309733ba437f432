// Every file of testdata/vectors through verifierjs in Node, with the same
// expected results as the Go tests.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createVerifier, KycvsError } from "../index.js";
import { runVector, mismatch } from "./vectors.js";
import { loadVectors } from "./tokens.js";

const vectors = loadVectors();

test("there are vectors", () => {
	assert.ok(vectors.length > 100, `only ${vectors.length} vectors`);
	const codes = new Set(vectors.map((v) => v.expect.code ?? "ok"));
	for (const c of ["ok", "ERR_TOO_LARGE", "ERR_MALFORMED", "ERR_SIGNATURE", "ERR_CLAIMS", "ERR_JWKS", "ERR_EXPIRED"]) {
		assert.ok(codes.has(c), `no vector expects ${c}`);
	}
});

for (const v of vectors) {
	test(`vector ${v.name}`, async () => {
		const got = await runVector(createVerifier, KycvsError, v);
		assert.equal(mismatch(v, got), "");
	});
}
