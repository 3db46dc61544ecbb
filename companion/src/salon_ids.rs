//! Location (salon) IDs as the registration URL carries them.
//!
//! Altegio sends `?salon_id=1`, `?salon_ids[]=1&salon_ids[]=2` or `?salon_ids=1,2`; the module
//! passes them on as JSON. Accepted here: `salon_ids` as an array of integers or digit strings,
//! as a comma-separated string, or as one integer; `salon_id` as an integer or digit string.
//! The result is de-duplicated in first-seen order; anything that is not a positive integer
//! within `i64` is refused, naming the field and index.

use serde::{Deserialize, Deserializer};
use serde_json::Value;

use crate::error::AppError;

/// The most location IDs one request may carry (before de-duplication).
pub const MAX_SALON_IDS: usize = 100;

/// Reads one ID: a JSON integer or a string of ASCII digits, positive, within `i64`.
pub fn positive_id(value: &Value) -> Result<i64, String> {
    let got = || format!("expected a positive integer, got {value}");
    match value {
        Value::Number(n) => match n.as_i64() {
            Some(i) if i > 0 => Ok(i),
            _ => Err(got()),
        },
        Value::String(s) => {
            let t = s.trim();
            if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
                return Err(got());
            }
            match t.parse::<i64>() {
                Ok(i) if i > 0 => Ok(i),
                _ => Err(got()),
            }
        }
        _ => Err(got()),
    }
}

/// serde `deserialize_with` helper for a positive ID given as an integer or a digit string.
pub fn deserialize_positive_id<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    let v = Value::deserialize(d)?;
    positive_id(&v).map_err(serde::de::Error::custom)
}

fn invalid(field: String, message: String) -> AppError {
    AppError::invalid_field(
        "invalid_salon_id",
        field.clone(),
        format!("{field}: {message}"),
    )
}

/// Collects the IDs of one connect request from its `salon_ids` and `salon_id` fields
/// (`null` counts as absent). At least one and at most [`MAX_SALON_IDS`] are required.
pub fn collect(salon_ids: Option<&Value>, salon_id: Option<&Value>) -> Result<Vec<i64>, AppError> {
    let mut raw: Vec<(String, Value)> = Vec::new();
    match salon_ids {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) => {
            for (i, v) in items.iter().enumerate() {
                raw.push((format!("salon_ids[{i}]"), v.clone()));
            }
        }
        Some(Value::String(s)) => {
            if !s.trim().is_empty() {
                for (i, part) in s.split(',').enumerate() {
                    raw.push((
                        format!("salon_ids[{i}]"),
                        Value::String(part.trim().to_owned()),
                    ));
                }
            }
        }
        Some(v @ Value::Number(_)) => raw.push(("salon_ids".to_owned(), v.clone())),
        Some(other) => {
            let message = format!(
                "expected an array of positive integers or a comma-separated string, got {other}"
            );
            return Err(invalid("salon_ids".to_owned(), message));
        }
    }
    match salon_id {
        None | Some(Value::Null) => {}
        Some(v) => raw.push(("salon_id".to_owned(), v.clone())),
    }
    if raw.is_empty() {
        return Err(AppError::invalid_field(
            "missing_salon_ids",
            "salon_ids",
            "at least one location ID is required (salon_ids or salon_id)",
        ));
    }
    if raw.len() > MAX_SALON_IDS {
        return Err(AppError::invalid_field(
            "too_many_salon_ids",
            "salon_ids",
            format!(
                "at most {MAX_SALON_IDS} location IDs per request, got {}",
                raw.len()
            ),
        ));
    }
    let mut ids: Vec<i64> = Vec::with_capacity(raw.len());
    for (field, v) in raw {
        let id = positive_id(&v).map_err(|m| invalid(field, m))?;
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ok(ids: Value) -> Vec<i64> {
        collect(Some(&ids), None).unwrap()
    }

    fn err(ids: Value) -> (String, String) {
        match collect(Some(&ids), None).unwrap_err() {
            AppError::Invalid { field, message, .. } => (field.unwrap(), message),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn three_shapes() {
        assert_eq!(ok(json!([123, 456])), [123, 456]);
        assert_eq!(ok(json!(["123", "456"])), [123, 456]);
        assert_eq!(ok(json!("1,2, 3")), [1, 2, 3]);
        assert_eq!(collect(None, Some(&json!(7))).unwrap(), [7]);
        assert_eq!(collect(None, Some(&json!("7"))).unwrap(), [7]);
        assert_eq!(collect(Some(&json!(null)), Some(&json!(7))).unwrap(), [7]);
    }

    #[test]
    fn dedup_keeps_first_seen_order() {
        assert_eq!(ok(json!([3, 1, "3", 2, 1])), [3, 1, 2]);
        assert_eq!(
            collect(Some(&json!([5, 6])), Some(&json!(5))).unwrap(),
            [5, 6]
        );
    }

    #[test]
    fn bad_ids_name_field_and_index() {
        let (f, m) = err(json!([1, 2, "abc"]));
        assert_eq!(f, "salon_ids[2]");
        assert_eq!(m, r#"salon_ids[2]: expected a positive integer, got "abc""#);
        assert_eq!(err(json!([0])).0, "salon_ids[0]");
        assert_eq!(err(json!([1, -1])).0, "salon_ids[1]");
        assert_eq!(err(json!([1.5])).0, "salon_ids[0]");
        assert_eq!(err(json!([1.0])).0, "salon_ids[0]");
        assert_eq!(err(json!(["1e3"])).0, "salon_ids[0]");
        assert_eq!(err(json!(["+5"])).0, "salon_ids[0]");
        assert_eq!(err(json!([null])).0, "salon_ids[0]");
        assert_eq!(err(json!([[1]])).0, "salon_ids[0]");
        assert_eq!(err(json!(["9223372036854775808"])).0, "salon_ids[0]");
        assert_eq!(err(json!([18446744073709551615u64])).0, "salon_ids[0]");
        assert_eq!(err(json!("1,,2")).0, "salon_ids[1]");
        assert_eq!(err(json!("1,x")).0, "salon_ids[1]");
        assert_eq!(err(json!({"a": 1})).0, "salon_ids");
        assert_eq!(ok(json!(["9223372036854775807"])), [i64::MAX]);
    }

    #[test]
    fn at_least_one_at_most_max() {
        assert!(collect(None, None).is_err());
        assert!(collect(Some(&json!([])), None).is_err());
        assert!(collect(Some(&json!("")), None).is_err());
        let many: Vec<i64> = (1..=MAX_SALON_IDS as i64).collect();
        assert_eq!(ok(json!(many)).len(), MAX_SALON_IDS);
        let too_many: Vec<i64> = (1..=MAX_SALON_IDS as i64 + 1).collect();
        let (f, m) = err(json!(too_many));
        assert_eq!(f, "salon_ids");
        assert!(m.contains("at most 100"), "{m}");
    }
}
