//! The calls to the page's own tags: `gtag` (or `dataLayer`) and `fbq`. Looked up on the
//! global object at each call, so tags loaded after the module are used as soon as they exist.

use wasm_bindgen::{JsCast, JsValue};

use super::js;
use crate::ga4::Ga4Event;
use crate::meta::MetaEvent;
use crate::prelude::*;
use crate::report::{fbq_arguments_json, gtag_arguments_json};
use crate::text::{concat, push_u64};

/// "<what> threw: <the error's message>".
fn threw(what: &str, error: &JsValue) -> String {
    let message = js::get(error, "message")
        .as_string()
        .or_else(|| error.as_string())
        .unwrap_or_else(|| "an exception".to_string());
    concat(&[what, " threw: ", &message])
}

fn arguments(json: &str) -> Result<JsValue, String> {
    js::json_parse(json).map_err(|e| threw("JSON.parse", &e))
}

/// `gtag(...args)` with the arguments as JSON, or the same arguments pushed onto
/// `window.dataLayer` (created when absent) as an `arguments` object when the page has no gtag:
/// what gtag itself does, so gtag.js and Google Tag Manager both read it.
pub fn gtag(arguments_json: &str) -> Result<(), String> {
    let args = arguments(arguments_json)?;
    let gtag = js::global("gtag");
    if gtag.is_function() {
        return apply(&gtag, &args, "gtag");
    }
    let mut layer = js::global("dataLayer");
    if layer.is_undefined() || layer.is_null() {
        layer = arguments("[]")?;
        js::reflect_set(&js::global_object(), "dataLayer", &layer)
            .map_err(|e| threw("creating window.dataLayer", &e))?;
    }
    let push = js::get(&layer, "push");
    if !push.is_function() {
        return Err(
            "window.dataLayer has no push(): it is not an array or a GTM data layer".to_string(),
        );
    }
    push.unchecked_ref::<js::Function>()
        .call1(&layer, &js::to_arguments(&args))
        .map(drop)
        .map_err(|e| threw("dataLayer.push", &e))
}

/// `gtag('event', name, {...params, send_to})` (or its `dataLayer` form).
pub fn send_ga4(measurement_id: &str, event: &Ga4Event) -> Result<(), String> {
    gtag(&gtag_arguments_json(measurement_id, event))
}

/// `fbq('consent', 'grant' | 'revoke')`, when the page has fbq (a page without the pixel has
/// nothing to tell).
pub fn fbq_consent(granted: bool) -> Result<(), String> {
    let fbq = js::global("fbq");
    if !fbq.is_function() {
        return Ok(());
    }
    call_fbq(
        &fbq,
        if granted {
            r#"["consent","grant"]"#
        } else {
            r#"["consent","revoke"]"#
        },
    )
}

/// `fbq('track' | 'trackCustom', name, params, {eventID})`.
pub fn send_meta(event: &MetaEvent, event_id: &str) -> Result<(), String> {
    fbq_apply(&fbq_arguments_json(event, event_id))
}

/// `fbq(...args)` with the arguments as JSON.
pub fn fbq_apply(arguments_json: &str) -> Result<(), String> {
    let fbq = js::global("fbq");
    if !fbq.is_function() {
        return Err(
            "window.fbq is not defined: load Meta's Pixel base code on the page".to_string(),
        );
    }
    call_fbq(&fbq, arguments_json)
}

/// `fbq(...args)` on the page's fbq function.
fn call_fbq(fbq: &JsValue, arguments_json: &str) -> Result<(), String> {
    apply(fbq, &arguments(arguments_json)?, "fbq")
}

/// `function(...args)`; the error names the function (`what`).
fn apply(function: &JsValue, args: &JsValue, what: &str) -> Result<(), String> {
    js::reflect_apply(function, &JsValue::UNDEFINED, args)
        .map(drop)
        .map_err(|e| threw(what, &e))
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
