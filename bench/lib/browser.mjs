// Drives Debian's Chromium through playwright-core: every measurement is one fresh page load
// in a new browser context (empty cache and storage), SDKs taken in turn (round robin) so
// that the machine's background load falls on all of them alike.
import { chromium } from "playwright-core";

export const CHROMIUM_ARGS = [
  "--no-sandbox", "--headless=new", "--disable-gpu", "--disable-dev-shm-usage",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
  "--no-first-run", "--disable-quic",
];

export async function launch({ proxyPort }) {
  // headless: false only stops Playwright adding its own --headless: --headless=new is in the
  // list above, so the browser is headless all the same, started with exactly these flags
  // plus the proxy (see server.mjs) that catches any request to a non-loopback host.
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    headless: false,
    args: [...CHROMIUM_ARGS, `--proxy-server=http://127.0.0.1:${proxyPort}`],
  });
  return browser;
}

/** Opens the bench page for one SDK in a fresh context; returns helpers bound to it. */
export async function openPage(browser, origin, sdk, { stub = false } = {}) {
  const context = await browser.newContext({ serviceWorkers: "block" });
  const page = await context.newPage();
  const errors = [];
  const external = []; // requests this page made to any host but 127.0.0.1 (all blocked)
  page.on("request", (r) => {
    const url = new URL(r.url());
    if (url.protocol.startsWith("http") && url.hostname !== "127.0.0.1") external.push(r.url().slice(0, 160));
  });
  page.on("pageerror", (e) => errors.push(String(e.message ?? e).slice(0, 300)));
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text().slice(0, 300)); });
  const cdp = await context.newCDPSession(page);
  let domain = "threadTicks";
  try { await cdp.send("Performance.enable", { timeDomain: "threadTicks" }); } catch {
    domain = "timeTicks";
    await cdp.send("Performance.enable", { timeDomain: "timeTicks" });
  }
  await page.goto(`${origin}/bench/pages/bench.html?sdk=${sdk}${stub ? "&stub=1" : ""}`);
  const metric = async (name) => {
    const { metrics } = await cdp.send("Performance.getMetrics");
    return metrics.find((m) => m.name === name)?.value ?? NaN;
  };
  return {
    page, cdp, errors, external, timeDomain: domain,
    /** main-thread task time so far, in ms (CDP Performance TaskDuration) */
    taskMs: async () => (await metric("TaskDuration")) * 1000,
    /** waits until the main thread has been quiet (< 2 ms of tasks in 250 ms), at most maxMs */
    settle: async (maxMs = 15000) => {
      let last = (await metric("TaskDuration")) * 1000;
      const deadline = Date.now() + maxMs;
      while (Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 250));
        const now = (await metric("TaskDuration")) * 1000;
        if (now - last < 2) return true;
        last = now;
      }
      return false;
    },
    /** JS heap in use after a forced full GC (CDP HeapProfiler.collectGarbage) */
    heapAfterGc: async () => {
      await cdp.send("HeapProfiler.collectGarbage");
      await cdp.send("HeapProfiler.collectGarbage");
      const { usedSize } = await cdp.send("Runtime.getHeapUsage");
      return usedSize;
    },
    close: () => context.close(),
  };
}
