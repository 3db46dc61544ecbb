// The partner site's integration — the part an integrator writes — plus the inspector panel.
//
//   const analytics = new BookingAnalytics({ ga4, meta, widgetOrigins, onVerdict });
//   analytics.listen();
//
// Everything else on this page is presentation: the panel pairs each verdict with the gtag /
// fbq calls the recording shim saw while the module handled that event.
const config = window.DEMO_CONFIG ?? {};
// A site that runs the companion loads the build with the server-side copy
// (`altegio-analytics/companion`); any other site, the default build (5.7 KB smaller).
const { default: init, BookingAnalytics } = await import(
  config.companion ? "/pkg/companion/altegio_analytics.js" : "/pkg/web/altegio_analytics.js"
);
/** The widget stand-in's origin: from demo-config.js, else this page's port + 1. */
const widgetOrigin = config.widgetOrigin ?? `${location.protocol}//${location.hostname}:${Number(location.port) + 1}`;

const $ = (id) => document.getElementById(id);
const el = (tag, className, ...children) => {
  const node = document.createElement(tag);
  if (className) node.className = className;
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
};

// ---- calls recorded since the last verdict --------------------------------------------------

// The page's own tag calls (gtag config, fbq init and PageView) came before this script.
let pending = [...window.demoRecorder.calls];
window.demoRecorder.subscribe((call) => pending.push(call));

/** One argument as JavaScript source: `{company_id: 401234, send_to: "G-…"}`. */
function argText(a) {
  if (a instanceof Date) return "new Date()";
  if (a && typeof a === "object" && !Array.isArray(a)) {
    return `{${Object.entries(a).map(([k, v]) => `${k}: ${JSON.stringify(v)}`).join(", ")}}`;
  }
  return JSON.stringify(a);
}

/** `gtag("event", "booked", {…})` as text. */
function callText(fn, args) {
  return `${fn}(${args.map(argText).join(", ")})`;
}

/** The calls the page's own tags made before any widget event. */
function pageTags() {
  const text = pending.map((c) => callText(c.destination === "ga4" ? "gtag" : "fbq", c.args));
  pending = [];
  $("tags").textContent = `Page tags: ${text.join(" · ")}`;
}

// ---- the panel ----------------------------------------------------------------------------

let count = 0;

function destinationRow(label, className, body) {
  return el("div", `dest ${className}`, el("span", "dest-label", label), body);
}

function code(text) {
  return el("code", "call", text);
}

function verdictBadge(v) {
  if (v.ok) return el("span", "badge ok", "accepted");
  return el("span", `badge ${v.ignored ? "ignored" : "rejected"}`, v.ignored ? "ignored" : "rejected");
}

function sourceText(v) {
  if (v.source === "track") return "analytics.track() on this page";
  const origin = v.origin || "an unknown origin";
  return v.origin === widgetOrigin
    ? `message from ${origin} (the widget)`
    : `message from ${origin} (not on the allowlist)`;
}

function ga4Body(v, calls) {
  const sent = calls.filter((c) => c.destination === "ga4");
  if (sent.length) return el("div", "", ...sent.map((c) => code(callText("gtag", c.args))));
  if (!v.ok) return el("span", "none", "nothing sent");
  return el("span", "none", v.ga4 ? "not sent (no GA4 measurement ID)" : "not sent: this event is not forwarded to GA4");
}

function metaBody(v, calls) {
  const sent = calls.filter((c) => c.destination === "meta");
  if (sent.length) return el("div", "", ...sent.map((c) => code(callText("fbq", c.args))));
  if (!v.ok) return el("span", "none", "nothing sent");
  return el("span", "none", v.name === "Schedule"
    ? "not sent: the widget's own Schedule; the page's copy comes from booked, so Meta counts it once"
    : "not sent: this event is not forwarded to Meta");
}

function companionBody(v) {
  if (!config.companion) return el("span", "none", "no companion configured (scripts/demo.sh configures one)");
  if (v.companion === "queued") {
    return el("span", "", "queued for /api/collect → Meta Conversions API",
      v.ga4 ? " and GA4 Measurement Protocol (gtag.js is not loaded here: after 5 s waiting for it to read dataLayer, the copy goes as not delivered in the browser)" : "");
  }
  if (v.companion === "waiting") return el("span", "none", "waits in memory for the visitor's consent");
  return el("span", "none", "nothing sent");
}

function reasons(v) {
  const items = [...v.problems, ...v.warnings];
  if (!items.length) return null;
  return el("ul", "reasons", ...items.map((p) => el("li", "", el("b", "", p.rule), " ", p.message)));
}

function card(v, calls) {
  count += 1;
  const state = v.ok ? "is-ok" : v.ignored ? "is-ignored" : "is-rejected";
  const item = el("li", `event ${state}`,
    el("div", "event-head",
      el("span", "event-no", `#${count}`),
      el("strong", "event-name", v.name ?? "(no name)"),
      verdictBadge(v),
      el("time", "", new Date().toLocaleTimeString("en-GB"))),
    el("div", "event-source", sourceText(v)),
    reasons(v),
    destinationRow("GA4", "ga4", ga4Body(v, calls)),
    destinationRow("Meta", "meta", metaBody(v, calls)),
    destinationRow("Companion", "companion", companionBody(v)));
  item.dataset.name = v.name ?? "";
  return item;
}

function renderStats(s) {
  const cells = [
    ["received", s.received], ["accepted", s.accepted], ["rejected", s.rejected],
    ["ignored", s.ignored], ["to GA4", s.forwarded.ga4], ["to Meta", s.forwarded.meta],
    ...(config.companion ? [["outbox", s.outbox.pending], ["to companion", s.outbox.sent]] : []),
  ];
  $("stats").replaceChildren(...cells.map(([k, n]) => el("div", "stat", el("dd", "", String(n)), el("dt", "", k))));
}

// ---- the integration ------------------------------------------------------------------------

await init();
pageTags();

const verdicts = [];
const analytics = new BookingAnalytics({
  ga4: { measurementId: "G-DEMO000001" },
  meta: { pixelId: "1234567890123456" },
  widgetOrigins: [widgetOrigin],
  // The server-side copy, when scripts/demo.sh configured a site on the companion.
  ...(config.companion ? { companion: { url: `${location.origin}/api/collect`, ...config.companion } } : {}),
  onVerdict(verdict) {
    // The module calls gtag and fbq before it reports the verdict: what was recorded since
    // the last verdict belongs to this one.
    const calls = pending;
    pending = [];
    verdicts.push(verdict);
    $("empty").hidden = true;
    $("events").prepend(card(verdict, calls));
    renderStats(analytics.stats());
  },
});
analytics.listen();
renderStats(analytics.stats());
// The outbox empties in the background: keep the counters current.
if (config.companion) setInterval(() => renderStats(analytics.stats()), 1000);

// Exposed for the curious (and the end-to-end tests).
window.demo = { analytics, verdicts, widgetOrigin };

// The widget loads only now, so that its first message (widget_loaded) finds the listener.
$("widget").src = `${widgetOrigin}/`;

if (config.registerUrl) {
  const link = $("register-link");
  link.href = config.registerUrl;
  link.target = "_blank";
  link.rel = "noopener";
  link.hidden = false;
}
document.body.dataset.ready = "true";
