//! The widget's event vocabulary: every name known from the widget and Altegio's docs, the
//! parameters known for each, and where each goes by default.

/// The type a known parameter must have.
#[derive(Debug)]
pub enum Kind {
    /// A record identifier: a non-negative integer, or a string of digits (made a number).
    Id,
    /// A string.
    Text,
    /// A string or a number (made a string), e.g. a booking code.
    Code,
    /// A boolean, or 0/1 (made a boolean).
    Flag,
    /// Anything; checked only by the generic rules (PII, size).
    Any,
    /// An array whose items all have the given kind.
    List(&'static Kind),
    /// An object with known fields; other fields are kept when they pass the generic rules.
    Record(&'static [Field]),
}

/// A known parameter of an event.
#[derive(Debug)]
pub struct Field {
    /// The key as the widget sends it.
    pub key: &'static str,
    /// Its type.
    pub kind: Kind,
    /// Whether the event is rejected without it.
    pub required: bool,
}

const fn required(key: &'static str, kind: Kind) -> Field {
    Field {
        key,
        kind,
        required: true,
    }
}

const fn optional(key: &'static str, kind: Kind) -> Field {
    Field {
        key,
        kind,
        required: false,
    }
}

/// Where an event goes at a destination unless the options say otherwise.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DefaultRoute {
    /// Under its own name.
    AsIs,
    /// Under another name (for Meta: a standard event).
    Renamed(&'static str),
    /// Not at all.
    Off,
}

/// How the nested parameters become flat destination parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Projection {
    /// The generic rule (see `flatten`).
    Generic,
    /// The booking summary (see `flatten`): counts and id lists instead of the appointment array.
    Booking,
}

/// What the catalogue knows about an event (shared by all the events that are alike).
#[derive(Debug)]
pub struct EventSpec {
    /// The parameters known for it.
    pub fields: &'static [Field],
    /// How its parameters are flattened.
    pub projection: Projection,
    /// Default route to GA4.
    pub ga4: DefaultRoute,
    /// Default route to Meta Pixel.
    pub meta: DefaultRoute,
}

/// One appointment of a booking (widget source: `booked`, `group_record_created`).
const APPOINTMENT: &[Field] = &[
    required("services", Kind::List(&Kind::Id)),
    optional("staff_id", Kind::Id),
    optional("datetime", Kind::Text),
    optional("chargeStatus", Kind::Any),
    optional("custom_fields", Kind::Any),
    optional("id", Kind::Id),
];

/// The parameters of `booked` and `group_record_created`.
const BOOKING: &[Field] = &[
    required("appointments", Kind::List(&Kind::Record(APPOINTMENT))),
    optional("code", Kind::Code),
    optional("companyId", Kind::Id),
    optional("companyName", Kind::Text),
    optional("isMobile", Kind::Flag),
    optional("event_id", Kind::Code),
];

/// An event with no known parameters that goes everywhere under its own name.
const PLAIN: &EventSpec = &EventSpec {
    fields: &[],
    projection: Projection::Generic,
    ga4: DefaultRoute::AsIs,
    meta: DefaultRoute::AsIs,
};

/// A booking: summarised for the destinations, a Meta `Schedule`.
const BOOKING_EVENT: &EventSpec = &EventSpec {
    fields: BOOKING,
    projection: Projection::Booking,
    ga4: DefaultRoute::AsIs,
    meta: DefaultRoute::Renamed("Schedule"),
};

/// Not forwarded anywhere.
const OFF: &EventSpec = &EventSpec {
    fields: &[],
    projection: Projection::Generic,
    ga4: DefaultRoute::Off,
    meta: DefaultRoute::Off,
};

/// Every event name known (FACTS §2) that has no known parameters and goes everywhere under
/// its own name, separated by spaces (names and specs as a table cost 12 bytes of pointers per
/// event in the wasm). Names from an unverified copy of the widget are included: a name the
/// widget never sends costs nothing.
pub const PLAIN_EVENTS: &str = concat!(
    "widget_loaded service_selected master_selected date_selected time_selected ",
    "appointment_changed appointment_deleted company_page_open master_page_open ",
    "review_created send_contacts phone_approved widget_closed clicked_promo_link ",
    "activity_type_showed individual_booking_selected group_activity_selected ",
    "group_events_date_clicked group_personal_data_filled group_sms_code_confirmed",
);

/// The bookings, separated by spaces.
pub const BOOKING_EVENTS: &str = "booked group_record_created";

/// The widget's own Meta standard event for a booking. `booked` already becomes a Meta
/// `Schedule` carrying the booking's event id, so forwarding this one would count the booking
/// twice in Meta, and GA4 has `booked`.
pub const WIDGET_SCHEDULE: &str = "Schedule";

/// Whether `word` is one of the space-separated words of `list`. (Word lists are kept as one
/// string each: a `&[&str]` table costs 8 bytes of pointers per entry in the wasm.)
pub fn in_word_list(list: &str, word: &str) -> bool {
    crate::text::split_byte(list, b' ').any(|listed| listed == word)
}

/// What the catalogue knows about `name` (case-sensitive, as the widget sends it).
pub fn find(name: &str) -> Option<&'static EventSpec> {
    if in_word_list(BOOKING_EVENTS, name) {
        Some(BOOKING_EVENT)
    } else if name == WIDGET_SCHEDULE {
        Some(OFF)
    } else if in_word_list(PLAIN_EVENTS, name) {
        Some(PLAIN)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ga4;

    /// Every name of the catalogue.
    fn names() -> Vec<&'static str> {
        let mut names: Vec<&str> = PLAIN_EVENTS.split(' ').collect();
        names.extend(BOOKING_EVENTS.split(' '));
        names.push(WIDGET_SCHEDULE);
        names
    }

    #[test]
    fn every_catalogue_name_is_a_valid_ga4_event_name() {
        for name in names() {
            assert!(ga4::check_event_name(name).is_ok(), "{name}");
            assert!(find(name).is_some(), "{name}");
        }
    }

    #[test]
    fn catalogue_holds_the_documented_names_once_each() {
        let names = names();
        assert_eq!(names.len(), 23);
        for (i, a) in names.iter().enumerate() {
            assert!(names[i + 1..].iter().all(|b| b != a), "{a}");
        }
        for name in [
            "widget_loaded",
            "service_selected",
            "master_selected",
            "date_selected",
            "time_selected",
            "booked",
            "review_created",
            "group_record_created",
            "Schedule",
        ] {
            assert!(find(name).is_some(), "{name}");
        }
        assert!(find("BOOKED").is_none());
    }

    #[test]
    fn bookings_go_to_meta_as_schedule_and_the_widgets_schedule_goes_nowhere() {
        assert_eq!(
            find("booked").map(|s| s.meta),
            Some(DefaultRoute::Renamed("Schedule"))
        );
        let schedule = find("Schedule").map(|s| (s.ga4, s.meta));
        assert_eq!(schedule, Some((DefaultRoute::Off, DefaultRoute::Off)));
    }
}
