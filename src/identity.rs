//! The visitor's identifiers on this site: GA's client ID from `_ga`, Meta's `_fbp` and
//! `_fbc`, and `_fbc` minted from an `fbclid` URL parameter the way Meta's pixel does.
//! Malformed values give `None`, never an error.

use crate::prelude::*;

use crate::text::{
    push_u64, rsplit_once_byte, split_byte, split_once_byte, trim, MAX_SAFE_INTEGER,
};

/// The value of cookie `name` in a `document.cookie` string.
pub fn cookie<'a>(cookies: &'a str, name: &str) -> Option<&'a str> {
    pair_value(cookies, b';', name)
}

/// The value of `name` in `name=value` pairs separated by `sep`, key and value trimmed (also
/// reads a URL's query, which holds no raw whitespace).
pub fn pair_value<'a>(pairs: &'a str, sep: u8, name: &str) -> Option<&'a str> {
    for pair in split_byte(pairs, sep) {
        match split_once_byte(pair, b'=') {
            Some((key, value)) if trim(key) == name => return Some(trim(value)),
            _ => {}
        }
    }
    None
}

fn is_digits(s: &str, min: usize, max: usize) -> bool {
    for &b in s.as_bytes() {
        if !b.is_ascii_digit() {
            return false;
        }
    }
    (min..=max).contains(&s.len())
}

/// GA's client ID from a `_ga` cookie `GA1.<n>.<random>.<seconds>`: `<random>.<seconds>`.
pub fn ga_client_id(cookie: &str) -> Option<String> {
    let mut parts = split_byte(cookie, b'.');
    let version = parts.next()?;
    let depth = parts.next()?;
    let random = parts.next()?;
    let seconds = parts.next()?;
    let well_formed = version
        .strip_prefix("GA")
        .is_some_and(|v| is_digits(v, 1, 2))
        && is_digits(depth, 1, 2)
        && is_digits(random, 1, 20)
        && is_digits(seconds, 9, 11)
        && parts.next().is_none();
    if !well_formed {
        return None;
    }
    let mut id = String::from(random);
    id.push('.');
    id.push_str(seconds);
    Some(id)
}

/// `fb.<subdomain index>.<milliseconds>.<rest>`, with `rest` checked by `rest_ok`.
fn meta_cookie(cookie: &str, rest_ok: fn(&str) -> bool) -> Option<String> {
    let rest = cookie.strip_prefix("fb.")?;
    let (index, rest) = split_once_byte(rest, b'.')?;
    let (millis, tail) = split_once_byte(rest, b'.')?;
    (is_digits(index, 1, 2) && is_digits(millis, 12, 14) && rest_ok(tail))
        .then(|| cookie.to_string())
}

/// `_fbp` (`fb.1.<ms>.<random>`) when well formed.
pub fn fbp(cookie: &str) -> Option<String> {
    meta_cookie(cookie, |random| is_digits(random, 1, 24))
}

/// `_fbc` (`fb.1.<ms>.<fbclid>`) when well formed.
pub fn fbc(cookie: &str) -> Option<String> {
    meta_cookie(cookie, is_fbclid)
}

/// Meta's click ids are URL-safe text; anything else (spaces, quotes, `;`) is refused.
fn is_fbclid(s: &str) -> bool {
    for &b in s.as_bytes() {
        if !(b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-')) {
            return false;
        }
    }
    (1..=500).contains(&s.len())
}

/// `_fbc` minted from an `fbclid` URL parameter at `now_ms`: `fb.1.<now_ms>.<fbclid>`.
pub fn fbc_from_click(fbclid: &str, now_ms: f64) -> Option<String> {
    if !is_fbclid(fbclid) || !(0.0..MAX_SAFE_INTEGER).contains(&now_ms) {
        return None;
    }
    let mut value = String::from("fb.1.");
    push_u64(&mut value, now_ms as u64);
    value.push('.');
    value.push_str(fbclid);
    Some(value)
}

/// The `_fbc` to use: the cookie's when it carries the same click id as the URL (or the URL
/// has none), otherwise one minted from the URL's `fbclid`, as Meta's pixel does.
pub fn current_fbc(cookie: Option<&str>, fbclid: Option<&str>, now_ms: f64) -> Option<String> {
    let from_cookie = cookie.and_then(fbc);
    match (from_cookie, fbclid.filter(|id| is_fbclid(id))) {
        // Click ids have no `.`: the cookie carries this one when it is its last part.
        (Some(c), Some(id)) if rsplit_once_byte(&c, b'.').is_some_and(|(_, last)| last == id) => {
            Some(c)
        }
        (_, Some(id)) => fbc_from_click(id, now_ms),
        (c, None) => c,
    }
}

/// The identifiers found on this page.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Identity {
    /// GA's client ID, from `_ga`.
    pub ga_client_id: Option<String>,
    /// Meta's browser id, `_fbp`.
    pub fbp: Option<String>,
    /// Meta's click id, `_fbc`, from the cookie or minted from `fbclid`.
    pub fbc: Option<String>,
}

/// The identity from a `document.cookie` string and the URL's `fbclid`, at `now_ms`.
pub fn identity(cookies: &str, fbclid: Option<&str>, now_ms: f64) -> Identity {
    Identity {
        ga_client_id: cookie(cookies, "_ga").and_then(ga_client_id),
        fbp: cookie(cookies, "_fbp").and_then(fbp),
        fbc: current_fbc(cookie(cookies, "_fbc"), fbclid, now_ms),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ga_client_id_is_the_last_two_parts() {
        assert_eq!(
            ga_client_id("GA1.1.1234567890.1700000000").as_deref(),
            Some("1234567890.1700000000")
        );
        assert_eq!(
            ga_client_id("GA1.2.987.1700000000").as_deref(),
            Some("987.1700000000")
        );
        for bad in [
            "",
            "GA1",
            "GA1.1.abc.1700000000",
            "GA1.1.123",
            "GA1.1.123.1700000000.5",
            "XX1.1.123.1700000000",
            "GA1.1..1700000000",
            "GA1.1.123.17",
            "GA1.1.123.1700000000 ",
            "GA1.1.١٢٣.1700000000",
        ] {
            assert_eq!(ga_client_id(bad), None, "{bad}");
        }
    }

    #[test]
    fn meta_cookies_are_checked() {
        assert!(fbp("fb.1.1700000000000.1234567890").is_some());
        assert!(fbc("fb.1.1700000000000.IwAR2abc-_x").is_some());
        for bad in [
            "",
            "fb.1.",
            "fb.1.17.123",
            "fb.x.1700000000000.1",
            "fp.1.1700000000000.1",
            "fb.1.1700000000000.",
        ] {
            assert_eq!(fbp(bad), None, "{bad}");
            assert_eq!(fbc(bad), None, "{bad}");
        }
        assert_eq!(fbc("fb.1.1700000000000.bad;value"), None);
    }

    #[test]
    fn cookies_are_found_by_exact_name() {
        let jar = "a=1; _ga=GA1.1.42.1700000000; _ga_ABC=GS1.1.x; _fbp=fb.1.1700000000000.77";
        assert_eq!(cookie(jar, "_ga"), Some("GA1.1.42.1700000000"));
        assert_eq!(cookie(jar, "_ga_ABC"), Some("GS1.1.x"));
        assert_eq!(cookie(jar, "missing"), None);
        assert_eq!(cookie("garbage;;==;", "_ga"), None);
        let id = identity(jar, None, 0.0);
        assert_eq!(id.ga_client_id.as_deref(), Some("42.1700000000"));
        assert_eq!(id.fbp.as_deref(), Some("fb.1.1700000000000.77"));
        assert_eq!(id.fbc, None);
    }

    #[test]
    fn fbc_is_minted_from_a_new_click_and_kept_for_the_same_click() {
        let now = 1_763_856_000_123.0;
        assert_eq!(
            current_fbc(None, Some("IwAR1"), now).as_deref(),
            Some("fb.1.1763856000123.IwAR1")
        );
        let old = "fb.1.1700000000000.IwAR1";
        assert_eq!(
            current_fbc(Some(old), Some("IwAR1"), now).as_deref(),
            Some(old)
        );
        assert_eq!(
            current_fbc(Some(old), Some("IwAR2"), now).as_deref(),
            Some("fb.1.1763856000123.IwAR2")
        );
        assert_eq!(current_fbc(Some(old), None, now).as_deref(), Some(old));
        assert_eq!(current_fbc(Some("junk"), Some("bad id"), now), None);
        assert_eq!(fbc_from_click("x", f64::NAN), None);
    }
}
