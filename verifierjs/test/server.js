// A small loopback HTTP server for the browser and fetch tests: it serves
// the package folder under /pkg/, the repository's testdata under
// /testdata/, the test pages at / and /gc, and any extra {path: {type, body}}.
import { createServer } from "node:http";
import { readFile, readdir } from "node:fs/promises";
import { extname } from "node:path";

const pkg = new URL("../", import.meta.url);
const root = new URL("../../", import.meta.url);
const types = { ".js": "text/javascript", ".json": "application/json", ".wasm": "application/wasm", ".html": "text/html; charset=utf-8" };

/** Starts the server on 127.0.0.1 and an ephemeral port; returns {url, close}. */
export async function serve({ wasmType = "application/wasm", extra = {} } = {}) {
	const server = createServer(async (req, res) => {
		try {
			const { pathname } = new URL(req.url, "http://x");
			if (pathname.includes("..")) throw Object.assign(new Error("bad path"), { status: 400 });
			let file;
			if (Object.hasOwn(extra, pathname)) return send(res, 200, extra[pathname].type, extra[pathname].body);
			if (pathname === "/") file = new URL("test/browser/index.html", pkg);
			else if (pathname === "/gc") file = new URL("test/browser/gc.html", pkg);
			else if (pathname === "/testdata/vectors/index.json") {
				const dir = new URL("testdata/vectors/", root);
				const names = (await readdir(dir)).filter((f) => f.endsWith(".json")).sort();
				return send(res, 200, types[".json"], JSON.stringify(names));
			} else if (pathname.startsWith("/pkg/")) file = new URL(pathname.slice(5), pkg);
			else if (pathname.startsWith("/testdata/")) file = new URL(pathname.slice(1), root);
			else throw Object.assign(new Error("not found"), { status: 404 });
			const ext = extname(file.pathname);
			send(res, 200, ext === ".wasm" ? wasmType : types[ext] || "application/octet-stream", await readFile(file));
		} catch (err) {
			send(res, err.status || (err.code === "ENOENT" ? 404 : 500), "text/plain", String(err.message));
		}
	});
	await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
	const { port } = server.address();
	return {
		url: `http://127.0.0.1:${port}`,
		close: () => new Promise((resolve) => server.close(resolve)),
	};
}

function send(res, status, type, body) {
	res.writeHead(status, { "content-type": type, "cache-control": "no-store" });
	res.end(body);
}
