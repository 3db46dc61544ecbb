// Loaded (classic script, before anything else) on the per-event and memory pages only:
// replaces the page's network transports with no-op stand-ins that answer at once, so the
// peers' per-event figures measure the SDK's own work, as ours is measured with gtag/fbq as
// no-op functions. Requests to the sink only (/sink/...; every peer's transport points
// there); what they were asked to send is counted in window.__benchSent.
(() => {
  const sent = (window.__benchSent = { fetch: 0, xhr: 0, beacon: 0 });
  const realFetch = window.fetch.bind(window);
  // Only transports are stubbed: our module's own wasm (and anything not a request to the
  // sink) is still fetched for real.
  const isSink = (input) => new URL(input instanceof Request ? input.url : String(input), location.href).pathname.startsWith("/sink/");
  window.fetch = function fetch(input, init) {
    if (!isSink(input)) return realFetch(input, init);
    sent.fetch += 1;
    return Promise.resolve(new Response("{}", { status: 200, headers: { "content-type": "application/json" } }));
  };
  navigator.sendBeacon = function sendBeacon() { sent.beacon += 1; return true; };
  class StubXHR extends EventTarget {
    constructor() {
      super();
      Object.assign(this, { readyState: 0, status: 0, statusText: "", responseText: "", response: "",
        responseType: "", responseURL: "", timeout: 0, withCredentials: false, upload: new EventTarget(),
        onreadystatechange: null, onload: null, onloadend: null, onerror: null, ontimeout: null, onabort: null });
    }
    open(method, url) { this.responseURL = String(url); this.readyState = 1; }
    setRequestHeader() {}
    overrideMimeType() {}
    getResponseHeader() { return null; }
    getAllResponseHeaders() { return ""; }
    abort() {}
    send() {
      sent.xhr += 1;
      Promise.resolve().then(() => {
        Object.assign(this, { readyState: 4, status: 200, statusText: "OK", responseText: "OK", response: "OK" });
        for (const type of ["readystatechange", "load", "loadend"]) {
          const event = new ProgressEvent(type);
          this[`on${type}`]?.call(this, event);
          this.dispatchEvent(event);
        }
      });
    }
  }
  for (const [k, v] of Object.entries({ UNSENT: 0, OPENED: 1, HEADERS_RECEIVED: 2, LOADING: 3, DONE: 4 })) {
    StubXHR[k] = v; StubXHR.prototype[k] = v;
  }
  window.XMLHttpRequest = StubXHR;
})();
