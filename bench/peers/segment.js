// Segment (@segment/analytics-next), the npm package's browser entry, as a site ships it.
// The CDN settings are passed in (`cdnSettings`), so no settings fetch happens; the only
// destination is Segment's own "Segment.io" plugin, pointed at the local sink.
import { AnalyticsBrowser } from "@segment/analytics-next";

// Ready = the promise of AnalyticsBrowser.load() resolved: settings applied, plugins
// (including the Segment.io destination) registered and loaded; `analytics.track` goes
// straight into the event queue from here on.
export async function setup({ sink }) {
  const segmentio = { apiKey: "bench-write-key", apiHost: `${new URL(sink).host}/sink/segment/v1`, protocol: "http" };
  const [analytics] = await AnalyticsBrowser.load(
    {
      writeKey: "bench-write-key",
      cdnSettings: { integrations: { "Segment.io": segmentio }, plan: {}, remotePlugins: [] },
    },
    // Also in the load options: Segment sends its own performance metrics to this apiHost
    // (by default api.segment.io), so they too go to the sink.
    { integrations: { "Segment.io": { apiHost: segmentio.apiHost, protocol: "http" } } },
  );
  return {
    // track() returns a promise that resolves once the event went through the plugins and
    // was handed to the Segment.io destination; the bench awaits them as the "drain".
    track: (name, params) => analytics.track(name, params),
  };
}
