//! The window `message` listener; dropping it removes it from the window.

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use super::js::{self, EventTarget, MessageEvent};

/// A `message` listener attached to the window for as long as this value lives.
pub struct Listener {
    window: EventTarget,
    /// The same closure type as the outbox's callbacks (one invoke shim for all of them).
    callback: Closure<dyn FnMut(JsValue)>,
}

impl Listener {
    /// Attaches `handler` to the window's `message` event.
    pub fn attach(
        mut handler: impl FnMut(&MessageEvent) + 'static,
    ) -> Result<Listener, &'static str> {
        let window = js::global("window");
        if !window.is_object() {
            return Err("listen() needs a browser window (there is none in this context)");
        }
        let window: EventTarget = window.unchecked_into();
        let callback = Closure::<dyn FnMut(JsValue)>::new(move |event: JsValue| {
            handler(event.unchecked_ref());
        });
        window
            .add_event_listener("message", callback.as_ref())
            .map_err(|_| "the window refused the message listener")?;
        Ok(Listener { window, callback })
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = self
            .window
            .remove_event_listener("message", self.callback.as_ref());
    }
}
