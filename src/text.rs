//! Small text helpers written by hand so that the wasm build carries no `core::fmt` machinery
//! for them (number formatting through `fmt` costs kilobytes on every page that loads us).

use crate::prelude::*;

/// Appends the decimal digits of `n`. (Recursive, dividing by the constant 10 only, without
/// indexing: a computed divisor or a bounds check would bring panic formatting into the wasm.)
pub fn push_u64(out: &mut String, n: u64) {
    if n >= 10 {
        push_u64(out, n / 10);
    }
    out.push(char::from(b'0' + (n % 10) as u8));
}

/// How many characters `s` has (counting UTF-8 lead bytes; `chars().count()` pulls in a
/// large vectorised routine).
pub fn char_count(s: &str) -> usize {
    let mut count = 0;
    for &b in s.as_bytes() {
        if b & 0xC0 != 0x80 {
            count += 1;
        }
    }
    count
}

/// The decimal digits of `n` as a new string.
pub fn u64_to_string(n: u64) -> String {
    let mut s = String::new();
    push_u64(&mut s, n);
    s
}

/// Largest integer an f64 holds exactly (2^53).
pub const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_992.0;

/// Appends `n` as JavaScript's `String(n)` writes it (`NaN`, `Infinity`, `-0` as `0`, the
/// shortest digits that read back as `n`, an exponent below 1e-6 and from 1e21 on). In the
/// browser build JavaScript writes it (0.4 KB gzip of wasm less than formatting floats here,
/// and exactly the engine's text); natively, [`push_number_as_javascript`] does.
pub fn push_number(out: &mut String, n: f64) {
    #[cfg(target_arch = "wasm32")]
    crate::web::push_number(out, n);
    #[cfg(not(target_arch = "wasm32"))]
    push_number_as_javascript(out, n);
}

/// [`push_number`] written in Rust: the digits ECMAScript's `Number::toString` asks for (the
/// fewest that read back as `n`, the closest of those to `n`, an even last digit on a tie),
/// laid out as that algorithm lays them out. Not in the browser build (it formats through
/// `core::fmt`); the wasm tests compare it with JavaScript's `String(n)`.
pub fn push_number_as_javascript(out: &mut String, n: f64) {
    if n.is_nan() {
        out.push_str("NaN");
        return;
    }
    if n < 0.0 {
        out.push('-');
    }
    let n = n.abs();
    if n.is_infinite() || n == 0.0 {
        out.push_str(if n == 0.0 { "0" } else { "Infinity" });
        return;
    }
    let (digits, point) = shortest_digits(n);
    let count = digits.len() as i32;
    if (-5..=21).contains(&point) {
        if point <= 0 {
            out.push_str("0.");
            out.extend(core::iter::repeat_n('0', point.unsigned_abs() as usize));
            out.push_str(&digits);
        } else if point >= count {
            out.push_str(&digits);
            out.extend(core::iter::repeat_n('0', (point - count) as usize));
        } else {
            let (whole, fraction) = digits.split_at(point as usize);
            out.push_str(whole);
            out.push('.');
            out.push_str(fraction);
        }
        return;
    }
    let (first, rest) = digits.split_at(1);
    out.push_str(first);
    if !rest.is_empty() {
        out.push('.');
        out.push_str(rest);
    }
    out.push_str(if point > 0 { "e+" } else { "e-" });
    push_u64(out, u64::from((point - 1).unsigned_abs()));
}

/// The significant digits of a finite `n > 0` as ECMAScript picks them, and where the decimal
/// point goes (`0.<digits> × 10^point`). Rust's `{:e}` gives the fewest digits that read back
/// as `n` and the closest such, but breaks an exact tie upwards: `1658206780088562.25` is
/// `…62.3` there and `…62.2` in JavaScript.
fn shortest_digits(n: f64) -> (String, i32) {
    let (digits, point) = scientific_digits(&alloc::format!("{n:e}"));
    let last = digits.bytes().last().unwrap_or(b'0');
    if (last - b'0') % 2 == 1 {
        // A tie lies halfway to a neighbour: `n`'s exact expansion is the lower of the two
        // followed by a 5 (767 decimals hold any f64 exactly).
        let (exact, exact_point) = scientific_digits(&alloc::format!("{n:.767e}"));
        let exact = exact.trim_end_matches('0');
        let prefix = &digits[..digits.len() - 1];
        for (lower, even) in [(last - 1, last - 1), (last, last + 1)] {
            let mut halfway = String::from(prefix);
            halfway.push(char::from(lower));
            halfway.push('5');
            if exact_point == point && exact == halfway && even <= b'9' {
                let mut chosen = String::from(prefix);
                chosen.push(char::from(even));
                let reads_back = alloc::format!("0.{chosen}e{point}").parse::<f64>() == Ok(n);
                if reads_back {
                    return (chosen, point);
                }
            }
        }
    }
    (digits, point)
}

/// The digits and decimal point of Rust's `d.ddde<exponent>`.
fn scientific_digits(scientific: &str) -> (String, i32) {
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((scientific, "0"));
    let digits = mantissa.chars().filter(|c| *c != '.').collect();
    (digits, exponent.parse::<i32>().unwrap_or(0) + 1)
}

/// Numbers and their text as JavaScript's `String(n)` writes them: the cases of each branch
/// of the layout, and the ends of the f64 range (the tests of both [`push_number`]s use them).
pub const NUMBER_EXAMPLES: &[(f64, &str)] = &[
    (0.0, "0"),
    (-0.0, "0"),
    (42.0, "42"),
    (-7.0, "-7"),
    (3.5, "3.5"),
    (0.125, "0.125"),
    (19.99, "19.99"),
    (1.9999999, "1.9999999"),
    (0.1 + 0.2, "0.30000000000000004"),
    (123456.789, "123456.789"),
    (0.000001, "0.000001"),
    (-0.0000012, "-0.0000012"),
    (1.5e-7, "1.5e-7"),
    (1e-7, "1e-7"),
    (1e20, "100000000000000000000"),
    (123e18, "123000000000000000000"),
    (1e21, "1e+21"),
    (-1.25e21, "-1.25e+21"),
    (9007199254740993.0, "9007199254740992"),
    // Halfway between …62.2 and …62.3: the even digit.
    (1_658_206_780_088_562.0 + 0.25, "1658206780088562.2"),
    (1.7976931348623157e308, "1.7976931348623157e+308"),
    (5e-324, "5e-324"),
    (f64::NAN, "NaN"),
    (f64::INFINITY, "Infinity"),
    (f64::NEG_INFINITY, "-Infinity"),
];

/// `companyId` → `company_id`, `HTMLTitle` → `html_title`, `event-id` → `event_id`.
/// Characters other than ASCII letters and digits become `_`; runs of `_` collapse.
// The `_` between words is written only when a letter or digit follows it: no `_` to take
// back at the end (`String::pop` decodes UTF-8 backwards, 0.3 KB in the wasm).
pub fn snake_case(key: &str) -> String {
    let bytes = key.as_bytes();
    let mut out = String::new();
    // The byte before (0 at the start: neither letter nor digit).
    let mut prev = 0u8;
    // Whether a `_` is due before the next letter or digit.
    let mut gap = false;
    for (i, &b) in bytes.iter().enumerate() {
        if b.is_ascii_alphanumeric() {
            if b.is_ascii_uppercase() {
                let next_lower = bytes.get(i + 1).is_some_and(u8::is_ascii_lowercase);
                gap |= prev.is_ascii_lowercase()
                    || prev.is_ascii_digit()
                    || (prev.is_ascii_uppercase() && next_lower);
            }
            if gap && !out.is_empty() {
                out.push('_');
            }
            gap = false;
            out.push(char::from(b.to_ascii_lowercase()));
        } else if !(0x80..0xC0).contains(&b) {
            // One `_` per non-ASCII character (its first byte), not per UTF-8 byte.
            gap = true;
        }
        prev = b;
    }
    out
}

/// The first `max` characters of `s` when it is longer than that; `None` when it fits.
pub fn cut_chars(s: &str, max: usize) -> Option<String> {
    let (mut chars, mut byte) = (0, 0);
    for &b in s.as_bytes() {
        // A character starts at every byte that is not a UTF-8 continuation byte.
        if b & 0xC0 != 0x80 {
            if chars == max {
                return s.get(..byte).map(str::to_string);
            }
            chars += 1;
        }
        byte += 1;
    }
    None
}

/// `s` in double quotes for a message, shortened to 40 characters.
pub fn quoted(s: &str) -> String {
    let mut out = String::new();
    push_quoted(&mut out, s);
    out
}

/// Appends `s` as [`quoted`] writes it (no string of its own to copy).
pub fn push_quoted(out: &mut String, s: &str) {
    out.push('"');
    match cut_chars(s, 40) {
        Some(short) => {
            out.push_str(&short);
            out.push('…');
        }
        None => out.push_str(s),
    }
    out.push('"');
}

/// `s` split at the first `sep` (an ASCII byte), without it. (str's char-pattern methods
/// bring memchr and slice-index panic formatting into the wasm; these byte loops do not.)
pub fn split_once_byte(s: &str, sep: u8) -> Option<(&str, &str)> {
    // A plain loop: `position` kept its iterator in linear memory (a larger function).
    let mut at = 0;
    while let Some(&b) = s.as_bytes().get(at) {
        if b == sep {
            return Some((s.get(..at)?, s.get(at + 1..)?));
        }
        at += 1;
    }
    None
}

/// Whether `s` contains the ASCII byte `b`.
pub fn has_byte(s: &str, b: u8) -> bool {
    split_once_byte(s, b).is_some()
}

/// The pieces of `s` between the `sep`s (an ASCII byte), as `s.split(sep)` gives them.
pub fn split_byte(s: &str, sep: u8) -> SplitByte<'_> {
    SplitByte { rest: Some(s), sep }
}

/// The iterator of [`split_byte`].
#[derive(Clone, Debug)]
pub struct SplitByte<'a> {
    rest: Option<&'a str>,
    sep: u8,
}

impl<'a> Iterator for SplitByte<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let rest = self.rest?;
        match split_once_byte(rest, self.sep) {
            Some((head, tail)) => {
                self.rest = Some(tail);
                Some(head)
            }
            None => {
                self.rest = None;
                Some(rest)
            }
        }
    }
}

/// `s` without leading and trailing C0 control characters and spaces (U+0000 to U+0020), as
/// the URL standard strips them from a URL before parsing it. (Bytes, not `char::is_whitespace`:
/// its Unicode table costs the wasm 0.1 KB.)
pub fn trim(s: &str) -> &str {
    // All of it stripped leaves `start > end`, and `get` gives `None`.
    let (mut start, mut end) = (s.len(), 0);
    let mut at = 0;
    for &b in s.as_bytes() {
        at += 1;
        if b > b' ' {
            start = start.min(at - 1);
            end = at;
        }
    }
    s.get(start..end).unwrap_or("")
}

/// Joins parts into one string.
pub fn concat(parts: &[&str]) -> String {
    let mut out = String::new();
    for p in parts {
        out.push_str(p);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn number(n: f64) -> String {
        let mut s = String::new();
        push_number(&mut s, n);
        s
    }

    #[test]
    fn numbers_are_written_as_javascript_writes_them() {
        for &(n, text) in NUMBER_EXAMPLES {
            assert_eq!(number(n), text, "{n:e}");
        }
        assert_eq!(u64_to_string(u64::MAX), "18446744073709551615");
    }

    #[test]
    fn keys_become_snake_case() {
        assert_eq!(snake_case("companyId"), "company_id");
        assert_eq!(snake_case("isMobile"), "is_mobile");
        assert_eq!(snake_case("event_id"), "event_id");
        assert_eq!(snake_case("HTMLTitle"), "html_title");
        assert_eq!(snake_case("staffID"), "staff_id");
        assert_eq!(snake_case("event-id"), "event_id");
        assert_eq!(snake_case("a  b"), "a_b");
        assert_eq!(snake_case("__x__"), "x");
        assert_eq!(snake_case("ключ"), "");
    }

    #[test]
    fn byte_splits_match_str_splits() {
        for s in ["", ".", "a.b", "a..b.", ".é.x", "no-dot", "é.é"] {
            assert_eq!(split_once_byte(s, b'.'), s.split_once('.'), "{s:?}");
            assert_eq!(has_byte(s, b'.'), s.contains('.'), "{s:?}");
            assert_eq!(
                split_byte(s, b'.').collect::<Vec<_>>(),
                s.split('.').collect::<Vec<_>>(),
                "{s:?}"
            );
        }
        assert_eq!(u64_to_string(0), "0");
        assert_eq!(
            u64_to_string(10_000_000_000_000_000_000),
            "10000000000000000000"
        );
    }

    #[test]
    fn trim_strips_what_the_url_standard_strips() {
        for s in [
            "",
            " ",
            "a",
            " a ",
            "\u{a0}x y\u{3000}",
            "\t\n é \r",
            "\u{0}\u{1f}ab\u{7f}",
            "\u{2028}",
        ] {
            let url_standard = s.trim_matches(|c: char| c <= ' ');
            assert_eq!(trim(s), url_standard, "{s:?}");
        }
    }

    #[test]
    fn cutting_respects_characters() {
        assert_eq!(cut_chars("héllo", 2).as_deref(), Some("hé"));
        assert_eq!(cut_chars("abc", 3), None);
        for s in ["", "a", "héllo", "日本語テキスト", "a😀b😀c", "ééé"] {
            for max in 0..9 {
                let expected = s
                    .char_indices()
                    .nth(max)
                    .map(|(byte, _)| s[..byte].to_string());
                assert_eq!(cut_chars(s, max), expected, "{s:?} {max}");
            }
        }
        assert_eq!(quoted("abc"), "\"abc\"");
        assert_eq!(quoted(&"x".repeat(50)).chars().count(), 43);
    }
}
