//! The JSON the module hands to JavaScript: verdicts, stats, identity, and the argument lists
//! of the gtag / dataLayer and fbq calls. Pure, so every shape is tested natively.

use crate::event::Problem;
use crate::flatten::FlatParams;
use crate::ga4::Ga4Event;
use crate::json::{push_str, push_value, Object};
use crate::meta::MetaEvent;
use crate::outbox::OutboxStats;
use crate::pipeline::{Destinations, Verdict};
use crate::prelude::*;
use crate::stats::Stats;
use crate::text::push_u64;

fn push_flat(out: &mut String, params: &FlatParams, send_to: Option<&str>) {
    let mut object = Object::open(out);
    for (key, value) in params {
        push_value(object.key(key), value);
    }
    if let Some(id) = send_to {
        object.str("send_to", id);
    }
    object.close();
}

fn push_problems(out: &mut String, problems: &[Problem]) {
    out.push('[');
    for (i, p) in problems.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        // Literal key text rather than `Object` here: measured smaller.
        out.push_str(r#"{"path":"#);
        push_str(out, &p.path);
        out.push_str(r#","rule":"#);
        push_str(out, p.rule.code());
        out.push_str(r#","message":"#);
        push_str(out, &p.message);
        out.push('}');
    }
    out.push(']');
}

fn push_destinations(out: &mut String, destinations: &Destinations) {
    out.push('[');
    let mut first = true;
    for d in destinations {
        if !first {
            out.push(',');
        }
        push_str(out, d.code());
        first = false;
    }
    out.push(']');
}

/// The verdict, shaped as the `Verdict` TypeScript interface.
pub fn verdict_json(verdict: &Verdict) -> String {
    let mut out = String::with_capacity(512);
    let mut object = Object::open(&mut out);
    object.bool("ok", verdict.ok());
    object.bool("ignored", verdict.ignored);
    object.str("source", verdict.source.code());
    object.opt_str("origin", verdict.origin.as_deref());
    object.opt_str("name", verdict.name.as_deref());
    // The nested objects' keys as literal text (measured smaller than `Object` there; at the
    // top level `Object` measured smaller).
    let slot = object.key("event");
    match &verdict.event {
        Some(event) => {
            slot.push_str(r#"{"name":"#);
            push_str(slot, verdict.name.as_deref().unwrap_or_default());
            slot.push_str(r#","params":"#);
            push_value(slot, &event.params);
            slot.push('}');
        }
        None => slot.push_str("null"),
    }
    let slot = object.key("ga4");
    match &verdict.ga4 {
        Some(ga4) => {
            slot.push_str(r#"{"name":"#);
            push_str(slot, &ga4.name);
            slot.push_str(r#","params":"#);
            push_flat(slot, &ga4.params, None);
            slot.push('}');
        }
        None => slot.push_str("null"),
    }
    let slot = object.key("meta");
    match &verdict.meta {
        Some(meta) => {
            slot.push_str(r#"{"method":"#);
            push_str(slot, meta.method.code());
            slot.push_str(r#","name":"#);
            push_str(slot, &meta.name);
            slot.push_str(r#","params":"#);
            push_flat(slot, &meta.params, None);
            slot.push_str(r#","eventId":"#);
            match &meta.event_id {
                Some(id) => push_str(slot, id),
                None => slot.push_str("null"),
            }
            slot.push('}');
        }
        None => slot.push_str("null"),
    }
    push_destinations(object.key("forwarded"), &verdict.forwarded);
    push_destinations(object.key("waiting"), &verdict.waiting);
    push_problems(object.key("problems"), &verdict.problems);
    push_problems(object.key("warnings"), &verdict.warnings);
    object.opt_str(
        "companion",
        if verdict.collect.is_some() {
            Some("queued")
        } else if verdict.collect_waiting {
            Some("waiting")
        } else {
            None
        },
    );
    object.close();
    out
}

/// The shape of the stats JSON; each `#` is replaced by the next counter. (One template
/// instead of a key write per counter: the keys are fixed, only the numbers vary.)
const STATS_TEMPLATE: &str = concat!(
    r#"{"received":#,"accepted":#,"rejected":#,"ignored":#,"#,
    r#""ignoredBy":{"origin":#,"shape":#,"duplicate":#},"#,
    r#""forwarded":{"ga4":#,"meta":#},"failed":{"ga4":#,"meta":#},"#,
    r#""consent":{"waiting":#,"dropped":#},"#,
    r#""outbox":{"pending":#,"sent":#,"dropped":#,"storageFailures":#}}"#,
);

/// The counters, shaped as the `Stats` TypeScript interface.
pub fn stats_json(s: &Stats, outbox: &OutboxStats) -> String {
    let counters = [
        s.received,
        s.accepted,
        s.rejected,
        s.ignored,
        s.ignored_origin,
        s.ignored_shape,
        s.ignored_duplicate,
        s.forwarded_ga4,
        s.forwarded_meta,
        s.failed_ga4,
        s.failed_meta,
        s.consent_waiting,
        s.consent_dropped,
        outbox.pending,
        outbox.sent,
        outbox.dropped,
        outbox.storage_failures,
    ];
    let mut out = String::with_capacity(STATS_TEMPLATE.len() + 40);
    let mut counters = counters.iter();
    // Byte by byte (the template is ASCII): smaller than splitting it into pieces.
    for &byte in STATS_TEMPLATE.as_bytes() {
        if byte != b'#' {
            out.push(char::from(byte));
        } else if let Some(n) = counters.next() {
            push_u64(&mut out, u64::from(*n));
        }
    }
    out
}

/// `["event", name, {...params, send_to}]`: the arguments of the gtag call.
pub fn gtag_arguments_json(measurement_id: &str, event: &Ga4Event) -> String {
    let mut out = String::from("[\"event\",");
    push_str(&mut out, &event.name);
    out.push(',');
    push_flat(&mut out, &event.params, Some(measurement_id));
    out.push(']');
    out
}

/// `[method, name, params, {eventID}]`: the arguments of the fbq call.
pub fn fbq_arguments_json(event: &MetaEvent, event_id: &str) -> String {
    let mut out = String::from("[");
    push_str(&mut out, event.method.code());
    out.push(',');
    push_str(&mut out, &event.name);
    out.push(',');
    push_flat(&mut out, &event.params, None);
    out.push_str(r#",{"eventID":"#);
    push_str(&mut out, event_id);
    out.push_str("}]");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Config, Destination};
    use crate::pipeline::Pipeline;
    use crate::value::tests_support::booking_with_two_appointments;
    use crate::value::Value;

    #[test]
    fn a_booking_verdict_and_its_calls_have_the_documented_shape() {
        let dest = |id: &str| Destination {
            id: id.into(),
            events: vec![],
        };
        let mut pipeline = Pipeline::new(Config {
            ga4: Some(dest("G-TEST1234")),
            meta: Some(dest("123456789012345")),
            ..Config::default()
        });
        let verdict = pipeline.track(
            Value::String("booked".into()),
            Ok(booking_with_two_appointments()),
        );
        let json = verdict_json(&verdict);
        assert!(json.starts_with(r#"{"ok":true,"ignored":false,"source":"track","origin":null,"name":"booked","event":{"name":"booked","params":{"appointments":[{"services":[101,102]"#), "{json}");
        assert!(
            json.ends_with(
                r#""forwarded":[],"waiting":[],"problems":[],"warnings":[],"companion":null}"#
            ),
            "{json}"
        );
        let ga4 = gtag_arguments_json("G-TEST1234", verdict.ga4.as_ref().expect("ga4"));
        assert_eq!(
            ga4,
            r#"["event","booked",{"appointment_count":2,"service_ids":"101,102,103","staff_ids":"7","record_ids":"555,556","appointment_datetime":"2026-11-23T10:00:00+03:00","booking_code":"X7Y2","company_id":42,"company_name":"Studio Bloom","is_mobile":true,"event_id":"evt-1","send_to":"G-TEST1234"}]"#
        );
        let meta = fbq_arguments_json(verdict.meta.as_ref().expect("meta"), "evt-1");
        assert!(
            meta.starts_with(r#"["track","Schedule",{"appointment_count":2,"#),
            "{meta}"
        );
        assert!(
            meta.ends_with(r#""event_id":"evt-1"},{"eventID":"evt-1"}]"#),
            "{meta}"
        );
        for text in [
            json,
            ga4,
            meta,
            stats_json(&pipeline.stats(), &OutboxStats::default()),
        ] {
            assert!(crate::json::parse(&text, "x").is_ok(), "{text}");
        }
    }

    #[test]
    fn every_counter_lands_in_its_own_field() {
        let stats = Stats {
            received: 1,
            accepted: 2,
            rejected: 3,
            ignored: 4,
            ignored_origin: 5,
            ignored_shape: 6,
            ignored_duplicate: 7,
            forwarded_ga4: 8,
            forwarded_meta: 9,
            failed_ga4: 10,
            failed_meta: 11,
            consent_waiting: 12,
            consent_dropped: 13,
        };
        let outbox = OutboxStats {
            pending: 14,
            sent: 15,
            dropped: 16,
            storage_failures: 4_294_967_295,
        };
        assert_eq!(
            stats_json(&stats, &outbox),
            r#"{"received":1,"accepted":2,"rejected":3,"ignored":4,"ignoredBy":{"origin":5,"shape":6,"duplicate":7},"forwarded":{"ga4":8,"meta":9},"failed":{"ga4":10,"meta":11},"consent":{"waiting":12,"dropped":13},"outbox":{"pending":14,"sent":15,"dropped":16,"storageFailures":4294967295}}"#
        );
    }

    #[test]
    fn stats_and_identity_have_the_documented_shape() {
        let stats = Stats {
            received: 3,
            ignored: 1,
            ignored_origin: 1,
            ..Stats::default()
        };
        assert_eq!(
            stats_json(&stats, &OutboxStats::default()),
            r#"{"received":3,"accepted":0,"rejected":0,"ignored":1,"ignoredBy":{"origin":1,"shape":0,"duplicate":0},"forwarded":{"ga4":0,"meta":0},"failed":{"ga4":0,"meta":0},"consent":{"waiting":0,"dropped":0},"outbox":{"pending":0,"sent":0,"dropped":0,"storageFailures":0}}"#
        );
    }
}
