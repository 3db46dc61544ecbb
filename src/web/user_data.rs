//! `setUserData()`, advanced matching for the server-side copy (the `companion` build only).
#![cfg(feature = "companion")]

use wasm_bindgen::prelude::*;

use super::analytics::{read_argument, BookingAnalytics};
use crate::prelude::*;
use crate::value::Value;

#[wasm_bindgen]
impl BookingAnalytics {
    /// Advanced matching for the server-side copy: the visitor's e-mail and/or phone,
    /// normalised (trimmed, lower-cased; the phone as digits only) and hashed with SHA-256
    /// here, in the page; only the hashes go, as `user_data` of later companion copies (never
    /// to GA4 or gtag), and only while `ad_user_data` is granted (or consent is not managed).
    /// `null` / `undefined` clears a value. Throws an `Error` naming a value that is not a
    /// string.
    #[wasm_bindgen(js_name = setUserData)]
    pub fn set_user_data(
        &self,
        #[wasm_bindgen(unchecked_param_type = "UserData")] data: JsValue,
    ) -> Result<(), JsError> {
        let value = read_argument(&data, "userData")?;
        let field = |key: &str| match value.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.as_str())),
            Some(_) => {
                let mut message = String::from("setUserData.");
                message.push_str(key);
                message.push_str(": expected a string");
                Err(JsError::new(&message))
            }
        };
        let hashed = crate::hash::user_data(field("email")?, field("phone")?);
        if let Some(delivery) = self.delivery() {
            delivery.set_user_data(hashed);
        }
        Ok(())
    }
}
