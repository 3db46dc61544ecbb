//! The Meta Pixel form of an event: `fbq('track' | 'trackCustom', name, params, {eventID})`.

use crate::prelude::*;

use crate::flatten::{copy_params, FlatParams};
use crate::value::Value;

/// Meta's standard events, separated by spaces: these go out with `track`, every other name
/// with `trackCustom`.
pub const STANDARD_EVENTS: &str = concat!(
    "AddPaymentInfo AddToCart AddToWishlist CompleteRegistration Contact ",
    "CustomizeProduct Donate FindLocation InitiateCheckout Lead Purchase Schedule ",
    "Search StartTrial SubmitApplication Subscribe ViewContent",
);

/// Longest custom event name Meta accepts.
pub const MAX_NAME_LENGTH: usize = 50;

/// The `fbq` command used for an event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetaMethod {
    /// `fbq('track', …)`: a standard event.
    Track,
    /// `fbq('trackCustom', …)`: any other name.
    TrackCustom,
}

impl MetaMethod {
    /// The first argument of `fbq`.
    pub fn code(self) -> &'static str {
        match self {
            MetaMethod::Track => "track",
            MetaMethod::TrackCustom => "trackCustom",
        }
    }
}

/// An event as it goes to Meta Pixel.
#[derive(Debug, PartialEq)]
pub struct MetaEvent {
    /// `track` for standard events, `trackCustom` otherwise.
    pub method: MetaMethod,
    /// The Meta event name.
    pub name: String,
    /// Flat custom data.
    pub params: FlatParams,
    /// The deduplication id (`eventID`): the widget's `event_id` when the event has one;
    /// otherwise the browser side mints one.
    pub event_id: Option<String>,
}

/// By hand, through [`copy_params`] (smaller than the derived clone).
impl Clone for MetaEvent {
    fn clone(&self) -> MetaEvent {
        MetaEvent {
            method: self.method,
            name: self.name.clone(),
            params: copy_params(&self.params),
            event_id: self.event_id.clone(),
        }
    }
}

/// Whether `name` is acceptable as a Meta event name (1–50 letters, digits or `_`).
pub fn is_valid_name(name: &str) -> bool {
    // Only ASCII passes `is_word`, so the byte length is the character count.
    !name.is_empty() && name.len() <= MAX_NAME_LENGTH && crate::ga4::is_word(name)
}

/// The Meta form of an event, sent under `name`, with the flat parameters. (Both are taken,
/// not copied: the pipeline maps to Meta last.)
pub fn to_meta(name: String, params: FlatParams) -> MetaEvent {
    let method = if crate::catalog::in_word_list(STANDARD_EVENTS, &name) {
        MetaMethod::Track
    } else {
        MetaMethod::TrackCustom
    };
    let event_id = params
        .iter()
        .find(|(k, _)| k == "event_id")
        .and_then(|(_, v)| match v {
            Value::String(s) if !s.is_empty() => Some(s.clone()),
            _ => None,
        });
    MetaEvent {
        method,
        name,
        params,
        event_id,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_names_use_track_and_others_track_custom() {
        let params = vec![("event_id".to_string(), Value::String("e-9".into()))];
        let schedule = to_meta("Schedule".into(), params);
        assert_eq!(schedule.method, MetaMethod::Track);
        assert_eq!(schedule.event_id.as_deref(), Some("e-9"));
        let custom = to_meta("service_selected".into(), Vec::new());
        assert_eq!(custom.method, MetaMethod::TrackCustom);
        assert_eq!(custom.event_id, None);
    }

    #[test]
    fn names_are_checked() {
        assert!(is_valid_name("Schedule"));
        assert!(is_valid_name("booking_step_2"));
        assert!(!is_valid_name(""));
        assert!(!is_valid_name("has space"));
        assert!(!is_valid_name(&"x".repeat(51)));
        assert!(is_valid_name(&"x".repeat(50)));
        for bad in ["é", "ééé", "a-b"] {
            assert!(!is_valid_name(bad), "{bad}");
        }
    }
}
