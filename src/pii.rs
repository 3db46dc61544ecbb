//! The PII rule: values that are emails, phone numbers or personal names never leave the page
//! for an analytics destination. Recognised by the key (names, contacts) and by the value's
//! shape (emails, phone numbers), whatever the key says.

use crate::catalog::in_word_list;

/// Key words (separated by spaces) that mark a field as personal whatever their neighbours are.
const PERSONAL_WORDS: &str = concat!(
    "email mail phone telephone tel surname firstname lastname fullname middlename ",
    "patronymic username birthday birthdate address passport",
);

/// Words (separated by spaces) that, followed by `name`, mean a person's name (`first_name`,
/// `client_name`…). `company_name`, `service_name` and `salon_name` are businesses and
/// services, not people.
const PERSON_QUALIFIERS: &str = concat!(
    "first last full middle given family client customer user contact person visitor ",
    "patient guest member your",
);

/// Whether the key (any case style) names personal data.
pub fn key_is_personal(key: &str) -> bool {
    let snake = crate::text::snake_case(key);
    if snake == "name" {
        return true;
    }
    // Empty before the first word: no word list holds an empty word.
    let mut previous = "";
    for word in crate::text::split_byte(&snake, b'_') {
        if in_word_list(PERSONAL_WORDS, word)
            || (word == "name" && in_word_list(PERSON_QUALIFIERS, previous))
        {
            return true;
        }
        previous = word;
    }
    false
}

/// What personal data `value` looks like, if any: "an email address" or "a phone number".
/// Also finds them inside free text (`"call me at anna@example.com"`): every word is checked
/// for an email, and every run of digits and phone separators for a phone number (a run
/// followed by `:` is a time of day, as in `2026-11-23 10:30`, and is not one).
pub fn value_looks_personal(value: &str) -> Option<&'static str> {
    if has_email(value) {
        Some("an email address")
    } else if has_phone(value.as_bytes()) {
        Some("a phone number")
    } else {
        None
    }
}

/// Whether a word of `value` is an e-mail address, `local@domain.tld`: something before its
/// first `@`, and after it a domain with a `.` that neither starts nor ends with one. Words end
/// at whitespace and at `, ; < > " ' ( )`.
// One pass that keeps each word's shape (slicing the words out and splitting them at `@` cost
// 24 B gzip more in the wasm). The reference rule below checks it.
fn has_email(value: &str) -> bool {
    let mut local = false; // a character before the word's first `@`
    let mut at = false; // the word has an `@`: what follows is the domain
    let mut domain = false; // the domain has a character
    let mut dot = false; // the domain has a `.`
    let mut starts_dot = false; // the domain's first character is a `.`
    let mut ends_dot = false; // the domain's last character so far is a `.`
    for c in value.chars() {
        if matches!(c, ',' | ';' | '<' | '>' | '"' | '\'' | '(' | ')') || is_white_space(c) {
            if at && local && dot && !starts_dot && !ends_dot {
                return true;
            }
            // `starts_dot` and `ends_dot` are set again by the next domain's characters.
            (local, at, domain, dot) = (false, false, false, false);
        } else if !at {
            at = c == '@';
            local |= !at;
        } else {
            let is_dot = c == '.';
            if !domain {
                starts_dot = is_dot;
                domain = true;
            }
            dot |= is_dot;
            ends_dot = is_dot;
        }
    }
    at && local && dot && !starts_dot && !ends_dot
}

/// Unicode's White_Space characters, as `char::is_whitespace` knows them, written out (its
/// lookup table cost the wasm 0.1 KB gzip).
fn is_white_space(c: char) -> bool {
    matches!(
        c,
        '\t'..='\r'
            | ' '
            | '\u{85}'
            | '\u{a0}'
            | '\u{1680}'
            | '\u{2000}'..='\u{200a}'
            | '\u{2028}'
            | '\u{2029}'
            | '\u{202f}'
            | '\u{205f}'
            | '\u{3000}'
    )
}

/// Whether a run of digits and phone separators in `value` is a phone number. (Every byte
/// looked at is ASCII, so the scan is over bytes: a multi-byte character is never a digit, a
/// separator or a letter here.)
///
/// A phone is `+7 916 123-45-67`, `+447911123456`, `(916) 123-4567`: digits with the
/// separators people type (trailing `-`, ` ` and `(` are not part of it). A bare run of digits
/// counts only with a leading `+` (otherwise ids and timestamps would look like phones); dates
/// (8 digits) stay below the threshold. The run is measured in the pass that finds its end.
// The byte before the run and the run's last byte are carried in `prev` (index arithmetic
// around the run, with its `checked_sub`s, cost 0.1 KB more in the wasm).
fn has_phone(value: &[u8]) -> bool {
    let mut at = 0;
    // The byte before `at` (0 at the start: neither a letter nor a digit).
    let mut prev = 0u8;
    while let Some(&first) = value.get(at) {
        if !(first.is_ascii_digit() || matches!(first, b'+' | b'(')) {
            prev = first;
            at += 1;
            continue;
        }
        let glued_before = prev.is_ascii_alphanumeric();
        let plus = first == b'+';
        let mut digits = 0;
        let mut separated = false;
        // Separators count once a digit or `)` follows them: the trailing ones are not part of
        // the number.
        let mut pending = false;
        // A leading `+` included: a second one means this is not one number.
        let mut pluses = 0;
        while let Some(&b) = value.get(at) {
            match b {
                b'0'..=b'9' => {
                    digits += 1;
                    separated |= pending;
                    pending = false;
                }
                b')' => {
                    separated = true;
                    pending = false;
                }
                b' ' | b'-' | b'(' => pending = true,
                b'+' => pluses += 1,
                _ => break,
            }
            prev = b;
            at += 1;
        }
        let shaped = pluses == u32::from(plus)
            && if plus {
                (8..=15).contains(&digits)
            } else {
                separated && (9..=15).contains(&digits)
            };
        // A number stands alone: a run glued to letters or digits is part of a word or an id
        // (`61-8273-4186-` inside a UUID), and one followed by `:` is a time of day.
        let next = value.get(at).copied().unwrap_or(0);
        let glued =
            glued_before || next == b':' || (prev.is_ascii_digit() && next.is_ascii_alphanumeric());
        if shaped && !glued {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn white_space_is_what_char_is_whitespace_says() {
        for c in (0..=0x10FFFF).filter_map(char::from_u32) {
            assert_eq!(
                is_white_space(c),
                c.is_whitespace(),
                "U+{:04X}",
                u32::from(c)
            );
        }
    }

    #[test]
    fn personal_keys_are_recognised_in_any_case_style() {
        for key in [
            "email",
            "clientEmail",
            "e_mail",
            "phone",
            "phoneNumber",
            "client_phone",
            "name",
            "firstName",
            "last_name",
            "ClientName",
            "fullname",
            "username",
            "birthday",
        ] {
            assert!(key_is_personal(key), "{key}");
        }
    }

    #[test]
    fn business_keys_are_not_personal() {
        for key in [
            "companyName",
            "company_name",
            "salon_name",
            "service_name",
            "isMobile",
            "staff_id",
            "event_id",
            "datetime",
            "code",
            "hostname",
            "filename",
        ] {
            assert!(!key_is_personal(key), "{key}");
        }
    }

    #[test]
    fn emails_and_phones_are_recognised_by_shape() {
        assert_eq!(
            value_looks_personal("anna@example.com"),
            Some("an email address")
        );
        assert_eq!(
            value_looks_personal(" a.b+c@mail.co.uk "),
            Some("an email address")
        );
        assert_eq!(
            value_looks_personal("+7 916 123-45-67"),
            Some("a phone number")
        );
        assert_eq!(
            value_looks_personal("+447911123456"),
            Some("a phone number")
        );
        assert_eq!(
            value_looks_personal("(916) 123-4567"),
            Some("a phone number")
        );
    }

    #[test]
    fn ordinary_values_are_not_mistaken_for_contacts() {
        for value in [
            "2026-11-23",
            "2026-11-23T10:00:00+03:00",
            "1732320000000",
            "12345",
            "1,2,3",
            "@handle",
            "a@b",
            "Studio Bloom",
            "10:30",
            "192.168.100.200",
        ] {
            assert_eq!(value_looks_personal(value), None, "{value}");
        }
    }

    #[test]
    fn contacts_inside_free_text_are_found() {
        let note = "call me at anna@example.com or +7 916 123-45-67";
        assert_eq!(value_looks_personal(note), Some("an email address"));
        assert_eq!(
            value_looks_personal("call me: +7 916 123-45-67, thanks"),
            Some("a phone number")
        );
        assert_eq!(
            value_looks_personal("mail <anna@example.com>"),
            Some("an email address")
        );
        assert_eq!(
            value_looks_personal("(916) 123-4567 after six"),
            Some("a phone number")
        );
        for text in [
            "appointment on 2026-11-23 10:30 with staff 7",
            "2026-11-23 10:00:00",
            "services 101,102,103 at 12:00",
            "record 689961715",
            "room 12 - floor 3",
            "a465af61-8273-4186-b2f5-c7aed4b5c35e",
            "b7e0c1d2-5551-4e3b-9c1d-2f3a4b5c6d7e",
            "12345678-1234-5678-1234-123456789012",
            "order X-916-123-4567Z",
        ] {
            assert_eq!(value_looks_personal(text), None, "{text}");
        }
    }
}

/// The byte scan above against the char-based rule it replaced (kept here as the reference).
#[cfg(all(test, not(target_arch = "wasm32")))]
mod reference {
    use proptest::prelude::*;

    fn value_looks_personal(value: &str) -> Option<&'static str> {
        let is_word_edge = |c: char| {
            c.is_whitespace() || matches!(c, ',' | ';' | '<' | '>' | '"' | '\'' | '(' | ')')
        };
        if value.split(is_word_edge).any(looks_like_email) {
            return Some("an email address");
        }
        let is_phone_char =
            |c: char| c.is_ascii_digit() || matches!(c, ' ' | '-' | '(' | ')' | '+');
        let mut rest = value;
        while let Some(start) = rest.find(|c: char| c.is_ascii_digit() || c == '+' || c == '(') {
            let tail = rest.get(start..).unwrap_or("");
            let end = tail.find(|c: char| !is_phone_char(c)).unwrap_or(tail.len());
            let (run, after) = tail.split_at_checked(end).unwrap_or((tail, ""));
            let before = rest.get(..start).and_then(|s| s.chars().last());
            let next = after.chars().next();
            let ends_in_digit = run.ends_with(|c: char| c.is_ascii_digit());
            let glued = before.is_some_and(|c| c.is_ascii_alphanumeric())
                || next == Some(':')
                || (ends_in_digit && next.is_some_and(|c| c.is_ascii_alphanumeric()));
            if !glued && looks_like_phone(run.trim_end_matches(['-', ' ', '('])) {
                return Some("a phone number");
            }
            let step = end.max(1);
            rest = tail.get(step..).unwrap_or("");
        }
        None
    }

    fn looks_like_email(s: &str) -> bool {
        let s = s.trim();
        let Some((local, domain)) = s.split_once('@') else {
            return false;
        };
        !local.is_empty()
            && !s.contains(char::is_whitespace)
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
    }

    fn looks_like_phone(s: &str) -> bool {
        let s = s.trim();
        let (plus, rest) = match s.strip_prefix('+') {
            Some(rest) => (true, rest),
            None => (false, s),
        };
        let mut digits = 0;
        let mut separators = 0;
        for c in rest.chars() {
            match c {
                '0'..='9' => digits += 1,
                ' ' | '-' | '(' | ')' => separators += 1,
                _ => return false,
            }
        }
        if plus {
            (8..=15).contains(&digits)
        } else {
            separators > 0 && (9..=15).contains(&digits)
        }
    }

    /// Pieces of e-mails, phone numbers, times, ids and text, glued at random.
    const TOKENS: &[&str] = &[
        "anna",
        "x",
        "Z",
        "@",
        "@",
        ".",
        ".",
        "com",
        "+",
        "+7",
        "7",
        "916",
        "123",
        "4567",
        "20261123",
        "-",
        "-",
        " ",
        " ",
        "(",
        ")",
        ":",
        ",",
        ";",
        "<",
        ">",
        "\"",
        "'",
        "\u{a0}",
        "\u{3000}",
        "\t",
        "é",
        "_",
        "0",
        "anna@",
        "@ex.com",
        "@.",
        "a@b",
        ".com.",
        "+7 916 123-45-67",
        "(916) 123-4567",
        "12:30",
    ];

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]
        #[test]
        fn agrees_with_the_char_based_rule(
            tokens in proptest::collection::vec(proptest::sample::select(TOKENS), 0..16)
        ) {
            let value = tokens.concat();
            prop_assert_eq!(super::value_looks_personal(&value), value_looks_personal(&value));
        }

        #[test]
        fn agrees_on_any_text(value in ".{0,40}") {
            prop_assert_eq!(super::value_looks_personal(&value), value_looks_personal(&value));
        }
    }
}
