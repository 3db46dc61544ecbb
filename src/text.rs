//! Small text helpers written by hand so that the wasm build carries no `core::fmt` machinery
//! for them (number formatting through `fmt` costs kilobytes on every page that loads us).

/// Appends the decimal digits of `n`.
pub fn push_u64(out: &mut String, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut len = 0;
    loop {
        digits[len] = b'0' + (n % 10) as u8;
        len += 1;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for &d in digits[..len].iter().rev() {
        out.push(char::from(d));
    }
}

/// The decimal digits of `n` as a new string.
pub fn u64_to_string(n: u64) -> String {
    let mut s = String::new();
    push_u64(&mut s, n);
    s
}

/// Largest integer an f64 holds exactly (2^53).
pub const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_992.0;

/// Appends a finite number: integers exactly, other values with up to six decimals.
/// Non-finite numbers are written as `NaN`, `Infinity` or `-Infinity`, as JavaScript does.
pub fn push_number(out: &mut String, n: f64) {
    if n.is_nan() {
        out.push_str("NaN");
        return;
    }
    if n.is_infinite() {
        out.push_str(if n > 0.0 { "Infinity" } else { "-Infinity" });
        return;
    }
    if n < 0.0 {
        out.push('-');
    }
    let n = n.abs();
    if n >= MAX_SAFE_INTEGER {
        // Beyond exact integers: keep the magnitude readable rather than exact.
        push_u64(out, n as u64);
        return;
    }
    let whole = n.trunc();
    push_u64(out, whole as u64);
    let mut frac = ((n - whole) * 1_000_000.0).round() as u64;
    if frac >= 1_000_000 {
        // Rounding carried into the whole part (e.g. 0.9999999): show the whole part only.
        frac = 0;
    }
    if frac > 0 {
        out.push('.');
        let mut digits = [b'0'; 6];
        let mut i = 6;
        while frac > 0 && i > 0 {
            i -= 1;
            digits[i] = b'0' + (frac % 10) as u8;
            frac /= 10;
        }
        let end = digits.iter().rposition(|&d| d != b'0').map_or(0, |p| p + 1);
        for &d in &digits[..end] {
            out.push(char::from(d));
        }
    }
}

/// `companyId` → `company_id`, `HTMLTitle` → `html_title`, `event-id` → `event_id`.
/// Characters other than ASCII letters and digits become `_`; runs of `_` collapse.
pub fn snake_case(key: &str) -> String {
    let chars: Vec<char> = key.chars().collect();
    let mut out = String::with_capacity(key.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if c.is_ascii_uppercase() {
            let prev = if i > 0 {
                chars.get(i - 1).copied()
            } else {
                None
            };
            let next = chars.get(i + 1).copied();
            let boundary = match prev {
                Some(p) if p.is_ascii_lowercase() || p.is_ascii_digit() => true,
                Some(p) if p.is_ascii_uppercase() => next.is_some_and(|n| n.is_ascii_lowercase()),
                _ => false,
            };
            if boundary && !out.ends_with('_') {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('_') {
            out.push('_');
        }
    }
    while out.ends_with('_') {
        out.pop();
    }
    out
}

/// The first `max` characters of `s`, and whether anything was cut.
pub fn cut_chars(s: &str, max: usize) -> Option<String> {
    s.char_indices()
        .nth(max)
        .map(|(byte, _)| s[..byte].to_string())
}

/// `s` in double quotes for a message, shortened to 40 characters.
pub fn quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len().min(44) + 2);
    out.push('"');
    match cut_chars(s, 40) {
        Some(short) => {
            out.push_str(&short);
            out.push('…');
        }
        None => out.push_str(s),
    }
    out.push('"');
    out
}

/// Joins parts into one string.
pub fn concat(parts: &[&str]) -> String {
    let mut out = String::with_capacity(parts.iter().map(|p| p.len()).sum());
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
    fn numbers_are_written_like_javascript_for_common_values() {
        assert_eq!(number(0.0), "0");
        assert_eq!(number(42.0), "42");
        assert_eq!(number(-7.0), "-7");
        assert_eq!(number(3.5), "3.5");
        assert_eq!(number(0.125), "0.125");
        assert_eq!(number(1.9999999), "1");
        assert_eq!(number(f64::NAN), "NaN");
        assert_eq!(number(f64::NEG_INFINITY), "-Infinity");
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
    fn cutting_respects_characters() {
        assert_eq!(cut_chars("héllo", 2).as_deref(), Some("hé"));
        assert_eq!(cut_chars("abc", 3), None);
        assert_eq!(quoted("abc"), "\"abc\"");
        assert_eq!(quoted(&"x".repeat(50)).chars().count(), 43);
    }
}
