// The floor of cold.js, in a fresh process: load the same wasm_exec.js,
// compile and run an empty Go program (wasm/empty, its path in argv[2]) to
// the end of its main. Prints milliseconds as JSON, as cold.js does.
import { readFileSync } from "node:fs";

const c0 = process.cpuUsage();
const t0 = performance.now();
const { Go } = await import("../wasm_exec.js");
const go = new Go();
const { instance } = await WebAssembly.instantiate(readFileSync(process.argv[2]), go.importObject);
await go.run(instance);
const t1 = performance.now();
const cpu = process.cpuUsage(c0);
console.log(JSON.stringify({ total: t1 - t0, cpu: (cpu.user + cpu.system) / 1000 }));
