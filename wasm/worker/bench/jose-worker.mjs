// The JavaScript comparison worker for the benchmark: the same gate as the
// Go worker (token from "Authorization: KYCVS" or the kycvs cookie, the
// brief's checks and codes, forward with KYCVS-Status), written with
// panva/jose for the JWS and @msgpack/msgpack for the payload. Pinned key
// set only (KYCVS_JWKS). Bundled by esbuild (see build.sh bench_worker).
import { compactVerify, createLocalJWKSet, errors } from "jose";
import { decode } from "@msgpack/msgpack";

let state; // { verifierKeys, cfg } or { error }

function configure(env) {
  try {
    const min = env.KYCVS_MIN_STATUS === undefined ? 2 : Number(env.KYCVS_MIN_STATUS);
    if (!env.KYCVS_ISSUER || !env.KYCVS_AUDIENCE || !env.KYCVS_ORIGIN || !env.KYCVS_JWKS || ![0, 1, 2].includes(min)) {
      throw new Error("missing or bad setting");
    }
    return {
      cfg: { iss: env.KYCVS_ISSUER, aud: env.KYCVS_AUDIENCE, min, origin: new URL(env.KYCVS_ORIGIN), keep: env.KYCVS_KEEP_TOKEN === "1" },
      keys: createLocalJWKSet(JSON.parse(env.KYCVS_JWKS)),
    };
  } catch (e) {
    return { error: String(e) };
  }
}

function problem(status, code, detail) {
  return new Response(JSON.stringify({ type: "about:blank", status, code, detail }), {
    status,
    headers: { "content-type": "application/problem+json", "cache-control": "no-store" },
  });
}

class Fail extends Error {
  constructor(code) { super(code); this.code = code; }
}

const SEG = /^[A-Za-z0-9_-]+$/;
const isInt = (v) => (typeof v === "number" && Number.isInteger(v)) || typeof v === "bigint";
const isStr = (v) => typeof v === "string" && v.length > 0;

async function verify(token, keys, cfg) {
  if (new TextEncoder().encode(token).length > 4096) throw new Fail("ERR_TOO_LARGE");
  const parts = token.split(".");
  if (parts.length !== 3 || !parts.every((p) => SEG.test(p))) throw new Fail("ERR_MALFORMED");
  let header;
  try {
    header = JSON.parse(new TextDecoder().decode(Uint8Array.from(atob(parts[0].replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0))));
  } catch {
    throw new Fail("ERR_MALFORMED");
  }
  const names = Object.keys(header ?? {}).sort().join(",");
  if (names !== "alg,kid,typ" || ![header.alg, header.kid, header.typ].every((v) => typeof v === "string")) throw new Fail("ERR_MALFORMED");
  if (header.alg !== "EdDSA") throw new Fail("ERR_ALG");
  if (header.typ !== "kycvs+msgpack") throw new Fail("ERR_TYPE");
  let payload;
  try {
    ({ payload } = await compactVerify(token, keys, { algorithms: ["EdDSA"] }));
  } catch (e) {
    if (e instanceof errors.JWKSNoMatchingKey) throw new Fail("ERR_KID_UNKNOWN");
    if (e instanceof errors.JWSSignatureVerificationFailed) throw new Fail("ERR_SIGNATURE");
    throw new Fail("ERR_MALFORMED");
  }
  let c;
  try {
    c = decode(payload, { useBigInt64: false });
  } catch {
    throw new Fail("ERR_CLAIMS");
  }
  if (c === null || typeof c !== "object" || Array.isArray(c) || c instanceof Uint8Array) throw new Fail("ERR_CLAIMS");
  for (const k of ["iss", "sub", "aud", "jti", "nonce"]) if (!isStr(c[k])) throw new Fail("ERR_CLAIMS");
  for (const k of ["iat", "exp", "vs"]) if (!isInt(c[k])) throw new Fail("ERR_CLAIMS");
  if (![0, 1, 2].includes(Number(c.vs)) || !(c.iat < c.exp && c.exp <= c.iat + 3600)) throw new Fail("ERR_CLAIMS");
  if (c.nmh !== undefined && !(c.nmh instanceof Uint8Array && c.nmh.length === 16)) throw new Fail("ERR_CLAIMS");
  if (c.iss !== cfg.iss) throw new Fail("ERR_ISSUER");
  if (c.aud !== cfg.aud) throw new Fail("ERR_AUDIENCE");
  const now = Math.floor(Date.now() / 1000);
  if (now > Number(c.exp) + 60) throw new Fail("ERR_EXPIRED");
  if (now < Number(c.iat) - 60) throw new Fail("ERR_NOT_YET_VALID");
  return Number(c.vs);
}

function tokenOf(req) {
  const a = req.headers.get("authorization");
  if (a) {
    for (const v of a.split(",")) {
      const m = /^\s*kycvs\s+(\S+)\s*$/i.exec(v);
      if (m) return { token: m[1], header: true };
    }
  }
  const cookie = req.headers.get("cookie") || "";
  for (const part of cookie.split(";")) {
    const [n, ...v] = part.trim().split("=");
    if (n === "kycvs") return { token: v.join("="), header: false };
  }
  return { token: "" };
}

export default {
  async fetch(req, env) {
    state ??= configure(env);
    if (state.error) return problem(500, "ERR_CONFIG", state.error);
    const { cfg, keys } = state;
    const { token, header } = tokenOf(req);
    if (!token) return problem(401, "ERR_TOKEN_MISSING", "no token");
    let vs;
    try {
      vs = await verify(token, keys, cfg);
    } catch (e) {
      if (e instanceof Fail) return problem(401, e.code, e.code);
      throw e;
    }
    if (vs < cfg.min) return problem(403, "ERR_STATUS", `status ${vs} below ${cfg.min}`);
    const url = new URL(req.url);
    const target = new URL(cfg.origin.pathname.replace(/\/$/, "") + url.pathname + url.search, cfg.origin);
    const headers = new Headers(req.headers);
    headers.delete("kycvs-status");
    if (!cfg.keep) {
      if (header) headers.delete("authorization");
      const rest = (req.headers.get("cookie") || "").split(";").map((s) => s.trim()).filter((s) => s && !s.startsWith("kycvs="));
      if (rest.length) headers.set("cookie", rest.join("; "));
      else headers.delete("cookie");
    }
    headers.set("kycvs-status", String(vs));
    return fetch(target, { method: req.method, headers, body: req.body, redirect: "manual" });
  },
};
