//! `connectLocations()`: the registration page's call. Reads the location IDs and the signed
//! user data from `location.search`, sends them to the companion's `/api/connect`, and
//! resolves to each location's outcome. Inside Altegio's app-card iframe it tells Altegio the
//! result (`show_toast`, then `close_modal` when every location is active), posting to
//! Altegio's origin only and accepting messages from that origin only.
//!
//! Only in the `connect` build (pkg/register): partner sites never load this code.
#![cfg(feature = "connect")]

use alloc::rc::Rc;
use core::cell::Cell;

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::js_sys::Promise;
use wasm_bindgen_futures::{future_to_promise, JsFuture};

use super::analytics::BookingAnalytics;
use super::js::{self, Function};
use super::listener::Listener;
use crate::connect::{
    all_active, parse_search, read_options, read_response, request_json, result_json, summary,
    toast_json, ConnectOptions, Outcome, CLOSE_MODAL_JSON,
};
use crate::json::{self, Object};
use crate::limits::MAX_JSON;
use crate::prelude::*;
use crate::text::concat;

#[wasm_bindgen(typescript_custom_section)]
const CONNECT_TYPES: &'static str = r#"
/** Options of `analytics.connectLocations(options)`. Unknown keys are refused. */
export interface ConnectOptions {
  /** The companion's base URL, e.g. `location.origin` when it serves the registration page. */
  companionUrl: string;
  /**
   * Altegio's app origin(s): where the registration page's iframe lives. Messages go to these
   * origins only and are accepted from these only.
   * Default: `["https://app.alteg.io", "https://yclients.com"]`.
   */
  altegioOrigin?: string | string[];
  /** Inside Altegio's iframe, post `close_modal` when every location is active (default `true`). */
  closeOnSuccess?: boolean;
  /** Called with each message Altegio's app posts while the call runs (`close_modal`, `send_iframe_offset`). */
  onAltegioMessage?: (message: AltegioMessage) => void;
}

/** A message from Altegio's app page to the registration iframe. */
export interface AltegioMessage {
  action: string;
  [key: string]: unknown;
}

/** One location's outcome. */
export interface LocationOutcome {
  /** Altegio's location ID. */
  salonId: number;
  /** `active`: connected; `failed`: not connected, see `reason`. */
  status: "active" | "failed";
  /** For `active`: whether it was already active before this call. */
  alreadyActive?: boolean;
  /** For `failed`: why, e.g. `"HTTP 422: …"`. */
  reason?: string;
}

/** What `connectLocations` resolves to: every location of the URL, in URL order. */
export interface ConnectResult {
  locations: LocationOutcome[];
}
"#;

#[wasm_bindgen]
extern "C" {
    /// `fetch(url, init)` on the global object (windows and workers alike).
    #[wasm_bindgen(js_name = fetch, catch)]
    fn fetch(url: &str, init: &JsValue) -> Result<Promise, JsValue>;

    /// A fetch `Response`.
    type Response;

    /// `response.status`.
    #[wasm_bindgen(method, getter)]
    fn status(this: &Response) -> u16;

    /// `response.text()`.
    #[wasm_bindgen(method, catch)]
    fn text(this: &Response) -> Result<Promise, JsValue>;

    /// A window, possibly of another origin (only `postMessage` is used on it).
    type Window;

    /// `window.postMessage(message, targetOrigin)`.
    #[wasm_bindgen(method, catch, js_name = postMessage)]
    fn post_message(this: &Window, message: &JsValue, target_origin: &str) -> Result<(), JsValue>;
}

/// A JS `Error` with `message`.
fn error(message: &str) -> JsValue {
    JsError::new(message).into()
}

/// The `message` of a thrown value, for sentences.
fn message_of(thrown: &JsValue) -> String {
    js::string(&js::get(thrown, "message"))
        .or_else(|| js::string(thrown))
        .unwrap_or_else(|| "an exception".to_string())
}

/// The options as JSON sees them, checked, plus the callback JSON leaves out.
fn options(value: &JsValue) -> Result<(ConnectOptions, Option<Function>), String> {
    let text = if value.is_undefined() {
        None
    } else {
        js::string(
            &js::json_stringify(value)
                .map_err(|_| "options: cannot be read as JSON".to_string())?,
        )
    };
    let text = text.unwrap_or_else(|| "null".to_string());
    if text.len() > MAX_JSON {
        return Err("options: larger than 64 KB as JSON".to_string());
    }
    let parsed = json::parse(&text, "options").map_err(|p| p.message)?;
    let checked = read_options(&parsed)?;
    let callback = js::get(value, "onAltegioMessage");
    let callback = if callback.is_function() {
        Some(callback.unchecked_into::<Function>())
    } else if callback.is_undefined() || callback.is_null() {
        None
    } else {
        return Err("onAltegioMessage: expected a function".to_string());
    };
    Ok((checked, callback))
}

/// The fetch options of the connect call: a JSON POST without cookies (they would not survive
/// Altegio's iframe anyway) and without caching.
fn request_init(body: &str) -> JsValue {
    let mut out = String::with_capacity(body.len() + 160);
    let mut init = Object::open(&mut out);
    init.str("method", "POST");
    let headers = init.key("headers");
    let mut h = Object::open(headers);
    h.str("Content-Type", "application/json");
    h.str("Accept", "application/json");
    h.close();
    init.str("body", body);
    init.str("credentials", "omit");
    init.str("cache", "no-store");
    init.close();
    js::json_parse(&out).unwrap_or(JsValue::UNDEFINED)
}

/// Altegio's app page, when this page runs in its iframe: the parent window, if there is one
/// distinct from this window.
fn altegio_parent() -> Option<Window> {
    let window = js::global("window");
    if !window.is_object() {
        return None;
    }
    let parent = js::get(&window, "parent");
    (parent.is_object() && parent != window).then(|| parent.unchecked_into())
}

/// Talks to Altegio's app page: posts to the configured origins only (the browser drops a
/// message whose target origin is not the parent's), and hears from them only.
struct Altegio {
    parent: Window,
    origins: Rc<Vec<String>>,
    /// Altegio closed the modal itself: no `close_modal` is sent back.
    closed: Rc<Cell<bool>>,
    _listener: Option<Listener>,
}

impl Altegio {
    fn attach(parent: Window, origins: Vec<String>, callback: Option<Function>) -> Altegio {
        let origins = Rc::new(origins);
        let closed = Rc::new(Cell::new(false));
        let (allowed, seen) = (Rc::clone(&origins), Rc::clone(&closed));
        let listener = Listener::attach(move |event: &JsValue| {
            let origin = js::string(&js::get(event, "origin")).unwrap_or_default();
            if !allowed.contains(&origin) {
                return;
            }
            let data = js::get(event, "data");
            let Some(action) = js::string(&js::get(&data, "action")) else {
                return;
            };
            if action == "close_modal" {
                seen.set(true);
            }
            if let Some(callback) = &callback {
                if let Err(e) = callback.call1(&JsValue::UNDEFINED, &data) {
                    js::console_error("altegio-analytics: onAltegioMessage threw", &e);
                }
            }
        });
        Altegio {
            parent,
            origins,
            closed,
            // Without a listener (it cannot fail where a parent window exists) only the
            // callback and the close_modal bookkeeping are lost.
            _listener: listener.ok(),
        }
    }

    /// Posts a message (JSON text) to each configured origin.
    fn post(&self, json: &str) {
        let Ok(message) = js::json_parse(json) else {
            return;
        };
        for origin in self.origins.iter() {
            if let Err(e) = self.parent.post_message(&message, origin) {
                js::console_warn("altegio-analytics: postMessage to Altegio failed", &e);
            }
        }
    }

    /// Shows the outcome in Altegio's toast; closes the modal when asked (and still open).
    fn report(&self, toast: &str, success: bool, close: bool) {
        self.post(&toast_json(success, toast));
        if close && !self.closed.get() {
            self.post(CLOSE_MODAL_JSON);
        }
    }
}

/// Sends the registration to the companion and reads the outcomes.
async fn send(endpoint: &str, body: &str) -> Result<Vec<Outcome>, String> {
    let cannot_reach = |e: &JsValue| {
        concat(&[
            "cannot reach the companion at ",
            endpoint,
            ": ",
            &message_of(e),
        ])
    };
    let pending = fetch(endpoint, &request_init(body)).map_err(|e| cannot_reach(&e))?;
    let response: Response = JsFuture::from(pending)
        .await
        .map_err(|e| cannot_reach(&e))?
        .unchecked_into();
    let status = response.status();
    let reading = response.text().map_err(|e| cannot_reach(&e))?;
    let text = js::string(
        &JsFuture::from(reading)
            .await
            .map_err(|e| cannot_reach(&e))?,
    )
    .unwrap_or_default();
    read_response(status, &text)
}

async fn connect(options_value: JsValue) -> Result<JsValue, JsValue> {
    let (options, callback) = options(&options_value).map_err(|m| error(&m))?;
    let search = js::text("location", "search");
    let altegio = altegio_parent().map(|p| Altegio::attach(p, options.altegio_origins, callback));
    let outcome = match parse_search(&search) {
        Ok(registration) => send(&options.endpoint, &request_json(&registration)).await,
        Err(why) => Err(why),
    };
    let result = outcome
        .as_ref()
        .map(|outcomes| js::json_parse(&result_json(outcomes)).unwrap_or(JsValue::NULL))
        .map_err(|why| error(why));
    if let Some(altegio) = &altegio {
        match &outcome {
            Ok(outcomes) => {
                let done = all_active(outcomes);
                altegio.report(&summary(outcomes), done, done && options.close_on_success);
            }
            Err(why) => altegio.report(why, false, false),
        }
    }
    result
}

#[wasm_bindgen]
impl BookingAnalytics {
    /// Connects the locations of this registration page's URL (`salon_ids[]=…`,
    /// `salon_ids=1,2` or `salon_id=…`, with `user_data` and `user_data_sign` when Altegio
    /// sends them) through the companion's `POST /api/connect`.
    ///
    /// Resolves to every location's outcome; one failed location does not reject. Rejects with
    /// an `Error` naming what was wrong: an option, a location ID (`salon_ids[2]: expected a
    /// positive integer, got "abc"`), the user data, or the companion's refusal. Inside
    /// Altegio's iframe it also posts `show_toast` (and `close_modal` when all are active) to
    /// Altegio's origin.
    #[wasm_bindgen(js_name = connectLocations, unchecked_return_type = "Promise<ConnectResult>")]
    pub fn connect_locations(
        &self,
        #[wasm_bindgen(unchecked_param_type = "ConnectOptions")] options: JsValue,
    ) -> JsValue {
        future_to_promise(connect(options)).into()
    }
}
