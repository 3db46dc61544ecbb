//! Delivery from the outbox: the companion's `/api/collect` by `fetch` (batches, retries with
//! backoff), `fbq` calls once the page defines `fbq`, and `sendBeacon` when the page goes away.
//!
//! Flushing is serialised across the site's tabs with the Web Locks API (a claim with expiry
//! in the stored outbox where Web Locks are missing), and the outbox is read again under the
//! lock, so two tabs never send the same stored entry. Nothing here throws on the page: the
//! JavaScript helpers (src/web/js.rs) catch everything.

use alloc::rc::{Rc, Weak};
use core::cell::RefCell;

use wasm_bindgen::prelude::*;

use super::destinations::fbq_apply;
use super::js;
use super::storage::LocalStore;
use crate::config::Companion;
use crate::outbox::{
    backoff_ms, collect_event_json, read_line, Entry, Kind, Outbox, OutboxStats, MAX_RETRIES,
    STORAGE_KEY,
};
#[cfg(feature = "companion")]
use crate::outbox::{
    batch_head, batches, outcome, with_ga4_delivered_in_browser, Outcome, UserData,
    GA4_TAG_GRACE_MS,
};
use crate::pipeline::Draft;
use crate::prelude::*;
use crate::text::push_u64;

type Callback = Closure<dyn FnMut(JsValue)>;

struct State {
    outbox: Outbox<LocalStore>,
    /// This tab's name in a claim (where Web Locks are missing).
    tab: String,
    /// A flush is running (lock requested, or a request in flight).
    busy: bool,
    /// The lock's release function, `undefined` under a claim.
    release: JsValue,
    /// The pending `setTimeout`, or `undefined`.
    timer: JsValue,
    /// Flushes in a row that delivered nothing.
    retries: u32,
    /// `destroy()` was called: no new flush starts (an answer in flight is still recorded)
    /// until `listen()` or `track()` starts delivery again.
    stopped: bool,
    #[cfg(feature = "companion")]
    side: CompanionSide,
}

/// What only the companion build keeps. The default build has none of it: no code to drop
/// it, no page-exit listener to remove, no list to prune (0.1 KB gzip).
#[cfg(feature = "companion")]
struct CompanionSide {
    companion: Option<Companion>,
    debug: bool,
    /// The IDs of the batch in flight.
    in_flight: Vec<String>,
    /// Removes the page-exit listeners, or `null`.
    exit_off: JsValue,
    /// Hashed e-mail / phone for the companion copies.
    user_data: Option<UserData>,
    /// Companion entries whose GA4 call went into a `dataLayer` no tag read yet (see
    /// [`GA4_TAG_GRACE_MS`]).
    awaiting_tag: Vec<String>,
}

/// The outbox and what delivers it.
pub struct Delivery {
    state: RefCell<State>,
    /// The timer's and the Web Lock's callback: one closure for both (each costs glue and
    /// wasm). A timer calls it with nothing, the lock with its release function or `false`.
    on_wake: Callback,
    /// The companion's answers and the page's exit: companion-only, so the default build
    /// creates two closures fewer.
    #[cfg(feature = "companion")]
    on_answer: Callback,
    #[cfg(feature = "companion")]
    on_exit: Callback,
}

fn callback(weak: &Weak<Delivery>, run: fn(&Delivery, JsValue)) -> Callback {
    let weak = weak.clone();
    Closure::new(move |value: JsValue| {
        if let Some(delivery) = weak.upgrade() {
            run(&delivery, value);
        }
    })
}

fn tab_name() -> String {
    let mut name = String::from("tab.");
    push_u64(&mut name, (js::math_random() * 1e15) as u64);
    name
}

impl Delivery {
    /// The outbox, delivered to `companion` (when given) and to `fbq`. Pending entries a
    /// previous page left are delivered soon after. (Without the `companion` feature,
    /// `companion` is always `None` and `debug` only concerns the companion's answers.)
    #[cfg_attr(not(feature = "companion"), allow(unused_variables))]
    pub fn new(companion: Option<Companion>, debug: bool) -> Rc<Delivery> {
        let delivery = Rc::new_cyclic(|weak| Delivery {
            state: RefCell::new(State {
                outbox: Outbox::new(LocalStore),
                tab: tab_name(),
                busy: false,
                release: JsValue::UNDEFINED,
                timer: JsValue::UNDEFINED,
                retries: 0,
                stopped: false,
                #[cfg(feature = "companion")]
                side: CompanionSide {
                    companion,
                    debug,
                    in_flight: Vec::new(),
                    exit_off: JsValue::NULL,
                    user_data: None,
                    awaiting_tag: Vec::new(),
                },
            }),
            on_wake: callback(weak, |d, value| {
                if value.is_null_or_undefined() {
                    d.flush();
                } else {
                    d.locked(value);
                }
            }),
            #[cfg(feature = "companion")]
            on_answer: callback(weak, Delivery::answer),
            #[cfg(feature = "companion")]
            on_exit: callback(weak, |d, _| d.exit()),
        });
        delivery.watch_exit();
        if delivery.pending(true) > 0 {
            delivery.schedule(0.0);
        }
        delivery
    }

    /// Listens for the page going away (when there is a companion to beacon to).
    pub fn watch_exit(&self) {
        if let Ok(mut state) = self.state.try_borrow_mut() {
            state.stopped = false;
            #[cfg(feature = "companion")]
            if state.side.companion.is_some() && state.side.exit_off.is_null_or_undefined() {
                state.side.exit_off = js::on_exit(self.on_exit.as_ref());
            }
        }
    }

    /// Removes the page-exit listeners and the pending timer; no flush starts until
    /// [`Delivery::watch_exit`] or [`Delivery::queue`] starts delivery again.
    pub fn stop(&self) {
        if let Ok(mut state) = self.state.try_borrow_mut() {
            state.stopped = true;
            #[cfg(feature = "companion")]
            call_if_function(&core::mem::replace(&mut state.side.exit_off, JsValue::NULL));
            js::cancel(&state.timer);
            state.timer = JsValue::UNDEFINED;
        }
    }

    /// Whether there is a companion (never without the `companion` feature: the compiler
    /// then leaves out the paths that send to it, see `Config::companion`).
    pub fn has_companion(&self) -> bool {
        #[cfg(feature = "companion")]
        return self
            .state
            .try_borrow()
            .is_ok_and(|state| state.side.companion.is_some());
        #[cfg(not(feature = "companion"))]
        false
    }

    /// Sets the hashed identifiers added to later companion copies.
    #[cfg(feature = "companion")]
    pub fn set_user_data(&self, user_data: UserData) {
        if let Ok(mut state) = self.state.try_borrow_mut() {
            state.side.user_data = Some(user_data);
        }
    }

    /// The companion copy of `draft` as JSON, with the hashed identifiers (when set) if
    /// `with_user_data` (read in place, not copied out).
    #[cfg_attr(not(feature = "companion"), allow(unused_variables))]
    pub fn companion_json(&self, draft: &Draft, ga4_live: bool, with_user_data: bool) -> String {
        #[cfg(feature = "companion")]
        {
            let state = self.state.try_borrow().ok();
            let user_data = state
                .as_ref()
                .and_then(|state| state.side.user_data.as_ref())
                .filter(|_| with_user_data);
            collect_event_json(draft, ga4_live, user_data)
        }
        #[cfg(not(feature = "companion"))]
        collect_event_json(draft, ga4_live, None)
    }

    /// The outbox's counters.
    pub fn stats(&self) -> OutboxStats {
        self.state
            .try_borrow()
            .map(|state| state.outbox.stats())
            .unwrap_or_default()
    }

    /// Entries waiting (read again from the store when `fresh`).
    fn pending(&self, fresh: bool) -> u32 {
        match self.state.try_borrow_mut() {
            Ok(mut state) => {
                if fresh {
                    state.outbox.pending(js::date_now())
                } else {
                    state.outbox.stats().pending
                }
            }
            Err(_) => 0,
        }
    }

    /// Keeps an entry until it is delivered, and flushes soon. `false` for a repeat.
    pub fn queue(&self, entry: Entry) -> bool {
        let added = match self.state.try_borrow_mut() {
            Ok(mut state) => {
                state.retries = 0;
                state.stopped = false;
                state.outbox.add(entry, js::date_now())
            }
            Err(_) => false,
        };
        self.schedule(0.0);
        added
    }

    /// Holds the companion copy `id` until the page's tag takes over `dataLayer` (it is then
    /// sent as delivered in the browser), or [`crate::outbox::GA4_TAG_GRACE_MS`] after it was
    /// queued (the companion build; nothing without it).
    #[cfg_attr(not(feature = "companion"), allow(unused_variables))]
    pub fn await_tag(&self, id: &str) {
        #[cfg(feature = "companion")]
        if let Ok(mut state) = self.state.try_borrow_mut() {
            if !state.side.awaiting_tag.iter().any(|waiting| waiting == id) {
                state.side.awaiting_tag.push(id.into());
            }
        }
    }

    /// Flushes on the next timer tick (also retrying what waits, as after a new event).
    pub fn kick(&self) {
        if self.pending(false) > 0 {
            self.schedule(0.0);
        }
    }

    fn schedule(&self, ms: f64) {
        if let Ok(mut state) = self.state.try_borrow_mut() {
            if state.stopped {
                return;
            }
            js::cancel(&state.timer);
            state.timer = js::later(self.on_wake.as_ref(), ms);
        }
    }

    /// Starts a flush: takes the lock (or the claim), then [`Delivery::locked`] sends.
    fn flush(&self) {
        {
            let Ok(mut state) = self.state.try_borrow_mut() else {
                return;
            };
            state.timer = JsValue::UNDEFINED;
            if state.busy {
                return;
            }
            state.busy = true;
        }
        if !js::lock(STORAGE_KEY, self.on_wake.as_ref()) {
            self.locked(JsValue::UNDEFINED);
        }
    }

    /// Holding the lock (`release` a function), a claim (`undefined`), or nothing (`false`:
    /// another tab is flushing; try again later).
    fn locked(&self, release: JsValue) {
        let now = js::date_now();
        let text = {
            let Ok(mut state) = self.state.try_borrow_mut() else {
                return;
            };
            // Stopped while the lock was being granted: nothing is sent.
            let claimed = !state.stopped
                && if release.is_null_or_undefined() {
                    let State { outbox, tab, .. } = &mut *state;
                    outbox.claim(tab, now)
                } else {
                    release.is_function()
                };
            // Kept for `release` even when not claimed: then it is no function, and a claim is
            // given up (if it is this tab's), as it would be under `undefined`.
            state.release = release;
            if !claimed {
                drop(state);
                return self.finish(false, None);
            }
            state.outbox.text(now)
        };
        #[cfg(feature = "companion")]
        let entries = {
            let entries = crate::outbox::read_entries(&text);
            if let Ok(mut state) = self.state.try_borrow_mut() {
                state.side.awaiting_tag.retain(|id| {
                    entries
                        .iter()
                        .any(|e| e.kind == Kind::Companion && e.id == *id)
                });
            }
            entries
        };
        // fbq calls made before the page had fbq: replayed once it has (read from the text as
        // they come: no list of entries), then removed in two store updates (sent, and dropped
        // where fbq threw): one per call would rewrite the stored outbox up to 200 times in one
        // task.
        let mut sent = Vec::new();
        let mut failed = Vec::new();
        if js::global("fbq").is_function() {
            for line in crate::text::split_byte(&text, b'\n') {
                if let Some((b'm', _, id, json)) = read_line(line) {
                    match fbq_apply(json) {
                        Ok(()) => sent.push(id),
                        Err(_) => failed.push(id),
                    }
                }
            }
        }
        let replayed = !sent.is_empty() || !failed.is_empty();
        // Only after a replay: each removal reads and parses the stored outbox again.
        if replayed {
            if let Ok(mut state) = self.state.try_borrow_mut() {
                state.outbox.remove(Kind::Meta, &sent, true, now);
                state.outbox.remove(Kind::Meta, &failed, false, now);
            }
        }
        #[cfg(feature = "companion")]
        match self.request(entries, now) {
            (true, _) => return,
            (false, Some(until)) => {
                self.release();
                return self.schedule(until - now);
            }
            (false, None) => {}
        }
        self.finish(replayed, None);
    }

    /// Sends the companion the first batch of `entries` that may go now: whether a request
    /// went out, and when to look again at copies held back for the page's tag.
    #[cfg(feature = "companion")]
    fn request(&self, mut entries: Vec<Entry>, now: f64) -> (bool, Option<f64>) {
        let Ok(mut state) = self.state.try_borrow_mut() else {
            return (false, None);
        };
        let side = &mut state.side;
        let hold_until = for_companion(&side.awaiting_tag, &mut entries, Some(now));
        let Some(companion) = &side.companion else {
            return (false, hold_until);
        };
        let Some((body, ids)) = batches(&request_head(companion), &entries, 1).pop() else {
            return (false, hold_until);
        };
        side.in_flight = ids;
        // Sent under the borrow: `send` never throws and answers later, never at once.
        js::send(&companion.url, &body, self.on_answer.as_ref());
        (true, hold_until)
    }

    /// The companion's answer to the batch in flight: `"<status> <Retry-After>"`.
    #[cfg(feature = "companion")]
    fn answer(&self, text: JsValue) {
        let text = js::string(&text).unwrap_or_default();
        let (status, retry_after) =
            crate::text::split_once_byte(&text, b' ').unwrap_or((&text, ""));
        let result = outcome(status_code(status));
        {
            let Ok(mut state) = self.state.try_borrow_mut() else {
                return;
            };
            let ids = core::mem::take(&mut state.side.in_flight);
            let now = js::date_now();
            let delivered = result == Outcome::Delivered;
            if result != Outcome::Retry {
                state.outbox.remove(Kind::Companion, &ids, delivered, now);
                if !delivered && state.side.debug {
                    let mut warning =
                        String::from("[altegio-analytics] the companion refused a batch (HTTP ");
                    warning.push_str(&text);
                    warning.push_str("); its events are dropped");
                    js::console_warn(&warning, &JsValue::UNDEFINED);
                }
            }
        }
        // An empty `Retry-After` reads as none in `backoff_ms`.
        self.finish(result != Outcome::Retry, Some(retry_after));
    }

    /// Ends a flush: releases the lock or claim, and schedules the next one while entries
    /// wait (at once after progress, with backoff otherwise, at most `MAX_RETRIES` times).
    fn finish(&self, progress: bool, retry_after: Option<&str>) {
        self.release();
        let delay = {
            let Ok(mut state) = self.state.try_borrow_mut() else {
                return;
            };
            if state.outbox.stats().pending == 0 {
                return;
            }
            if progress {
                state.retries = 0;
                0.0
            } else {
                state.retries += 1;
                if state.retries > MAX_RETRIES {
                    return;
                }
                backoff_ms(state.retries, retry_after)
            }
        };
        self.schedule(delay);
    }

    /// Ends a flush's hold on the outbox: the Web Lock or the claim.
    fn release(&self) {
        let Ok(mut state) = self.state.try_borrow_mut() else {
            return;
        };
        state.busy = false;
        let release = core::mem::replace(&mut state.release, JsValue::UNDEFINED);
        if !call_if_function(&release) {
            let State { outbox, tab, .. } = &mut *state;
            outbox.release(tab, js::date_now());
        }
    }

    /// The page is going away: what waits for the companion goes out by `sendBeacon`, in
    /// requests under 64 KB. The entries stay in the outbox until a `fetch` gets 202 for them
    /// (a beacon's answer cannot be read; the companion absorbs the repeat as a duplicate).
    #[cfg(feature = "companion")]
    fn exit(&self) {
        let Ok(mut state) = self.state.try_borrow_mut() else {
            return;
        };
        let Some(companion) = state.side.companion.clone() else {
            return;
        };
        let mut entries = state.outbox.entries(js::date_now());
        for_companion(&state.side.awaiting_tag, &mut entries, None);
        drop(state);
        for (body, _) in batches(&request_head(&companion), &entries, usize::MAX) {
            if !js::send(&companion.url, &body, &JsValue::UNDEFINED) {
                break;
            }
        }
    }
}

impl Drop for Delivery {
    fn drop(&mut self) {
        self.stop();
        // Freed in the middle of a flush (a request in flight, whose answer can no longer
        // reach this instance): let go of the Web Lock or the claim now, or every other
        // instance and tab would wait for it until this page closes.
        if self.state.try_borrow().is_ok_and(|state| state.busy) {
            self.release();
        }
    }
}

/// An HTTP status as `send` (src/web/js.rs) reports it: decimal digits, `0` when it is not one
/// (a plain loop: `str::parse` brings a sign-aware, overflow-checked parser twice the size).
#[cfg(feature = "companion")]
fn status_code(text: &str) -> u16 {
    // Counted in u32: past 6553 one more digit would overflow u16 (then the answer is 0).
    let mut status: u32 = 0;
    for &byte in text.as_bytes() {
        let digit = byte.wrapping_sub(b'0');
        if digit > 9 || status > 6553 {
            return 0;
        }
        status = status * 10 + u32::from(digit);
    }
    u16::try_from(status).unwrap_or(0)
}

/// Calls `function()` when it is a function (ours, from src/web/js.rs); whether it was one.
fn call_if_function(function: &JsValue) -> bool {
    js::invoke(function, &JsValue::UNDEFINED, "")
}

/// The entries to send to the companion now, and when to look again at those held back. A copy
/// whose GA4 call waits for the page's tag goes out marked delivered in the browser once the tag
/// is live; until then it is held within its grace (when `now` is given: a page leaving holds
/// nothing back), and after it goes out as not delivered.
#[cfg(feature = "companion")]
fn for_companion(
    awaiting_tag: &[String],
    entries: &mut Vec<Entry>,
    now: Option<f64>,
) -> Option<f64> {
    let live = js::tags_live();
    let mut wake: Option<f64> = None;
    entries.retain_mut(|entry| {
        if entry.kind != Kind::Companion || !awaiting_tag.contains(&entry.id) {
            return true;
        }
        if live {
            entry.json = with_ga4_delivered_in_browser(&entry.json);
            return true;
        }
        let until = entry.time_ms + GA4_TAG_GRACE_MS;
        match now {
            Some(now) if now < until => {
                if !wake.is_some_and(|w| w <= until) {
                    wake = Some(until);
                }
                false
            }
            _ => true,
        }
    });
    wake
}

/// The start of a `/api/collect` request: the site, its key, and this visitor and page now.
#[cfg(feature = "companion")]
fn request_head(companion: &Companion) -> String {
    batch_head(
        &companion.site,
        &companion.key,
        &super::current_identity(),
        &js::text("location", "href"),
        &js::text("navigator", "userAgent"),
    )
}
