//! Nested parameters become flat, scalar destination parameters (GA4 takes no nesting, and
//! Meta's reports read flat custom data best).
//!
//! The generic rule, applied to each parameter:
//! - keys become snake_case (`companyId` → `company_id`); nested object keys join their
//!   parent's with `_` (`{client: {city}}` → `client_city`);
//! - strings, numbers and booleans stay as they are; `null` is left out;
//! - an array of scalars becomes one comma-separated string (`[1, 2]` → `"1,2"`);
//! - an array holding objects or arrays becomes its length, as `<key>_count`.
//!
//! The booking rule, for `booked` and `group_record_created`, replaces `appointments` with a
//! summary: `appointment_count`, `service_ids` (distinct, comma-separated), `staff_ids`
//! (distinct), `record_ids`, `appointment_datetime` (the first appointment's), and renames
//! `companyId` → `company_id`, `companyName` → `company_name`, `code` → `booking_code`,
//! `isMobile` → `is_mobile`; `event_id` stays. The appointments' `chargeStatus` and
//! `custom_fields` are not forwarded (custom fields are free text typed by the client).
//! Other top-level fields follow the generic rule.

use crate::prelude::*;

use crate::catalog::Projection;
use crate::text::{push_number, snake_case};
use crate::value::Value;

/// Flat parameters in order; names are unique (the first of a clash wins). Each value is a
/// string, a finite number or a boolean.
pub type FlatParams = Vec<(String, Value)>;

/// Flattens the normalised parameters of an event by the rule its projection names.
pub fn flatten(params: &Value, projection: Projection) -> FlatParams {
    let mut out = FlatParams::new();
    let Value::Object(entries) = params else {
        return out;
    };
    for (key, value) in entries {
        match (projection, key.as_str()) {
            (Projection::Booking, "appointments") => booking_summary(value, &mut out),
            (Projection::Booking, "code") => push_scalar(&mut out, "booking_code", value),
            _ => generic(&snake_case(key), value, &mut out),
        }
    }
    out
}

fn push(out: &mut FlatParams, name: &str, value: Value) {
    if !out.iter().any(|(n, _)| n == name) {
        out.push((name.to_string(), value));
    }
}

fn push_scalar(out: &mut FlatParams, name: &str, value: &Value) {
    if let Some(scalar) = scalar(value) {
        push(out, name, scalar);
    }
}

fn scalar(value: &Value) -> Option<Value> {
    match value {
        Value::Number(n) if !n.is_finite() => None,
        Value::String(_) | Value::Number(_) | Value::Bool(_) => Some(copy_scalar(value)),
        _ => None,
    }
}

/// A copy of a flat value (a string, a number or a boolean; anything else is `Null`).
pub fn copy_scalar(value: &Value) -> Value {
    match value {
        Value::String(s) => Value::String(s.clone()),
        Value::Number(n) => Value::Number(*n),
        Value::Bool(b) => Value::Bool(*b),
        _ => Value::Null,
    }
}

/// A copy of flat parameters, for the forms' clones (a call that waits for consent keeps its
/// own copy). A push loop: the derived clones used `Vec`'s generic clone, 54 B gzip more.
pub fn copy_params(params: &FlatParams) -> FlatParams {
    let mut out = FlatParams::new();
    for (name, value) in params {
        out.push((name.clone(), copy_scalar(value)));
    }
    out
}

fn generic(name: &str, value: &Value, out: &mut FlatParams) {
    match value {
        Value::Null => {}
        Value::Array(items) => {
            // Joined in the same pass that finds whether every item is a scalar.
            let mut joined = String::new();
            let mut all_scalars = true;
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    joined.push(',');
                }
                all_scalars &= push_text(&mut joined, item);
            }
            if all_scalars {
                push(out, name, Value::String(joined));
            } else {
                let mut count = String::from(name);
                count.push_str("_count");
                push(out, &count, Value::Number(items.len() as f64));
            }
        }
        Value::Object(entries) => {
            for (key, value) in entries {
                let mut child = String::from(name);
                child.push('_');
                child.push_str(&snake_case(key));
                generic(&child, value, out);
            }
        }
        other => push_scalar(out, name, other),
    }
}

/// Appends the text of `value`; whether it is a scalar (a string, a finite number or a
/// boolean), as [`scalar`] would tell.
fn push_text(out: &mut String, value: &Value) -> bool {
    match value {
        Value::String(s) => out.push_str(s),
        Value::Number(n) => {
            push_number(out, *n);
            return n.is_finite();
        }
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        _ => return false,
    }
    true
}

/// Appends `value` to a comma-separated list unless it is already there.
fn push_distinct(list: &mut String, value: &Value) {
    let mut item = String::new();
    push_text(&mut item, value);
    if item.is_empty() || crate::text::split_byte(list, b',').any(|existing| existing == item) {
        return;
    }
    if !list.is_empty() {
        list.push(',');
    }
    list.push_str(&item);
}

/// Adds a comma-separated list of ids unless it is empty.
fn push_list(out: &mut FlatParams, name: &str, list: String) {
    if !list.is_empty() {
        push(out, name, Value::String(list));
    }
}

fn booking_summary(appointments: &Value, out: &mut FlatParams) {
    let Value::Array(items) = appointments else {
        return;
    };
    let (mut services, mut staff, mut records) = (String::new(), String::new(), String::new());
    for appointment in items {
        if let Some(Value::Array(ids)) = appointment.get("services") {
            ids.iter().for_each(|id| push_distinct(&mut services, id));
        }
        if let Some(id) = appointment.get("staff_id") {
            push_distinct(&mut staff, id);
        }
        if let Some(id) = appointment.get("id") {
            push_distinct(&mut records, id);
        }
    }
    push(out, "appointment_count", Value::Number(items.len() as f64));
    push_list(out, "service_ids", services);
    push_list(out, "staff_ids", staff);
    push_list(out, "record_ids", records);
    if let Some(datetime) = items.first().and_then(|a| a.get("datetime")) {
        push_scalar(out, "appointment_datetime", datetime);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::check;

    fn names(flat: &FlatParams) -> Vec<&str> {
        flat.iter().map(|(n, _)| n.as_str()).collect()
    }

    fn get<'a>(flat: &'a FlatParams, name: &str) -> Option<&'a Value> {
        flat.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    #[test]
    fn a_booking_becomes_a_summary_of_scalars() {
        let params = crate::value::tests_support::booking_with_two_appointments();
        let event = check("booked", params, false).event.expect("accepted");
        let flat = flatten(&event.params, Projection::Booking);
        assert_eq!(
            names(&flat),
            [
                "appointment_count",
                "service_ids",
                "staff_ids",
                "record_ids",
                "appointment_datetime",
                "booking_code",
                "company_id",
                "company_name",
                "is_mobile",
                "event_id"
            ]
        );
        assert_eq!(get(&flat, "appointment_count"), Some(&Value::Number(2.0)));
        assert_eq!(
            get(&flat, "service_ids"),
            Some(&Value::String("101,102,103".into()))
        );
        assert_eq!(get(&flat, "staff_ids"), Some(&Value::String("7".into())));
        assert_eq!(
            get(&flat, "record_ids"),
            Some(&Value::String("555,556".into()))
        );
        assert_eq!(get(&flat, "company_id"), Some(&Value::Number(42.0)));
        assert_eq!(get(&flat, "is_mobile"), Some(&Value::Bool(true)));
        assert_eq!(get(&flat, "event_id"), Some(&Value::String("evt-1".into())));
    }

    #[test]
    fn the_generic_rule_flattens_objects_and_arrays() {
        let params = Value::Object(vec![
            ("serviceId".into(), Value::Number(3.0)),
            (
                "tags".into(),
                Value::Array(vec![Value::String("a".into()), Value::Number(2.5)]),
            ),
            ("items".into(), Value::Array(vec![Value::Object(vec![])])),
            (
                "client".into(),
                Value::Object(vec![("cityName".into(), Value::String("Riga".into()))]),
            ),
            ("nothing".into(), Value::Null),
            ("service_id".into(), Value::Number(9.0)),
        ]);
        let flat = flatten(&params, Projection::Generic);
        assert_eq!(
            flat,
            vec![
                ("service_id".into(), Value::Number(3.0)),
                ("tags".into(), Value::String("a,2.5".into())),
                ("items_count".into(), Value::Number(1.0)),
                ("client_city_name".into(), Value::String("Riga".into())),
            ]
        );
    }
}
