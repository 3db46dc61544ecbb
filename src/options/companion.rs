//! The `companion` option (the `companion` build only): where the server-side copy goes.

use super::only_known;
use crate::config::Companion;
use crate::prelude::*;
use crate::text::concat;
use crate::value::Value;

/// `companion.<field>: expected <rule>, got <got>`.
fn companion_error(field: &TextField, got: &str) -> String {
    concat(&[
        "companion.",
        field.key,
        ": expected ",
        field.rule,
        ", got ",
        got,
    ])
}

/// One string field of `companion`: its key, its most bytes, the test of its text, and what
/// the error says is expected.
struct TextField {
    key: &'static str,
    max: usize,
    valid: fn(&str) -> bool,
    rule: &'static str,
}

/// `companion.url`: absolute http(s), no query or fragment, a host without credentials.
const URL: TextField = TextField {
    key: "url",
    max: 2048,
    valid: |url| {
        let rest = url
            .strip_prefix("https://")
            .or_else(|| url.strip_prefix("http://"))
            .unwrap_or("");
        let host = crate::text::split_once_byte(rest, b'/').map_or(rest, |(host, _)| host);
        // A plain loop, not `all` with a closure: less code.
        let mut ok = !host.is_empty() && !crate::text::has_byte(host, b'@');
        for b in url.bytes() {
            ok &= b.is_ascii_graphic() && b != b'?' && b != b'#';
        }
        ok
    },
    rule: "an absolute http(s) URL without query or fragment",
};

/// `companion.site`: the site's ID on the companion.
const SITE: TextField = TextField {
    key: "site",
    max: 64,
    valid: |site| {
        let mut ok = true;
        for b in site.bytes() {
            ok &= b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.');
        }
        ok
    },
    rule: "the site ID configured on the companion (1 to 64 letters, digits, _ - .)",
};

/// `companion.key`: the site's public key (its minimum length is checked after).
const KEY: TextField = TextField {
    key: "key",
    max: 128,
    valid: |key| {
        let mut ok = true;
        for b in key.bytes() {
            ok &= b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-');
        }
        ok
    },
    rule: "the site's public key (16 to 128 letters, digits, _ -)",
};

/// `companion.<field>`: a string of 1 to `field.max` bytes that `field.valid` accepts.
fn companion_text(value: &Value, field: &TextField, out: &mut String) -> Result<(), String> {
    match value.get(field.key) {
        Some(Value::String(s)) if !s.is_empty() && s.len() <= field.max && (field.valid)(s) => {
            out.push_str(s);
            Ok(())
        }
        Some(Value::String(s)) => Err(companion_error(field, &crate::text::quoted(s))),
        _ => Err(concat(&["companion.", field.key, ": expected a string"])),
    }
}

/// `companion: {url, site, key}` (`None`: absent or null): where the server-side copy goes,
/// into `out` (as for `destination`).
pub(super) fn companion(value: Option<&Value>, out: &mut Option<Companion>) -> Result<(), String> {
    let Some(value) = value else {
        return Ok(());
    };
    only_known(value, "companion", "url site key")?;
    // Filled in place: on an error the whole configuration is dropped.
    let found = out.insert(Companion {
        url: String::new(),
        site: String::new(),
        key: String::new(),
    });
    companion_text(value, &URL, &mut found.url)?;
    companion_text(value, &SITE, &mut found.site)?;
    companion_text(value, &KEY, &mut found.key)?;
    if found.key.len() < 16 {
        return Err(companion_error(&KEY, "a shorter one"));
    }
    Ok(())
}
