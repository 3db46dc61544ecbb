//! The widget origin allowlist: exact origins, or `https://*.domain` for https subdomains.

use crate::prelude::*;

use crate::text::{has_byte, quoted, split_once_byte};
use crate::value::Value;

/// The widget's hosts when the options name none: https subdomains of Altegio and YCLIENTS.
pub const DEFAULT_WIDGET_ORIGINS: &[&str] = &["https://*.alteg.io", "https://*.yclients.com"];

/// The scheme and host of `scheme://host[:port]` (the port is checked, not kept: the
/// patterns compare it as part of a suffix); `None` when it is not such a string.
struct Parts<'a> {
    scheme: &'a str,
    host: &'a str,
}

fn split_origin(origin: &str) -> Option<Parts<'_>> {
    let (scheme, rest) = split_once_byte(origin, b':')?;
    let rest = rest.strip_prefix("//")?;
    // One pass over the bytes: every byte of host and port is a letter, a digit or one of
    // `-.*[]:` (which also refuses `/?#@\`); note where the host ends: after the first `]`
    // of an IPv6 literal (`[::1]:8080`; none: 0, an empty host), else at the last `:`.
    let ipv6 = rest.as_bytes().first() == Some(&b'[');
    let mut host_end = if ipv6 { 0 } else { rest.len() };
    // A counted loop, not `enumerate`: that one does not inline here and costs a routine.
    let mut i = 0;
    #[allow(clippy::explicit_counter_loop)]
    for b in rest.bytes() {
        if !(b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'*' | b'[' | b']' | b':')) {
            return None;
        }
        if ipv6 {
            if b == b']' && host_end == 0 {
                host_end = i + 1;
            }
        } else if b == b':' {
            host_end = i;
        }
        i += 1;
    }
    let (host, port) = rest.split_at_checked(host_end)?;
    // After the host: nothing, or `:` and 1 to 5 digits. (A plain loop, not `all` with a
    // closure: less code.)
    let mut ok = port.len() != 1 && port.len() <= 6;
    let mut at = 0;
    #[allow(clippy::explicit_counter_loop)]
    for b in port.bytes() {
        ok &= if at == 0 {
            b == b':'
        } else {
            b.is_ascii_digit()
        };
        at += 1;
    }
    (ok && !host.is_empty()).then_some(Parts { scheme, host })
}

/// Parses one lower-case pattern onto the end of `out` (as `Allowlist` keeps it); the error
/// is the rule it breaks. (Pushed in place rather than returned: less code.)
fn parse_lower(lower: String, out: &mut Vec<String>) -> Result<(), &'static str> {
    let Some(parts) = split_origin(&lower) else {
        return Err("expected an origin like \"https://book.example.com\" or \"https://*.alteg.io\" (scheme and host, no path)");
    };
    let https = parts.scheme == "https";
    if !https && parts.scheme != "http" {
        return Err("the scheme must be https (or http for an exact origin)");
    }
    match parts.host.strip_prefix("*.") {
        Some(domain) => {
            if !https {
                return Err("a wildcard pattern must use https");
            }
            // `"."`, not `'.'`: a char pattern brings its UTF-8 encoding along (-39 B gzip).
            if has_byte(domain, b'*')
                || !has_byte(domain, b'.')
                || domain.starts_with(".")
                || domain.ends_with(".")
            {
                return Err(
                    "a wildcard must be \"*.\" followed by a domain with at least two labels",
                );
            }
            // `lower` is `https://*.domain[:port]`: the suffix is what follows `https://*`.
            out.push(lower.get(WILDCARD_PREFIX.len()..).unwrap_or("").to_string());
            Ok(())
        }
        None if has_byte(parts.host, b'*') => {
            Err("a wildcard may only stand at the start, as \"https://*.domain\"")
        }
        None => {
            out.push(lower);
            Ok(())
        }
    }
}

/// What a wildcard pattern starts with, up to the suffix it keeps.
const WILDCARD_PREFIX: &str = "https://*";

/// Whether `origin` is `https://<sub><suffix>` with a non-empty `sub` without `*` (`suffix`,
/// as `Allowlist` keeps it, has none): its host is a subdomain and its port
/// is the pattern's (the suffix ends with the port when it has one, with the host when not).
/// `split_origin` refuses what is not an origin.
fn is_subdomain_origin(origin: &str, suffix: &str) -> bool {
    let sub = origin
        .strip_prefix("https://")
        .and_then(|rest| rest.strip_suffix(suffix));
    matches!(sub, Some(sub) if !sub.is_empty() && !has_byte(sub, b'*'))
        && split_origin(origin).is_some()
}

/// The allowlist: a message is accepted when any pattern matches its origin. No patterns
/// stand for the widget's hosts (`DEFAULT_WIDGET_ORIGINS`): the option cannot give an empty
/// list, and the default then needs neither parsing nor allocation.
///
/// Each pattern is one lower-case string: an exact origin (`scheme://host[:port]`, which
/// starts with `h`), or for `https://*.domain[:port]` the suffix after `https://*`
/// (`.alteg.io`, `.example.test:8443`), which starts with `.`. (Plain strings, not an enum
/// of the two kinds: less code to build, match and drop, -31 B gzip.)
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Allowlist(Vec<String>);

impl Allowlist {
    /// The allowlist from patterns; the error names the index of the bad one. (For tests: the
    /// constructor reads the option's items with `read_items`.)
    #[cfg(test)]
    pub fn parse<'a>(patterns: impl IntoIterator<Item = &'a str>) -> Result<Allowlist, String> {
        let mut items = Vec::new();
        for pattern in patterns {
            items.push(Value::String(pattern.to_string()));
        }
        let mut list = Allowlist(Vec::new());
        Allowlist::read_items(&items, &mut list).map(|()| list)
    }

    /// The allowlist from the items of the `widgetOrigins` option (origin pattern strings),
    /// added to `out` (the default, which holds no patterns, in the constructor); the error
    /// names the index of the bad one. (It reads the option's values directly, and fills
    /// `out` in place: gathering the patterns into a slice of `&str` first, or returning the
    /// list through `Result`, cost more code.)
    pub fn read_items(items: &[Value], out: &mut Allowlist) -> Result<(), String> {
        if items.is_empty() {
            return Err("widgetOrigins: must name at least one origin".to_string());
        }
        let list = &mut out.0;
        // A counted loop, not `enumerate`: less code.
        let mut i = 0;
        while let Some(item) = items.get(i) {
            // `widgetOrigins[<i>]: <why>`, built on one path for both kinds of bad item.
            let mut message = String::from("widgetOrigins[");
            crate::text::push_u64(&mut message, i as u64);
            message.push_str("]: ");
            match item {
                Value::String(pattern) => {
                    match parse_lower(crate::text::trim(pattern).to_ascii_lowercase(), list) {
                        Ok(()) => {
                            i += 1;
                            continue;
                        }
                        Err(why) => {
                            message.push_str(&quoted(pattern));
                            message.push_str(": ");
                            message.push_str(why);
                        }
                    }
                }
                _ => message.push_str("expected a string"),
            }
            return Err(message);
        }
        Ok(())
    }

    /// The default allowlist: the widget's hosts (`DEFAULT_WIDGET_ORIGINS`).
    pub fn widget_default() -> Allowlist {
        Allowlist(Vec::new())
    }

    /// Whether a message from `origin` is let in.
    pub fn allows(&self, origin: &str) -> bool {
        if self.0.is_empty() {
            // The default: `DEFAULT_WIDGET_ORIGINS`, as the suffixes their patterns keep
            // (written out: reading them off the constant measured +25 B gzip; the test
            // `the_default_lets_in_the_widget_hosts_only` compares the two).
            return is_subdomain_origin(origin, ".alteg.io")
                || is_subdomain_origin(origin, ".yclients.com");
        }
        // A suffix starts with `.`, an exact origin with `h`.
        self.0.iter().any(|p| {
            if p.starts_with(".") {
                is_subdomain_origin(origin, p)
            } else {
                p == origin
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One pattern parsed on its own; the error is the pattern quoted and the rule.
    fn parse_one(pattern: &str) -> Result<String, String> {
        let mut parsed = Vec::new();
        match parse_lower(crate::text::trim(pattern).to_ascii_lowercase(), &mut parsed) {
            Ok(()) => Ok(parsed.pop().expect("parse_lower pushes what it parsed")),
            Err(why) => Err(crate::text::concat(&[quoted(pattern).as_str(), ": ", why])),
        }
    }

    #[test]
    fn patterns_are_kept_as_exact_origins_or_suffixes() {
        assert_eq!(
            parse_one(" HTTPS://*.Alteg.io:8443 "),
            Ok(".alteg.io:8443".into())
        );
        assert_eq!(
            parse_one("http://[::1]:8080"),
            Ok("http://[::1]:8080".into())
        );
    }

    #[test]
    fn the_default_lets_in_the_widget_hosts_only() {
        let list = Allowlist::widget_default();
        // The default (no patterns) behaves as its patterns parsed.
        let parsed = Allowlist::parse(DEFAULT_WIDGET_ORIGINS.iter().copied()).expect("valid");
        for origin in [
            "https://n123.alteg.io",
            "https://w5.yclients.com",
            "https://x.alteg.io:8443",
            "https://*.alteg.io",
            "http://x.alteg.io",
            "https://evilalteg.io",
            "https://yclients.com",
        ] {
            assert_eq!(list.allows(origin), parsed.allows(origin), "{origin}");
        }
        assert!(list.allows("https://n123.alteg.io"));
        assert!(list.allows("https://b1.a.alteg.io"));
        assert!(list.allows("https://w5.yclients.com"));
        for forged in [
            "https://alteg.io.evil.test",
            "https://evilalteg.io",
            "http://x.alteg.io",
            "https://alteg.io",
            "https://x.alteg.io:8443",
            "https://x.alteg.io.",
            "null",
            "",
            "https://x.alteg.io/path",
            "https://user@x.alteg.io",
            "https://.alteg.io",
            "https://*.alteg.io",
            "HTTPS://X.ALTEG.IO",
        ] {
            assert!(!list.allows(forged), "{forged}");
        }
    }

    #[test]
    fn exact_origins_match_exactly() {
        let list =
            Allowlist::parse(["http://127.0.0.1:8080", "https://Book.Example.com"]).expect("valid");
        assert!(list.allows("http://127.0.0.1:8080"));
        assert!(list.allows("https://book.example.com"));
        assert!(!list.allows("http://127.0.0.1:8081"));
        assert!(!list.allows("https://sub.book.example.com"));
        let v6 = Allowlist::parse(["http://[::1]:8080"]).expect("valid");
        assert!(v6.allows("http://[::1]:8080"));
        assert!(!v6.allows("http://[::1]"));
    }

    #[test]
    fn bad_patterns_are_refused_with_the_index_and_the_rule() {
        let cases = [
            ("http://*.alteg.io", "a wildcard pattern must use https"),
            ("https://*.io", "at least two labels"),
            ("https://a.*.alteg.io", "only stand at the start"),
            ("alteg.io", "no path"),
            ("https://x.alteg.io/", "no path"),
            ("ftp://x.alteg.io", "scheme must be https"),
            ("*", "no path"),
        ];
        for (pattern, why) in cases {
            let err = Allowlist::parse(["https://ok.alteg.io", pattern]).expect_err(pattern);
            assert!(err.starts_with("widgetOrigins[1]: "), "{err}");
            assert!(err.contains(why), "{pattern}: {err}");
        }
        assert!(Allowlist::parse([]).is_err());
    }

    #[test]
    fn origins_split_into_scheme_host_and_port() {
        let split = |s| split_origin(s).map(|p| (p.scheme, p.host));
        assert_eq!(split("http://[::1]"), Some(("http", "[::1]")));
        assert_eq!(split("http://[::1]:80"), Some(("http", "[::1]")));
        assert_eq!(split("http://a:b:80"), Some(("http", "a:b")));
        assert_eq!(split("https://*.a.io:8443"), Some(("https", "*.a.io")));
        for bad in [
            "http://[::1]x",
            "http://[::1]:80:90",
            "http://[a]]:80",
            "http://[a",
            "http://a.io:",
            "http://a.io:123456",
            "http://:80",
            "http://a.io/",
            "http://a\\b",
            "http//a.io",
            "http://",
        ] {
            assert_eq!(split(bad), None, "{bad}");
        }
        assert_eq!(
            parse_one(" HTTP://*.a.io"),
            Err("\" HTTP://*.a.io\": a wildcard pattern must use https".into())
        );
    }

    #[test]
    fn wildcards_with_a_port_require_that_port() {
        let list = Allowlist::parse(["https://*.example.test:8443"]).expect("valid");
        assert!(list.allows("https://a.example.test:8443"));
        assert!(!list.allows("https://a.example.test"));
    }

    /// Wildcard matching as it was when the domain and the port were kept apart: the host
    /// ends with `.domain` after a non-empty subdomain, and the ports are equal.
    #[cfg(not(target_arch = "wasm32"))]
    fn matches_by_domain_and_port(pattern: &str, origin: &str) -> bool {
        let pattern = pattern.to_ascii_lowercase();
        let port_of = |origin: &str, host: &str| {
            let rest = origin.split_once("//").expect("split_origin checked it").1;
            rest.get(host.len() + 1..).map(str::to_string)
        };
        let p = split_origin(&pattern).expect("a valid pattern");
        let domain = p.host.strip_prefix("*.").expect("a wildcard");
        let port = port_of(&pattern, p.host);
        let Some(o) = split_origin(origin) else {
            return false;
        };
        let Some(sub) = o.host.strip_suffix(domain) else {
            return false;
        };
        o.scheme == "https"
            && sub.len() > 1
            && sub.ends_with('.')
            && !o.host.contains('*')
            && port_of(origin, o.host) == port
    }

    /// `split_origin` as it was before the one-pass rewrite, to check the rewrite against.
    #[cfg(not(target_arch = "wasm32"))]
    fn split_origin_as_it_was(origin: &str) -> Option<(&str, &str)> {
        let (scheme, rest) = split_once_byte(origin, b':')?;
        let rest = rest.strip_prefix("//")?;
        // One pass over the bytes: every byte of host and port is a letter, a digit or one of
        // `-.*[]:` (which also refuses `/?#@\`); note the first `]` and the last `:`.
        let mut first_close = None;
        let mut last_colon = None;
        // A counted loop, not `enumerate`: that one does not inline here and costs a routine.
        let mut i = 0;
        #[allow(clippy::explicit_counter_loop)]
        for b in rest.bytes() {
            match b {
                b']' if first_close.is_none() => first_close = Some(i),
                b':' => last_colon = Some(i),
                _ if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'*' | b'[' | b']') => {
                }
                _ => return None,
            }
            i += 1;
        }
        // Where the port's `:` is: right after the `]` of an IPv6 literal (`[::1]:8080`), else
        // the last `:`.
        let colon = if rest.as_bytes().first() == Some(&b'[') {
            let end = first_close? + 1;
            match rest.as_bytes().get(end) {
                None => None,
                Some(b':') => Some(end),
                Some(_) => return None,
            }
        } else {
            last_colon
        };
        let (host, port) = match colon {
            Some(at) => {
                let (host, colon_port) = rest.split_at_checked(at)?;
                (host, Some(colon_port.get(1..)?))
            }
            None => (rest, None),
        };
        if let Some(port) = port {
            // A plain loop, not `all` with a closure: less code.
            let mut ok = !port.is_empty() && port.len() <= 5;
            for b in port.bytes() {
                ok &= b.is_ascii_digit();
            }
            if !ok {
                return None;
            }
        }
        (!host.is_empty()).then_some((scheme, host))
    }

    #[cfg(not(target_arch = "wasm32"))]
    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(10000))]
            #[test]
            fn origins_split_as_they_did(origin in "h?(ttps?)?:?(//)?[a:\\[\\]1.*]{0,9}/?") {
                prop_assert_eq!(
                    split_origin(&origin).map(|p| (p.scheme, p.host)),
                    split_origin_as_it_was(&origin),
                    "{}", origin
                );
            }

            #[test]
            fn the_suffix_matches_as_domain_and_port_did(
                tail in "\\.[ab:\\]]{0,3}[ab]\\.[ab.:\\]]{0,3}[ab\\]](:1{1,2})?",
                https in any::<bool>(),
                sub in "[ab.:*\\[\\]1]{0,4}",
                other in proptest::option::of("[ab.:*\\[\\]1]{0,6}"),
            ) {
                // The origin ends with the pattern's tail half of the time: matches happen.
                let pattern = format!("https://*{tail}");
                let scheme = if https { "https" } else { "http" };
                let origin = format!("{scheme}://{sub}{}", other.as_deref().unwrap_or(&tail));
                if let Ok(parsed) = parse_one(&pattern) {
                    prop_assert_eq!(
                        Allowlist(vec![parsed]).allows(&origin),
                        matches_by_domain_and_port(&pattern, &origin),
                        "{} {}", pattern, origin
                    );
                }
            }
        }

        #[test]
        fn the_generated_cases_include_matches() {
            for (pattern, origin) in [
                ("https://*.a.b:1", "https://a.a.b:1"),
                ("https://*.a:b.a:1", "https://[.a:b.a:1"),
                ("https://*.a.b]:1", "https://[b.a.b]:1"),
            ] {
                let parsed = parse_one(pattern).expect(pattern);
                assert_eq!(
                    Allowlist(vec![parsed]).allows(origin),
                    matches_by_domain_and_port(pattern, origin),
                    "{pattern} {origin}"
                );
            }
        }
    }
}
