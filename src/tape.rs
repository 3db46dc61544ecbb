//! Values from JavaScript as a tape of numbers (f64 words). The module reads a JS value (an
//! event's parameters, the widget's message, the options) through `JSON.stringify`;
//! JavaScript's own `JSON.parse` then walks the text's value into words, which are copied into
//! wasm memory as a `Float64Array` and decoded here (`tape` in src/web/js.rs). Decoding a tape
//! takes a fraction of the code a JSON parser takes, and a number crosses as itself, bit for
//! bit. JavaScript checks the limits of `crate::limits` on the way, where a parser of the
//! text would meet them.
//!
//! The words, value by value in document order (a tag first):
//!
//! | value   | words                                                                 |
//! |---------|-----------------------------------------------------------------------|
//! | null    | `0`                                                                   |
//! | false   | `1`                                                                   |
//! | true    | `2`                                                                   |
//! | number  | `3`, then the number                                                  |
//! | string  | `4`, then a string                                                    |
//! | array   | `5`, the item count, then each item                                   |
//! | object  | `6`, the entry count, then each entry: its key (a string), its value  |
//!
//! A string is its number of code points, then each code point (a lone surrogate as itself:
//! it decodes to U+FFFD). Strings copied from JavaScript (`js::string`) are one such string.
//! (f64 words, not u32: no splitting of numbers into halves in JavaScript; 64 B gzip less.)

use crate::prelude::*;
use crate::value::Value;

/// Reads values and strings off a tape. It never fails: a tape cut short (never written so)
/// reads as if it went on with zeros, and no count goes past the words left, so every string
/// and container ends.
pub struct Tape<'a>(core::slice::Iter<'a, f64>);

impl<'a> Tape<'a> {
    /// A tape over `words`.
    pub fn new(words: &'a [f64]) -> Tape<'a> {
        Tape(words.iter())
    }

    fn word(&mut self) -> f64 {
        self.0.next().copied().unwrap_or(0.0)
    }

    fn next(&mut self) -> u32 {
        self.word() as u32
    }

    /// The `count` the tape gives next, but no more than the words left (each item takes at
    /// least one).
    fn count(&mut self) -> usize {
        (self.next() as usize).min(self.0.len())
    }

    /// The next value.
    pub fn value(&mut self) -> Value {
        match self.next() {
            1 => Value::Bool(false),
            2 => Value::Bool(true),
            3 => Value::Number(self.word()),
            4 => Value::String(self.string()),
            5 => {
                let mut items = Vec::new();
                for _ in 0..self.count() {
                    items.push(self.value());
                }
                Value::Array(items)
            }
            6 => {
                let mut entries = Vec::new();
                for _ in 0..self.count() {
                    entries.push((self.string(), self.value()));
                }
                Value::Object(entries)
            }
            _ => Value::Null,
        }
    }

    /// The next string.
    pub fn string(&mut self) -> String {
        let mut out = String::new();
        for _ in 0..self.count() {
            out.push(char::from_u32(self.next()).unwrap_or(char::REPLACEMENT_CHARACTER));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A code point as a word.
    fn c(c: char) -> f64 {
        f64::from(u32::from(c))
    }

    #[test]
    fn values_read_as_written() {
        let words = [
            6.0,
            2.0,
            1.0,
            c('a'),
            5.0,
            5.0,
            0.0,
            1.0,
            2.0,
            3.0,
            -2.5,
            4.0,
            3.0,
            c('é'),
            55296.0,
            c('😀'),
            1.0,
            c('b'),
            6.0,
            0.0,
        ];
        assert_eq!(
            Tape::new(&words).value(),
            Value::Object(vec![
                (
                    "a".into(),
                    Value::Array(vec![
                        Value::Null,
                        Value::Bool(false),
                        Value::Bool(true),
                        Value::Number(-2.5),
                        Value::String("é\u{FFFD}😀".into()),
                    ])
                ),
                ("b".into(), Value::Object(vec![])),
            ])
        );
        for n in [0.0, -0.0, 1e308, 5e-324, 0.1 + 0.2, f64::MAX] {
            let Value::Number(back) = Tape::new(&[3.0, n]).value() else {
                panic!("{n}")
            };
            assert_eq!(back.to_bits(), n.to_bits());
        }
    }

    #[test]
    fn a_tape_cut_short_ends_its_strings_and_containers() {
        assert_eq!(Tape::new(&[]).value(), Value::Null);
        assert_eq!(
            Tape::new(&[4.0, 9.0, 65.0]).value(),
            Value::String("A".into())
        );
        assert_eq!(
            Tape::new(&[5.0, 4e9, 2.0]).value(),
            Value::Array(vec![Value::Bool(true)])
        );
        assert_eq!(
            Tape::new(&[6.0, 9.0, 1.0, 65.0]).value(),
            Value::Object(vec![("A".into(), Value::Null), ("".into(), Value::Null)])
        );
        assert_eq!(Tape::new(&[3.0]).value(), Value::Number(0.0));
    }

    #[test]
    fn words_that_are_not_whole_read_as_their_whole_part() {
        // Never written so: not a panic either.
        assert_eq!(
            Tape::new(&[4.0, 1.5, 65.9]).value(),
            Value::String("A".into())
        );
        assert_eq!(Tape::new(&[f64::NAN]).value(), Value::Null);
        assert_eq!(
            Tape::new(&[4.0, 1.0, -1.0]).value(),
            Value::String("\0".into())
        );
    }
}
