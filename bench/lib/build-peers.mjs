// Bundles each peer's entry (bench/peers/<peer>.js: the package's browser entry plus the few
// lines of set-up a site would write) into ONE minified ES module, bench/dist/<peer>.js, the
// way a site would ship it: esbuild --bundle --minify --format=esm --target=es2020
// --platform=browser, NODE_ENV=production, no code splitting (dynamic imports inside the
// packages, e.g. Segment's, are inlined into the one file, so nothing is fetched later).
import { build } from "esbuild";
import { mkdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const bench = join(dirname(fileURLToPath(import.meta.url)), "..");

export const PEERS = [
  { id: "segment", label: "Segment", pkg: "@segment/analytics-next" },
  { id: "rudderstack", label: "RudderStack", pkg: "@rudderstack/analytics-js", entryNote: "/bundled export" },
  { id: "snowplow", label: "Snowplow", pkg: "@snowplow/browser-tracker" },
  { id: "plausible", label: "Plausible", pkg: "@plausible-analytics/tracker" },
];

export function peerVersion(pkg) {
  return JSON.parse(readFileSync(join(bench, "node_modules", pkg, "package.json"), "utf8")).version;
}

export async function buildPeers() {
  mkdirSync(join(bench, "dist"), { recursive: true });
  const out = [];
  for (const peer of PEERS) {
    const outfile = join(bench, "dist", `${peer.id}.js`);
    await build({
      entryPoints: [join(bench, "peers", `${peer.id}.js`)],
      outfile,
      bundle: true,
      minify: true,
      format: "esm",
      target: "es2020",
      platform: "browser",
      define: { "process.env.NODE_ENV": '"production"' },
      legalComments: "none",
      logLevel: "error",
    });
    out.push({ ...peer, version: peerVersion(peer.pkg), file: outfile });
  }
  return out;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const p of await buildPeers()) console.log(p.id, p.version, p.file);
}
