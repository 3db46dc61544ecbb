//! `BookingAnalytics`, the class front-end developers use.

use alloc::rc::Rc;
use core::cell::RefCell;

use wasm_bindgen::prelude::*;

use super::delivery::Delivery;
use super::destinations::{fbq_apply, fbq_consent, gtag, mint_event_id};
use super::js;
use super::listener::Listener;
#[cfg(feature = "consent")]
use crate::consent::Gate;
use crate::event::{Problem, Rule};
use crate::ga4::Ga4Event;
#[cfg(feature = "consent")]
use crate::json;
use crate::limits::{MAX_JSON, TOO_DEEP, TOO_LONG, TOO_MANY_VALUES};
use crate::meta::MetaEvent;
use crate::options;
use crate::outbox::OutboxStats;
use crate::outbox::{valid_event_id, Entry, Kind};
#[cfg(feature = "consent")]
use crate::pipeline::Held;
use crate::pipeline::{Destination, Pipeline, Verdict};
use crate::pipeline::{Draft, Hooks};
use crate::prelude::*;
use crate::report::fbq_arguments_json;
use crate::report::{gtag_arguments_json, stats_json, verdict_json};
use crate::stats::Stats;
use crate::tape::Tape;
use crate::value::Value;

const REENTERED: &str = "altegio-analytics: re-entrant call while an event was being checked";

/// A JavaScript value read through `JSON.stringify` (getters and `toJSON` run as JSON runs
/// them; functions and symbols are left out, as JSON leaves them out), then `JSON.parse` of
/// that text, as a tape (`crate::tape`). The limits of `crate::limits` are checked by the
/// JavaScript that writes the tape (`tape` in src/web/js.rs), each meant where a parser of
/// the text would meet it; a text longer than `MAX_JSON` bytes of UTF-8 is refused first.
fn read(value: &JsValue, path: &str) -> Result<Value, Problem> {
    let count = js::tape(value, MAX_JSON);
    let Some(words) = js::words(count) else {
        let (rule, why) = match count {
            -1 => return Ok(Value::Null),
            -2 => (
                Rule::Unsupported,
                "cannot be read as JSON (a cycle, a BigInt, or a getter or toJSON that threw)",
            ),
            -3 => (Rule::TooLarge, "larger than 64 KB as JSON"),
            -4 => (Rule::TooLarge, TOO_MANY_VALUES),
            -5 => (Rule::TooLarge, TOO_DEEP),
            _ => (Rule::TooLarge, TOO_LONG),
        };
        return Err(Problem::new(path, rule, why));
    };
    Ok(Tape::new(&words).value())
}

/// An argument of a method that throws when it cannot be read (one function for the three
/// such methods).
pub(super) fn read_argument(value: &JsValue, path: &str) -> Result<Value, JsError> {
    read(value, path).map_err(|p| JsError::new(&p.message))
}

/// Logs a failed tag call that no verdict carries (consent commands, released events).
fn report_failure(result: Result<(), String>) {
    if let Err(why) = result {
        let mut line = String::from("[altegio-analytics] ");
        line.push_str(&why);
        js::console_warn(&line, &JsValue::UNDEFINED);
    }
}

/// A JSON text the module wrote, as a JavaScript value.
fn to_js(json: &str) -> JsValue {
    js::json_parse_or_null(json)
}

/// The state shared by the class and its message listener.
struct Engine {
    pipeline: RefCell<Pipeline>,
    debug: bool,
    /// `onVerdict`: a function, or `undefined`/`null` (which `js::invoke` skips: no `Option`
    /// and no cast to keep, -33 B gzip).
    on_verdict: JsValue,
    /// The outbox and its delivery (with a companion or Meta configured).
    delivery: Option<Rc<Delivery>>,
}

const FBQ_LATER: &str =
    "window.fbq is not defined yet: the call waits in the outbox and goes out once the Pixel base code defines fbq";

impl Engine {
    /// A window message: read only when its origin is allowed, then checked and forwarded.
    fn on_message(&self, event: &JsValue) {
        let origin = js::string(&js::get(event, "origin")).unwrap_or_default();
        let allowed = self
            .pipeline
            .try_borrow()
            .map(|p| p.config().origins.allows(&origin));
        if let Ok(allowed) = allowed {
            let data = if allowed {
                read(&js::get(event, "data"), "data")
            } else {
                Ok(Value::Null)
            };
            if let Ok(mut pipeline) = self.pipeline.try_borrow_mut() {
                let verdict = pipeline.message(&origin, || data);
                drop(pipeline);
                self.finish(verdict);
                return;
            }
        }
        // Either borrow failed: a call from inside another one.
        js::console_error(REENTERED, &JsValue::UNDEFINED);
    }

    fn track(&self, name: &JsValue, params: &JsValue) -> JsValue {
        let name = match js::string(name) {
            Some(name) => Value::String(name),
            None => match read(name, "name") {
                Ok(name) => name,
                Err(_) => Value::Null,
            },
        };
        let params = read(params, "params");
        // Thrown from wasm rather than returned as a `Result`: `track` then returns its verdict
        // plainly, and its shim and glue carry no error conversion (-96 B gzip). The pipeline
        // is borrowed only while Rust runs (page code could re-enter only through `Date.now`
        // or `Math.random`, which the pipeline calls), so this throw is for a page that
        // patches those to call `track`; like wasm-bindgen's own "recursive use" throw, it
        // leaves this call's borrow of the instance and its memory behind.
        let Ok(mut pipeline) = self.pipeline.try_borrow_mut() else {
            wasm_bindgen::throw_str(REENTERED);
        };
        let verdict = pipeline.track(name, params);
        drop(pipeline);
        self.finish(verdict)
    }

    fn delivered(
        &self,
        verdict: &mut Verdict,
        destination: Destination,
        result: Result<(), String>,
    ) {
        if let Ok(mut pipeline) = self.pipeline.try_borrow_mut() {
            pipeline.delivered(verdict, destination, result);
        }
    }

    /// Calls the destinations for an accepted event, then reports the verdict. No borrow of
    /// the pipeline is held while page code (gtag, fbq, onVerdict) runs.
    fn finish(&self, mut verdict: Verdict) -> JsValue {
        if let Some(result) = verdict.ga4_now().and_then(|event| self.send_ga4(event)) {
            self.delivered(&mut verdict, Destination::Ga4, result);
        }
        if let Some(meta) = verdict.meta_now() {
            match self.send_meta(meta) {
                Some(result) => self.delivered(&mut verdict, Destination::Meta, result),
                None => verdict
                    .warnings
                    .push(Problem::new("meta", Rule::Delivery, FBQ_LATER)),
            }
        }
        if let Some(delivery) = &self.delivery {
            let ga4_in_page = verdict.forwarded.contains(&Destination::Ga4);
            match &verdict.collect {
                Some(draft) => {
                    if !self.queue_draft(draft, ga4_in_page) {
                        verdict.collect = None;
                    }
                }
                None => delivery.kick(),
            }
        }
        let js = to_js(&verdict_json(&verdict));
        if self.debug {
            log(&verdict, &js);
        }
        js::invoke(&self.on_verdict, &js, "altegio-analytics: onVerdict threw");
        js
    }
}

impl Engine {
    /// `gtag` for a GA4 event, to the configured measurement ID; `None` without one. (One
    /// path for the events of verdicts and those consent releases: one copy of the code.)
    fn send_ga4(&self, event: &Ga4Event) -> Option<Result<(), String>> {
        // The JSON is written under a shared borrow of the pipeline (no caller holds a mutable
        // one here, so it succeeds); the page's gtag runs after it is released. (The ID is read
        // from the configuration rather than copied into the engine: -13 B.)
        let json = {
            let pipeline = self.pipeline.try_borrow().ok()?;
            gtag_arguments_json(&pipeline.config().ga4.as_ref()?.id, event)
        };
        Some(gtag(&json))
    }

    /// `fbq` for a Meta event (minting its `eventID` first when the widget gave none); `None`
    /// when the call went to the outbox because the page has no `fbq` yet. (The ID and the
    /// arguments are made once for both ways: one call of each, -27 B gzip.)
    fn send_meta(&self, meta: &mut MetaEvent) -> Option<Result<(), String>> {
        let id = event_id_of(meta);
        let json = fbq_arguments_json(meta, &id);
        match &self.delivery {
            // There is an outbox whenever Meta is configured.
            Some(delivery) if !js::global("fbq").is_function() => {
                delivery.queue(Entry {
                    kind: Kind::Meta,
                    id,
                    time_ms: js::date_now(),
                    json,
                });
                None
            }
            _ => Some(fbq_apply(&json)),
        }
    }

    /// A companion copy, into the outbox; `false` when it cannot be sent (no companion, an
    /// event ID the companion refuses). `ga4_in_page`: its GA4 call went to gtag or
    /// `dataLayer` in this page (delivered once a tag reads `dataLayer`: until then the copy
    /// waits a little for one).
    fn queue_draft(&self, draft: &Draft, ga4_in_page: bool) -> bool {
        let Some(delivery) = self.delivery.as_ref().filter(|d| d.has_companion()) else {
            return false;
        };
        if !valid_event_id(&draft.event_id) {
            return false;
        }
        let allowed = self
            .pipeline
            .try_borrow()
            .is_ok_and(|p| p.user_data_allowed());
        let ga4_live = ga4_in_page && js::tags_live();
        if ga4_in_page && !ga4_live && draft.ga4.is_some() {
            delivery.await_tag(&draft.event_id);
        }
        delivery.queue(Entry {
            kind: Kind::Companion,
            id: draft.event_id.clone(),
            time_ms: draft.time_ms,
            json: delivery.companion_json(draft, ga4_live, allowed),
        });
        true
    }
}

/// The Meta event's `eventID`, minted first when the widget gave none.
fn event_id_of(meta: &mut MetaEvent) -> String {
    meta.event_id
        .get_or_insert_with(|| mint_event_id(&meta.name))
        .clone()
}

/// One console line per verdict: what, where it went, and why not.
fn log(verdict: &Verdict, js: &JsValue) {
    let mut line = String::from("[altegio-analytics] ");
    line.push_str(verdict.name.as_deref().unwrap_or("(no name)"));
    line.push_str(": ");
    let ok = verdict.ok();
    if ok {
        line.push_str("accepted");
        let mut separator = " → ";
        for d in &verdict.forwarded {
            line.push_str(separator);
            line.push_str(d.code());
            separator = ", ";
        }
    } else {
        line.push_str(if verdict.ignored {
            "ignored"
        } else {
            "rejected"
        });
    }
    push_messages(&mut line, &verdict.problems);
    push_messages(&mut line, &verdict.warnings);
    if ok && verdict.warnings.is_empty() {
        js::console_info(&line, js);
    } else {
        js::console_warn(&line, js);
    }
}

/// The problems' messages, one indented line each.
fn push_messages(line: &mut String, problems: &[Problem]) {
    for problem in problems {
        line.push_str("\n  ");
        line.push_str(&problem.message);
    }
}

/// Receives the Altegio booking widget's events, checks each against the event catalogue and
/// the destinations' rules, and forwards it to the site's own GA4 and Meta Pixel.
///
/// ```js
/// const analytics = new BookingAnalytics({ ga4: { measurementId: "G-XXXXXXXXXX" } });
/// analytics.listen();
/// ```
#[wasm_bindgen]
pub struct BookingAnalytics {
    engine: Rc<Engine>,
    listener: RefCell<Option<Listener>>,
}

#[cfg(feature = "companion")]
impl BookingAnalytics {
    /// The outbox and its delivery, when there is one (for `setUserData`, src/web/user_data.rs).
    pub(super) fn delivery(&self) -> Option<&Delivery> {
        self.engine.delivery.as_deref()
    }
}

#[wasm_bindgen]
impl BookingAnalytics {
    /// Checks the options and creates the instance. Throws an `Error` naming the option for a
    /// bad configuration (a measurement ID that is not `G-…`, an origin pattern that is not
    /// https or exact, an unknown option…).
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_optional_param_type = "BookingAnalyticsOptions")] options: JsValue,
    ) -> Result<BookingAnalytics, JsError> {
        let value = read_argument(&options, "options")?;
        let mut checked = options::Options::default();
        if let Err(why) = options::read(&value, &mut checked) {
            return Err(JsError::new(&why));
        }
        let on_verdict = js::get(&options, "onVerdict");
        if !on_verdict.is_function() && !on_verdict.is_null_or_undefined() {
            return Err(JsError::new("onVerdict: expected a function"));
        }
        if let Some(consent) = checked.config.consent() {
            // The defaults go out first, so that the tags know the state before any event.
            report_failure(gtag(&consent.gtag_default_json()));
            report_failure(fbq_consent(consent.meta_granted()));
        }
        let delivery = if checked.config.companion().is_some() || checked.config.meta.is_some() {
            Some(Delivery::new(
                checked.config.companion().cloned(),
                checked.debug,
            ))
        } else {
            None
        };
        let mut pipeline = Pipeline::new(checked.config);
        pipeline.hooks = Hooks {
            now_ms: js::date_now,
            mint_id: Some(mint_event_id),
        };
        Ok(BookingAnalytics {
            engine: Rc::new(Engine {
                pipeline: RefCell::new(pipeline),
                debug: checked.debug,
                on_verdict,
                delivery,
            }),
            listener: RefCell::new(None),
        })
    }

    /// Starts receiving the widget's `message` events (only from `widgetOrigins`). Calling it
    /// again while listening does nothing. Throws where there is no window (Node, workers).
    pub fn listen(&self) -> Result<(), JsError> {
        let Ok(mut slot) = self.listener.try_borrow_mut() else {
            return Err(JsError::new(REENTERED));
        };
        if slot.is_none() {
            let engine = Rc::clone(&self.engine);
            match Listener::attach(move |event: &JsValue| engine.on_message(event)) {
                Ok(listener) => *slot = Some(listener),
                Err(why) => return Err(JsError::new(why)),
            }
        }
        if let Some(delivery) = &self.engine.delivery {
            delivery.watch_exit();
            delivery.kick();
        }
        Ok(())
    }

    /// Checks one event and forwards it when accepted. Never throws for a bad event: the
    /// verdict says what was wrong (`ok: false`, with `problems`).
    #[wasm_bindgen(unchecked_return_type = "Verdict")]
    pub fn track(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] name: &JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "EventParams")] params: &JsValue,
    ) -> JsValue {
        self.engine.track(name, params)
    }

    /// This page's GA client ID (from the `_ga` cookie), or `null`.
    #[wasm_bindgen(js_name = clientId, unchecked_return_type = "string | null")]
    pub fn client_id(&self) -> JsValue {
        js::get(&js::identity(), "gaClientId")
    }

    /// The visitor's identifiers: GA client ID, `_fbp`, and `_fbc` (from the cookie, or minted
    /// from the URL's `fbclid` as Meta's pixel does). Missing or malformed ones are `null`.
    #[wasm_bindgen(unchecked_return_type = "Identity")]
    pub fn identity(&self) -> JsValue {
        js::identity()
    }

    /// The counters: received, accepted, rejected, ignored (by reason), forwarded and failed
    /// (by destination).
    #[wasm_bindgen(unchecked_return_type = "Stats")]
    pub fn stats(&self) -> JsValue {
        let stats = match self.engine.pipeline.try_borrow() {
            Ok(pipeline) => pipeline.stats(),
            Err(_) => Stats::default(),
        };
        let outbox = match &self.engine.delivery {
            Some(delivery) => delivery.stats(),
            None => OutboxStats::default(),
        };
        to_js(&stats_json(&stats, &outbox))
    }

    /// Stops listening and delivering (removes the window listener, the page-exit listeners
    /// and the outbox's timer; a request already in flight is still recorded when it answers).
    /// What waits in the outbox stays there for the next page; `listen()` or `track()` starts
    /// again.
    pub fn destroy(&self) {
        if let Ok(mut slot) = self.listener.try_borrow_mut() {
            slot.take();
        }
        if let Some(delivery) = &self.engine.delivery {
            delivery.stop();
        }
    }
}

/// `consent()`, in the builds with Consent Mode (the `consent` feature: `altegio-analytics/consent`
/// and the companion build); its TypeScript types are in src/web/types.rs.
#[cfg(feature = "consent")]
#[wasm_bindgen]
impl BookingAnalytics {
    /// Applies the visitor's consent decision (Consent Mode v2 signals, `"granted"` or
    /// `"denied"`): tells the tags (`gtag('consent', 'update', update)`, and
    /// `fbq('consent', 'grant' | 'revoke')` when `ad_storage` is named), then sends the events
    /// that waited for it, in order, or drops them (counted) where consent was denied.
    /// Throws an `Error` naming a bad signal.
    //
    // The argument is borrowed, not owned, here and in `track`: the shim then lends it in a
    // slot of wasm-bindgen's externref stack instead of allocating a table slot that Rust must
    // free on every path (-90 B gzip for the two; for the constructor it measured +20).
    pub fn consent(
        &self,
        #[wasm_bindgen(unchecked_param_type = "ConsentUpdate")] update: &JsValue,
    ) -> Result<(), JsError> {
        let value = read_argument(update, "consent")?;
        let Ok(mut pipeline) = self.engine.pipeline.try_borrow_mut() else {
            return Err(JsError::new(REENTERED));
        };
        // A match, not `map_err(..)?`: the released calls are not copied into a second
        // `Result`.
        let (meta_named, mut released) = match pipeline.update_consent(&value) {
            Ok(updated) => updated,
            Err(why) => return Err(JsError::new(&why)),
        };
        // Read under the same borrow: what fbq is told when `ad_storage` was named.
        let meta_granted = pipeline.consent().meta_granted();
        drop(pipeline);
        let mut command = String::from(r#"["consent","update","#);
        json::push_value(&mut command, &value);
        command.push(']');
        report_failure(gtag(&command));
        if meta_named {
            report_failure(fbq_consent(meta_granted));
        }
        // By reference: moving each call out of the vector copies it (measured larger).
        for held in &mut released {
            let (destination, result) = match held {
                Held::Ga4(event) => (Destination::Ga4, self.engine.send_ga4(event)),
                Held::Meta(event) => (Destination::Meta, self.engine.send_meta(event)),
            };
            let Some(result) = result else {
                continue;
            };
            let delivered = result.is_ok();
            report_failure(result);
            if let Ok(mut pipeline) = self.engine.pipeline.try_borrow_mut() {
                pipeline.count_delivery(destination, delivered);
            }
        }
        // The released copies' GA4 calls went to the page's tag (now or at event time) when
        // GA4 is configured and consent lets it through.
        let (drafts, released_ga4) = match self.engine.pipeline.try_borrow_mut() {
            Ok(mut pipeline) => (
                pipeline.released_collect(),
                pipeline.config().ga4.is_some()
                    && pipeline.consent().gate(Destination::Ga4) == Gate::Send,
            ),
            Err(_) => (Vec::new(), false),
        };
        for draft in &drafts {
            self.engine.queue_draft(draft, released_ga4);
        }
        Ok(())
    }
}
