//! Consent Mode v2: what each destination may receive before and after the visitor decides.
//!
//! - With no `consent` option the site manages no consent, and everything is sent.
//! - `basic` mode: an event waits (in memory only: storing it on the device would itself need
//!   consent) until its destination's signal is decided; granted → sent in order, denied →
//!   dropped and counted.
//! - `advanced` mode: as Google's advanced mode, GA4 receives events at once with the consent
//!   state set (gtag.js then sends cookieless pings while `analytics_storage` is denied);
//!   Meta still waits, since its pixel sets cookies.
//!
//! GA4 needs `analytics_storage`; Meta Pixel needs `ad_storage`.

use crate::json::Object;
use crate::pipeline::Destination;
use crate::prelude::*;
use crate::text::concat;
use crate::value::Value;

/// The four Consent Mode v2 signals, in the order gtag lists them.
pub const SIGNALS: [&str; 4] = [
    "ad_storage",
    "analytics_storage",
    "ad_user_data",
    "ad_personalization",
];

/// Positions in `SIGNALS` (and in `Consent::granted`) of the signals the module reads.
const AD_STORAGE: usize = 0;
const ANALYTICS_STORAGE: usize = 1;
const AD_USER_DATA: usize = 2;

/// Most events held while waiting for a decision; beyond it the oldest is dropped (counted).
pub const MAX_WAITING: usize = 100;

/// How events are held back before consent is granted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Nothing goes to a destination before its consent is granted.
    Basic,
    /// GA4 receives events at once, with the consent state set; Meta waits.
    Advanced,
}

/// What may happen to an event at a destination now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gate {
    /// Send it.
    Send,
    /// Hold it until the visitor decides.
    Wait,
    /// Drop it: consent was denied.
    Drop,
}

/// The consent state: each signal granted (`true`) or denied, and whether the visitor decided.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Consent {
    /// `basic` or `advanced`.
    pub mode: Mode,
    /// Granted flags, in the order of `SIGNALS`.
    pub granted: [bool; 4],
    /// Whether `consent()` has been called (a decision, not the default).
    pub decided: bool,
}

fn index(signal: &str) -> Option<usize> {
    SIGNALS.iter().position(|s| *s == signal)
}

/// Reads `{ad_storage?, analytics_storage?, ad_user_data?, ad_personalization?}` onto
/// `granted`; `path` names the object in errors.
fn apply_signals(value: &Value, path: &str, granted: &mut [bool; 4]) -> Result<(), String> {
    let Value::Object(entries) = value else {
        return Err(concat(&[path, ": expected an object of consent signals"]));
    };
    for (key, v) in entries {
        let why = match (index(key).and_then(|i| granted.get_mut(i)), v.as_str()) {
            (Some(slot), Some("granted")) => {
                *slot = true;
                continue;
            }
            (Some(slot), Some("denied")) => {
                *slot = false;
                continue;
            }
            (Some(_), _) => ": expected \"granted\" or \"denied\"",
            (None, _) => ": unknown consent signal (known: ad_storage, analytics_storage, ad_user_data, ad_personalization)",
        };
        return Err(concat(&[path, ".", key, why]));
    }
    Ok(())
}

impl Consent {
    /// The `consent` option, for tests (the constructor reads it in place with `read_option`).
    #[cfg(test)]
    pub fn from_option(value: &Value) -> Result<Consent, String> {
        let mut consent = None;
        Consent::read_option(value, &mut consent)?;
        Ok(consent.expect("read_option fills it when it succeeds"))
    }

    /// Reads the `consent` option: `{mode?: "basic" | "advanced", default?: {signal: ...}}`,
    /// into `out`. Signals the default does not name are denied. (Filled in place: moving the
    /// result through `Result` cost more code in the constructor.)
    pub fn read_option(value: &Value, out: &mut Option<Consent>) -> Result<(), String> {
        let Value::Object(entries) = value else {
            return Err("consent: expected an object {mode, default}".to_string());
        };
        let consent = out.insert(Consent {
            mode: Mode::Basic,
            granted: [false; 4],
            decided: false,
        });
        for (key, v) in entries {
            let why = match key.as_str() {
                "mode" => match v.as_str() {
                    Some("basic") => {
                        consent.mode = Mode::Basic;
                        continue;
                    }
                    Some("advanced") => {
                        consent.mode = Mode::Advanced;
                        continue;
                    }
                    _ => ": expected \"basic\" or \"advanced\"",
                },
                "default" => {
                    apply_signals(v, "consent.default", &mut consent.granted)?;
                    continue;
                }
                _ => ": unknown option (known: mode, default)",
            };
            return Err(concat(&["consent.", key, why]));
        }
        Ok(())
    }

    /// The state before any consent management: everything granted and decided.
    pub fn unmanaged() -> Consent {
        Consent {
            mode: Mode::Basic,
            granted: [true; 4],
            decided: true,
        }
    }

    /// Whether the signal at this position in `SIGNALS` is granted.
    fn is_granted(&self, signal: usize) -> bool {
        self.granted.get(signal).copied().unwrap_or(false)
    }

    /// What may happen now to an event bound for `destination`.
    pub fn gate(&self, destination: Destination) -> Gate {
        // Advanced mode sends GA4 events before consent (cookieless pings).
        let sends_anyway = destination == Destination::Ga4 && self.mode == Mode::Advanced;
        self.gate_by_signal(destination, sends_anyway)
    }

    /// What may happen now to the companion's copy for `destination`: only a granted signal
    /// sends (`advanced` mode does not apply: a server-side copy is not a cookieless ping).
    pub fn companion_gate(&self, destination: Destination) -> Gate {
        self.gate_by_signal(destination, false)
    }

    /// Send when the destination's signal is granted (or `sends_anyway`), else drop once the
    /// visitor has decided, else wait.
    fn gate_by_signal(&self, destination: Destination, sends_anyway: bool) -> Gate {
        // Without the `consent` feature nothing is ever held: the compiler drops the rest.
        if !cfg!(feature = "consent") {
            return Gate::Send;
        }
        let signal = match destination {
            Destination::Ga4 => ANALYTICS_STORAGE,
            Destination::Meta => AD_STORAGE,
        };
        if sends_anyway || self.is_granted(signal) {
            Gate::Send
        } else if self.decided {
            Gate::Drop
        } else {
            Gate::Wait
        }
    }

    /// Whether hashed user data (advanced matching) may go to the companion: `ad_user_data`.
    pub fn user_data_granted(&self) -> bool {
        self.is_granted(AD_USER_DATA)
    }

    /// Applies a `consent(update)` call: the named signals change, the visitor has decided.
    /// Returns whether `ad_storage` was named (then Meta gets `fbq('consent', …)`).
    pub fn update(&mut self, update: &Value) -> Result<bool, String> {
        apply_signals(update, "consent", &mut self.granted)?;
        self.decided = true;
        Ok(update.get("ad_storage").is_some())
    }

    /// Whether Meta may set cookies (`fbq('consent', 'grant')`) or not (`'revoke'`).
    pub fn meta_granted(&self) -> bool {
        self.is_granted(AD_STORAGE)
    }

    /// `["consent","default",{"ad_storage":"denied",…}]`: gtag's consent command with this
    /// state as the default. (Written whole: no second string for the state.)
    pub fn gtag_default_json(&self) -> String {
        let mut out = String::from(r#"["consent","default","#);
        let mut object = Object::open(&mut out);
        for (signal, granted) in SIGNALS.iter().zip(&self.granted) {
            object.str(signal, if *granted { "granted" } else { "denied" });
        }
        object.close();
        out.push(']');
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::parse;

    #[test]
    fn the_signal_positions_name_the_signals() {
        assert_eq!(index("ad_storage"), Some(AD_STORAGE));
        assert_eq!(index("analytics_storage"), Some(ANALYTICS_STORAGE));
        assert_eq!(index("ad_user_data"), Some(AD_USER_DATA));
    }

    fn option(json: &str) -> Result<Consent, String> {
        Consent::from_option(&parse(json, "consent").expect("json"))
    }

    #[cfg(feature = "consent")]
    #[test]
    fn basic_mode_waits_then_sends_or_drops() {
        let mut consent =
            option(r#"{"mode":"basic","default":{"analytics_storage":"denied"}}"#).expect("valid");
        assert_eq!(consent.gate(Destination::Ga4), Gate::Wait);
        assert_eq!(consent.gate(Destination::Meta), Gate::Wait);
        let named_ads = consent
            .update(&parse(r#"{"analytics_storage":"granted"}"#, "u").expect("json"))
            .expect("valid");
        assert!(!named_ads);
        assert_eq!(consent.gate(Destination::Ga4), Gate::Send);
        assert_eq!(consent.gate(Destination::Meta), Gate::Drop);
    }

    #[cfg(not(feature = "consent"))]
    #[test]
    fn a_build_without_consent_mode_holds_nothing() {
        let denied = option(r#"{"mode":"basic"}"#).expect("valid");
        for destination in [Destination::Ga4, Destination::Meta] {
            assert_eq!(denied.gate(destination), Gate::Send);
            assert_eq!(denied.companion_gate(destination), Gate::Send);
        }
    }

    #[cfg(feature = "consent")]
    #[test]
    fn advanced_mode_sends_to_ga4_at_once_but_holds_meta() {
        let consent = option(r#"{"mode":"advanced"}"#).expect("valid");
        assert_eq!(consent.gate(Destination::Ga4), Gate::Send);
        assert_eq!(consent.gate(Destination::Meta), Gate::Wait);
        assert_eq!(
            consent.gtag_default_json(),
            r#"["consent","default",{"ad_storage":"denied","analytics_storage":"denied","ad_user_data":"denied","ad_personalization":"denied"}]"#
        );
    }

    #[test]
    fn without_consent_management_everything_is_sent() {
        let consent = Consent::unmanaged();
        assert_eq!(consent.gate(Destination::Ga4), Gate::Send);
        assert_eq!(consent.gate(Destination::Meta), Gate::Send);
    }

    #[test]
    fn bad_consent_options_name_the_field() {
        assert_eq!(
            option(r#"{"mode":"strict"}"#),
            Err("consent.mode: expected \"basic\" or \"advanced\"".into())
        );
        assert_eq!(
            option(r#"{"default":{"analytics_storage":"yes"}}"#),
            Err("consent.default.analytics_storage: expected \"granted\" or \"denied\"".into())
        );
        assert!(option(r#"{"default":{"analytics":"granted"}}"#)
            .expect_err("unknown")
            .starts_with("consent.default.analytics: unknown consent signal"));
        assert_eq!(
            option("[]"),
            Err("consent: expected an object {mode, default}".into())
        );
        let mut consent = Consent::unmanaged();
        assert!(consent
            .update(&parse(r#"{"ad_storage":1}"#, "u").expect("json"))
            .is_err());
    }
}
