// Snowplow (@snowplow/browser-tracker), the npm package's ES module entry. One tracker with
// the collector at the local sink and the SDK's defaults otherwise (POST, buffer size 1,
// localStorage-backed outbound queue, the webPage context).
import { newTracker, trackSelfDescribingEvent } from "@snowplow/browser-tracker";

// Ready = newTracker() returned (it is synchronous): track calls are processed from here on.
// The widget events are sent as self-describing events, Snowplow's form for an arbitrary
// named event with a JSON payload.
export function setup({ sink }) {
  newTracker("bench", `${sink}/sink/snowplow`, { appId: "bench", platform: "web" });
  return {
    track: (name, params) =>
      trackSelfDescribingEvent({
        event: { schema: "iglu:io.altegio/widget_event/jsonschema/1-0-0", data: { name, params } },
      }),
  };
}
