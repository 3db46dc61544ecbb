//! The checks: an incoming event against the catalogue, the GA4 name rules and the PII rule.
//! Pure: no browser needed, tested natively.

use crate::prelude::*;

use crate::catalog::{self, EventSpec, Field, Kind};
use crate::event::{CheckedEvent, Problem, Rule};
use crate::limits::MAX_DEPTH;
use crate::text::{push_u64, quoted, u64_to_string, MAX_SAFE_INTEGER};
use crate::value::Value;
use crate::{ga4, pii};

/// What the checks found: the normalised event when there is no problem, and warnings about
/// what was changed on the way (values removed as PII, and so on).
#[derive(Debug, Default)]
pub struct Checked {
    /// The normalised event; `None` exactly when `problems` is not empty.
    pub event: Option<CheckedEvent>,
    /// Why the event is rejected.
    pub problems: Vec<Problem>,
    /// What was changed to let it through.
    pub warnings: Vec<Problem>,
}

/// Checks one event. `strict` rejects names that are not in the catalogue.
pub fn check(name: &str, params: Value, strict: bool) -> Checked {
    let mut checked = Checked::default();
    checked.event = check_into(
        name,
        catalog::find(name),
        params,
        strict,
        &mut checked.problems,
        &mut checked.warnings,
    );
    checked
}

/// Checks one event as [`check`] does, adding to `problems` and `warnings` (the pipeline's
/// verdict's own lists: nothing to move afterwards); the normalised event when `problems` is
/// empty afterwards. `spec` is what the catalogue knows about `name` (the caller looks it up
/// once for the checks and the mapping).
pub fn check_into(
    name: &str,
    spec: Option<&'static EventSpec>,
    params: Value,
    strict: bool,
    problems: &mut Vec<Problem>,
    warnings: &mut Vec<Problem>,
) -> Option<CheckedEvent> {
    let mut report = Report { problems, warnings };
    if spec.is_none() {
        if strict {
            report.problem(
                "name",
                Rule::UnknownEvent,
                &(quoted(name) + " is not in the event catalogue (strict mode)"),
            );
        } else if let Err((rule, detail)) = ga4::check_event_name(name) {
            report.problem("name", rule, &detail);
        }
    }
    let path = "params";
    let fields = spec.map_or(&[][..], |s| s.fields);
    let entries = match params {
        Value::Null => Vec::new(),
        Value::Object(entries) => entries,
        other => {
            report.type_problem(path, "an object", &other);
            return None;
        }
    };
    // One `record` call for both shapes of `params` (it is inlined: a call site costs).
    let params = report.record(fields, entries, path, 1);
    report.problems.is_empty().then_some(CheckedEvent {
        params,
        known: spec.is_some(),
    })
}

/// Where the checks write what they find.
struct Report<'a> {
    problems: &'a mut Vec<Problem>,
    warnings: &'a mut Vec<Problem>,
}

impl Report<'_> {
    fn problem(&mut self, path: &str, rule: Rule, detail: &str) {
        self.problems.push(Problem::new(path, rule, detail));
    }

    fn warning(&mut self, path: &str, rule: Rule, detail: &str) {
        self.warnings.push(Problem::new(path, rule, detail));
    }

    fn type_problem(&mut self, path: &str, expected: &str, got: &Value) {
        self.problems
            .push(Problem::type_mismatch(path, expected, got));
    }

    /// Checks an object against its known fields; returns the normalised object. (After a
    /// problem it is only what is left: a problem rejects the whole event, so no value below
    /// it needs to be set aside.)
    fn record(
        &mut self,
        fields: &'static [Field],
        entries: Vec<(String, Value)>,
        path: &str,
        depth: usize,
    ) -> Value {
        for field in fields {
            let mut present = false;
            for (k, v) in &entries {
                present |= k == field.key && !matches!(v, Value::Null);
            }
            if field.required && !present {
                self.problem(
                    &key_path(path, field.key),
                    Rule::Required,
                    "required field is missing",
                );
            }
        }
        let mut out = Vec::new();
        for (key, value) in entries {
            let path = &key_path(path, &key);
            let null = matches!(value, Value::Null);
            // A field the catalogue does not know is checked as `Any`: kept when it passes the
            // PII rule and the limits, dropped with a warning otherwise (never a reason to
            // reject the event). (One `known` call for both: `generic` is then inlined there,
            // 61 B gzip less than a function of its own.)
            let kept = match field(fields, &key) {
                Some(_) if null => None,
                None if !null && pii::key_is_personal(&key) => {
                    self.warning(
                        path,
                        Rule::Pii,
                        "removed: the key names personal data, which is never forwarded",
                    );
                    None
                }
                field => {
                    let kind = field.map_or(&Kind::Any, |field| &field.kind);
                    self.known(kind, value, path, depth + 1)
                }
            };
            if let Some(v) = kept {
                out.push((key, v));
            }
        }
        Value::Object(out)
    }

    /// A value whose type the catalogue knows.
    fn known(
        &mut self,
        kind: &'static Kind,
        value: Value,
        path: &str,
        depth: usize,
    ) -> Option<Value> {
        // Every mismatch ends in the one `type_problem` call below, not one call per arm.
        let (expected, got) = match (kind, value) {
            (Kind::Id, Value::Number(n)) if is_id(n) => return Some(Value::Number(n)),
            (Kind::Id, Value::String(s)) => match digits_value(&s) {
                Some(n) => return Some(Value::Number(n)),
                None => ("a number", Value::String(s)),
            },
            (Kind::Id, other @ Value::Number(_)) => ("a whole number ≥ 0", other),
            (Kind::Id, other) => ("a number", other),
            (Kind::Text | Kind::Code, Value::String(s)) => return self.string(s, path),
            (Kind::Text, other) => ("a string", other),
            (Kind::Code, Value::Number(n)) if is_id(n) => {
                return Some(Value::String(u64_to_string(n as u64)))
            }
            (Kind::Code, other) => ("a string or a number", other),
            (Kind::Flag, Value::Bool(b)) => return Some(Value::Bool(b)),
            (Kind::Flag, Value::Number(n)) if n == 0.0 || n == 1.0 => {
                return Some(Value::Bool(n == 1.0))
            }
            (Kind::Flag, other) => ("a boolean", other),
            (Kind::Any, value) => return self.generic(value, path, depth),
            (Kind::List(item), Value::Array(items)) => {
                return Some(self.list(item, items, path, depth))
            }
            (Kind::List(_), other) => ("an array", other),
            // The catalogue's records sit at fixed depths, all within `MAX_DEPTH` (a test
            // walks them): no depth check here.
            (Kind::Record(fields), Value::Object(entries)) => {
                return Some(self.record(fields, entries, path, depth))
            }
            (Kind::Record(_), other) => ("an object", other),
        };
        self.type_problem(path, expected, &got);
        None
    }

    fn generic(&mut self, value: Value, path: &str, depth: usize) -> Option<Value> {
        if depth > MAX_DEPTH {
            self.warning(path, Rule::TooLarge, "removed: nested too deeply");
            return None;
        }
        // Arrays and objects of unknown fields go through the same loops as known ones: a list
        // of `Any` items, a record without known fields.
        match value {
            Value::Number(n) if !n.is_finite() => {
                self.warning(path, Rule::Unsupported, "removed: not a finite number");
                None
            }
            Value::String(s) => self.string(s, path),
            Value::Array(items) => Some(self.list(&Kind::Any, items, path, depth)),
            Value::Object(entries) => Some(self.record(&[], entries, path, depth)),
            other => Some(other),
        }
    }

    /// Checks each item of an array against `item`; returns the normalised array (see
    /// [`Report::record`] for what it is after a problem).
    // A counter instead of `enumerate`: `Enumerate` over the owned items costs 9 B gzip.
    #[allow(clippy::explicit_counter_loop)]
    fn list(&mut self, item: &'static Kind, items: Vec<Value>, path: &str, depth: usize) -> Value {
        let mut out = Vec::new();
        let mut index = 0u64;
        for v in items {
            let mut item_path = String::from(path);
            item_path.push('[');
            push_u64(&mut item_path, index);
            item_path.push(']');
            index += 1;
            if let Some(v) = self.known(item, v, &item_path, depth + 1) {
                out.push(v);
            }
        }
        Value::Array(out)
    }

    /// Any string, known field or not, is removed when it looks like an email or a phone.
    fn string(&mut self, s: String, path: &str) -> Option<Value> {
        match pii::value_looks_personal(&s) {
            Some(what) => {
                let mut detail = String::from("removed: looks like ");
                detail.push_str(what);
                detail.push_str(", which is never forwarded");
                self.warning(path, Rule::Pii, &detail);
                None
            }
            None => Some(Value::String(s)),
        }
    }
}

/// The known field `key`, if any. (A plain loop: `find` with a closure cost 16 B gzip more.)
#[allow(clippy::manual_find)]
fn field(fields: &'static [Field], key: &str) -> Option<&'static Field> {
    for field in fields {
        if field.key == key {
            return Some(field);
        }
    }
    None
}

/// `path.key`: each level's path is a new string (restoring one shared path would bring
/// `String::pop`'s backward UTF-8 decoding into the wasm).
fn key_path(path: &str, key: &str) -> String {
    let mut out = String::from(path);
    out.push('.');
    out.push_str(key);
    out
}

fn is_id(n: f64) -> bool {
    (0.0..MAX_SAFE_INTEGER).contains(&n) && (n as u64) as f64 == n
}

/// The value of a string of 1 to 15 ASCII digits (an id sent as text); `None` for any other
/// string.
fn digits_value(s: &str) -> Option<f64> {
    if !(1..=15).contains(&s.len()) {
        return None;
    }
    let mut value = 0.0;
    for b in s.bytes() {
        if !b.is_ascii_digit() {
            return None;
        }
        value = value * 10.0 + f64::from(b - b'0');
    }
    Some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> Value {
        Value::String(v.to_string())
    }
    fn n(v: f64) -> Value {
        Value::Number(v)
    }
    fn obj(entries: &[(&str, Value)]) -> Value {
        Value::Object(
            entries
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        )
    }
    fn arr(items: &[Value]) -> Value {
        Value::Array(items.to_vec())
    }

    pub(crate) fn booking() -> Value {
        obj(&[
            (
                "appointments",
                arr(&[obj(&[
                    ("services", arr(&[n(101.0), s("102")])),
                    ("staff_id", n(7.0)),
                    ("datetime", s("2026-11-23T10:00:00+03:00")),
                    ("chargeStatus", s("not_paid")),
                    ("custom_fields", arr(&[])),
                    ("id", n(555.0)),
                ])]),
            ),
            ("code", s("X7Y2")),
            ("companyId", n(42.0)),
            ("companyName", s("Studio Bloom")),
            ("isMobile", n(0.0)),
            ("event_id", s("evt-1")),
        ])
    }

    fn messages(problems: &[Problem]) -> Vec<&str> {
        problems.iter().map(|p| p.message.as_str()).collect()
    }

    #[test]
    fn a_full_booking_is_accepted_and_normalised() {
        let checked = check("booked", booking(), false);
        assert!(checked.problems.is_empty(), "{:?}", checked.problems);
        let event = checked.event.expect("accepted");
        assert!(event.known);
        let appointment = match event.params.get("appointments") {
            Some(Value::Array(items)) => items[0].clone(),
            other => panic!("{other:?}"),
        };
        assert_eq!(
            appointment.get("services"),
            Some(&arr(&[n(101.0), n(102.0)]))
        );
        assert_eq!(event.params.get("isMobile"), Some(&Value::Bool(false)));
        assert_eq!(event.params.get("companyId"), Some(&n(42.0)));
    }

    #[test]
    fn a_wrong_type_deep_inside_names_the_path_and_the_rule() {
        let mut params = booking();
        if let Value::Object(entries) = &mut params {
            entries[0].1 = arr(&[
                obj(&[("services", arr(&[n(1.0)]))]),
                obj(&[("services", arr(&[n(1.0), s("abc")]))]),
            ]);
        }
        let checked = check("booked", params, false);
        assert!(checked.event.is_none());
        assert_eq!(
            messages(&checked.problems),
            ["params.appointments[1].services[1]: expected a number, got \"abc\""]
        );
        assert_eq!(checked.problems[0].rule, Rule::Type);
        assert_eq!(
            checked.problems[0].path,
            "params.appointments[1].services[1]"
        );
    }

    #[test]
    fn every_problem_is_reported_not_only_the_first() {
        let params = obj(&[
            ("appointments", arr(&[obj(&[("staff_id", s("x"))])])),
            ("companyId", n(-3.0)),
            ("isMobile", s("yes")),
        ]);
        let checked = check("group_record_created", params, false);
        assert_eq!(
            messages(&checked.problems),
            [
                "params.appointments[0].services: required field is missing",
                "params.appointments[0].staff_id: expected a number, got \"x\"",
                "params.companyId: expected a whole number ≥ 0, got -3",
                "params.isMobile: expected a boolean, got \"yes\"",
            ]
        );
    }

    #[test]
    fn a_booking_without_appointments_is_rejected() {
        let checked = check("booked", obj(&[("companyId", n(1.0))]), false);
        assert_eq!(
            messages(&checked.problems),
            ["params.appointments: required field is missing"]
        );
        let checked = check("booked", Value::Null, false);
        assert_eq!(checked.problems.len(), 1);
    }

    #[test]
    fn params_must_be_an_object() {
        let checked = check("widget_loaded", arr(&[]), false);
        assert_eq!(
            messages(&checked.problems),
            ["params: expected an object, got an array"]
        );
        assert!(check("widget_loaded", Value::Null, false).event.is_some());
    }

    #[test]
    fn unknown_names_are_custom_events_unless_strict() {
        assert!(check("gift_card_opened", Value::Null, false)
            .event
            .is_some());
        let strict = check("gift_card_opened", Value::Null, true);
        assert_eq!(strict.problems[0].rule, Rule::UnknownEvent);
        assert!(check("booked", booking(), true).event.is_some());
    }

    #[test]
    fn unknown_names_must_pass_the_ga4_name_rules() {
        for (name, rule) in [
            ("1st_visit", Rule::NameSyntax),
            ("has space", Rule::NameSyntax),
            ("", Rule::NameSyntax),
            ("google_thing", Rule::ReservedPrefix),
            ("session_start", Rule::ReservedName),
            ("notification_open", Rule::ReservedName),
        ] {
            let checked = check(name, Value::Null, false);
            assert_eq!(
                checked.problems.first().map(|p| p.rule),
                Some(rule),
                "{name}"
            );
        }
        let long = "a".repeat(41);
        assert_eq!(
            check(&long, Value::Null, false).problems[0].rule,
            Rule::NameLength
        );
    }

    #[test]
    fn personal_data_is_removed_with_a_warning_and_never_kept() {
        let params = obj(&[
            ("service_id", n(3.0)),
            ("clientEmail", s("whatever")),
            ("note", s("anna@example.com")),
            (
                "contact",
                obj(&[("first_name", s("Anna")), ("city", s("Riga"))]),
            ),
            ("list", arr(&[s("+7 916 123-45-67"), s("ok")])),
        ]);
        let checked = check("send_contacts", params, false);
        let event = checked
            .event
            .expect("accepted: PII is removed, not a reason to reject");
        assert_eq!(
            event.params,
            obj(&[
                ("service_id", n(3.0)),
                ("contact", obj(&[("city", s("Riga"))])),
                ("list", arr(&[s("ok")])),
            ])
        );
        let paths: Vec<&str> = checked.warnings.iter().map(|w| w.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "params.clientEmail",
                "params.note",
                "params.contact.first_name",
                "params.list[0]"
            ]
        );
        assert!(checked.warnings.iter().all(|w| w.rule == Rule::Pii));
    }

    #[test]
    fn non_finite_numbers_in_unknown_fields_are_removed_with_a_warning() {
        let checked = check(
            "widget_loaded",
            obj(&[("x", n(f64::NAN)), ("y", n(1.0))]),
            false,
        );
        assert_eq!(checked.event.map(|e| e.params), Some(obj(&[("y", n(1.0))])));
        assert_eq!(
            checked.warnings[0].message,
            "params.x: removed: not a finite number"
        );
    }

    #[test]
    fn the_catalogues_records_are_within_the_depth_limit() {
        // The deepest depth at which `known` meets a record in `kind`, itself met at `depth`
        // (0 when there is none).
        fn deepest(kind: &Kind, depth: usize) -> usize {
            match kind {
                Kind::List(item) => deepest(item, depth + 1),
                Kind::Record(fields) => fields
                    .iter()
                    .map(|f| deepest(&f.kind, depth + 1))
                    .fold(depth, usize::max),
                _ => 0,
            }
        }
        let names = catalog::PLAIN_EVENTS
            .split(' ')
            .chain(catalog::BOOKING_EVENTS.split(' '))
            .chain([catalog::WIDGET_SCHEDULE]);
        let mut records = 0;
        for name in names {
            let spec = catalog::find(name).expect(name);
            // The fields of `params` (depth 1) are met at depth 2.
            for field in spec.fields {
                let depth = deepest(&field.kind, 2);
                assert!(depth <= MAX_DEPTH, "{name}: {} {depth}", field.key);
                records = records.max(depth);
            }
        }
        assert_eq!(records, 3, "params.appointments[i]");
    }

    #[test]
    fn nesting_beyond_the_limit_is_removed_with_a_warning() {
        let mut deep = n(1.0);
        for _ in 0..20 {
            deep = obj(&[("d", deep)]);
        }
        let checked = check("widget_loaded", obj(&[("deep", deep)]), false);
        assert!(checked.event.is_some());
        assert_eq!(checked.warnings.len(), 1);
        assert_eq!(checked.warnings[0].rule, Rule::TooLarge);
    }
}
