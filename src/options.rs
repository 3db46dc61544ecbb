//! The constructor's options, checked. Every error names the option and the rule; unknown
//! keys are refused so that a typo (`measurementID`) does not pass silently.

use crate::config::{self, Config, Destination, IdRule, Override};
use crate::consent::Consent;
use crate::origin::Allowlist;
use crate::prelude::*;
use crate::text::concat;
use crate::value::Value;

/// The options every key of which the module knows, space-separated (one string searched by
/// one loop: less code than a slice of names).
pub const KNOWN: &str = "ga4 meta widgetOrigins strict debug consent companion onVerdict";

/// The checked options (`onVerdict` is a function and is read by the browser side); the
/// default is what no options give.
#[derive(Debug, Default, PartialEq)]
pub struct Options {
    /// What the pipeline needs.
    pub config: Config,
    /// Log every verdict to the console.
    pub debug: bool,
}

/// Checks that `value` (the option `name`) is an object whose keys are all in `known`
/// (space-separated); the error for an unknown key lists the known ones.
fn only_known(value: &Value, name: &str, known: &str) -> Result<(), String> {
    let Value::Object(entries) = value else {
        return Err(concat(&[name, ": expected an object"]));
    };
    for (unknown, _) in entries {
        if !crate::catalog::in_word_list(known, unknown) {
            let mut message = concat(&[name, ".", unknown, ": unknown option (known: "]);
            // The list's spaces become `, ` (it is ASCII: each byte is a character).
            for b in known.bytes() {
                if b == b' ' {
                    message.push(',');
                }
                message.push(char::from(b));
            }
            message.push(')');
            return Err(message);
        }
    }
    Ok(())
}

/// The value of `object.key`, unless it is absent or null.
fn given<'a>(object: &'a Value, key: &str) -> Option<&'a Value> {
    object.get(key).filter(|v| !matches!(v, Value::Null))
}

/// The option `name`: true or false (absent: false), into `out`.
fn flag(options: &Value, name: &str, out: &mut bool) -> Result<(), String> {
    match given(options, name) {
        None => Ok(()),
        Some(Value::Bool(b)) => {
            *out = *b;
            Ok(())
        }
        Some(_) => Err(concat(&[name, ": expected true or false"])),
    }
}

/// What differs between the two destination options.
struct DestinationOption {
    /// `ga4` or `meta`.
    name: &'static str,
    /// The key of the ID.
    id_key: &'static str,
    /// The ID key and `events`, space-separated.
    known: &'static str,
    /// What the ID looks like.
    id_rule: IdRule,
}

/// The `ga4` option.
const GA4: DestinationOption = DestinationOption {
    name: "ga4",
    id_key: "measurementId",
    known: "measurementId events",
    id_rule: config::MEASUREMENT_ID,
};

/// The `meta` option.
const META: DestinationOption = DestinationOption {
    name: "meta",
    id_key: "pixelId",
    known: "pixelId events",
    id_rule: config::PIXEL_ID,
};

/// `ga4` or `meta`: `{<id_key>: string, events?: {name: string | false}}`, into `out`.
/// (Written in place rather than returned: moving the results costs more code than this.
/// The differences come as one constant: fewer arguments at both calls.)
fn destination(
    options: &Value,
    option: &DestinationOption,
    out: &mut Option<Destination>,
) -> Result<(), String> {
    let DestinationOption {
        name,
        id_key,
        known,
        ref id_rule,
    } = *option;
    let Some(value) = given(options, name) else {
        return Ok(());
    };
    only_known(value, name, known)?;
    let id = match value.get(id_key) {
        Some(Value::String(id)) => id,
        _ => return Err(concat(&[name, ".", id_key, ": expected a string"])),
    };
    config::check_id(id, id_rule)?;
    // Filled in place: on an error the whole configuration is dropped.
    let events = &mut out
        .insert(Destination {
            id: id.clone(),
            events: Vec::new(),
        })
        .events;
    if let Some(routes) = given(value, "events") {
        let Value::Object(routes) = routes else {
            return Err(concat(&[name, ".events: expected an object"]));
        };
        for (event, route) in routes {
            let why = match route {
                Value::String(to) => match config::rename_problem(name, to) {
                    None => {
                        events.push((event.clone(), Override::Rename(to.clone())));
                        continue;
                    }
                    Some(why) => why,
                },
                Value::Bool(false) => {
                    events.push((event.clone(), Override::Off));
                    continue;
                }
                // An owned message like `rename_problem`'s: then one path builds the error.
                _ => "expected a new event name or false".to_string(),
            };
            return Err(concat(&[name, ".events.", event, ": ", &why]));
        }
    }
    Ok(())
}

/// `widgetOrigins`: an array of origin patterns, into `out` (which keeps the widget's default
/// when the option is absent or null: `None`).
fn origins(value: Option<&Value>, out: &mut Allowlist) -> Result<(), String> {
    match value {
        None => {}
        Some(Value::Array(items)) => Allowlist::read_items(items, out)?,
        Some(_) => return Err("widgetOrigins: expected an array of origin strings".to_string()),
    }
    Ok(())
}

#[cfg(feature = "companion")]
mod companion;
#[cfg(feature = "companion")]
use companion::companion;

/// `companion` in the default build, which has no server-side copy: absent or null is fine,
/// anything else is refused with the build to use instead.
#[cfg(not(feature = "companion"))]
fn companion(value: Option<&Value>, _: &mut Option<config::Companion>) -> Result<(), String> {
    match value {
        None => Ok(()),
        Some(_) => Err(NO_COMPANION.to_string()),
    }
}

/// The error for `companion` in a build without the server-side copy.
#[cfg(not(feature = "companion"))]
const NO_COMPANION: &str = "companion: this build has no server-side copy; import \"altegio-analytics/companion\" (or \"altegio-analytics/companion/bundler\") to send one";

/// The error for `consent` in a build without Consent Mode (the default build: sites whose
/// consent platform tells gtag and fbq themselves need none of it here).
pub const NO_CONSENT: &str = "consent: this build has no Consent Mode; import \"altegio-analytics/consent\" (or \"altegio-analytics/consent/bundler\") to manage consent";

/// Reads and checks the options object (`Null` means none were given) onto `checked`, which
/// starts as `Options::default()`. (Filled in place rather than returned: moving the result
/// through `Result` costs more code.)
pub fn read(options: &Value, checked: &mut Options) -> Result<(), String> {
    if matches!(options, Value::Null) {
        return Ok(());
    }
    only_known(options, "options", KNOWN)?;
    let config = &mut checked.config;
    destination(options, &GA4, &mut config.ga4)?;
    destination(options, &META, &mut config.meta)?;
    origins(given(options, "widgetOrigins"), &mut config.origins)?;
    flag(options, "strict", &mut config.strict)?;
    if let Some(consent) = given(options, "consent") {
        if !cfg!(feature = "consent") {
            return Err(NO_CONSENT.to_string());
        }
        Consent::read_option(consent, &mut config.consent)?;
    }
    companion(given(options, "companion"), &mut config.companion)?;
    flag(options, "debug", &mut checked.debug)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::parse;

    fn read_json(text: &str) -> Result<Options, String> {
        read_value(&parse(text, "options").expect("valid JSON"))
    }

    fn read_value(options: &Value) -> Result<Options, String> {
        let mut checked = Options::default();
        read(options, &mut checked).map(|()| checked)
    }

    #[test]
    fn a_full_configuration_is_read() {
        let options = read_json(
            r#"{"ga4":{"measurementId":"G-ABC1234567","events":{"booked":"purchase","widget_loaded":false}},
                "meta":{"pixelId":"123456789012345"},"widgetOrigins":["https://*.alteg.io","http://127.0.0.1:8080"],
                "strict":true,"debug":true}"#,
        )
        .expect("valid");
        assert!(options.debug && options.config.strict);
        let ga4 = options.config.ga4.expect("ga4");
        assert_eq!(
            ga4.events[0],
            ("booked".into(), Override::Rename("purchase".into()))
        );
        assert_eq!(ga4.events[1], ("widget_loaded".into(), Override::Off));
        assert!(options.config.origins.allows("http://127.0.0.1:8080"));
        assert_eq!(read_value(&Value::Null), Ok(Options::default()));
    }

    #[cfg(feature = "companion")]
    #[test]
    fn a_companion_option_is_read() {
        let with_companion = read_json(
            r#"{"companion":{"url":"http://127.0.0.1:8080/api/collect","site":"salon-42","key":"0123456789abcdef"}}"#,
        )
        .expect("valid");
        assert_eq!(
            with_companion.config.companion,
            Some(config::Companion {
                url: "http://127.0.0.1:8080/api/collect".into(),
                site: "salon-42".into(),
                key: "0123456789abcdef".into()
            })
        );
    }

    #[cfg(not(feature = "consent"))]
    #[test]
    fn a_consent_option_names_the_build_that_has_one() {
        let options = r#"{"consent":{"mode":"basic"}}"#;
        assert_eq!(read_json(options), Err(NO_CONSENT.to_string()));
        assert_eq!(read_json(r#"{"consent":null}"#), Ok(Options::default()));
    }

    #[cfg(not(feature = "companion"))]
    #[test]
    fn a_companion_option_names_the_build_that_has_one() {
        let options = r#"{"companion":{"url":"https://c.example/api/collect","site":"s","key":"0123456789abcdef"}}"#;
        assert_eq!(read_json(options), Err(NO_COMPANION.to_string()));
        assert_eq!(read_json(r#"{"companion":null}"#), Ok(Options::default()));
    }

    #[test]
    fn every_bad_option_is_named_with_its_rule() {
        for (json, message) in [
            (r#"{"ga4":{"measurementId":"UA-1"}}"#, "ga4.measurementId: expected a GA4 measurement ID like \"G-XXXXXXXXXX\", got \"UA-1\""),
            (r#"{"ga4":{}}"#, "ga4.measurementId: expected a string"),
            (r#"{"ga4":"G-ABC1234567"}"#, "ga4: expected an object"),
            (r#"{"ga4":{"measurementID":"G-ABC1234567"}}"#, "ga4.measurementID: unknown option (known: measurementId, events)"),
            (r#"{"meta":{"pixelId":"12"}}"#, "meta.pixelId: expected a Meta Pixel ID (10 to 20 digits), got \"12\""),
            (r#"{"meta":{"pixelId":"123456789012345","events":{"booked":1}}}"#, "meta.events.booked: expected a new event name or false"),
            (r#"{"widgetOrigins":"https://x.alteg.io"}"#, "widgetOrigins: expected an array of origin strings"),
            (r#"{"widgetOrigins":["https://*.alteg.io",5]}"#, "widgetOrigins[1]: expected a string"),
            (r#"{"widgetOrigins":["http://*.alteg.io"]}"#, "widgetOrigins[0]: \"http://*.alteg.io\": a wildcard pattern must use https"),
            (r#"{"strict":"yes"}"#, "strict: expected true or false"),
            (r#"{"sendTo":"x"}"#, "options.sendTo: unknown option (known: ga4, meta, widgetOrigins, strict, debug, consent, companion, onVerdict)"),
            ("[]", "options: expected an object"),
        ] {
            assert_eq!(read_json(json).map(|_| ()), Err(message.to_string()), "{json}");
        }
    }

    #[cfg(feature = "companion")]
    #[test]
    fn every_bad_companion_option_is_named_with_its_rule() {
        for (json, message) in [
            (r#"{"companion":{"url":"https://c.example/api/collect?x=1","site":"s","key":"0123456789abcdef"}}"#, "companion.url: expected an absolute http(s) URL without query or fragment, got \"https://c.example/api/collect?x=1\""),
            (r#"{"companion":{"url":"/api/collect","site":"s","key":"0123456789abcdef"}}"#, "companion.url: expected an absolute http(s) URL without query or fragment, got \"/api/collect\""),
            (r#"{"companion":{"url":"https://c.example/api/collect","site":"a b","key":"0123456789abcdef"}}"#, "companion.site: expected the site ID configured on the companion (1 to 64 letters, digits, _ - .), got \"a b\""),
            (r#"{"companion":{"url":"https://c.example/api/collect","site":"s","key":"short"}}"#, "companion.key: expected the site's public key (16 to 128 letters, digits, _ -), got a shorter one"),
            (r#"{"companion":{"url":"https://c.example/api/collect","site":"s"}}"#, "companion.key: expected a string"),
            (r#"{"companion":{"url":"https://c.example/api/collect","site":"s","key":"0123456789abcdef","secret":1}}"#, "companion.secret: unknown option (known: url, site, key)"),
        ] {
            assert_eq!(read_json(json).map(|_| ()), Err(message.to_string()), "{json}");
        }
    }
}
