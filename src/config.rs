//! The module's configuration, checked: each error names the option and the rule.

use crate::prelude::*;

use crate::catalog::{DefaultRoute, EventSpec};
use crate::consent::Consent;
use crate::origin::Allowlist;
use crate::text::{concat, quoted};
use crate::{ga4, meta};

/// A per-event change of the default mapping at one destination.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Override {
    /// Send under this name instead.
    Rename(String),
    /// Do not send this event there.
    Off,
}

/// Where one destination sends events, and the per-event overrides.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Destination {
    /// The GA4 measurement ID (`G-…`) or the Meta Pixel ID (digits).
    pub id: String,
    /// Per-event overrides, by the widget's event name.
    pub events: Vec<(String, Override)>,
}

impl Destination {
    /// The name to send `event` under, or `None` when it must not be sent.
    pub fn route(
        &self,
        event: &str,
        spec: Option<&EventSpec>,
        default_of: fn(&EventSpec) -> DefaultRoute,
    ) -> Option<String> {
        if let Some((_, choice)) = self.events.iter().find(|(name, _)| name == event) {
            return match choice {
                Override::Rename(to) => Some(to.clone()),
                Override::Off => None,
            };
        }
        match spec.map_or(DefaultRoute::AsIs, default_of) {
            DefaultRoute::AsIs => Some(event.to_string()),
            DefaultRoute::Renamed(to) => Some(to.to_string()),
            DefaultRoute::Off => None,
        }
    }
}

/// Where the server-side copy goes: the companion's `/api/collect` and the site's credentials.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Companion {
    /// The absolute http(s) URL of `/api/collect`, without query or fragment.
    pub url: String,
    /// The site's ID on the companion.
    pub site: String,
    /// The site's public key.
    pub key: String,
}

/// Everything the pipeline needs to know, validated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// GA4, when configured.
    pub ga4: Option<Destination>,
    /// Meta Pixel, when configured.
    pub meta: Option<Destination>,
    /// Origins whose messages are accepted.
    pub origins: Allowlist,
    /// Reject event names that are not in the catalogue.
    pub strict: bool,
    /// Consent management, when the site configures it (`None`: everything is sent).
    pub consent: Option<Consent>,
    /// The companion, when the site sends a server-side copy.
    pub companion: Option<Companion>,
}

impl Config {
    /// The consent management the site configured, in a build with the `consent` feature.
    /// (Builds without it refuse the option anyway; `cfg!` here, as in [`Config::companion`],
    /// lets the compiler leave out every path that holds or drops a call.)
    pub fn consent(&self) -> Option<&Consent> {
        self.consent.as_ref().filter(|_| cfg!(feature = "consent"))
    }

    /// The companion the server-side copy goes to: the configured one, in a build with the
    /// `companion` feature. (The default build refuses the option anyway; `cfg!` here lets
    /// the compiler leave out every path that sends a copy.)
    pub fn companion(&self) -> Option<&Companion> {
        self.companion
            .as_ref()
            .filter(|_| cfg!(feature = "companion"))
    }
}

impl Default for Config {
    fn default() -> Config {
        Config {
            ga4: None,
            meta: None,
            origins: Allowlist::widget_default(),
            strict: false,
            consent: None,
            companion: None,
        }
    }
}

/// What a destination's ID looks like: a prefix, then `min..=max` digits (and upper-case
/// letters when `letters`); `expected` begins the error, which ends with the ID quoted.
pub struct IdRule {
    /// What the ID starts with (`"G-"`, or nothing).
    pub prefix: &'static str,
    /// Fewest characters after the prefix.
    pub min: usize,
    /// Most characters after the prefix.
    pub max: usize,
    /// Whether upper-case letters are allowed besides digits.
    pub letters: bool,
    /// `<option>: expected <what>, got `.
    pub expected: &'static str,
}

/// A GA4 measurement ID: `G-` and 4 to 20 upper-case letters or digits.
pub const MEASUREMENT_ID: IdRule = IdRule {
    prefix: "G-",
    min: 4,
    max: 20,
    letters: true,
    expected: "ga4.measurementId: expected a GA4 measurement ID like \"G-XXXXXXXXXX\", got ",
};

/// A Meta Pixel ID: 10 to 20 digits.
pub const PIXEL_ID: IdRule = IdRule {
    prefix: "",
    min: 10,
    max: 20,
    letters: false,
    expected: "meta.pixelId: expected a Meta Pixel ID (10 to 20 digits), got ",
};

/// Checks `id` against `rule` (one checker for both IDs: less code than one each).
pub fn check_id(id: &str, rule: &IdRule) -> Result<(), String> {
    let rest = id.strip_prefix(rule.prefix).unwrap_or("");
    // A plain loop, not `all` with a closure: less code.
    let mut ok = rest.len() >= rule.min && rest.len() <= rule.max;
    for b in rest.bytes() {
        ok &= b.is_ascii_digit() || (rule.letters && b.is_ascii_uppercase());
    }
    if ok {
        Ok(())
    } else {
        Err(rule.expected.to_string() + &quoted(id))
    }
}

/// Checks a GA4 measurement ID: `G-` and 4 to 20 upper-case letters or digits.
pub fn check_measurement_id(id: &str) -> Result<(), String> {
    check_id(id, &MEASUREMENT_ID)
}

/// Checks a Meta Pixel ID: 10 to 20 digits.
pub fn check_pixel_id(id: &str) -> Result<(), String> {
    check_id(id, &PIXEL_ID)
}

/// Checks a rename target for `destination` ("ga4" or "meta") of `event`; the error names
/// `<destination>.events.<event>`.
pub fn check_rename(destination: &str, event: &str, to: &str) -> Result<Override, String> {
    match rename_problem(destination, to) {
        None => Ok(Override::Rename(to.to_string())),
        Some(why) => Err(concat(&[destination, ".events.", event, ": ", &why])),
    }
}

/// What is wrong with `to` as a rename target for `destination` ("ga4" or "meta"), if anything.
pub fn rename_problem(destination: &str, to: &str) -> Option<String> {
    if destination == "ga4" {
        ga4::check_event_name(to).err().map(|(_, why)| why)
    } else if meta::is_valid_name(to) {
        None
    } else {
        let mut why = quoted(to);
        why.push_str(" is not a Meta event name (1 to 50 letters, digits or _)");
        Some(why)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog;

    #[test]
    fn measurement_and_pixel_ids_are_checked() {
        assert!(check_measurement_id("G-ABC123XYZ9").is_ok());
        for bad in [
            "UA-1234-1",
            "G-",
            "g-abc123",
            "G-abc123",
            "G-AB",
            "GT-ABCDEF",
        ] {
            let err = check_measurement_id(bad).expect_err(bad);
            assert!(err.starts_with("ga4.measurementId: "), "{err}");
        }
        assert!(check_pixel_id("123456789012345").is_ok());
        for bad in ["", "12345", "12345678901234567890123", "12345abc9012345"] {
            assert!(check_pixel_id(bad)
                .expect_err(bad)
                .starts_with("meta.pixelId: "));
        }
    }

    #[test]
    fn renames_are_checked_against_the_destination_rules() {
        assert_eq!(
            check_rename("ga4", "booked", "purchase"),
            Ok(Override::Rename("purchase".into()))
        );
        let err = check_rename("ga4", "booked", "ga_booked").expect_err("reserved");
        assert_eq!(
            err,
            "ga4.events.booked: the prefix \"ga_\" is reserved by GA4"
        );
        assert!(check_rename("meta", "booked", "Purchase").is_ok());
        let err = check_rename("meta", "booked", "has space").expect_err("invalid");
        assert!(err.starts_with("meta.events.booked: "), "{err}");
    }

    #[test]
    fn routes_follow_overrides_then_the_catalogue() {
        let meta = Destination {
            id: "123456789012345".into(),
            events: vec![
                (
                    "service_selected".into(),
                    Override::Rename("ViewContent".into()),
                ),
                ("widget_loaded".into(), Override::Off),
            ],
        };
        let route = |name: &str| meta.route(name, catalog::find(name), |s| s.meta);
        assert_eq!(route("booked").as_deref(), Some("Schedule"));
        assert_eq!(route("service_selected").as_deref(), Some("ViewContent"));
        assert_eq!(route("widget_loaded"), None);
        assert_eq!(route("Schedule"), None);
        assert_eq!(route("custom_thing").as_deref(), Some("custom_thing"));
    }
}
