//! One event's way through the module: shape, checks, de-duplication, mapping to each
//! destination, and the counters. Pure; the browser glue calls the destinations and reports
//! back with [`Pipeline::delivered`].

use crate::prelude::*;

use crate::catalog;
use crate::check::check_into;
use crate::config::Config;
use crate::consent::{Consent, Gate, MAX_WAITING};
use crate::event::{CheckedEvent, Problem, Rule, Source};
use crate::flatten::flatten;
use crate::ga4::{to_ga4, Ga4Event};
use crate::meta::{to_meta, MetaEvent};
use crate::stats::Stats;
use crate::value::Value;

/// How many recent event ids are remembered to recognise a repeated event.
const RECENT_EVENT_IDS: usize = 64;

/// A destination the module forwards to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Destination {
    /// Google Analytics 4, through gtag or dataLayer.
    Ga4,
    /// Meta Pixel, through fbq.
    Meta,
}

impl Destination {
    /// The code shown to JavaScript.
    pub fn code(self) -> &'static str {
        match self {
            Destination::Ga4 => "ga4",
            Destination::Meta => "meta",
        }
    }
}

/// A set of destinations, listed GA4 first: the order in which the module calls them, so the
/// order they were added in. (One byte, not a `Vec`: no allocation, push or drop code of its
/// own.)
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Destinations(u8);

impl Destinations {
    fn bit(destination: Destination) -> u8 {
        1 << destination as u8
    }

    /// Adds `destination`.
    pub fn push(&mut self, destination: Destination) {
        self.0 |= Destinations::bit(destination);
    }

    /// Whether `destination` is in the set.
    pub fn contains(&self, destination: &Destination) -> bool {
        self.0 & Destinations::bit(*destination) != 0
    }
}

impl IntoIterator for &Destinations {
    type Item = Destination;
    type IntoIter = DestinationsIter;

    fn into_iter(self) -> DestinationsIter {
        DestinationsIter(self.0)
    }
}

/// The destinations of a [`Destinations`] set, GA4 first.
#[derive(Debug)]
pub struct DestinationsIter(u8);

impl Iterator for DestinationsIter {
    type Item = Destination;

    fn next(&mut self) -> Option<Destination> {
        let destination = if self.0 & 1 != 0 {
            Destination::Ga4
        } else if self.0 != 0 {
            Destination::Meta
        } else {
            return None;
        };
        self.0 &= !Destinations::bit(destination);
        Some(destination)
    }
}

impl<const N: usize> PartialEq<[Destination; N]> for Destinations {
    fn eq(&self, list: &[Destination; N]) -> bool {
        self.into_iter().eq(list.iter().copied())
    }
}

/// Everything the module decided about one event or message.
#[derive(Clone, Debug, PartialEq)]
pub struct Verdict {
    /// `track` or a window message.
    pub source: Source,
    /// The sender's origin, for messages.
    pub origin: Option<String>,
    /// The event name, when there was one.
    pub name: Option<String>,
    /// The message was not a widget event for us (origin, shape, repeat); nothing was checked
    /// or sent.
    pub ignored: bool,
    /// The normalised event, when accepted.
    pub event: Option<CheckedEvent>,
    /// What goes to GA4, when accepted and routed there.
    pub ga4: Option<Ga4Event>,
    /// What goes to Meta, when accepted and routed there.
    pub meta: Option<MetaEvent>,
    /// The destinations that took the event.
    pub forwarded: Destinations,
    /// The destinations whose call waits, in memory, for the visitor's consent decision.
    pub waiting: Destinations,
    /// Why it was rejected or ignored.
    pub problems: Vec<Problem>,
    /// What was changed or failed on the way, without rejecting it.
    pub warnings: Vec<Problem>,
    /// The server-side copy to queue for the companion now (configured, consented).
    pub collect: Option<Draft>,
    /// The server-side copy waits, in memory, for the visitor's consent decision.
    pub collect_waiting: bool,
}

/// An accepted event's server-side copy for the companion: the destinations' forms that
/// consent allows, under the browser's Meta `eventID`.
#[derive(Clone, Debug, PartialEq)]
pub struct Draft {
    /// The Meta `eventID` (the same as the browser's), else the event's own or a minted one.
    pub event_id: String,
    /// The module's event name.
    pub name: String,
    /// The GA4 form, when routed to GA4 and `analytics_storage` allows.
    pub ga4: Option<Ga4Event>,
    /// The Meta form, when routed to Meta and `ad_storage` allows.
    pub meta: Option<MetaEvent>,
    /// When the event was accepted, epoch milliseconds.
    pub time_ms: f64,
}

/// What the pipeline takes from its environment: a clock and an event-id minter (the browser
/// passes `Date.now` and a random minter; tests pass fixed ones).
#[derive(Clone, Copy, Debug)]
pub struct Hooks {
    /// Epoch milliseconds now.
    pub now_ms: fn() -> f64,
    /// A fresh event id for an event named so; `None` leaves Meta events without one.
    pub mint_id: Option<fn(&str) -> String>,
}

impl Default for Hooks {
    fn default() -> Hooks {
        Hooks {
            now_ms: || 0.0,
            mint_id: None,
        }
    }
}

impl Verdict {
    fn new(source: Source, origin: Option<&str>) -> Verdict {
        Verdict {
            source,
            origin: origin.map(str::to_string),
            name: None,
            ignored: false,
            event: None,
            ga4: None,
            meta: None,
            forwarded: Destinations::default(),
            waiting: Destinations::default(),
            problems: Vec::new(),
            warnings: Vec::new(),
            collect: None,
            collect_waiting: false,
        }
    }

    /// Whether the event passed the checks.
    pub fn ok(&self) -> bool {
        self.event.is_some()
    }

    /// The GA4 call to make now: accepted, routed to GA4, not waiting for consent.
    pub fn ga4_now(&self) -> Option<&Ga4Event> {
        self.ga4
            .as_ref()
            .filter(|_| self.ok() && !self.waiting.contains(&Destination::Ga4))
    }

    /// The Meta call to make now (mutable: the browser side mints a missing event id).
    pub fn meta_now(&mut self) -> Option<&mut MetaEvent> {
        let waiting = self.waiting.contains(&Destination::Meta) || !self.ok();
        self.meta.as_mut().filter(|_| !waiting)
    }
}

/// A destination call held until the visitor decides on consent.
#[derive(Clone, Debug, PartialEq)]
pub enum Held {
    /// A GA4 event.
    Ga4(Ga4Event),
    /// A Meta event.
    Meta(MetaEvent),
}

impl Held {
    fn destination(&self) -> Destination {
        match self {
            Held::Ga4(_) => Destination::Ga4,
            Held::Meta(_) => Destination::Meta,
        }
    }
}

/// The module's state: configuration, counters, recently seen event ids.
#[derive(Debug)]
pub struct Pipeline {
    config: Config,
    stats: Stats,
    /// A ring of the last `RECENT_EVENT_IDS` repeat keys; `next` is the slot to overwrite.
    recent: Vec<String>,
    next: usize,
    consent: Consent,
    /// Calls waiting for a consent decision, oldest first (at most `MAX_WAITING`).
    waiting: Vec<Held>,
    /// Companion copies waiting for a consent decision, oldest first (at most `MAX_WAITING`).
    waiting_collect: Vec<Draft>,
    /// Clock and minter.
    pub hooks: Hooks,
}

impl Pipeline {
    /// A pipeline with checked configuration.
    pub fn new(config: Config) -> Pipeline {
        let consent = config.consent().cloned().unwrap_or_else(Consent::unmanaged);
        Pipeline {
            config,
            stats: Stats::default(),
            recent: Vec::new(),
            next: 0,
            consent,
            waiting: Vec::new(),
            waiting_collect: Vec::new(),
            hooks: Hooks::default(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The counters so far.
    pub fn stats(&self) -> Stats {
        Stats {
            consent_waiting: self.waiting.len() as u32,
            ..self.stats
        }
    }

    /// The consent state.
    pub fn consent(&self) -> &Consent {
        &self.consent
    }

    /// The companion copies that waited for consent and may now go, in the order they arrived
    /// (call after [`Pipeline::update_consent`]); those consent no longer allows are dropped.
    pub fn released_collect(&mut self) -> Vec<Draft> {
        let mut ready = Vec::new();
        // Without a companion nothing waits here (and the default build leaves the rest out).
        if self.config.companion().is_none() {
            return ready;
        }
        for mut draft in core::mem::take(&mut self.waiting_collect) {
            match self.resolve(&mut draft) {
                Gate::Send => ready.push(draft),
                Gate::Wait => self.waiting_collect.push(draft),
                Gate::Drop => {}
            }
        }
        ready
    }

    /// Whether hashed user data may go to the companion with its copies.
    pub fn user_data_allowed(&self) -> bool {
        self.consent.user_data_granted()
    }

    /// A companion copy by the consent state: `Send` with the allowed forms (the others are
    /// removed), `Wait` (kept whole) while a form's signal is undecided, `Drop` when no form
    /// is allowed.
    fn resolve(&self, draft: &mut Draft) -> Gate {
        let ga4 = draft
            .ga4
            .as_ref()
            .map(|_| self.consent.companion_gate(Destination::Ga4));
        let meta = draft
            .meta
            .as_ref()
            .map(|_| self.consent.companion_gate(Destination::Meta));
        if ga4 == Some(Gate::Wait) || meta == Some(Gate::Wait) {
            return Gate::Wait;
        }
        if ga4 != Some(Gate::Send) {
            draft.ga4 = None;
        }
        if meta != Some(Gate::Send) {
            draft.meta = None;
        }
        if draft.ga4.is_none() && draft.meta.is_none() {
            Gate::Drop
        } else {
            Gate::Send
        }
    }

    /// The companion copy of an accepted event: queued now, held for consent, or nothing.
    /// `own_id` is the event's own `event_id` as text, when it has one.
    fn collect(&mut self, verdict: &mut Verdict, own_id: Option<String>) {
        let name = verdict.name.clone().unwrap_or_default();
        let event_id = match verdict.meta.as_ref().and_then(|m| m.event_id.clone()) {
            Some(id) => id,
            None => match own_id {
                Some(id) => id,
                None => match self.hooks.mint_id {
                    Some(mint) => mint(&name),
                    None => {
                        let mut id = name.clone();
                        id.push('.');
                        crate::text::push_u64(&mut id, u64::from(self.stats.received));
                        id
                    }
                },
            },
        };
        let mut draft = Draft {
            event_id,
            name,
            ga4: verdict.ga4.clone(),
            meta: verdict.meta.clone(),
            time_ms: (self.hooks.now_ms)(),
        };
        match self.resolve(&mut draft) {
            Gate::Send => verdict.collect = Some(draft),
            Gate::Wait => {
                if self.waiting_collect.len() == MAX_WAITING {
                    drop_oldest(&mut self.waiting_collect);
                }
                self.waiting_collect.push(draft);
                verdict.collect_waiting = true;
            }
            Gate::Drop => {}
        }
    }

    /// Applies `consent(update)`: returns whether Meta's signal was named, and the held calls
    /// now allowed, in the order they arrived (those now denied are dropped and counted).
    pub fn update_consent(&mut self, update: &Value) -> Result<(bool, Vec<Held>), String> {
        let meta_named = self.consent.update(update)?;
        let mut allowed = Vec::new();
        for held in core::mem::take(&mut self.waiting) {
            match self.consent.gate(held.destination()) {
                Gate::Send => allowed.push(held),
                Gate::Wait => self.waiting.push(held),
                Gate::Drop => self.stats.consent_dropped += 1,
            }
        }
        Ok((meta_named, allowed))
    }

    /// Counts one call to `destination` made outside a verdict (a released held call).
    pub fn count_delivery(&mut self, destination: Destination, delivered: bool) {
        let counter = match (destination, delivered) {
            (Destination::Ga4, true) => &mut self.stats.forwarded_ga4,
            (Destination::Meta, true) => &mut self.stats.forwarded_meta,
            (Destination::Ga4, false) => &mut self.stats.failed_ga4,
            (Destination::Meta, false) => &mut self.stats.failed_meta,
        };
        *counter += 1;
    }

    /// Holds, drops or lets through the calls of an accepted event, by the consent state.
    fn apply_consent(&mut self, verdict: &mut Verdict) {
        // Each form handled by its own type here: one function taking the destination and
        // matching on it for the form, its copy and its removal cost 139 B gzip more.
        if let Some(ga4) = &verdict.ga4 {
            let gate = self.gate(
                Destination::Ga4,
                &mut verdict.waiting,
                &mut verdict.warnings,
            );
            match gate {
                // Copied: the verdict keeps showing what will be sent.
                Gate::Wait => self.hold(Held::Ga4(ga4.clone())),
                Gate::Drop => verdict.ga4 = None,
                Gate::Send => {}
            }
        }
        if let Some(meta) = &verdict.meta {
            let gate = self.gate(
                Destination::Meta,
                &mut verdict.waiting,
                &mut verdict.warnings,
            );
            match gate {
                Gate::Wait => self.hold(Held::Meta(meta.clone())),
                Gate::Drop => verdict.meta = None,
                Gate::Send => {}
            }
        }
    }

    /// The consent gate of a routed call to `destination`; a call that waits or is dropped is
    /// counted and gets its warning (the caller holds or removes the call itself).
    fn gate(
        &mut self,
        destination: Destination,
        waiting: &mut Destinations,
        warnings: &mut Vec<Problem>,
    ) -> Gate {
        let gate = self.consent.gate(destination);
        let why = match gate {
            Gate::Send => return gate,
            Gate::Wait => {
                waiting.push(destination);
                "waits in memory for the visitor's consent ("
            }
            Gate::Drop => {
                self.stats.consent_dropped += 1;
                "not sent: consent denied ("
            }
        };
        let mut why = String::from(why);
        why.push_str(match destination {
            Destination::Ga4 => "analytics_storage",
            Destination::Meta => "ad_storage",
        });
        why.push(')');
        warnings.push(Problem::new(destination.code(), Rule::Consent, &why));
        gate
    }

    /// Holds a call until the visitor decides; the oldest held call is dropped (and counted)
    /// when `MAX_WAITING` already wait.
    fn hold(&mut self, held: Held) {
        if self.waiting.len() == MAX_WAITING {
            drop_oldest(&mut self.waiting);
            self.stats.consent_dropped += 1;
        }
        self.waiting.push(held);
    }

    /// An event from page code: `track(name, params)`. `params` is `Err` when it could not be
    /// read (too large, unsupported values).
    pub fn track(&mut self, name: Value, params: Result<Value, Problem>) -> Verdict {
        self.stats.received += 1;
        let mut verdict = Verdict::new(Source::Track, None);
        match name {
            Value::String(name) => self.evaluate(&mut verdict, name, params),
            other => {
                verdict
                    .problems
                    .push(Problem::type_mismatch("name", "a string", &other));
                self.reject()
            }
        }
        verdict
    }

    /// A window message from `origin`; `read` turns its data into a value and is called only
    /// when the origin is allowed (messages from elsewhere are not even read).
    pub fn message(
        &mut self,
        origin: &str,
        read: impl FnOnce() -> Result<Value, Problem>,
    ) -> Verdict {
        self.stats.received += 1;
        let mut verdict = Verdict::new(Source::Message, Some(origin));
        if !self.config.origins.allows(origin) {
            self.stats.ignored_origin += 1;
            let mut why = String::from("\"");
            why.push_str(origin);
            why.push_str("\" is not in widgetOrigins");
            verdict
                .problems
                .push(Problem::new("origin", Rule::Origin, &why));
            self.ignore(&mut verdict);
            return verdict;
        }
        let data = match read() {
            Ok(data) => data,
            Err(problem) => {
                verdict.problems.push(problem);
                self.reject();
                return verdict;
            }
        };
        let problem = match data {
            Value::Object(mut entries) => {
                let action = take(&mut entries, "action");
                match (action, take(&mut entries, "params")) {
                    (Value::String(name), params @ (Value::Null | Value::Object(_))) => {
                        self.evaluate(&mut verdict, name, Ok(params));
                        return verdict;
                    }
                    (Value::String(_), other) => {
                        Problem::type_mismatch("data.params", "an object", &other)
                    }
                    (other, _) => Problem::type_mismatch("data.action", "a string", &other),
                }
            }
            other => Problem::type_mismatch("data", "an object {action, params}", &other),
        };
        self.stats.ignored_shape += 1;
        verdict.problems.push(problem);
        self.ignore(&mut verdict);
        verdict
    }

    /// Records what became of the call to `destination` for an accepted event.
    pub fn delivered(
        &mut self,
        verdict: &mut Verdict,
        destination: Destination,
        result: Result<(), String>,
    ) {
        self.count_delivery(destination, result.is_ok());
        match result {
            Ok(()) => verdict.forwarded.push(destination),
            Err(why) => {
                verdict
                    .warnings
                    .push(Problem::new(destination.code(), Rule::Delivery, &why))
            }
        }
    }

    /// Checks, de-duplicates and maps an event into `verdict`.
    fn evaluate(&mut self, verdict: &mut Verdict, name: String, params: Result<Value, Problem>) {
        // The verdict's name is the one copy of the name: the checked event has none of its own.
        let name: &str = verdict.name.insert(name);
        let params = match params {
            Ok(params) => params,
            Err(problem) => {
                verdict.problems.push(problem);
                return self.reject();
            }
        };
        let spec = catalog::find(name);
        let Some(event) = check_into(
            name,
            spec,
            params,
            self.config.strict,
            &mut verdict.problems,
            &mut verdict.warnings,
        ) else {
            return self.reject();
        };
        // The repeat key: name + NUL + the event's own id, written in place (not a copy of the
        // id: the companion's copy reads the id again).
        let mut key = String::from(name);
        key.push('\u{0}');
        if push_own_event_id(&mut key, &event) {
            if self.recent.contains(&key) {
                self.stats.ignored_duplicate += 1;
                let why = "the same event with this event_id was already received; not sent again";
                verdict
                    .problems
                    .push(Problem::new("params.event_id", Rule::Duplicate, why));
                return self.ignore(verdict);
            }
            match self.recent.get_mut(self.next) {
                Some(slot) => *slot = key,
                None => self.recent.push(key),
            }
            self.next = (self.next + 1) % RECENT_EVENT_IDS;
        }
        let flat = flatten(
            &event.params,
            spec.map_or(catalog::Projection::Generic, |s| s.projection),
        );
        if let Some(ga4) = &self.config.ga4 {
            if let Some(ga4_name) = ga4.route(name, spec, |s| s.ga4) {
                verdict.ga4 = Some(to_ga4(ga4_name, &flat, &mut verdict.warnings));
            }
        }
        if let Some(meta) = &self.config.meta {
            if let Some(meta_name) = meta.route(name, spec, |s| s.meta) {
                let mut meta = to_meta(meta_name, flat);
                if let (None, Some(mint)) = (&meta.event_id, self.hooks.mint_id) {
                    meta.event_id = Some(mint(&meta.name));
                }
                verdict.meta = Some(meta);
            }
        }
        self.stats.accepted += 1;
        self.apply_consent(verdict);
        if self.config.companion().is_some() {
            self.collect(verdict, own_event_id(&event));
        }
        verdict.event = Some(event);
    }

    fn reject(&mut self) {
        self.stats.rejected += 1;
    }

    fn ignore(&mut self, verdict: &mut Verdict) {
        self.stats.ignored += 1;
        verdict.ignored = true;
    }
}

/// Removes the first (oldest) element, keeping the others' order. (`Vec::remove` and
/// `rotate_left` carry index checks whose panic messages the wasm would keep.)
fn drop_oldest<T>(queue: &mut Vec<T>) {
    let mut items = queue.iter_mut();
    if let Some(mut moving) = items.next() {
        for next in items {
            core::mem::swap(moving, next);
            moving = next;
        }
    }
    queue.pop();
}

/// Takes the value of the first entry under `key` (leaving `Null` there), or `Null`. (Leaving
/// the entry in place: `swap_remove` kept its index check and panic message in the wasm.)
fn take(entries: &mut [(String, Value)], key: &str) -> Value {
    for (k, v) in entries {
        if k == key {
            return core::mem::replace(v, Value::Null);
        }
    }
    Value::Null
}

/// The event's own `event_id` as text, when it has a non-empty string or a number there.
fn own_event_id(event: &CheckedEvent) -> Option<String> {
    let mut id = String::new();
    push_own_event_id(&mut id, event).then_some(id)
}

/// Appends the event's own `event_id` as text (see [`own_event_id`]); whether it has one.
fn push_own_event_id(out: &mut String, event: &CheckedEvent) -> bool {
    match event.params.get("event_id") {
        Some(Value::String(s)) if !s.is_empty() => out.push_str(s),
        Some(Value::Number(n)) => crate::text::push_number(out, *n),
        _ => return false,
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Destination as Dest, Override};
    use crate::meta::MetaMethod;
    use crate::origin::Allowlist;
    use crate::value::tests_support::booking_with_two_appointments;

    fn pipeline() -> Pipeline {
        Pipeline::new(Config {
            ga4: Some(Dest {
                id: "G-TEST1234".into(),
                events: vec![],
            }),
            meta: Some(Dest {
                id: "123456789012345".into(),
                events: vec![("widget_loaded".into(), Override::Off)],
            }),
            origins: Allowlist::widget_default(),
            strict: false,
            consent: None,
            companion: None,
        })
    }

    fn message(action: &str, params: Value) -> Value {
        Value::Object(vec![
            ("action".into(), Value::String(action.into())),
            ("params".into(), params),
        ])
    }

    #[test]
    fn a_widget_booking_goes_to_ga4_as_booked_and_to_meta_as_schedule() {
        let mut p = pipeline();
        let data = message("booked", booking_with_two_appointments());
        let v = p.message("https://n1.alteg.io", || Ok(data));
        assert!(v.ok() && !v.ignored, "{:?}", v.problems);
        let ga4 = v.ga4.expect("ga4");
        assert_eq!(ga4.name, "booked");
        assert!(ga4
            .params
            .contains(&("service_ids".into(), Value::String("101,102,103".into()))));
        let meta = v.meta.expect("meta");
        assert_eq!(
            (meta.method, meta.name.as_str()),
            (MetaMethod::Track, "Schedule")
        );
        assert_eq!(meta.event_id.as_deref(), Some("evt-1"));
        assert_eq!(p.stats().accepted, 1);
    }

    #[test]
    fn the_widgets_own_schedule_is_accepted_but_sent_nowhere() {
        let mut p = pipeline();
        let v = p.message("https://n1.alteg.io", || {
            Ok(message("Schedule", Value::Null))
        });
        assert!(v.ok());
        assert_eq!((v.ga4, v.meta), (None, None));
    }

    #[test]
    fn messages_from_other_origins_are_ignored_unread() {
        let mut p = pipeline();
        let v = p.message("https://alteg.io.evil.test", || panic!("must not be read"));
        assert!(v.ignored);
        assert_eq!(v.problems[0].rule, Rule::Origin);
        assert_eq!(p.stats().ignored_origin, 1);
    }

    #[test]
    fn messages_of_the_wrong_shape_are_ignored_and_counted() {
        let mut p = pipeline();
        let shapes = [
            Value::String("booked".into()),
            Value::Null,
            Value::Array(vec![]),
            Value::Object(vec![("action".into(), Value::Number(1.0))]),
            Value::Object(vec![("type".into(), Value::String("resize".into()))]),
            message("booked", Value::Array(vec![])),
            message("booked", Value::String("x".into())),
        ];
        for data in shapes {
            let v = p.message("https://n1.alteg.io", || Ok(data.clone()));
            assert!(v.ignored, "{data:?}");
            assert_eq!(v.problems[0].rule, Rule::Type);
        }
        let stats = p.stats();
        assert_eq!(
            (stats.received, stats.ignored, stats.ignored_shape),
            (7, 7, 7)
        );
    }

    #[test]
    fn a_repeated_booking_is_sent_once() {
        let mut p = pipeline();
        let first = p.track(
            Value::String("booked".into()),
            Ok(booking_with_two_appointments()),
        );
        let again = p.track(
            Value::String("booked".into()),
            Ok(booking_with_two_appointments()),
        );
        assert!(first.ok());
        assert!(again.ignored && again.ga4.is_none() && again.meta.is_none());
        assert_eq!(again.problems[0].rule, Rule::Duplicate);
        assert_eq!(p.stats().ignored_duplicate, 1);
    }

    #[test]
    fn rejections_and_deliveries_are_counted() {
        let mut p = pipeline();
        let bad = p.track(Value::Number(5.0), Ok(Value::Null));
        assert_eq!(bad.problems[0].message, "name: expected a string, got 5");
        let too_big = p.track(
            Value::String("booked".into()),
            Err(Problem::new(
                "params",
                Rule::TooLarge,
                "more than 2000 values",
            )),
        );
        assert!(!too_big.ok());
        let mut ok = p.track(Value::String("service_selected".into()), Ok(Value::Null));
        p.delivered(&mut ok, Destination::Ga4, Ok(()));
        p.delivered(
            &mut ok,
            Destination::Meta,
            Err("window.fbq is not defined".into()),
        );
        assert_eq!(ok.forwarded, [Destination::Ga4]);
        assert_eq!(ok.warnings[0].message, "meta: window.fbq is not defined");
        let s = p.stats();
        assert_eq!(
            (s.received, s.accepted, s.rejected, s.ignored),
            (3, 1, 2, 0)
        );
        assert_eq!(
            (s.forwarded_ga4, s.forwarded_meta, s.failed_meta),
            (1, 0, 1)
        );
    }

    #[test]
    fn per_event_overrides_apply() {
        let mut p = pipeline();
        let v = p.track(Value::String("widget_loaded".into()), Ok(Value::Null));
        assert!(v.ga4.is_some() && v.meta.is_none());
    }
}

/// Property tests run natively (proptest does not build for wasm32).
#[cfg(all(test, not(target_arch = "wasm32")))]
mod properties {
    use super::*;
    use crate::origin::Allowlist;
    use proptest::prelude::*;

    fn any_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<f64>().prop_map(Value::Number),
            prop_oneof![
                "[a-z0-9_@.+ -]{0,12}",
                Just("booked".to_string()),
                Just("appointments".to_string()),
                Just("services".to_string()),
                ".{0,120}"
            ]
            .prop_map(Value::String),
        ];
        leaf.prop_recursive(12, 256, 8, |inner| {
            let key = prop_oneof![
                Just("action".to_string()),
                Just("params".to_string()),
                Just("appointments".to_string()),
                Just("services".to_string()),
                Just("staff_id".to_string()),
                Just("event_id".to_string()),
                Just("companyId".to_string()),
                Just("isMobile".to_string()),
                Just("email".to_string()),
                "[a-zA-Z_]{0,45}",
            ];
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
                prop::collection::vec((key, inner), 0..30).prop_map(Value::Object),
            ]
        })
    }

    fn config(strict: bool) -> Config {
        let dest = |id: &str| crate::config::Destination {
            id: id.into(),
            events: vec![],
        };
        Config {
            ga4: Some(dest("G-TEST1234")),
            meta: Some(dest("123456789012345")),
            origins: Allowlist::widget_default(),
            strict,
            consent: None,
            companion: None,
        }
    }

    proptest! {
        #[test]
        fn any_message_gets_a_verdict_that_keeps_the_ga4_limits(
            data in any_value(),
            name in prop_oneof![Just("booked".to_string()), Just("group_record_created".to_string()), ".{0,50}"],
            params in any_value(),
            strict in any::<bool>(),
        ) {
            let mut p = Pipeline::new(config(strict));
            let from_widget = p.message("https://n1.alteg.io", || Ok(data));
            let tracked = p.track(Value::String(name), Ok(params));
            for v in [from_widget, tracked] {
                prop_assert_eq!(v.ok(), v.problems.is_empty() && !v.ignored);
                for problem in v.problems.iter().chain(&v.warnings) {
                    prop_assert!(problem.message.starts_with(&problem.path));
                }
                if let Some(ga4) = v.ga4 {
                    prop_assert!(ga4.params.len() <= crate::ga4::MAX_PARAMS);
                    for (name, value) in &ga4.params {
                        prop_assert!(crate::ga4::param_name_problem(name).is_none(), "{}", name);
                        if let Value::String(s) = value {
                            prop_assert!(s.chars().count() <= crate::ga4::MAX_VALUE_LENGTH);
                            prop_assert!(crate::pii::value_looks_personal(s).is_none() || s.contains(','));
                        }
                    }
                }
            }
            let s = p.stats();
            prop_assert_eq!(s.received, s.accepted + s.rejected + s.ignored);
        }
    }
}

#[cfg(test)]
#[cfg(feature = "consent")]
mod consent_tests {
    use super::*;
    use crate::config::Destination as Dest;
    use crate::json::parse;

    fn pipeline(consent: &str) -> Pipeline {
        let dest = |id: &str| Dest {
            id: id.into(),
            events: vec![],
        };
        Pipeline::new(Config {
            ga4: Some(dest("G-TEST1234")),
            meta: Some(dest("123456789012345")),
            consent: Some(
                Consent::from_option(&parse(consent, "consent").expect("json")).expect("valid"),
            ),
            ..Config::default()
        })
    }

    fn track(p: &mut Pipeline, name: &str) -> Verdict {
        p.track(Value::String(name.into()), Ok(Value::Null))
    }

    #[test]
    fn events_wait_for_a_decision_then_go_in_order_or_are_dropped() {
        let mut p = pipeline(r#"{"mode":"basic"}"#);
        let first = track(&mut p, "service_selected");
        assert!(first.ok());
        assert_eq!(first.waiting, [Destination::Ga4, Destination::Meta]);
        assert!(first.ga4_now().is_none());
        track(&mut p, "master_selected");
        assert_eq!(p.stats().consent_waiting, 4);
        let update = parse(
            r#"{"analytics_storage":"granted","ad_storage":"denied"}"#,
            "u",
        )
        .expect("json");
        let (meta_named, released) = p.update_consent(&update).expect("valid");
        assert!(meta_named);
        let names: Vec<&str> = released
            .iter()
            .map(|h| match h {
                Held::Ga4(e) => e.name.as_str(),
                Held::Meta(e) => e.name.as_str(),
            })
            .collect();
        assert_eq!(names, ["service_selected", "master_selected"]);
        let stats = p.stats();
        assert_eq!((stats.consent_waiting, stats.consent_dropped), (0, 2));
        let later = track(&mut p, "date_selected");
        assert!(later.ga4_now().is_some() && later.meta.is_none());
        assert_eq!(
            later.warnings[0].message,
            "meta: not sent: consent denied (ad_storage)"
        );
        assert_eq!(p.stats().consent_dropped, 3);
    }

    #[test]
    fn the_waiting_list_is_bounded_and_counts_what_it_drops() {
        let mut p = pipeline(r#"{"mode":"advanced"}"#);
        for i in 0..(MAX_WAITING + 5) {
            let v = p.track(
                Value::String("service_selected".into()),
                Ok(Value::Object(vec![("i".into(), Value::Number(i as f64))])),
            );
            assert!(v.ga4_now().is_some(), "advanced mode sends GA4 at once");
        }
        let stats = p.stats();
        assert_eq!(stats.consent_waiting as usize, MAX_WAITING);
        assert_eq!(stats.consent_dropped, 5);
        let update = parse(r#"{"ad_storage":"granted"}"#, "u").expect("json");
        let (_, released) = p.update_consent(&update).expect("valid");
        assert_eq!(released.len(), MAX_WAITING);
        match released.first() {
            Some(Held::Meta(e)) => {
                assert_eq!(e.params, vec![("i".to_string(), Value::Number(5.0))])
            }
            other => panic!("{other:?}"),
        }
    }
}
