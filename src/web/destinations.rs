//! The calls to the page's own tags: `gtag` (or `dataLayer`) and `fbq`. Looked up on the
//! global object at each call, so tags loaded after the module are used as soon as they exist.

use wasm_bindgen::JsValue;

use super::js;
use crate::prelude::*;
use crate::text::push_u64;

/// A tag call's outcome: the failure's sentence, or `undefined` when it went through.
fn failure(sentence: JsValue) -> Result<(), String> {
    js::string(&sentence).map_or(Ok(()), Err)
}

/// `gtag(...args)` with the arguments as JSON, or the same arguments pushed onto
/// `window.dataLayer` (created when absent) as an `arguments` object when the page has no gtag:
/// what gtag itself does, so gtag.js and Google Tag Manager both read it.
pub fn gtag(arguments_json: &str) -> Result<(), String> {
    failure(js::gtag(arguments_json))
}

/// `fbq('consent', 'grant' | 'revoke')`, when the page has fbq (a page without the pixel has
/// nothing to tell).
pub fn fbq_consent(granted: bool) -> Result<(), String> {
    let arguments_json = if granted {
        r#"["consent","grant"]"#
    } else {
        r#"["consent","revoke"]"#
    };
    failure(js::fbq(arguments_json, false))
}

/// `fbq(...args)` with the arguments as JSON; an error when the page has no fbq.
pub fn fbq_apply(arguments_json: &str) -> Result<(), String> {
    failure(js::fbq(arguments_json, true))
}

/// A fresh deduplication id for a Meta event that has no `event_id` of its own:
/// `<name>.<milliseconds>.<random>`.
pub fn mint_event_id(name: &str) -> String {
    let mut id = String::from(name);
    id.push('.');
    push_u64(&mut id, js::date_now() as u64);
    id.push('.');
    push_u64(&mut id, (js::math_random() * 1e15) as u64);
    id
}
