// RudderStack (@rudderstack/analytics-js), its `/bundled` export: the plugins are inside the
// file (the default export would fetch them from RudderStack's CDN at run time, so its
// single-file size would understate what a page downloads). The source configuration is
// given by `getSourceConfig` (no config fetch) with no device-mode destinations; events go
// to the data plane = the local sink (XhrQueue plugin, the SDK's default transport).
import { RudderAnalytics } from "@rudderstack/analytics-js/bundled";

// Ready = the SDK's `ready` callback: configuration processed, plugins and (zero)
// destinations loaded. (track() before that is buffered by the SDK, not processed.)
export function setup({ sink }) {
  const analytics = new RudderAnalytics();
  return new Promise((resolve) => {
    analytics.load("bench-write-key", `${sink}/sink/rudderstack`, {
      getSourceConfig: () => ({
        source: {
          id: "bench-source", name: "bench", workspaceId: "bench-workspace", enabled: true,
          config: {}, destinations: [],
        },
      }),
      logLevel: "ERROR",
    });
    analytics.ready(() => resolve({ track: (name, params) => analytics.track(name, params) }));
  });
}
