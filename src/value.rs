//! A JSON-like value: what an event's parameters are made of once they leave JavaScript.
//!
//! The core works on this type so that it can be tested natively, without a browser.

use crate::prelude::*;

/// One parameter value. Objects keep their keys in the order they arrived.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// `null` or `undefined`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// Any JavaScript number (it may be non-finite; the checks reject those).
    Number(f64),
    /// A string.
    String(String),
    /// An array.
    Array(Vec<Value>),
    /// A plain object, as key/value pairs in their original order.
    Object(Vec<(String, Value)>),
}

impl Value {
    /// The value under `key` when `self` is an object.
    pub fn get(&self, key: &str) -> Option<&Value> {
        if let Value::Object(entries) = self {
            for (k, v) in entries {
                if k == key {
                    return Some(v);
                }
            }
        }
        None
    }

    /// The article and type name used in messages, e.g. "a string".
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Number(_) => "a number",
            Value::String(_) => "a string",
            Value::Array(_) => "an array",
            Value::Object(_) => "an object",
        }
    }

    /// The string inside, if this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }
}

/// Sample values shared by the unit tests of several modules.
#[cfg(test)]
pub(crate) mod tests_support {
    use super::Value;

    fn s(v: &str) -> Value {
        Value::String(v.to_string())
    }

    fn n(v: f64) -> Value {
        Value::Number(v)
    }

    fn obj(entries: Vec<(&str, Value)>) -> Value {
        Value::Object(
            entries
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
        )
    }

    /// A `booked` payload as the widget posts it, with two appointments.
    pub fn booking_with_two_appointments() -> Value {
        obj(vec![
            (
                "appointments",
                Value::Array(vec![
                    obj(vec![
                        ("services", Value::Array(vec![n(101.0), s("102")])),
                        ("staff_id", n(7.0)),
                        ("datetime", s("2026-11-23T10:00:00+03:00")),
                        ("chargeStatus", s("not_paid")),
                        ("custom_fields", Value::Array(vec![])),
                        ("id", n(555.0)),
                    ]),
                    obj(vec![
                        ("services", Value::Array(vec![n(102.0), n(103.0)])),
                        ("staff_id", s("7")),
                        ("datetime", s("2026-11-23T11:00:00+03:00")),
                        ("id", n(556.0)),
                    ]),
                ]),
            ),
            ("code", s("X7Y2")),
            ("companyId", n(42.0)),
            ("companyName", s("Studio Bloom")),
            ("isMobile", Value::Bool(true)),
            ("event_id", s("evt-1")),
        ])
    }
}
