// kycvs edge worker shim: keeps ONE Go instance per isolate (see README.md).
import "./wasm_exec.js";
import { connect } from "cloudflare:sockets";
import mod from "./app.wasm";

// The object syumai/workers reads as globalThis.context. Go captures it once,
// at package init, so it must stay the same object for the instance's life;
// env and ctx are refreshed on it before each request is handed to Go.
const context = { env: undefined, ctx: undefined, connect, binding: {} };
let go;
let ready;

function start(env) {
  globalThis.context = context;
  context.env = env;
  context.binding = {};
  go = new Go();
  let resolve, reject;
  ready = new Promise((res, rej) => { resolve = res; reject = rej; });
  const instance = new WebAssembly.Instance(mod, {
    ...go.importObject,
    workers: { ready: () => resolve() },
  });
  go.run(instance).then(
    () => reject(new Error("the Go instance exited")),
    (err) => reject(err),
  );
  return ready;
}

export default {
  async fetch(request, env, ctx) {
    if (go === undefined || go.exited) start(env);
    await ready;
    context.env = env;
    context.ctx = ctx;
    return context.binding.handleRequest(request);
  },
};
