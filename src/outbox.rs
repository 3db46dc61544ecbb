//! The outbox: what was accepted and consented but not delivered yet — companion copies, and
//! fbq calls made before the page defined `fbq` — kept on the device (localStorage in the
//! browser, behind the [`Store`] trait here) so that a reload, or another tab of the same
//! site, delivers it later. Pure: the browser side does the I/O.
//!
//! - **Bounded**: at most [`MAX_ENTRIES`] entries and [`MAX_BYTES`] bytes; beyond, the oldest
//!   go first. Entries older than [`MAX_AGE_MS`] go too. Every such loss counts as `dropped`.
//! - **De-duplicated** by destination and event ID.
//! - **Never throws**: a store that cannot be read or written (disabled, full, throwing) turns
//!   the outbox into a memory-only list for the rest of the page's life, counted in
//!   `storage_failures`.
//! - The stored text (format 2: [`STORAGE_KEY`] ends in `v2`) holds one line per entry, oldest
//!   first: a JSON head `["c"|"m",<ms>,<event ID>]` (the time in whole milliseconds, the ID
//!   a JSON string), a tab character, then the JSON to send as written. Where Web Locks are
//!   missing, the claim that serialises flushing across browser tabs comes first, as
//!   `["l",<until ms>,<the claiming tab's name>]` and a tab character. Neither part holds a
//!   tab or a newline (JSON escapes them in strings), and the JSON to send is kept as text,
//!   not parsed and written again (0.1 KB gzip less than format 1's JSON objects). A line that
//!   does not read so is skipped (counted as dropped), so one corrupt entry costs one entry.

use crate::flatten::FlatParams;
use crate::identity::Identity;
use crate::json::{self, push_str, Object};
use crate::pipeline::Draft;
use crate::prelude::*;

/// The localStorage key (one for all instances of a site's pages: an origin's storage).
pub const STORAGE_KEY: &str = "altegio-analytics:outbox:v2";
/// Most entries kept.
pub const MAX_ENTRIES: usize = 200;
/// Most bytes kept (the stored text, UTF-8).
pub const MAX_BYTES: usize = 256 * 1024;
/// Entries older than this are dropped: 72 hours, the Measurement Protocol's limit for a
/// back-dated event (Meta takes 7 days; the companion remembers event IDs for 7 days).
pub const MAX_AGE_MS: f64 = 72.0 * 3600.0 * 1000.0;
/// Most events in one `/api/collect` request (the companion's limit).
pub const MAX_BATCH_EVENTS: usize = 25;
/// Most bytes of one request body (under the companion's 64 KiB and a beacon's 64 KB).
pub const MAX_BATCH_BYTES: usize = 60 * 1024;
/// How long a tab's claim on flushing lasts where Web Locks are missing (longer than a
/// request's timeout).
pub const CLAIM_MS: f64 = 60_000.0;
/// How long a companion copy waits for gtag.js or GTM to take over `dataLayer` when its GA4
/// call went into a `dataLayer` no tag reads yet: the tag replays the queue when it loads, so a
/// copy sent earlier as "not delivered in the browser" would count the event twice in GA4.
pub const GA4_TAG_GRACE_MS: f64 = 5_000.0;

/// Where an entry goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// The companion's `/api/collect`: the entry is a collect event.
    Companion,
    /// `fbq(...)`: the entry is the argument list.
    Meta,
}

impl Kind {
    fn code(self) -> &'static str {
        match self {
            Kind::Companion => "c",
            Kind::Meta => "m",
        }
    }

    /// The kind whose [`Kind::code`] is this byte (`None` for the claim's `l` and any other).
    fn from_code(code: u8) -> Option<Kind> {
        match code {
            b'c' => Some(Kind::Companion),
            b'm' => Some(Kind::Meta),
            _ => None,
        }
    }
}

/// One undelivered call.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    /// Its destination.
    pub kind: Kind,
    /// The event ID (the de-duplication key, with the kind).
    pub id: String,
    /// When it was queued, epoch milliseconds.
    pub time_ms: f64,
    /// What to send, as JSON.
    pub json: String,
}

impl Entry {
    /// Its stored line (tests write stores with it).
    #[cfg(test)]
    fn line(&self) -> String {
        let mut out = String::new();
        push_line(
            &mut out,
            self.kind.code(),
            self.time_ms,
            &self.id,
            &self.json,
        );
        out
    }
}

/// Appends a stored line: `["<code>",<ms>,<id>]`, a tab, then `json`. The time is written
/// in whole milliseconds (as `Date.now()` gives it), which `read_head` reads.
fn push_line(out: &mut String, code: &str, ms: f64, id: &str, json: &str) {
    out.push_str("[\"");
    out.push_str(code);
    out.push_str("\",");
    crate::text::push_u64(out, ms as u64);
    out.push(',');
    push_str(out, id);
    out.push_str("]\t");
    out.push_str(json);
}

/// Reads a line's head as `push_line` writes it (not through a general JSON parser: the
/// default build has no other use for one, and leaves it out): the code's byte, the time and
/// the ID.
fn read_head(head: &str) -> Option<(u8, f64, String)> {
    // Byte patterns, not `strip_prefix`/`strip_suffix`: smaller.
    let [b'[', b'"', code, b'"', b',', .., b'"', b']'] = *head.as_bytes() else {
        return None;
    };
    let (ms, id) = crate::text::split_once_byte(head.get(5..head.len() - 2)?, b',')?;
    let [b'"', ..] = *id.as_bytes() else {
        return None;
    };
    Some((code, parse_u64(ms)? as f64, unescape(id.get(1..)?)?))
}

/// The text of a JSON string that `push_str` wrote, between its quotes.
fn unescape(s: &str) -> Option<String> {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        out.push(if c == '\\' {
            match chars.next()? {
                'n' => '\n',
                'r' => '\r',
                't' => '\t',
                'u' => {
                    let mut code = 0;
                    for _ in 0..4 {
                        code = code * 16 + chars.next()?.to_digit(16)?;
                    }
                    char::from_u32(code)?
                }
                // `"` and `\`.
                c => c,
            }
        } else {
            c
        });
    }
    Some(out)
}

/// Where the outbox is kept between pages: localStorage in the browser.
pub trait Store {
    /// The stored text (empty when nothing is stored), or `None` when it cannot be read.
    fn read(&mut self) -> Option<String>;
    /// Replaces the stored text (empty: removes it); `false` when it could not be written.
    fn write(&mut self, text: &str) -> bool;
    /// Whether `text` is JSON (a companion copy read back must be: one that is not would spoil
    /// the batch it goes out in). The browser's store asks `JSON.parse`, which the module has
    /// anyway, and leaves the JSON parser out of the wasm.
    fn is_json(&self, text: &str) -> bool {
        json::parse(text, "outbox").is_ok()
    }
}

/// The outbox's counters, shown in `stats().outbox`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OutboxStats {
    /// Entries waiting now (as last seen).
    pub pending: u32,
    /// Entries delivered from the outbox by this page.
    pub sent: u32,
    /// Entries lost: evicted (bounds, age), refused by the companion, or unreadable.
    pub dropped: u32,
    /// Times the store could not be read or written (then the outbox lives in memory).
    pub storage_failures: u32,
}

/// Reads a line of [`Outbox::text`]: its head (the code's byte: `c` a companion copy, `m` an
/// fbq call, `l` the claim; the time; the ID) and the JSON after the tab.
pub fn read_line(line: &str) -> Option<(u8, f64, String, &str)> {
    let (head, json) = crate::text::split_once_byte(line, b'\t')?;
    let (code, ms, id) = read_head(head)?;
    Some((code, ms, id, json))
}

/// The entries in an [`Outbox::text`], oldest first.
pub fn read_entries(text: &str) -> Vec<Entry> {
    let mut entries = Vec::new();
    for line in crate::text::split_byte(text, b'\n') {
        let Some((code, time_ms, id, json)) = read_line(line) else {
            continue;
        };
        // None for the claim's line.
        let Some(kind) = Kind::from_code(code) else {
            continue;
        };
        entries.push(Entry {
            kind,
            id,
            time_ms,
            json: json.into(),
        });
    }
    entries
}

/// What one [`Outbox::modify`] does. Data, not a closure: one function reads the stored lines,
/// applies the change, age and bounds, and writes the lines kept, with no list of entries in
/// between (each closure was a function of its own, over a `Vec` of owned entries).
#[derive(Clone, Copy)]
enum Change<'a> {
    /// Nothing: the document is read (and age and bounds applied).
    Read,
    /// Adds this entry unless one with the same kind and ID is there: 1 when added.
    Add(&'a Entry),
    /// Removes the entries of this kind with these IDs: how many.
    Remove(Kind, &'a [String]),
    /// Claims flushing for this tab unless another tab's claim is still current: 1 when
    /// claimed.
    Claim(&'a str),
    /// Whether this tab holds the claim: 1 when it does.
    Holds(&'a str),
    /// Gives up this tab's claim.
    Release(&'a str),
}

/// The outbox over a store.
#[derive(Debug)]
pub struct Outbox<S: Store> {
    store: S,
    /// Set once the store failed: from then on the entries live in `memory` only.
    memory_only: bool,
    /// The stored text as last left by `modify` (with a working store, a copy of what it
    /// holds).
    memory: String,
    stats: OutboxStats,
}

impl<S: Store> Outbox<S> {
    /// An outbox over `store` (nothing is read until it is used).
    pub fn new(store: S) -> Outbox<S> {
        Outbox {
            store,
            memory_only: false,
            memory: String::new(),
            stats: OutboxStats::default(),
        }
    }

    /// The counters.
    pub fn stats(&self) -> OutboxStats {
        self.stats
    }

    /// The store (tests look inside).
    pub fn store(&self) -> &S {
        &self.store
    }

    /// Reads the current text, applies `change` (its answer is returned), age and bounds, and
    /// writes the text back when it changed. Any store failure switches to memory for good.
    /// (One non-generic function: the npm build carries it once.)
    fn modify(&mut self, now_ms: f64, change: Change) -> usize {
        let stored = if self.memory_only {
            None
        } else {
            let text = self.store.read();
            if text.is_none() {
                self.fail();
                // `memory` held the last text read; memory-only life starts empty.
                self.memory.clear();
            }
            text
        };
        let source = match &stored {
            Some(text) => text,
            None => &self.memory,
        };
        let mut added = match change {
            Change::Add(entry) => Some(entry),
            _ => None,
        };
        let mut result = 0;
        let mut dropped = 0;
        let mut claim: Option<(String, f64)> = None;
        // The kind and ID of every entry read, kept or not (a repeat is skipped).
        let mut seen: Vec<String> = Vec::new();
        // The lines kept, oldest first, each with a newline after it.
        let mut kept = String::new();
        let mut count = 0;
        let mut lines = crate::text::split_byte(source, b'\n');
        loop {
            // The stored lines, then the entry added.
            let (kind, ms, id, json, new) = match lines.next() {
                Some("") => continue,
                Some(line) => {
                    let Some((code, ms, id, json)) = read_line(line) else {
                        dropped += 1;
                        continue;
                    };
                    if code == b'l' {
                        claim = Some((id, ms));
                        continue;
                    }
                    let Some(kind) = Kind::from_code(code) else {
                        dropped += 1;
                        continue;
                    };
                    // A companion copy goes out in one request with others: one that is not
                    // JSON would spoil the batch. (An fbq call goes alone, and the page's
                    // `JSON.parse` refuses a bad one: counted as failed.)
                    if cfg!(feature = "companion")
                        && kind == Kind::Companion
                        && !self.store.is_json(json)
                    {
                        dropped += 1;
                        continue;
                    }
                    (kind, ms, id, json, false)
                }
                None => match added.take() {
                    Some(entry) => (
                        entry.kind,
                        entry.time_ms,
                        entry.id.clone(),
                        entry.json.as_str(),
                        true,
                    ),
                    None => break,
                },
            };
            let mut key = String::from(kind.code());
            key.push_str(&id);
            if seen.contains(&key) {
                continue;
            }
            seen.push(key);
            if new {
                result = 1;
            }
            if let Change::Remove(of, ids) = change {
                if kind == of && ids.contains(&id) {
                    result += 1;
                    continue;
                }
            }
            // Stale entries go (and any dated over `MAX_AGE_MS` ahead: a wrong clock).
            if !(ms + MAX_AGE_MS > now_ms && ms <= now_ms + MAX_AGE_MS) {
                dropped += 1;
                continue;
            }
            push_line(&mut kept, kind.code(), ms, &id, json);
            kept.push('\n');
            count += 1;
        }
        match change {
            Change::Claim(me)
                if !claim
                    .as_ref()
                    .is_some_and(|(by, until)| by != me && *until > now_ms) =>
            {
                claim = Some((me.into(), now_ms + CLAIM_MS));
                result = 1;
            }
            Change::Holds(me) => {
                result = usize::from(claim.as_ref().is_some_and(|(by, _)| by == me));
            }
            Change::Release(me) if claim.as_ref().is_some_and(|(by, _)| by == me) => claim = None,
            _ => {}
        }
        // The claim's line first, then the entries'.
        let mut text = String::new();
        if let Some((by, until)) = &claim {
            push_line(&mut text, "l", *until, by, "");
            text.push('\n');
        }
        // The oldest go, one at a time, while over either bound (rare). The text to be written
        // is `text` and `rest` less the last newline. With no entry left the loop ends, even
        // if the claim alone passes the bound (a claim read back from a damaged store has no
        // length limit).
        let mut rest = kept.as_str();
        while count > MAX_ENTRIES || (count > 0 && text.len() + rest.len() > MAX_BYTES + 1) {
            rest = crate::text::split_once_byte(rest, b'\n').map_or("", |(_, after)| after);
            count -= 1;
            dropped += 1;
        }
        text.push_str(rest);
        text.pop();
        self.stats.dropped += dropped;
        self.stats.pending = count as u32;
        if stored.is_some_and(|stored| text != stored) && !self.store.write(&text) {
            self.fail();
        }
        self.memory = text;
        result
    }

    fn fail(&mut self) {
        self.stats.storage_failures += 1;
        self.memory_only = true;
    }

    /// Adds an entry unless one with the same kind and ID is there; `false` for a repeat.
    pub fn add(&mut self, entry: Entry, now_ms: f64) -> bool {
        if entry.json.len() + entry.id.len() + 64 > MAX_BATCH_BYTES {
            self.stats.dropped += 1;
            return false;
        }
        self.modify(now_ms, Change::Add(&entry)) == 1
    }

    /// The entries waiting, oldest first (re-read from the store: another tab may have sent
    /// or added some).
    pub fn entries(&mut self, now_ms: f64) -> Vec<Entry> {
        read_entries(&self.text(now_ms))
    }

    /// The stored text, after age and bounds (re-read from the store: another tab may have
    /// sent or added some): the claim's line, then one line per entry, oldest first, read by
    /// [`read_line`]. (Delivery reads the fbq calls from it as they come, with no list of
    /// entries in between.)
    pub fn text(&mut self, now_ms: f64) -> String {
        // `modify` leaves the text, after age and bounds, in `memory`.
        self.modify(now_ms, Change::Read);
        self.memory.clone()
    }

    /// The number of entries waiting, read again from the store.
    pub fn pending(&mut self, now_ms: f64) -> u32 {
        self.modify(now_ms, Change::Read);
        self.stats.pending
    }

    /// Removes the entries of `kind` with these IDs: delivered (`sent`) or refused (`dropped`).
    pub fn remove(&mut self, kind: Kind, ids: &[String], delivered: bool, now_ms: f64) {
        let removed = self.modify(now_ms, Change::Remove(kind, ids)) as u32;
        if delivered {
            self.stats.sent += removed;
        } else {
            self.stats.dropped += removed;
        }
    }

    /// Claims flushing for tab `me` until `now_ms + CLAIM_MS`, unless another tab's claim is
    /// still current. For browsers without Web Locks.
    pub fn claim(&mut self, me: &str, now_ms: f64) -> bool {
        // Read back: of two tabs writing at once, the last write holds the claim.
        self.modify(now_ms, Change::Claim(me)) == 1 && self.modify(now_ms, Change::Holds(me)) == 1
    }

    /// Gives up tab `me`'s claim.
    pub fn release(&mut self, me: &str, now_ms: f64) {
        self.modify(now_ms, Change::Release(me));
    }
}

/// What a `/api/collect` answer means for the batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// 2xx: stored by the companion (duplicates included).
    Delivered,
    /// Network error (status 0), 408, 429, 5xx: keep and try again later.
    Retry,
    /// Any other answer (403 site/key/origin, 413, 422…): final; the batch is dropped.
    Refused,
}

/// The outcome of an HTTP status (0 for a network error or a timeout).
pub fn outcome(status: u16) -> Outcome {
    match status {
        200..=299 => Outcome::Delivered,
        0 | 408 | 429 | 500..=599 => Outcome::Retry,
        _ => Outcome::Refused,
    }
}

/// Most retries of a failing flush in one page's life before it waits for the next event.
pub const MAX_RETRIES: u32 = 10;

/// How long to wait before retry number `attempt` (1-based): `Retry-After` seconds when the
/// answer gave them (at most 5 minutes), else 1 s doubling up to 60 s.
pub fn backoff_ms(attempt: u32, retry_after: Option<&str>) -> f64 {
    if let Some(seconds) = retry_after.and_then(|s| parse_u32(crate::text::trim(s))) {
        return f64::from(seconds.min(300)) * 1000.0;
    }
    f64::from(1u32 << attempt.clamp(1, 7).saturating_sub(1)).min(60.0) * 1000.0
}

/// `s` as `u32::from_str` reads it (an optional `+`, then decimal digits, no overflow),
/// written out: the library's version is generic over radixes and larger.
fn parse_u32(s: &str) -> Option<u32> {
    u32::try_from(parse_u64(s)?).ok()
}

/// `s` as `u64::from_str` reads it.
fn parse_u64(s: &str) -> Option<u64> {
    let digits = s.strip_prefix("+").unwrap_or(s);
    if digits.is_empty() {
        return None;
    }
    let mut n: u64 = 0;
    for &b in digits.as_bytes() {
        if !b.is_ascii_digit() {
            return None;
        }
        // Not `checked_mul`: its overflow test is a 128-bit product in the wasm.
        if n > u64::MAX / 10 {
            return None;
        }
        n = (n * 10).checked_add(u64::from(b - b'0'))?;
    }
    Some(n)
}

/// SHA-256 hashes of the visitor's normalised e-mail and phone (advanced matching).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UserData {
    /// Hash of the e-mail, 64 lower-case hex digits.
    pub em: Option<String>,
    /// Hash of the phone number's digits.
    pub ph: Option<String>,
}

fn push_form(out: &mut String, name: &str, params: &FlatParams) {
    let mut form = Object::open(out);
    form.str("name", name);
    let slot = form.key("params");
    let mut object = Object::open(slot);
    for (key, value) in params {
        crate::json::push_value(object.key(key), value);
    }
    object.close();
    form.close();
}

/// Whether an event ID is one the companion takes: 1 to 100 characters, no control characters.
pub fn valid_event_id(id: &str) -> bool {
    // Control characters found by their UTF-8 bytes, without decoding: C0 and DEL are one byte,
    // C1 (U+0080..U+009F) is 0xC2 then 0x80..0x9F.
    let mut prev = 0u8;
    for &b in id.as_bytes() {
        if b < 0x20 || b == 0x7F || (prev == 0xC2 && (0x80..0xA0).contains(&b)) {
            return false;
        }
        prev = b;
    }
    !id.is_empty() && crate::text::char_count(id) <= 100
}

/// One event of a `/api/collect` request, as the companion's contract has it.
pub fn collect_event_json(
    draft: &Draft,
    ga4_delivered_in_browser: bool,
    user_data: Option<&UserData>,
) -> String {
    let mut out = String::with_capacity(512);
    let mut object = Object::open(&mut out);
    object.str("event_id", &draft.event_id);
    object.str("name", &draft.name);
    let slot = object.key("ga4");
    match &draft.ga4 {
        Some(ga4) => push_form(slot, &ga4.name, &ga4.params),
        None => slot.push_str("null"),
    }
    let slot = object.key("meta");
    match &draft.meta {
        Some(meta) => push_form(slot, &meta.name, &meta.params),
        None => slot.push_str("null"),
    }
    object.num("time_ms", draft.time_ms);
    if let Some(user) = user_data.filter(|u| u.em.is_some() || u.ph.is_some()) {
        let mut inner = Object::open(object.key("user_data"));
        if let Some(em) = &user.em {
            inner.str("em", em);
        }
        if let Some(ph) = &user.ph {
            inner.str("ph", ph);
        }
        inner.close();
    }
    // Last: see `with_ga4_delivered_in_browser`.
    object.bool(
        "ga4_delivered_in_browser",
        ga4_delivered_in_browser && draft.ga4.is_some(),
    );
    object.close();
    out
}

/// A companion event's JSON (from [`collect_event_json`]) with `ga4_delivered_in_browser`
/// set to `true`: the page's tag has since taken the GA4 call. The field is written last, so
/// that this needs no search (a parameter may share its name).
pub fn with_ga4_delivered_in_browser(json: &str) -> String {
    match json.strip_suffix(r#""ga4_delivered_in_browser":false}"#) {
        Some(head) => String::from(head) + r#""ga4_delivered_in_browser":true}"#,
        None => json.into(),
    }
}

/// `{"site":…,"key":…,"client":{…},"events":[` — a request's start, with the visitor's IDs,
/// the page URL and the user agent (each left out when the companion would refuse it).
pub fn batch_head(
    site: &str,
    key: &str,
    identity: &Identity,
    page_url: &str,
    user_agent: &str,
) -> String {
    let mut out = String::with_capacity(256);
    let mut object = Object::open(&mut out);
    object.str("site", site);
    object.str("key", key);
    let mut client = Object::open(object.key("client"));
    push_id(&mut client, "ga_client_id", &identity.ga_client_id, 100);
    push_id(&mut client, "fbp", &identity.fbp, 500);
    push_id(&mut client, "fbc", &identity.fbc, 500);
    if page_url.len() <= 2048
        && (page_url.starts_with("https://") || page_url.starts_with("http://"))
    {
        client.str("page_url", page_url);
    }
    if !user_agent.is_empty() && crate::text::char_count(user_agent) <= 1024 {
        client.str("user_agent", user_agent);
    }
    client.close();
    // `batches` closes the list and the object: `]}`.
    object.key("events").push('[');
    out
}

/// A visitor ID field, when the ID is printable ASCII of at most `max` bytes.
fn push_id(client: &mut Object, field: &str, value: &Option<String>, max: usize) {
    let Some(value) = value else { return };
    for &b in value.as_bytes() {
        if !b.is_ascii_graphic() {
            return;
        }
    }
    if value.len() <= max {
        client.str(field, value);
    }
}

/// The request bodies for `entries` (companion entries, oldest first): each at most
/// [`MAX_BATCH_EVENTS`] events and [`MAX_BATCH_BYTES`] bytes, with the IDs it carries.
/// `limit` caps the number of bodies.
pub fn batches(head: &str, entries: &[Entry], limit: usize) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    let mut body = String::new();
    let mut ids: Vec<String> = Vec::new();
    let mut companion = entries.iter().filter(|e| e.kind == Kind::Companion);
    // One flush for a full body and for the last one (`entry` is `None` at the end).
    loop {
        let entry = companion.next();
        let full = entry.is_none_or(|entry| {
            ids.len() == MAX_BATCH_EVENTS
                || head.len() + body.len() + entry.json.len() + 3 > MAX_BATCH_BYTES
        });
        if full && !ids.is_empty() {
            if entry.is_none() && out.len() >= limit {
                break;
            }
            let mut request = String::from(head);
            request.push_str(&body);
            request.push_str("]}");
            out.push((request, core::mem::take(&mut ids)));
            body.clear();
            if out.len() == limit {
                break;
            }
        }
        let Some(entry) = entry else { break };
        if !ids.is_empty() {
            body.push(',');
        }
        body.push_str(&entry.json);
        ids.push(entry.id.clone());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ga4::Ga4Event;
    use crate::text::concat;
    use crate::value::Value;

    /// A store in memory that can be told to fail.
    #[derive(Default)]
    struct Memory {
        text: String,
        read_fails: bool,
        write_fails: bool,
        writes: u32,
    }

    impl Store for &mut Memory {
        fn read(&mut self) -> Option<String> {
            (!self.read_fails).then(|| self.text.clone())
        }
        fn write(&mut self, text: &str) -> bool {
            if self.write_fails {
                return false;
            }
            self.writes += 1;
            self.text = text.to_string();
            true
        }
    }

    fn entry(kind: Kind, id: &str, t: f64) -> Entry {
        Entry {
            kind,
            id: id.into(),
            time_ms: t,
            json: concat(&[r#"{"event_id":""#, id, r#"","n":[1,2.5,"x"]}"#]),
        }
    }

    const NOW: f64 = 1_763_856_000_000.0;

    /// An entry whose ID holds a tab, a newline, a quote and more that JSON escapes.
    fn odd_id() -> Entry {
        let id = "t\tn\n\"\\\r\u{1}\u{1f}é😀";
        let mut json = String::from("[");
        push_str(&mut json, id);
        json.push(']');
        Entry {
            kind: Kind::Companion,
            id: id.into(),
            time_ms: NOW,
            json,
        }
    }

    /// `batches` before its two flushes became one, kept to pin its output.
    fn reference_batches(
        head: &str,
        entries: &[Entry],
        limit: usize,
    ) -> Vec<(String, Vec<String>)> {
        let mut out: Vec<(String, Vec<String>)> = Vec::new();
        let mut body = String::new();
        let mut ids: Vec<String> = Vec::new();
        for entry in entries.iter().filter(|e| e.kind == Kind::Companion) {
            let full = ids.len() == MAX_BATCH_EVENTS
                || head.len() + body.len() + entry.json.len() + 3 > MAX_BATCH_BYTES;
            if full && !ids.is_empty() {
                out.push((concat(&[head, &body, "]}"]), core::mem::take(&mut ids)));
                body.clear();
                if out.len() == limit {
                    return out;
                }
            }
            if !ids.is_empty() {
                body.push(',');
            }
            body.push_str(&entry.json);
            ids.push(entry.id.clone());
        }
        if !ids.is_empty() && out.len() < limit {
            out.push((concat(&[head, &body, "]}"]), ids));
        }
        out
    }

    #[test]
    fn batches_split_as_before_for_any_limit() {
        let head = "{\"h\":[";
        for count in [0usize, 1, 2, 24, 25, 26, 51, 80] {
            let entries: Vec<Entry> = (0..count)
                .map(|i| {
                    let mut e = entry(
                        if i % 7 == 3 {
                            Kind::Meta
                        } else {
                            Kind::Companion
                        },
                        &crate::text::u64_to_string(i as u64),
                        NOW,
                    );
                    e.json = "x".repeat(if i % 5 == 0 { 20_000 } else { 10 });
                    e
                })
                .collect();
            for limit in [0, 1, 2, 3, usize::MAX] {
                assert_eq!(
                    batches(head, &entries, limit),
                    reference_batches(head, &entries, limit),
                    "{count} {limit}"
                );
            }
        }
    }

    #[test]
    fn entries_survive_a_new_outbox_over_the_same_store_in_order() {
        let mut store = Memory::default();
        {
            let mut outbox = Outbox::new(&mut store);
            assert!(outbox.add(entry(Kind::Companion, "a", NOW), NOW));
            assert!(outbox.add(entry(Kind::Meta, "a", NOW), NOW));
            assert!(outbox.add(entry(Kind::Companion, "b", NOW + 1.0), NOW));
            // Tabs and newlines in an ID are escaped in its line.
            assert!(outbox.add(odd_id(), NOW));
            assert_eq!(outbox.stats().pending, 4);
        }
        assert_eq!(
            store.text.split('\n').next(),
            Some(r#"["c",1763856000000,"a"]	{"event_id":"a","n":[1,2.5,"x"]}"#)
        );
        assert_eq!(store.text.split('\n').count(), 4);
        let mut again = Outbox::new(&mut store);
        let entries = again.entries(NOW);
        assert_eq!(
            entries,
            vec![
                entry(Kind::Companion, "a", NOW),
                entry(Kind::Meta, "a", NOW),
                entry(Kind::Companion, "b", NOW + 1.0),
                odd_id(),
            ]
        );
        again.remove(
            Kind::Companion,
            &["a".into(), "b".into(), odd_id().id],
            true,
            NOW,
        );
        assert_eq!(again.entries(NOW), vec![entry(Kind::Meta, "a", NOW)]);
        assert_eq!((again.stats().sent, again.stats().pending), (3, 1));
        again.remove(Kind::Meta, &["a".into()], true, NOW);
        assert_eq!(store.text, "", "an empty outbox leaves nothing stored");
    }

    #[test]
    fn repeats_are_kept_once_per_destination() {
        let mut store = Memory::default();
        let mut outbox = Outbox::new(&mut store);
        assert!(outbox.add(entry(Kind::Companion, "x", NOW), NOW));
        assert!(!outbox.add(entry(Kind::Companion, "x", NOW + 5.0), NOW));
        assert!(outbox.add(entry(Kind::Meta, "x", NOW), NOW));
        assert_eq!(outbox.entries(NOW).len(), 2);
        // A store holding the same line twice (two tabs) is read once.
        let line = entry(Kind::Companion, "y", NOW).line();
        store.text = concat(&[&line, "\n", &line]);
        let mut outbox = Outbox::new(&mut store);
        assert_eq!(outbox.entries(NOW).len(), 1);
    }

    #[test]
    fn a_repeated_line_counts_once_and_lines_are_written_back_as_push_line_writes_them() {
        // A line stored twice (two tabs) is removed once.
        let line = entry(Kind::Meta, "x", NOW).line();
        let mut store = Memory {
            text: concat(&[&line, "\n", &line]),
            ..Memory::default()
        };
        let mut outbox = Outbox::new(&mut store);
        outbox.remove(Kind::Meta, &["x".into()], true, NOW);
        assert_eq!((outbox.stats().sent, outbox.stats().dropped), (1, 0));
        assert_eq!(store.text, "");
        // The repeat of a stale entry goes with it, though its own time is recent.
        let stale = entry(Kind::Meta, "x", NOW - MAX_AGE_MS - 1.0).line();
        store.text = concat(&[&stale, "\n", &line]);
        let mut outbox = Outbox::new(&mut store);
        assert!(!outbox.add(entry(Kind::Meta, "x", NOW), NOW), "a repeat");
        assert!(outbox.entries(NOW).is_empty());
        assert_eq!(outbox.stats().dropped, 1);
        // The claim's line first, then the entries' (their heads written again).
        store.text = "[\"m\",+1763856000000,\"\\u0061\"]\t1\n[\"l\",1,\"tab\"]\t".into();
        let mut outbox = Outbox::new(&mut store);
        assert_eq!(outbox.entries(NOW).len(), 1);
        assert_eq!(
            store.text,
            "[\"l\",1,\"tab\"]\t\n[\"m\",1763856000000,\"a\"]\t1"
        );
    }

    #[test]
    fn the_oldest_go_first_beyond_the_count_and_byte_bounds_and_by_age() {
        let mut store = Memory::default();
        let mut outbox = Outbox::new(&mut store);
        for i in 0..(MAX_ENTRIES + 3) {
            outbox.add(
                entry(Kind::Companion, &crate::text::u64_to_string(i as u64), NOW),
                NOW,
            );
        }
        let entries = outbox.entries(NOW);
        assert_eq!(entries.len(), MAX_ENTRIES);
        assert_eq!(entries[0].id, "3");
        assert_eq!(outbox.stats().dropped, 3);

        let mut store = Memory::default();
        let mut outbox = Outbox::new(&mut store);
        // About 50 KB each, in strings of 5 000 (a message's strings are at most 8 KB).
        let part = concat(&["\"", &"x".repeat(5_000), "\""]);
        let big = concat(&["[", &[part.as_str(); 10].join(","), "]"]);
        for i in 0..6 {
            let mut e = entry(Kind::Companion, &crate::text::u64_to_string(i), NOW);
            e.json = big.clone();
            outbox.add(e, NOW);
        }
        let ids: Vec<String> = outbox.entries(NOW).into_iter().map(|e| e.id).collect();
        assert_eq!(ids, ["1", "2", "3", "4", "5"], "256 KB hold five of 50 KB");
        assert_eq!(outbox.stats().dropped, 1);
        assert!(store.text.len() <= MAX_BYTES);

        let mut store = Memory::default();
        let mut outbox = Outbox::new(&mut store);
        outbox.add(
            entry(Kind::Companion, "old", NOW - MAX_AGE_MS - 1.0),
            NOW - MAX_AGE_MS,
        );
        outbox.add(entry(Kind::Companion, "new", NOW), NOW);
        let ids: Vec<String> = outbox.entries(NOW).into_iter().map(|e| e.id).collect();
        assert_eq!(ids, ["new"]);
        assert_eq!(outbox.stats().dropped, 1);
        // An entry too large for any request is refused at once.
        let mut huge = entry(Kind::Companion, "huge", NOW);
        huge.json = concat(&["\"", &"y".repeat(MAX_BATCH_BYTES), "\""]);
        assert!(!outbox.add(huge, NOW));
        assert_eq!(outbox.stats().dropped, 2);
    }

    #[test]
    fn heads_read_as_written() {
        for (code, ms, id) in [
            ("c", NOW, "a"),
            ("m", 0.0, odd_id().id.as_str()),
            ("l", 1.0, ""),
        ] {
            let mut line = String::new();
            push_line(&mut line, code, ms, id, "");
            let head = line.strip_suffix('\t').expect("a tab");
            assert_eq!(
                read_head(head),
                Some((code.as_bytes()[0], ms, id.into())),
                "{head}"
            );
        }
        for bad in [
            "",
            "[\"c\",1,\"a\"",
            "[\"c\",1,\"a\"] ",
            "[\"c\", 1,\"a\"]",
            "[\"c\",1.5,\"a\"]",
            "[\"c\",-1,\"a\"]",
            "[\"c\",,\"a\"]",
            "[\"c\",1,a]",
            "[\"c\",1,\"a\\\"]",
            "[\"c\",1,\"\\u00\"]",
            "[\"c\",1,\"\\ud800\"]",
            "[\"cc\",1,\"a\"]",
        ] {
            assert_eq!(read_head(bad), None, "{bad}");
        }
    }

    #[test]
    fn corrupt_stored_text_is_ignored_line_by_line() {
        let good = entry(Kind::Companion, "good", NOW).line();
        let mut store = Memory {
            text: concat(&[
                "[\"l\",1,\t\n{not json\n",
                &good,
                "\n[\"z\",1,\"q\"]\t1\n\u{0}\u{ffff}garbage\n[1,2]",
                // A head without its tab; the head's fields out of their written order.
                "\n[\"c\",1,\"q\"]\n[\"c\",\"q\",1]\t1",
                // A version 1 line.
                "\n{\"k\":\"m\",\"id\":\"q\",\"t\":1,\"j\":1}",
            ]),
            ..Memory::default()
        };
        let mut outbox = Outbox::new(&mut store);
        let entries = outbox.entries(NOW);
        assert_eq!(entries, vec![entry(Kind::Companion, "good", NOW)]);
        assert_eq!(outbox.stats().dropped, 8);
        assert_eq!(outbox.stats().storage_failures, 0);
        for text in ["", "\n\n", "{}", "null", "[\"l\",1,\"tab\"]\t"] {
            let mut store = Memory {
                text: text.into(),
                ..Memory::default()
            };
            assert!(Outbox::new(&mut store).entries(NOW).is_empty(), "{text}");
        }
    }

    #[cfg(feature = "companion")]
    #[test]
    fn a_companion_copy_that_is_not_json_is_dropped_as_it_is_read() {
        // It would spoil the batch it goes out in.
        let mut broken = entry(Kind::Companion, "broken", NOW);
        broken.json.pop();
        let good = entry(Kind::Companion, "good", NOW).line();
        let mut store = Memory {
            text: concat(&[&broken.line(), "\n", &good]),
            ..Memory::default()
        };
        let mut outbox = Outbox::new(&mut store);
        assert_eq!(
            outbox.entries(NOW),
            vec![entry(Kind::Companion, "good", NOW)]
        );
        assert_eq!(outbox.stats().dropped, 1);
    }

    #[test]
    fn a_failing_store_degrades_to_memory_and_is_counted() {
        let mut store = Memory {
            read_fails: true,
            ..Memory::default()
        };
        let mut outbox = Outbox::new(&mut store);
        assert!(outbox.add(entry(Kind::Companion, "a", NOW), NOW));
        assert!(outbox.add(entry(Kind::Companion, "b", NOW), NOW));
        assert!(!outbox.add(entry(Kind::Companion, "a", NOW), NOW));
        assert_eq!(outbox.entries(NOW).len(), 2);
        outbox.remove(Kind::Companion, &["a".into()], true, NOW);
        assert_eq!(outbox.entries(NOW).len(), 1);
        assert_eq!(
            outbox.stats().storage_failures,
            1,
            "counted once, then memory"
        );
        assert!(outbox.claim("tab", NOW));

        // A full store (writes refused): what was read is kept, in memory from then on.
        let mut store = Memory::default();
        Outbox::new(&mut store).add(entry(Kind::Companion, "stored", NOW), NOW);
        store.write_fails = true;
        let mut outbox = Outbox::new(&mut store);
        assert!(outbox.add(entry(Kind::Companion, "new", NOW), NOW));
        let ids: Vec<String> = outbox.entries(NOW).into_iter().map(|e| e.id).collect();
        assert_eq!(ids, ["stored", "new"]);
        let s = outbox.stats();
        assert_eq!((s.storage_failures, s.pending), (1, 2));
    }

    #[test]
    fn claims_expire_and_only_one_tab_holds_one() {
        let mut store = Memory::default();
        let mut a = Outbox::new(&mut store);
        assert!(a.claim("tab-a", NOW));
        assert!(a.claim("tab-a", NOW + 1.0), "a tab may renew its claim");
        drop(a);
        let mut b = Outbox::new(&mut store);
        assert!(!b.claim("tab-b", NOW + 2.0));
        assert!(
            b.claim("tab-b", NOW + CLAIM_MS + 2.0),
            "an expired claim is taken over"
        );
        b.release("tab-b", NOW + CLAIM_MS + 3.0);
        assert!(b.claim("tab-c", NOW + CLAIM_MS + 4.0));
        // Entries written meanwhile keep the claim.
        b.add(
            entry(Kind::Companion, "e", NOW + CLAIM_MS),
            NOW + CLAIM_MS + 4.0,
        );
        assert!(!b.claim("tab-d", NOW + CLAIM_MS + 5.0));
    }

    #[test]
    fn batches_hold_at_most_25_events_and_60_kb() {
        let entries: Vec<Entry> = (0..60)
            .map(|i| entry(Kind::Companion, &crate::text::u64_to_string(i), NOW))
            .chain([entry(Kind::Meta, "m", NOW)])
            .collect();
        let head = batch_head("s", "k", &Identity::default(), "", "");
        let all = batches(&head, &entries, usize::MAX);
        let sizes: Vec<usize> = all.iter().map(|(_, ids)| ids.len()).collect();
        assert_eq!(sizes, [25, 25, 10]);
        for (body, _) in &all {
            let parsed = json::parse(body, "body").expect("valid JSON");
            assert_eq!(parsed.get("site"), Some(&Value::String("s".into())));
        }
        assert_eq!(batches(&head, &entries, 1).len(), 1);
        let big: Vec<Entry> = (0..4)
            .map(|i| {
                let mut e = entry(Kind::Companion, &crate::text::u64_to_string(i), NOW);
                e.json = concat(&["\"", &"z".repeat(25_000), "\""]);
                e
            })
            .collect();
        let all = batches(&head, &big, usize::MAX);
        assert_eq!(all.len(), 2);
        assert!(all.iter().all(|(body, _)| body.len() < MAX_BATCH_BYTES));
    }

    #[test]
    fn event_ids_refuse_exactly_the_control_characters() {
        for code in (0..0x800).chain([0xFEFF, 0x1_F600]) {
            let Some(c) = char::from_u32(code) else {
                continue;
            };
            let id = concat(&["id", c.encode_utf8(&mut [0; 4]), "x"]);
            assert_eq!(valid_event_id(&id), !c.is_control(), "U+{code:04X}");
        }
    }

    #[test]
    fn statuses_backoff_and_the_collect_shapes() {
        assert_eq!(outcome(202), Outcome::Delivered);
        for retry in [0, 408, 429, 500, 503] {
            assert_eq!(outcome(retry), Outcome::Retry, "{retry}");
        }
        for refused in [400, 403, 413, 415, 422] {
            assert_eq!(outcome(refused), Outcome::Refused, "{refused}");
        }
        assert_eq!(backoff_ms(1, None), 1000.0);
        assert_eq!(backoff_ms(3, None), 4000.0);
        assert_eq!(backoff_ms(30, None), 60_000.0);
        assert_eq!(backoff_ms(1, Some("7")), 7000.0);
        assert_eq!(backoff_ms(1, Some("99999")), 300_000.0);
        for text in [
            "",
            "+",
            "-",
            "0",
            "+7",
            "-7",
            "007",
            "4294967295",
            "4294967296",
            "99999999999",
            "1.5",
            " 1",
            "12a",
            "++1",
            "٣",
        ] {
            assert_eq!(parse_u32(text), text.parse::<u32>().ok(), "{text:?}");
        }
        for text in [
            "18446744073709551609",
            "18446744073709551615",
            "18446744073709551616",
            "18446744073709551620",
            "99999999999999999999",
            "+0018446744073709551615",
        ] {
            assert_eq!(parse_u64(text), text.parse::<u64>().ok(), "{text:?}");
        }
        assert_eq!(backoff_ms(2, Some("soon")), 2000.0);

        let draft = Draft {
            event_id: "evt-1".into(),
            name: "booked".into(),
            ga4: Some(Ga4Event {
                name: "booked".into(),
                params: vec![("value".into(), Value::Number(30.0))],
            }),
            meta: None,
            time_ms: NOW,
        };
        let user = UserData {
            em: Some("e".repeat(64)),
            ph: None,
        };
        assert_eq!(
            collect_event_json(&draft, true, Some(&user)),
            concat(&[
                r#"{"event_id":"evt-1","name":"booked","ga4":{"name":"booked","params":{"value":30}},"meta":null,"time_ms":1763856000000,"user_data":{"em":""#,
                &"e".repeat(64),
                r#""},"ga4_delivered_in_browser":true}"#
            ])
        );
        let identity = Identity {
            ga_client_id: Some("1.1700000000".into()),
            fbp: None,
            fbc: Some(concat(&["fb.1.1.", &"x".repeat(600)])),
        };
        let head = batch_head("salon-42", "key", &identity, "https://s.example/", "UA/1");
        assert_eq!(
            head,
            r#"{"site":"salon-42","key":"key","client":{"ga_client_id":"1.1700000000","page_url":"https://s.example/","user_agent":"UA/1"},"events":["#
        );
        assert!(valid_event_id("evt-1"));
        assert!(!valid_event_id(""));
        assert!(!valid_event_id(&"x".repeat(101)));
        assert!(!valid_event_id("a\nb"));
    }

    #[test]
    fn a_copy_is_marked_delivered_in_the_browser_by_its_own_field_not_a_parameter_of_that_name() {
        let draft = Draft {
            event_id: "evt-2".into(),
            name: "booked".into(),
            ga4: Some(Ga4Event {
                name: "booked".into(),
                params: vec![("ga4_delivered_in_browser".into(), Value::Bool(false))],
            }),
            meta: None,
            time_ms: NOW,
        };
        let waiting = collect_event_json(&draft, false, None);
        let marked = with_ga4_delivered_in_browser(&waiting);
        assert_eq!(
            marked,
            r#"{"event_id":"evt-2","name":"booked","ga4":{"name":"booked","params":{"ga4_delivered_in_browser":false}},"meta":null,"time_ms":1763856000000,"ga4_delivered_in_browser":true}"#
        );
        assert_eq!(with_ga4_delivered_in_browser(&marked), marked);
        assert_eq!(marked, collect_event_json(&draft, true, None));
    }
}
