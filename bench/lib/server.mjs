// One HTTP server on 127.0.0.1 (random port) that is, at once:
//  - the static server of the bench pages, the peers' bundles (bench/dist) and our module
//    (pkg/web), uncompressed (transfer sizes are computed from the files, not from the wire);
//  - the sink every peer's transport is pointed at (/sink/<peer>/...): it answers 200 "{}"
//    with permissive CORS and counts requests and bytes per peer;
//  - Chromium's HTTP proxy (--proxy-server): loopback bypasses the proxy, so any request a
//    page makes to ANY other host arrives here as a proxy request (absolute URL, or CONNECT
//    for https) and is recorded as "external" and refused. Nothing leaves the machine.
import { createServer } from "node:http";
import { createReadStream, statSync } from "node:fs";
import { extname, join, normalize, sep } from "node:path";

const TYPES = {
  ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8", ".wasm": "application/wasm", ".json": "application/json",
};

export async function startServer({ pkgDir, bench }) {
  const sink = {};      // peer -> { requests, bytes }
  const external = [];  // { method, target } of every attempt to reach a non-loopback host
  const mounts = [
    ["/pkg/", pkgDir], // a snapshot of pkg/ taken at the start (module.mjs)
    ["/bench/dist/", join(bench, "dist")],
    ["/bench/pages/", join(bench, "pages")],
    ["/bench/lib/", join(bench, "lib")],
  ];

  const server = createServer((req, res) => {
    if (/^[a-z]+:\/\//i.test(req.url)) { // proxied request for another host
      external.push({ method: req.method, target: req.url.slice(0, 200) });
      req.resume();
      res.writeHead(502, { "content-type": "text/plain" }).end("bench: external hosts are blocked");
      return;
    }
    const url = new URL(req.url, "http://127.0.0.1");
    if (url.pathname.startsWith("/sink/")) {
      const peer = url.pathname.split("/")[2] || "unknown";
      const cors = {
        "access-control-allow-origin": req.headers.origin || "*",
        "access-control-allow-credentials": "true",
        "access-control-allow-methods": "GET, POST, OPTIONS",
        "access-control-allow-headers": req.headers["access-control-request-headers"] || "*",
        "access-control-max-age": "600",
      };
      if (req.method === "OPTIONS") { res.writeHead(204, cors).end(); return; }
      const entry = (sink[peer] ??= { requests: 0, bytes: 0 });
      entry.requests += 1;
      req.on("data", (chunk) => { entry.bytes += chunk.length; });
      req.on("end", () => res.writeHead(200, { ...cors, "content-type": "application/json" }).end("{}"));
      return;
    }
    if (url.pathname === "/favicon.ico") { res.writeHead(204).end(); return; }
    const mount = mounts.find(([prefix]) => url.pathname.startsWith(prefix));
    if (!mount) { res.writeHead(404).end(); return; }
    const file = normalize(join(mount[1], decodeURIComponent(url.pathname.slice(mount[0].length))));
    if (!file.startsWith(mount[1] + sep)) { res.writeHead(403).end(); return; }
    let size;
    try { size = statSync(file).size; } catch { res.writeHead(404).end(); return; }
    res.writeHead(200, {
      "content-type": TYPES[extname(file)] ?? "application/octet-stream",
      "content-length": size,
      "cache-control": "no-cache",
    });
    createReadStream(file).pipe(res);
  });
  server.on("connect", (req, socket) => { // https through the proxy
    external.push({ method: "CONNECT", target: String(req.url).slice(0, 200) });
    socket.end("HTTP/1.1 403 Forbidden\r\n\r\n");
  });
  server.keepAliveTimeout = 5000;
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  return {
    origin: `http://127.0.0.1:${port}`,
    port,
    sink,
    external,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(resolve); }),
  };
}
