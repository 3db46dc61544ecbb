//! The visitor's identifiers on this site: GA's client ID from `_ga`, Meta's `_fbp` and
//! `_fbc`, and `_fbc` minted from an `fbclid` URL parameter the way Meta's pixel does.
//! Malformed values give `None`, never an error.

use crate::prelude::*;

use crate::text::{push_u64, split_byte, split_once_byte, trim, MAX_SAFE_INTEGER};

/// The value of cookie `name` in a `document.cookie` string.
// Always inlined: a function of its own only passes its arguments on (measured larger).
#[inline(always)]
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

/// One `.`-separated part of a cookie's format: a literal prefix, then `min..=max` ASCII digits
/// or (`click_id`) click-id characters.
struct Part {
    prefix: &'static str,
    click_id: bool,
    min: u16,
    max: u16,
}

const fn part(prefix: &'static str, click_id: bool, min: u16, max: u16) -> Part {
    Part {
        prefix,
        click_id,
        min,
        max,
    }
}

/// `_ga`: `GA1.<n>.<random>.<seconds>`.
const GA: [Part; 4] = [
    part("GA", false, 1, 2),
    part("", false, 1, 2),
    part("", false, 1, 20),
    part("", false, 9, 11),
];
/// `_fbp`: `fb.<subdomain index>.<milliseconds>.<random>`.
const FBP: [Part; 4] = [
    part("fb", false, 0, 0),
    part("", false, 1, 2),
    part("", false, 12, 14),
    part("", false, 1, 24),
];
/// `_fbc`: `fb.<subdomain index>.<milliseconds>.<fbclid>`.
const FBC: [Part; 4] = [
    part("fb", false, 0, 0),
    part("", false, 1, 2),
    part("", false, 12, 14),
    part("", true, 1, 500),
];

/// Whether `value` is made of exactly these parts. (One table-driven check for the three
/// cookies: smaller than a function per cookie.)
fn well_formed(value: &str, format: &[Part; 4]) -> bool {
    let mut parts = split_byte(value, b'.');
    for part in format {
        let Some(rest) = parts.next().and_then(|p| p.strip_prefix(part.prefix)) else {
            return false;
        };
        if !made_of(rest, part.click_id, part.min, part.max) {
            return false;
        }
    }
    parts.next().is_none()
}

/// Whether `s` is `min..=max` ASCII digits or (`click_id`) click-id characters: Meta's click
/// ids are URL-safe text; anything else (spaces, quotes, `;`, `.`) is refused.
fn made_of(s: &str, click_id: bool, min: u16, max: u16) -> bool {
    for &b in s.as_bytes() {
        let allowed = b.is_ascii_digit()
            || (click_id && (b.is_ascii_alphabetic() || matches!(b, b'_' | b'-')));
        if !allowed {
            return false;
        }
    }
    (usize::from(min)..=usize::from(max)).contains(&s.len())
}

/// GA's client ID from a `_ga` cookie `GA1.<n>.<random>.<seconds>`: `<random>.<seconds>`.
pub fn ga_client_id(cookie: &str) -> Option<String> {
    if !well_formed(cookie, &GA) {
        return None;
    }
    let (_, rest) = split_once_byte(cookie, b'.')?;
    let (_, id) = split_once_byte(rest, b'.')?;
    Some(id.to_string())
}

/// `_fbp` (`fb.1.<ms>.<random>`) when well formed.
pub fn fbp(cookie: &str) -> Option<String> {
    well_formed(cookie, &FBP).then(|| cookie.to_string())
}

/// `_fbc` (`fb.1.<ms>.<fbclid>`) when well formed.
pub fn fbc(cookie: &str) -> Option<String> {
    well_formed(cookie, &FBC).then(|| cookie.to_string())
}

/// Meta's click ids: 1 to 500 URL-safe characters.
// Always inlined: measured smaller.
#[inline(always)]
fn is_fbclid(s: &str) -> bool {
    made_of(s, true, 1, 500)
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
        // Click ids have no `.`: the cookie carries this one when it ends with `.<id>`.
        (Some(c), Some(id))
            if c.strip_suffix(id)
                .is_some_and(|head| head.as_bytes().last() == Some(&b'.')) =>
        {
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
            "fb.1.1700000000000.1.2",
            "fb.123.1700000000000.1",
            "fbx.1.1700000000000.1",
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
        // The same click id only when it is the whole last part.
        assert_eq!(
            current_fbc(Some("fb.1.1700000000000.XIwAR1"), Some("IwAR1"), now).as_deref(),
            Some("fb.1.1763856000123.IwAR1")
        );
        assert_eq!(current_fbc(Some("junk"), Some("bad id"), now), None);
        assert_eq!(fbc_from_click("x", f64::NAN), None);
    }
}
