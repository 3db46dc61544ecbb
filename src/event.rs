//! What the checks say about one event: problems, warnings and the verdict.

use crate::prelude::*;

use crate::text::{push_number, push_quoted};
use crate::value::Value;

/// The rule a problem or warning is about. Its code is stable and shown to JavaScript.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rule {
    /// A value has the wrong type.
    Type,
    /// A required field is missing.
    Required,
    /// The event name breaks GA4's syntax (letters, digits, `_`, starting with a letter).
    NameSyntax,
    /// The event name is longer than GA4 allows.
    NameLength,
    /// The event name is reserved by GA4.
    ReservedName,
    /// The event name starts with a prefix GA4 reserves.
    ReservedPrefix,
    /// The event is not in the catalogue and strict mode is on.
    UnknownEvent,
    /// The payload is larger or deeper than the module accepts.
    TooLarge,
    /// A value is of a kind that cannot be forwarded (function, symbol, bigint, NaN…).
    Unsupported,
    /// A value looks like personal data and was removed.
    Pii,
    /// A parameter name GA4 would refuse; the parameter was not sent to GA4.
    ParamName,
    /// More parameters than GA4 takes; the rest were not sent to GA4.
    ParamCount,
    /// A string longer than GA4 keeps; it was cut.
    ValueLength,
    /// A message from an origin outside the allowlist.
    Origin,
    /// A message that is not `{action: string, params?: object}`.
    Shape,
    /// An event already forwarded (same name and event id).
    Duplicate,
    /// A destination could not be called.
    Delivery,
    /// Held back or dropped for want of consent.
    Consent,
}

impl Rule {
    /// The code shown to JavaScript in `problem.rule`.
    pub fn code(self) -> &'static str {
        // A countdown loop: `nth` cost 36 B gzip more.
        let mut index = self as usize;
        for code in crate::text::split_byte(RULE_CODES, b' ') {
            if index == 0 {
                return code;
            }
            index -= 1;
        }
        ""
    }
}

/// The rules' codes in the order of [`Rule`]'s variants, separated by spaces. (One string
/// searched by index: a `match` compiled to tables of 18 pointers and 18 lengths.)
const RULE_CODES: &str = concat!(
    "type required name_syntax name_length reserved_name reserved_prefix unknown_event ",
    "too_large unsupported pii param_name param_count value_length origin shape duplicate ",
    "delivery consent",
);

/// One finding about an event: where (`path`), which rule, and a sentence for people.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// Where in the message, e.g. `params.appointments[0].services[1]`.
    pub path: String,
    /// The rule concerned.
    pub rule: Rule,
    /// The whole sentence, starting with the path, e.g.
    /// `params.appointments[0].services[1]: expected a number, got "abc"`.
    pub message: String,
}

impl Problem {
    /// A finding at `path` about `rule`, explained by `detail`.
    pub fn new(path: &str, rule: Rule, detail: &str) -> Problem {
        Problem {
            path: path.to_string(),
            rule,
            message: String::from(path) + ": " + detail,
        }
    }

    /// A type mismatch: `<path>: expected <expected>, got <what was there>`.
    pub fn type_mismatch(path: &str, expected: &str, got: &Value) -> Problem {
        // The message built in place, not a detail copied by `Problem::new`.
        let mut message = String::from(path);
        message.push_str(": expected ");
        message.push_str(expected);
        message.push_str(", got ");
        match got {
            Value::String(s) => push_quoted(&mut message, s),
            Value::Number(n) => push_number(&mut message, *n),
            other => message.push_str(other.type_name()),
        }
        Problem {
            path: path.to_string(),
            rule: Rule::Type,
            message,
        }
    }
}

/// An event that passed the checks, in normalised form (its name is the verdict's).
#[derive(Clone, Debug, PartialEq)]
pub struct CheckedEvent {
    /// The parameters: known fields typed and normalised, unknown ones kept when they passed
    /// the PII rule and the size limits. Always an object.
    pub params: Value,
    /// Whether the name is in the catalogue.
    pub known: bool,
}

/// Where an event came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// `analytics.track(...)` called by page code.
    Track,
    /// A `message` event from the widget's iframe.
    Message,
}

impl Source {
    /// The code shown to JavaScript.
    pub fn code(self) -> &'static str {
        match self {
            Source::Track => "track",
            Source::Message => "message",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_rule_has_its_code() {
        let rules = [
            (Rule::Type, "type"),
            (Rule::Required, "required"),
            (Rule::NameSyntax, "name_syntax"),
            (Rule::NameLength, "name_length"),
            (Rule::ReservedName, "reserved_name"),
            (Rule::ReservedPrefix, "reserved_prefix"),
            (Rule::UnknownEvent, "unknown_event"),
            (Rule::TooLarge, "too_large"),
            (Rule::Unsupported, "unsupported"),
            (Rule::Pii, "pii"),
            (Rule::ParamName, "param_name"),
            (Rule::ParamCount, "param_count"),
            (Rule::ValueLength, "value_length"),
            (Rule::Origin, "origin"),
            (Rule::Shape, "shape"),
            (Rule::Duplicate, "duplicate"),
            (Rule::Delivery, "delivery"),
            (Rule::Consent, "consent"),
        ];
        for (rule, code) in rules {
            assert_eq!(rule.code(), code, "{rule:?}");
        }
    }
}
