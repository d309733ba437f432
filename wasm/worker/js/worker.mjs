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
  const gone = (err) => {
    if (go === g) go = undefined;
    reject(err);
  };
  g.run(instance).then(() => gone(new Error("the Go instance exited")), gone);
}

export default {
  async fetch(request, env, ctx) {
    if (go === undefined) start(env);
    await ready;
    context.env = env;
    context.ctx = ctx;
    return context.binding.handleRequest(request);
  },
};
