// Plausible (@plausible-analytics/tracker), its only entry. Pageviews off (none of the other
// set-ups sends one either); `captureOnLocalhost` on, or it ignores every event on
// 127.0.0.1; events go to the local sink.
import { init, track } from "@plausible-analytics/tracker";

// Ready = init() returned (synchronous).
// Plausible's custom properties are flat strings only, so each event's params are reduced to
// their top-level scalars as strings (arrays/objects as JSON) before the call - that
// conversion is counted in Plausible's time, as a site would have to do it.
export function setup({ sink }) {
  init({
    domain: "bench.example",
    endpoint: `${sink}/sink/plausible/api/event`,
    autoCapturePageviews: false,
    captureOnLocalhost: true,
    logging: false,
    bindToWindow: false,
  });
  return {
    track: (name, params) => {
      const props = {};
      for (const key in params) {
        const v = params[key];
        props[key] = typeof v === "object" && v !== null ? JSON.stringify(v) : String(v);
      }
      track(name, { props });
    },
  };
}
