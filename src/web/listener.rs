//! The window `message` listener; dropping it removes it from the window.

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use super::js::{self, Function};

/// A `message` listener attached to the window for as long as this value lives.
pub struct Listener {
    /// Removes the listener from the window.
    remove: Function,
    /// The same closure type as the outbox's callbacks (one invoke shim for all of them).
    _callback: Closure<dyn FnMut(JsValue)>,
}

impl Listener {
    /// Attaches `handler` to the window's `message` event; it receives the event.
    pub fn attach(mut handler: impl FnMut(&JsValue) + 'static) -> Result<Listener, &'static str> {
        let callback = Closure::<dyn FnMut(JsValue)>::new(move |event: JsValue| handler(&event));
        let remove = js::on_message(callback.as_ref());
        if remove.is_null_or_undefined() {
            return Err("listen() needs a browser window (there is none in this context)");
        }
        if !remove.is_function() {
            return Err("the window refused the message listener");
        }
        Ok(Listener {
            remove: remove.unchecked_into(),
            _callback: callback,
        })
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        js::invoke(&self.remove, &JsValue::UNDEFINED, "");
    }
}
