//! GA4's rules (names, reserved words, limits) and the GA4 form of an event.

use crate::prelude::*;

use crate::event::{Problem, Rule};
use crate::flatten::{copy_params, copy_scalar, FlatParams};
use crate::text::{concat, cut_chars, push_quoted, push_u64};
use crate::value::Value;

/// Longest event or parameter name GA4 keeps.
pub const MAX_NAME_LENGTH: usize = 40;
/// Most parameters GA4 keeps on one event.
pub const MAX_PARAMS: usize = 25;
/// Longest string parameter value GA4 keeps, in characters.
pub const MAX_VALUE_LENGTH: usize = 100;

/// Prefixes GA4 reserves for event and parameter names, separated by spaces.
pub const RESERVED_PREFIXES: &str = "google_ ga_ firebase_";

/// Event names GA4 reserves, separated by spaces (any name starting with `notification_` too).
pub const RESERVED_NAMES: &str = concat!(
    "ad_activeview ad_click ad_exposure ad_impression ad_query ad_reward ",
    "adunit_exposure app_background app_clear_data app_exception app_install ",
    "app_remove app_store_refund app_store_subscription_cancel ",
    "app_store_subscription_convert app_store_subscription_renew app_update ",
    "app_upgrade dynamic_link_app_open dynamic_link_app_update ",
    "dynamic_link_first_open error first_open first_visit in_app_purchase os_update ",
    "screen_view session_start session_start_with_rollout user_engagement",
);

/// An event as it goes to GA4: `gtag('event', name, {...params, send_to})`.
#[derive(Debug, PartialEq)]
pub struct Ga4Event {
    /// The GA4 event name.
    pub name: String,
    /// At most 25 parameters, names valid, strings at most 100 characters.
    pub params: FlatParams,
}

/// By hand, through [`copy_params`] (smaller than the derived clone).
impl Clone for Ga4Event {
    fn clone(&self) -> Ga4Event {
        Ga4Event {
            name: self.name.clone(),
            params: copy_params(&self.params),
        }
    }
}

/// Letters, digits and `_`, starting with a letter (ASCII only: bytes suffice, a multi-byte
/// character's bytes are none of these).
fn is_name_syntax(name: &str) -> bool {
    name.as_bytes().first().is_some_and(u8::is_ascii_alphabetic) && is_word(name)
}

/// Whether `name` is only ASCII letters, digits and `_` (GA4's and Meta's name alphabet).
pub fn is_word(name: &str) -> bool {
    for b in name.bytes() {
        if !(b.is_ascii_alphanumeric() || b == b'_') {
            return false;
        }
    }
    true
}

// A plain loop: `find` with a closure costs 12 B gzip more in the wasm.
#[allow(clippy::manual_find)]
fn reserved_prefix(name: &str) -> Option<&str> {
    for prefix in crate::text::split_byte(RESERVED_PREFIXES, b' ') {
        if name.starts_with(prefix) {
            return Some(prefix);
        }
    }
    None
}

/// Checks an event name against GA4's rules; the error gives the rule and a sentence.
pub fn check_event_name(name: &str) -> Result<(), (Rule, String)> {
    let length = crate::text::char_count(name);
    if length > MAX_NAME_LENGTH {
        let mut detail = String::from("GA4 event names have at most 40 characters, this one has ");
        push_u64(&mut detail, length as u64);
        return Err((Rule::NameLength, detail));
    }
    // One message build for the three rules that quote a name.
    let (rule, before, quoted_part, after) = if !is_name_syntax(name) {
        (
            Rule::NameSyntax,
            "",
            name,
            " is not a GA4 event name (letters, digits and _, starting with a letter)",
        )
    } else if let Some(prefix) = reserved_prefix(name) {
        (
            Rule::ReservedPrefix,
            "the prefix ",
            prefix,
            " is reserved by GA4",
        )
    } else if crate::catalog::in_word_list(RESERVED_NAMES, name)
        || name.starts_with("notification_")
    {
        (
            Rule::ReservedName,
            "",
            name,
            " is an event name reserved by GA4",
        )
    } else {
        return Ok(());
    };
    Err((rule, quoting(before, quoted_part, after)))
}

/// `before`, then `name` quoted (see [`quoted`]), then `after`: the messages about a name.
fn quoting(before: &str, name: &str, after: &str) -> String {
    let mut detail = String::from(before);
    push_quoted(&mut detail, name);
    detail.push_str(after);
    detail
}

/// Why GA4 would refuse a parameter name, if it would.
pub fn param_name_problem(name: &str) -> Option<&'static str> {
    if crate::text::char_count(name) > MAX_NAME_LENGTH {
        Some("not sent to GA4: parameter names have at most 40 characters")
    } else if !is_name_syntax(name) {
        Some("not sent to GA4: parameter names are letters, digits and _, starting with a letter")
    } else if reserved_prefix(name).is_some() {
        Some("not sent to GA4: the prefixes google_, ga_ and firebase_ are reserved")
    } else if name == "send_to" {
        Some("not sent to GA4: send_to is set by the module to the measurement ID")
    } else {
        None
    }
}

/// The GA4 form of an event named `name` (already checked) with flat `params`. What GA4 would
/// silently drop or cut is dropped or cut here, each with a warning.
pub fn to_ga4(name: String, params: &FlatParams, warnings: &mut Vec<Problem>) -> Ga4Event {
    let mut out = FlatParams::new();
    for (param, value) in params {
        let path = concat(&["ga4.params.", param]);
        if let Some(why) = param_name_problem(param) {
            warnings.push(Problem::new(&path, Rule::ParamName, why));
            continue;
        }
        if out.len() == MAX_PARAMS {
            warnings.push(Problem::new(
                &path,
                Rule::ParamCount,
                "not sent to GA4: an event has at most 25 parameters",
            ));
            continue;
        }
        let value = match value {
            Value::String(s) => match cut_chars(s, MAX_VALUE_LENGTH) {
                Some(short) => {
                    warnings.push(Problem::new(
                        &path,
                        Rule::ValueLength,
                        "cut to the 100 characters GA4 keeps",
                    ));
                    Value::String(short)
                }
                None => copy_scalar(value),
            },
            _ => copy_scalar(value),
        };
        out.push((param.clone(), value));
    }
    Ga4Event { name, params: out }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::u64_to_string;

    #[test]
    fn names_follow_ga4_syntax_and_reservations() {
        assert!(check_event_name("booked").is_ok());
        assert!(check_event_name(&"a".repeat(40)).is_ok());
        assert_eq!(
            check_event_name(&"a".repeat(41)).map_err(|e| e.0),
            Err(Rule::NameLength)
        );
        assert_eq!(
            check_event_name("_x").map_err(|e| e.0),
            Err(Rule::NameSyntax)
        );
        assert_eq!(
            check_event_name("a-b").map_err(|e| e.0),
            Err(Rule::NameSyntax)
        );
        assert_eq!(
            check_event_name("ga_x").map_err(|e| e.0),
            Err(Rule::ReservedPrefix)
        );
        assert_eq!(
            check_event_name("firebase_x").map_err(|e| e.0),
            Err(Rule::ReservedPrefix)
        );
        assert_eq!(
            check_event_name("first_visit").map_err(|e| e.0),
            Err(Rule::ReservedName)
        );
        assert_eq!(
            check_event_name("notification_x").map_err(|e| e.0),
            Err(Rule::ReservedName)
        );
        let long = check_event_name(&"b".repeat(57));
        assert_eq!(
            long.map_err(|e| e.1),
            Err("GA4 event names have at most 40 characters, this one has 57".to_string())
        );
    }

    #[test]
    fn limits_drop_or_cut_with_a_warning_each() {
        let mut params: FlatParams = (0..30)
            .map(|i| (concat(&["p", &u64_to_string(i)]), Value::Number(1.0)))
            .collect();
        params.insert(0, ("long".into(), Value::String("x".repeat(150))));
        params.insert(1, ("ga_secret".into(), Value::Number(1.0)));
        params.insert(2, ("send_to".into(), Value::String("G-OTHER".into())));
        params.insert(3, ("x".repeat(41), Value::Number(1.0)));
        let mut warnings = Vec::new();
        let event = to_ga4("booked".into(), &params, &mut warnings);
        assert_eq!(event.params.len(), 25);
        assert_eq!(event.params[0].1, Value::String("x".repeat(100)));
        let rules: Vec<Rule> = warnings.iter().map(|w| w.rule).collect();
        let mut expected = vec![
            Rule::ValueLength,
            Rule::ParamName,
            Rule::ParamName,
            Rule::ParamName,
        ];
        expected.extend([Rule::ParamCount; 6]);
        assert_eq!(rules, expected);
        assert_eq!(
            warnings[0].message,
            "ga4.params.long: cut to the 100 characters GA4 keeps"
        );
        assert_eq!(warnings[4].path, "ga4.params.p24");
    }
}
