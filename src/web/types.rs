//! The TypeScript types of the JS API: options, verdicts, stats and identity.

use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &'static str = r#"
/** A JSON-like value, as event parameters are made of. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** A widget event's parameters. */
export type EventParams = { [key: string]: unknown };

/** Per-event change of a destination's mapping: a new name, or `false` to not send it there. */
export type EventRoutes = { [widgetEventName: string]: string | false };

/** Options of `new BookingAnalytics(options)`. Unknown keys are refused. */
export interface BookingAnalyticsOptions {
  /** Forward to GA4 through `gtag` (or `window.dataLayer` when gtag is absent). */
  ga4?: {
    /** The site's GA4 measurement ID, `G-…`. */
    measurementId: string;
    /** Per-event renames (checked against GA4's name rules) or `false`. */
    events?: EventRoutes;
  };
  /** Forward to Meta Pixel through `fbq`. */
  meta?: {
    /** The site's Pixel ID (digits). */
    pixelId: string;
    /** Per-event renames (a standard name such as `"Lead"` goes out with `track`) or `false`. */
    events?: EventRoutes;
  };
  /**
   * Origins whose messages are accepted: exact (`"https://n1.alteg.io"`, or `http://` for a
   * local test page) or `"https://*.domain"` for https subdomains.
   * Default: `["https://*.alteg.io", "https://*.yclients.com"]`.
   */
  widgetOrigins?: string[];
  /** Reject event names that are not in the catalogue (default `false`: custom events pass). */
  strict?: boolean;
  /** Log every verdict to the console with its reasons (default `false`). */
  debug?: boolean;
  /** Called with every verdict: `track` calls and window messages, ignored ones included. */
  onVerdict?: (verdict: Verdict) => void;
}

/** A destination the module forwards to. */
export type Destination = "ga4" | "meta";

/** One finding about an event. */
export interface Problem {
  /** Where, e.g. `"params.appointments[0].services[1]"`. */
  path: string;
  /** The rule's code, e.g. `"type"`, `"required"`, `"name_syntax"`, `"pii"`, `"origin"`. */
  rule: string;
  /** The sentence, starting with the path: `params.x: expected a number, got "abc"`. */
  message: string;
}

/** What the module decided about one event or message. */
export interface Verdict {
  /** The event passed the checks. */
  ok: boolean;
  /** The message was not an event for us (origin off the allowlist, wrong shape, a repeat). */
  ignored: boolean;
  /** `"track"` for `track()` calls, `"message"` for window messages. */
  source: "track" | "message";
  /** The sender's origin (messages only). */
  origin: string | null;
  /** The event name, when there was one. */
  name: string | null;
  /** The normalised event, when accepted. */
  event: { name: string; params: { [key: string]: JsonValue } } | null;
  /** What was sent (or was to be sent) to GA4. */
  ga4: { name: string; params: { [key: string]: string | number | boolean } } | null;
  /** What was sent (or was to be sent) to Meta Pixel. */
  meta: {
    method: "track" | "trackCustom";
    name: string;
    params: { [key: string]: string | number | boolean };
    eventId: string;
  } | null;
  /** The destinations that took the event. */
  forwarded: Destination[];
  /** The destinations whose call waits, in memory, for the visitor's consent decision. */
  waiting: Destination[];
  /** Why it was rejected or ignored. */
  problems: Problem[];
  /** What was changed or failed without rejecting it (PII removed, a value cut, fbq missing). */
  warnings: Problem[];
  /**
   * The server-side copy (`altegio-analytics/companion` builds): `"queued"` in the outbox for
   * the companion, `"waiting"` in memory for the visitor's consent, or `null` (no companion,
   * not accepted, or consent denied).
   */
  companion: "queued" | "waiting" | null;
}

/** Counters since the instance was created; `received = accepted + rejected + ignored`. */
export interface Stats {
  received: number;
  accepted: number;
  rejected: number;
  ignored: number;
  ignoredBy: { origin: number; shape: number; duplicate: number };
  forwarded: { ga4: number; meta: number };
  failed: { ga4: number; meta: number };
  /** Calls held until the visitor decides, and calls dropped for want of consent. */
  consent: { waiting: number; dropped: number };
  /**
   * The outbox (companion copies and fbq calls made before fbq existed): entries waiting now,
   * delivered by this page, dropped (bounds, age, refused by the companion, unreadable), and
   * times localStorage failed (the outbox then lives in memory).
   */
  outbox: { pending: number; sent: number; dropped: number; storageFailures: number };
}

/** The visitor's identifiers on this site. */
export interface Identity {
  /** GA's client ID from the `_ga` cookie, `"<random>.<seconds>"`. */
  gaClientId: string | null;
  /** Meta's `_fbp` cookie. */
  fbp: string | null;
  /** Meta's `_fbc`: the cookie, or minted from the URL's `fbclid`. */
  fbc: string | null;
}
"#;

/// The additions of the builds with Consent Mode (`altegio-analytics/consent` and the companion
/// build; interfaces merge with the ones above).
#[cfg(feature = "consent")]
#[wasm_bindgen(typescript_custom_section)]
const CONSENT_TYPES: &'static str = r#"
export interface BookingAnalyticsOptions {
  /**
   * Consent Mode v2. Without it the site manages no consent and every event is sent. With it,
   * the defaults go to gtag (`gtag('consent', 'default', …)`) and fbq at once, and events wait
   * in memory until `consent(update)` decides: `basic` holds everything back, `advanced` sends
   * GA4 events at once with the consent state set (Meta still waits). GA4 needs
   * `analytics_storage`, Meta `ad_storage`.
   */
  consent?: ConsentOptions;
}

/** A Consent Mode v2 signal's value. */
export type ConsentSignal = "granted" | "denied";

/** The four Consent Mode v2 signals; a change names only those that change. */
export interface ConsentUpdate {
  ad_storage?: ConsentSignal;
  analytics_storage?: ConsentSignal;
  ad_user_data?: ConsentSignal;
  ad_personalization?: ConsentSignal;
}

/** The `consent` option. */
export interface ConsentOptions {
  /** `"basic"` (default): nothing is sent before consent; `"advanced"`: GA4 gets cookieless pings. */
  mode?: "basic" | "advanced";
  /** The state before the visitor decides; signals not named are `"denied"`. */
  default?: ConsentUpdate;
}
"#;

/// The `companion` build's additions (interfaces merge with the ones above).
#[cfg(feature = "companion")]
#[wasm_bindgen(typescript_custom_section)]
const COMPANION_TYPES: &'static str = r#"
export interface BookingAnalyticsOptions {
  /**
   * The server-side copy: accepted, consented events go to the companion's `/api/collect`
   * (batched, retried, beaconed on page exit), which delivers them to the Meta Conversions API
   * and, for events gtag.js did not process, to the GA4 Measurement Protocol.
   */
  companion?: CompanionOptions;
}

/** The `companion` option (see companion/README.md, "Sites"). */
export interface CompanionOptions {
  /** The absolute http(s) URL of the companion's `/api/collect`, without query or fragment. */
  url: string;
  /** The site's ID on the companion. */
  site: string;
  /** The site's public key (not a secret: the companion also checks the page's origin). */
  key: string;
}

/** `setUserData()`: hashed (SHA-256) in the page; only the hashes go, to the companion only. */
export interface UserData {
  email?: string | null;
  phone?: string | null;
}
"#;
