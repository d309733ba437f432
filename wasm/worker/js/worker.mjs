// The kycvs edge worker's entry module: keeps ONE Go instance per isolate.
//
// syumai/workers' stock shim (workers-assets-gen) instantiates the Go module
// for every request (~19 ms a request). Here the instance is made at the
// first request and kept: Go's main registers the handler, signals ready and
// never returns, and each request is handed to the handler syumai/workers
// installed on context.binding. See README.md, "One Go instance".
import "./wasm_exec.js";
import { connect } from "cloudflare:sockets";
import mod from "./app.wasm";

// syumai/workers reads globalThis.context (env, ctx, connect, binding) and
// keeps the object it found at package init, so it stays the same object for
// the instance's life; env and ctx are set on it before each request is
// handed to Go. Go reads ctx (for waitUntil) only before its first await.
const context = { env: undefined, ctx: undefined, connect, binding: {} };

// syumai/workers' jsutil.TryCatch (used by its sockets package) calls this.
globalThis.tryCatch = (fn) => {
  try {
    return { result: fn() };
  } catch (error) {
    return { error };
  }
};
let go; // the running instance, undefined when none
let ready; // resolves once Go has called workers.Ready
let live; // the instance whose ready has resolved: no need to wait for it
let exports; // the instance's exports: the fast path's kycvs_worker_*

function start(env) {
  globalThis.context = context;
  context.env = env;
  context.binding = {};
  const g = new Go();
  go = g;
  let resolve, reject;
  ready = new Promise((res, rej) => {
    resolve = res;
    reject = rej;
  });
  const instance = new WebAssembly.Instance(mod, {
    ...g.importObject,
    workers: { ready: () => resolve() },
  });
  // run() settles only when Go exits or traps: forget the instance so that
  // the next request starts a new one.
  exports = instance.exports;
  ready.then(() => {
    if (go === g) live = g;
  }, () => {});
  const gone = (err) => {
    if (go === g) go = undefined;
    reject(err);
  };
  g.run(instance).then(() => gone(new Error("the Go instance exited")), gone);
}

// call runs one of the instance's kycvs_worker_* exports. A Go runtime that
// dies during the call (an uncaught panic, or a fatal error such as running
// out of memory) returns an unspecified value and leaves its buffers as they
// were, and one that traps throws: nothing of it may be read, and it can
// take no more calls (verifierjs guards its calls the same way). The
// instance is then forgotten, the next request starts a new one, and this
// one is answered by stoppedOr.
function call(name, a, b) {
  const g = go;
  let r;
  try {
    r = exports[name](a, b);
  } catch (err) {
    throw stop(g, err);
  }
  if (g.exited) throw stop(g, new Error("the Go runtime exited"));
  return r;
}

class Stopped extends Error {}

function stop(g, cause) {
  console.log(`kycvs worker: the Go instance stopped during a call: ${cause}`);
  if (go === g) {
    go = undefined;
    live = undefined;
  }
  return new Stopped("the Go instance stopped", { cause });
}

// stoppedOr is the answer to a request whose Go instance stopped (err is
// Stopped) while it was deciding: Decide's own answer to a panic it
// recovers, 500 ERR_UNAVAILABLE. Any other error is thrown again.
function stoppedOr(err) {
  if (!(err instanceof Stopped)) throw err;
  const body = JSON.stringify({ code: "ERR_UNAVAILABLE", detail: "internal error", status: 500, title: "Internal Server Error", type: "about:blank" });
  return new Response(body, { status: 500, headers: { "content-type": "application/problem+json", "cache-control": "no-store" } });
}

// The fast path (README.md, "Fast path"): only what the gate reads crosses
// into Go, over linear memory; Go answers with a refusal to send or the
// edits that make the origin request, and the fetch is made here. Go says
// "full" when it would have to wait for I/O (a fetched key set): then the
// request goes through syumai/workers.
const enc = new TextEncoder();
const dec = new TextDecoder();
const HAS_HOST = 1, HAS_AUTHORIZATION = 2, HAS_COOKIE = 4, HAS_ACRM = 8, HAS_BODY = 16;
const KEPT = 1 << 30; // in an answer's length: the kept refusal (fast_js.go)

// Measured in workerd (README.md, "Per step"): calls and conversions
// between JavaScript and the runtime (header lists, iterating Headers) cost
// as much as some of Go's work, so the shim makes few.
function decide(request) {
  const h = request.headers;
  const host = h.get("host"), authz = h.get("authorization"), cookie = h.get("cookie");
  const acrm = h.get("access-control-request-method");
  const method = request.method;
  // One string, the fields separated by NUL (which none of them holds: a
  // NUL in one would make more than six fields, and Go takes the full path).
  const s = method + "\0" + request.url + "\0" + (host ?? "") + "\0" + (authz ?? "") + "\0" + (cookie ?? "") + "\0" + (acrm ?? "");
  const need = 3 * s.length; // UTF-8 needs at most 3 bytes per UTF-16 unit
  const b = buffers();
  if (need > b.inCap) {
    b.inPtr = call("kycvs_worker_in", need);
    b.inCap = need;
  }
  const { written } = enc.encodeInto(s, memory().subarray(b.inPtr, b.inPtr + need)); // after kycvs_worker_in: it may grow the memory
  // (GET and HEAD requests have no body in the Fetch API: no need to ask.)
  const body = method !== "GET" && method !== "HEAD" && request.body !== null;
  const flags = (host !== null ? HAS_HOST : 0) | (authz !== null ? HAS_AUTHORIZATION : 0) |
    (cookie !== null ? HAS_COOKIE : 0) | (acrm !== null ? HAS_ACRM : 0) | (body ? HAS_BODY : 0);
  const n = call("kycvs_worker_decide", written, flags);
  if ((n & KEPT) === 0) return read(n);
  // The kept refusal of a request without credentials (Handler.KeptAnswer):
  // the same bytes for the instance's life, so what was made of them the
  // first time is used again. (A Response copies its init's headers.)
  if (kept === undefined || kept.exports !== exports) {
    const a = parse(n & ~KEPT);
    kept = { exports, body: a.body, init: { status: a.status, statusText: a.statusText, headers: new Headers(a.headers) } };
  }
  return { answer: new Response(kept.body, kept.init) };
}

let kept; // { exports, body, init }: the kept refusal's, for its instance

// buffers are the addresses of the instance's input buffer (inCap bytes at
// least) and output buffer (fast_js.go): asked for again only when the
// input needs a larger buffer or an answer says the output moved.
let bufs;
function buffers() {
  if (bufs === undefined || bufs.exports !== exports) {
    bufs = { exports, inPtr: 0, inCap: 0, outPtr: call("kycvs_worker_out") };
  }
  return bufs;
}

// memory is a view of the module's memory, made anew only when the memory
// has grown (its buffer is then another one).
let view;
function memory() {
  const b = exports.mem.buffer;
  if (view === undefined || view.buffer !== b) view = new Uint8Array(b);
  return view;
}

// answer is the bytes of the answer whose length a kycvs_worker_* call
// returned, n (its sign bit set when the output buffer moved).
function answer(n) {
  const b = buffers();
  if (n < 0) {
    n &= 0x7fffffff;
    b.outPtr = call("kycvs_worker_out");
  }
  return memory().subarray(b.outPtr, b.outPtr + n);
}

// parse decodes Go's answer (FastAnswer.Encode): NUL-separated fields.
function parse(n) {
  const s = dec.decode(answer(n));
  let i = 0;
  const field = () => {
    const j = s.indexOf("\0", i);
    const f = s.slice(i, j);
    i = j + 1;
    return f;
  };
  const pairs = () => {
    const l = [];
    for (let k = Number(field()); k > 0; k--) l.push([field(), field()]);
    return l;
  };
  const kind = field();
  if (kind === "full") return undefined;
  if (kind === "answer") {
    const status = Number(field()), statusText = field(), headers = pairs(); // a list: one call, not an append each
    return { status, statusText, headers, body: s.slice(i) };
  }
  return { target: field(), withBody: field() === "1", dropBody: field() === "1", reqAdd: pairs(), respAdd: pairs() };
}

// read is Go's answer: undefined (the full path answers), { answer } (a
// Response to send) or the origin request to make.
function read(n) {
  const a = parse(n);
  if (a === undefined || a.status === undefined) return a;
  return { answer: new Response(a.body, { status: a.status, statusText: a.statusText, headers: a.headers }) };
}

let lists; // { exports, reqDel, respDel }: the headers the proxy removes (EncodeLists), as Sets of lowercase names

async function forward(request, d) {
  if (lists === undefined || lists.exports !== exports) {
    try {
      lists = readLists();
    } catch (err) {
      return stoppedOr(err);
    }
  }
  // A copy made by the runtime, then a delete per name: measured in
  // workerd, cheaper than a pass over the request's headers in JavaScript
  // (each step of that iteration is a call into the runtime, and each entry
  // an array). Also the gate's names spelled with "_", which CGI-style
  // origins read as the same variable (HTTP_KYCVS_STATUS): only the gate
  // may set them.
  const headers = new Headers(request.headers);
  for (const k of lists.reqDel) headers.delete(k);
  headers.delete("kycvs_status");
  headers.delete("kycvs_nonce");
  for (const [k, v] of d.reqAdd) headers.append(k, v);
  const init = { method: request.method, headers, redirect: "manual" };
  if (d.withBody) init.body = request.body;
  let res;
  try {
    res = await fetch(d.target, init);
  } catch (err) {
    // As the Go side logs it (handler.go, originFailure): the origin, not
    // the client's path or query.
    const u = new URL(d.target);
    console.log(`kycvs worker: origin ${u.protocol}//${u.host}: ${request.method} ${String(err).replaceAll(d.target, "(the request's URL)")}`);
    try {
      return read(call("kycvs_worker_unavailable")).answer;
    } catch (err) {
      return stoppedOr(err);
    }
  }
  // The origin's answer as is, unless something must go or be added.
  const rh = res.headers;
  let drop = d.dropBody || d.respAdd.length !== 0;
  if (!drop) {
    // A has per name, not a pass over the answer's headers: as above,
    // iterating a Headers object costs more in workerd.
    for (const k of lists.respDel) {
      if (rh.has(k)) {
        drop = true;
        break;
      }
    }
  }
  if (!drop) return res;
  const out = new Headers(rh);
  for (const k of lists.respDel) out.delete(k);
  for (const [k, v] of d.respAdd) if (!out.has(k)) out.append(k, v);
  let body = res.body;
  if (d.dropBody) {
    out.delete("content-length");
    if (body !== null) body.cancel();
    body = null;
  }
  return new Response(body, { status: res.status, statusText: res.statusText, headers: out });
}

function readLists() {
  const f = dec.decode(answer(call("kycvs_worker_lists"))).split("\0");
  const a = Number(f[0]);
  const set = (l) => new Set(l.map((k) => k.toLowerCase()));
  return { exports, reqDel: set(f.slice(1, 1 + a)), respDel: set(f.slice(2 + a, 2 + a + Number(f[1 + a]))) };
}

export default {
  async fetch(request, env, ctx) {
    if (go === undefined) start(env);
    if (live !== go) await ready;
    context.env = env;
    context.ctx = ctx;
    // A module without the fast path's exports (the benchmark's empty Go
    // worker), or KYCVS_DEBUG_FULL_PATH=1 (the tests run every case both
    // ways), takes the full path.
    const fast = exports.kycvs_worker_decide !== undefined && env.KYCVS_DEBUG_FULL_PATH !== "1";
    let d;
    try {
      d = fast ? decide(request) : undefined;
    } catch (err) {
      return stoppedOr(err);
    }
    if (d === undefined) return context.binding.handleRequest(request);
    if (d.answer !== undefined) return d.answer;
    return forward(request, d);
  },
};
