//! JSON in and out of the module. Values leave wasm as one JSON string (`JSON.parse` makes
//! them JavaScript values): one call instead of one per field, and no per-field glue code,
//! which keeps the wasm small. Values come in as a tape of words that JavaScript's own
//! `JSON.parse` writes (`crate::tape`), so the npm builds carry no JSON parser: [`parse`] is
//! for the connect build and the native tests.
//!
//! Numbers are written as JavaScript writes them (`crate::text::push_number`), so every number
//! comes back unchanged.

use crate::event::{Problem, Rule};
use crate::limits::{MAX_DEPTH, MAX_STRING, MAX_VALUES, TOO_DEEP, TOO_LONG, TOO_MANY_VALUES};
use crate::prelude::*;
use crate::value::Value;

/// `n` times 10^`exp`: one correctly rounded operation for |exp| ≤ 22, a few more beyond.
fn scale(mut n: f64, mut exp: i32) -> f64 {
    while exp > 22 {
        n *= 1e22;
        exp -= 22;
    }
    while exp < -22 {
        n /= 1e22;
        exp += 22;
    }
    // 10^0 … 10^22 are all exact in f64, and so is each product on the way: the same powers
    // as a table of them, without the table's 184 bytes.
    let mut power = 1.0;
    for _ in 0..exp.unsigned_abs() {
        power *= 10.0;
    }
    if exp >= 0 {
        n * power
    } else {
        n / power
    }
}

/// Appends `n` as a JSON number, as `JSON.stringify` writes it: `String(n)`, or `null` when
/// not finite.
pub fn push_number(out: &mut String, n: f64) {
    if n.is_finite() {
        crate::text::push_number(out, n);
    } else {
        out.push_str("null");
    }
}

/// Appends `s` as a JSON string, quotes included.
pub fn push_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        // The letter of the five short escapes (a letter, not a string each: smaller).
        let letter = match c {
            '"' => '"',
            '\\' => '\\',
            '\n' => 'n',
            '\r' => 'r',
            '\t' => 't',
            _ => '\0',
        };
        if letter != '\0' {
            out.push('\\');
            out.push(letter);
        } else if (c as u32) < 0x20 {
            out.push_str("\\u00");
            let hex = b"0123456789abcdef";
            out.push(char::from(hex[(c as usize >> 4) & 0xF]));
            out.push(char::from(hex[c as usize & 0xF]));
        } else {
            out.push(c);
        }
    }
    out.push('"');
}

/// Appends any value as JSON.
pub fn push_value(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(n) => push_number(out, *n),
        Value::String(s) => push_str(out, s),
        Value::Array(items) => {
            out.push('[');
            let mut at = 0;
            while let Some(item) = items.get(at) {
                if at > 0 {
                    out.push(',');
                }
                push_value(out, item);
                at += 1;
            }
            out.push(']');
        }
        Value::Object(entries) => {
            let mut object = Object::open(out);
            for (key, item) in entries {
                push_value(object.key(key), item);
            }
            object.close();
        }
    }
}

/// Writes a JSON object field by field: `Object::open(out)`, then `key(..)` followed by the
/// value, then `close()`.
pub struct Object<'a> {
    out: &'a mut String,
}

impl<'a> Object<'a> {
    /// Writes `{`.
    // Always inlined: measured smaller.
    #[inline(always)]
    pub fn open(out: &'a mut String) -> Object<'a> {
        out.push('{');
        Object { out }
    }

    /// Writes the key (and a comma before it when needed); the caller writes the value.
    pub fn key(&mut self, key: &str) -> &mut String {
        // The first key comes right after the `{`; no value ends with one. (No flag to keep:
        // smaller.)
        if self.out.as_bytes().last() != Some(&b'{') {
            self.out.push(',');
        }
        push_str(self.out, key);
        self.out.push(':');
        self.out
    }

    /// A string field.
    pub fn str(&mut self, key: &str, value: &str) {
        push_str(self.key(key), value);
    }

    /// A string field, or `null`.
    pub fn opt_str(&mut self, key: &str, value: Option<&str>) {
        match value {
            Some(value) => self.str(key, value),
            None => self.key(key).push_str("null"),
        }
    }

    /// A number field.
    pub fn num(&mut self, key: &str, value: f64) {
        push_number(self.key(key), value);
    }

    /// A boolean field.
    pub fn bool(&mut self, key: &str, value: bool) {
        self.key(key).push_str(if value { "true" } else { "false" });
    }

    /// Writes `}`.
    pub fn close(self) {
        self.out.push('}');
    }
}

/// Parses JSON text (as `JSON.stringify` writes it) into a value, within the limits of
/// `crate::limits`. `path` names the whole value in problems (`params`, `data`, `options`).
/// (Not in the npm builds' wasm: they read values through `crate::tape`.)
pub fn parse(text: &str, path: &str) -> Result<Value, Problem> {
    let mut parser = Parser {
        text,
        at: 0,
        values: 0,
        // Stays so unless a limit is passed: a step that finds invalid text just returns
        // `None`, and so does text after the value.
        failure: BAD,
    };
    if let Some(value) = parser.value(0) {
        parser.skip_space();
        if parser.at == parser.text.len() {
            return Ok(value);
        }
    }
    // The problem is built here, once: inside the parser a failure is two words, kept in the
    // parser (its steps return `None`, not a `Result`: one error path for all of them).
    let (rule, why) = parser.failure;
    Err(Problem::new(path, rule, why))
}

/// Why parsing failed: the rule and the message's text.
type Failure = (Rule, &'static str);

/// Text that is not valid JSON. One message for every way of being invalid: the texts the
/// module parses are `JSON.stringify`'s output (always valid) or its own stored lines (a
/// broken one is only counted), so no one reads a finer reason (0.1 KB gzip of messages).
const BAD: Failure = (Rule::Unsupported, "not valid JSON");

/// Valid JSON beyond the limits.
fn too_large(why: &'static str) -> Failure {
    (Rule::TooLarge, why)
}

/// The character a one-letter escape (`\n`…) stands for: looked up in a table of pairs
/// (smaller than a match).
fn one_letter_escape(letter: Option<u8>) -> Option<char> {
    const ESCAPES: &[u8] = b"\"\"\\\\//b\x08f\x0cn\nr\rt\t";
    let mut at = 0;
    while let Some(&[key, c]) = ESCAPES.get(at..at + 2) {
        if Some(key) == letter {
            return Some(char::from(c));
        }
        at += 2;
    }
    None
}

struct Parser<'a> {
    text: &'a str,
    at: usize,
    values: usize,
    /// Why the step that returned `None` failed.
    failure: Failure,
}

impl Parser<'_> {
    /// Records why parsing failed; `None` for the step to return.
    fn fail<T>(&mut self, failure: Failure) -> Option<T> {
        self.failure = failure;
        None
    }

    // Always inlined: called, it returns its `Option` through memory (measured larger).
    #[inline(always)]
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.at).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let b = self.peek();
        self.at += 1;
        b
    }

    /// Steps over `b` when it comes next.
    fn eat(&mut self, b: u8) -> bool {
        let next = self.peek() == Some(b);
        if next {
            self.at += 1;
        }
        next
    }

    /// Steps over `word` when it comes next.
    fn eat_word(&mut self, word: &str) -> bool {
        let next = self.text.as_bytes().get(self.at..self.at + word.len()) == Some(word.as_bytes());
        if next {
            self.at += word.len();
        }
        next
    }

    fn skip_space(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\n' | b'\r' | b'\t')) {
            self.at += 1;
        }
    }

    /// Steps over white space, then over `b` when it comes next.
    // Always inlined: measured smaller.
    #[inline(always)]
    fn token(&mut self, b: u8) -> bool {
        self.skip_space();
        self.eat(b)
    }

    fn value(&mut self, depth: usize) -> Option<Value> {
        self.values += 1;
        if self.values > MAX_VALUES {
            return self.fail(too_large(TOO_MANY_VALUES));
        }
        self.skip_space();
        let (word, literal) = match self.peek() {
            Some(b'n') => ("null", Value::Null),
            Some(b't') => ("true", Value::Bool(true)),
            Some(b'f') => ("false", Value::Bool(false)),
            Some(b'"') => {
                self.at += 1;
                return self.string().map(Value::String);
            }
            Some(b'-' | b'0'..=b'9') => return self.number().map(Value::Number),
            Some(open @ (b'[' | b'{')) => return self.container(open, depth),
            _ => return None,
        };
        if !self.eat_word(word) {
            return None;
        }
        Some(literal)
    }

    /// An array or an object, from its opening bracket `open`: one loop for both (an object's
    /// entries are an array's items with a key before each).
    fn container(&mut self, open: u8, depth: usize) -> Option<Value> {
        if depth >= MAX_DEPTH {
            return self.fail(too_large(TOO_DEEP));
        }
        self.at += 1;
        let object = open == b'{';
        // `]` and `}` come two code points after `[` and `{`.
        let close = open + 2;
        let mut items = Vec::new();
        let mut entries = Vec::new();
        if !self.token(close) {
            loop {
                if object {
                    if !self.token(b'"') {
                        return None;
                    }
                    let key = self.string()?;
                    if !self.token(b':') {
                        return None;
                    }
                    entries.push((key, self.value(depth + 1)?));
                } else {
                    items.push(self.value(depth + 1)?);
                }
                if self.token(close) {
                    break;
                }
                if !self.token(b',') {
                    return None;
                }
            }
        }
        Some(if object {
            Value::Object(entries)
        } else {
            Value::Array(items)
        })
    }

    fn hex4(&mut self) -> Option<u32> {
        let mut n = 0;
        for _ in 0..4 {
            // `to_digit`, not a match on the three ranges: smaller.
            let digit = self.next().and_then(|b| char::from(b).to_digit(16))?;
            n = n * 16 + digit;
        }
        Some(n)
    }

    /// A string after its opening quote, copied run by run from the text: runs end at `"` or `\\` (ASCII), so they are
    /// whole characters of valid UTF-8 and the result needs no validation.
    fn string(&mut self) -> Option<String> {
        let mut out = String::new();
        loop {
            let start = self.at;
            while self.peek().is_some_and(|b| b != b'"' && b != b'\\') {
                self.at += 1;
            }
            out.push_str(self.text.get(start..self.at).unwrap_or_default());
            if out.len() > MAX_STRING {
                return self.fail(too_large(TOO_LONG));
            }
            let c = match self.next() {
                None => return None,
                Some(b'"') => return Some(out),
                _ => match self.next() {
                    Some(b'u') => {
                        let first = self.hex4()?;
                        let code = if (0xD800..0xDC00).contains(&first) && self.eat_word("\\u") {
                            let second = self.hex4()?;
                            if (0xDC00..0xE000).contains(&second) {
                                0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
                            } else {
                                0xFFFD
                            }
                        } else {
                            first
                        };
                        char::from_u32(code).unwrap_or('\u{FFFD}')
                    }
                    letter => one_letter_escape(letter)?,
                },
            };
            out.push(c);
        }
    }

    fn number(&mut self) -> Option<f64> {
        let negative = self.eat(b'-');
        let mut mantissa = 0u64;
        let mut exp = 0i32;
        let mut digits = 0;
        let mut any = false;
        // The digits before and after the point, in one loop: past 19 significant digits the
        // rest only moves the exponent (whole part) or is dropped (fraction).
        let mut fraction = false;
        loop {
            match self.peek() {
                Some(b @ b'0'..=b'9') => {
                    any = true;
                    if digits < 19 {
                        mantissa = mantissa * 10 + u64::from(b - b'0');
                        digits += u32::from(mantissa > 0);
                        exp -= i32::from(fraction);
                    } else {
                        exp += i32::from(!fraction);
                    }
                }
                Some(b'.') if !fraction => fraction = true,
                _ => break,
            }
            self.at += 1;
        }
        if !any {
            return None;
        }
        if self.eat(b'e') || self.eat(b'E') {
            let sign = if self.eat(b'-') {
                -1
            } else {
                self.eat(b'+');
                1
            };
            let mut e = 0i32;
            while let Some(b @ b'0'..=b'9') = self.peek() {
                self.at += 1;
                e = (e * 10 + i32::from(b - b'0')).min(10_000);
            }
            exp += sign * e;
        }
        // Zero scales to zero.
        let value = scale(mantissa as f64, exp);
        Some(if negative { -value } else { value })
    }
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
    fn numbers_print_as_json_stringify_prints_them() {
        for &(n, text) in crate::text::NUMBER_EXAMPLES {
            let json = if n.is_finite() { text } else { "null" };
            assert_eq!(number(n), json, "{n:e}");
        }
    }

    #[test]
    fn powers_of_ten_are_exact() {
        for k in 0..=22 {
            let exact: f64 = format!("1e{k}").parse().expect("a number");
            assert_eq!(scale(1.0, k), exact, "10^{k}");
            let inverse: f64 = format!("1e-{k}").parse().expect("a number");
            assert_eq!(scale(1.0, -k), inverse, "10^-{k}");
        }
    }

    #[test]
    fn parsing_reads_what_json_stringify_writes() {
        let text = r#"{"action":"booked","params":{"a":[1,-2.5,1e3,true,false,null],"s":"q\"\\\/\n\u00e9\ud83d\ude00","e":{}}}"#;
        let value = parse(text, "data").expect("valid");
        let params = value.get("params").expect("params");
        assert_eq!(
            params.get("a"),
            Some(&Value::Array(vec![
                Value::Number(1.0),
                Value::Number(-2.5),
                Value::Number(1000.0),
                Value::Bool(true),
                Value::Bool(false),
                Value::Null
            ]))
        );
        assert_eq!(params.get("s"), Some(&Value::String("q\"\\/\né😀".into())));
        let mut again = String::new();
        push_value(&mut again, &value);
        assert_eq!(parse(&again, "data"), Ok(value));
    }

    #[test]
    fn bad_or_oversized_json_is_a_problem_not_a_panic() {
        for bad in [
            "",
            "{",
            "[1,]",
            "{\"a\" 1}",
            "tru",
            "\"abc",
            "1 2",
            "-",
            "{\"a\":1,}",
            "\"\\x\"",
            "\"\\ud800\\u0041\"",
        ] {
            let result = parse(bad, "params");
            if bad == "\"\\ud800\\u0041\"" {
                assert_eq!(result, Ok(Value::String("\u{FFFD}".into())));
            } else {
                assert!(result.is_err(), "{bad}");
            }
        }
        let deep = "[".repeat(9) + &"]".repeat(9);
        let wide = "[".to_string() + &"0,".repeat(2500) + "0]";
        let long = "\"".to_string() + &"x".repeat(9000) + "\"";
        // The limit is on the decoded string: 8192 bytes pass, 8193 do not, escapes included.
        let at_limit = "\"".to_string() + &"é".repeat(4095) + "\\n\\u0041\"";
        assert_eq!(parse(&at_limit, "params").map(|_| ()), Ok(()));
        let over = "\"".to_string() + &"é".repeat(4095) + "\\n\\u0041x\"";
        let over_then_bad = "\"".to_string() + &"x".repeat(8193) + "\\x";
        for too_large in [deep, wide, long, over, over_then_bad] {
            assert_eq!(
                parse(&too_large, "params").map_err(|p| p.rule),
                Err(Rule::TooLarge),
                "{too_large:.40}"
            );
        }
    }

    #[test]
    fn numbers_are_read_in_the_forms_the_parser_accepts() {
        for (text, expected) in [
            ("1.", Some(1.0)),
            ("-.5", Some(-0.5)),
            ("00012.50", Some(12.5)),
            ("12345678901234567890123", Some(1.2345678901234568e22)),
            ("0.12345678901234567890123", Some(0.12345678901234568)),
            ("1.5e3", Some(1500.0)),
            ("-0", Some(0.0)),
            ("1.2.3", None),
            ("-", None),
            ("-.", None),
        ] {
            let parsed = parse(text, "n").ok().map(|v| match v {
                Value::Number(n) => n,
                _ => f64::NAN,
            });
            assert_eq!(parsed, expected, "{text}");
        }
    }

    #[test]
    fn strings_escape_what_json_requires() {
        let mut out = String::new();
        push_str(&mut out, "a\"b\\c\nd\u{1}é");
        assert_eq!(out, r#""a\"b\\c\nd\u0001é""#);
    }

    #[cfg(not(target_arch = "wasm32"))]
    mod properties {
        use super::*;
        use crate::text::push_u64;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn numbers_read_back_exactly(n in any::<f64>().prop_filter("finite", |n| n.is_finite())) {
                // By Rust's own (correctly rounding) parser: the text is exactly `n`.
                prop_assert_eq!(number(n).parse::<f64>().expect("a number").to_bits(), if n == 0.0 { 0 } else { n.to_bits() });
                // By ours (a few operations per number, not correctly rounded): within 1e-14.
                let back = parse(&number(n), "n").expect("valid");
                let Value::Number(back) = back else { panic!() };
                let tolerance = n.abs() * 1e-14;
                prop_assert!((back - n).abs() <= tolerance, "{} → {} → {}", n, number(n), back);
            }

            #[test]
            fn short_decimals_come_back_as_written(int in 0u64..1_000_000_000, frac in 0u32..100_000, neg in any::<bool>()) {
                let mut text = String::new();
                if neg && (int > 0 || frac > 0) { text.push('-'); }
                push_u64(&mut text, int);
                let mut f = frac;
                if f > 0 {
                    while f % 10 == 0 { f /= 10; }
                    text.push('.');
                    let mut digits = String::new();
                    push_u64(&mut digits, u64::from(frac));
                    let padded = "0".repeat(5 - digits.len()) + &digits;
                    text.push_str(padded.trim_end_matches('0'));
                }
                let Value::Number(n) = parse(&text, "n").expect("valid") else { panic!() };
                prop_assert_eq!(number(n), text);
            }

            #[test]
            fn strings_round_trip(s in ".{0,64}") {
                let mut text = String::new();
                push_str(&mut text, &s);
                prop_assert_eq!(parse(&text, "s"), Ok(Value::String(s)));
            }

            #[test]
            fn any_text_parses_or_fails_cleanly(text in ".{0,64}") {
                let _ = parse(&text, "x");
            }
        }
    }
}
