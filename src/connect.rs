//! The connect flow of the registration page, as pure functions: what Altegio put into the
//! registration URL, the body of the companion's `POST /api/connect`, its answer, and the
//! messages for Altegio's app-card iframe.
//!
//! Altegio opens the registration URL with the locations a business picked, in one of three
//! shapes: `?salon_id=1`, `?salon_ids[]=1&salon_ids[]=2` (the brackets often percent-encoded
//! as `salon_ids%5B%5D`), or `?salon_ids=1,2`. With user-data transfer on, it adds `user_data`
//! (base64 of a JSON object) and `user_data_sign` (hex HMAC-SHA256 of the decoded JSON).
//! [`parse_search`] reads all of that, checks it, and [`request_json`] writes what the
//! companion takes; the companion verifies the signature (the token never reaches a browser).

use crate::json::{parse, push_str, Object};
use crate::prelude::*;
use crate::text::{concat, push_u64, quoted, u64_to_string};
use crate::value::Value;

/// The most location IDs one registration URL may carry (before de-duplication); the
/// companion refuses more.
pub const MAX_LOCATIONS: usize = 100;

/// The largest location ID accepted: 2^53 − 1, the largest integer a JavaScript number holds
/// exactly (IDs come back to the page as numbers).
pub const MAX_SALON_ID: u64 = 9_007_199_254_740_991;

/// Altegio's and YCLIENTS' app origins: where the registration page's iframe lives.
pub const DEFAULT_ALTEGIO_ORIGINS: &[&str] = &["https://app.alteg.io", "https://yclients.com"];

/// The options `connectLocations` knows.
pub const KNOWN_OPTIONS: &[&str] = &[
    "companionUrl",
    "altegioOrigin",
    "closeOnSuccess",
    "onAltegioMessage",
];

/// Signed user data exactly as it came in the URL (decoded from the query, not from base64).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserData {
    /// `user_data`: base64 of the user's JSON.
    pub data: String,
    /// `user_data_sign`: hex HMAC-SHA256 of the decoded JSON, keyed with the partner token.
    pub sign: String,
}

/// What a registration URL carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Registration {
    /// The location IDs, de-duplicated, in first-seen order (at least one).
    pub salon_ids: Vec<u64>,
    /// The signed user data, when Altegio sent it.
    pub user_data: Option<UserData>,
}

/// Where a percent-decoded query component goes: `+` means a space in a form-encoded query,
/// but in base64 it is a digit and must stay one.
#[derive(Clone, Copy, PartialEq)]
enum Plus {
    Space,
    Keep,
}

fn hex_digit(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Decodes `%XX` escapes (a `%` not followed by two hex digits stays as it is, as
/// `URLSearchParams` does; bytes that are not UTF-8 become U+FFFD).
fn percent_decode(raw: &str, plus: Plus) -> String {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let escaped = match (b, bytes.get(i + 1), bytes.get(i + 2)) {
            (b'%', Some(&h), Some(&l)) => hex_digit(h).zip(hex_digit(l)),
            _ => None,
        };
        match escaped {
            Some((h, l)) => {
                out.push(h << 4 | l);
                i += 3;
            }
            None => {
                out.push(if b == b'+' && plus == Plus::Space {
                    b' '
                } else {
                    b
                });
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// `salon_ids[<index>]`.
fn indexed(index: usize) -> String {
    let mut name = String::from("salon_ids[");
    push_u64(&mut name, index as u64);
    name.push(']');
    name
}

/// One location ID: ASCII digits (spaces around them allowed), 1 ..= [`MAX_SALON_ID`].
fn salon_id(name: &str, raw: &str) -> Result<u64, String> {
    let digits = raw.trim_matches(|c: char| c == ' ' || c == '\t');
    let mut id: u64 = 0;
    let mut ok = !digits.is_empty();
    for b in digits.bytes() {
        if !b.is_ascii_digit() {
            ok = false;
            break;
        }
        id = id.saturating_mul(10).saturating_add(u64::from(b - b'0'));
    }
    if ok && id == 0 {
        ok = false;
    }
    if !ok {
        return Err(concat(&[
            name,
            ": expected a positive integer, got ",
            &quoted(raw),
        ]));
    }
    if id > MAX_SALON_ID {
        return Err(concat(&[
            name,
            ": expected a positive integer up to 9007199254740991, got ",
            &quoted(raw),
        ]));
    }
    Ok(id)
}

/// Whether `key` names one entry of the `salon_ids` list: `salon_ids[]` or `salon_ids[<n>]`.
fn is_list_key(key: &str) -> bool {
    key.strip_prefix("salon_ids[")
        .and_then(|rest| rest.strip_suffix(']'))
        .is_some_and(|inside| inside.bytes().all(|b| b.is_ascii_digit()))
}

fn once(slot: &mut Option<String>, name: &str, value: String) -> Result<(), String> {
    if slot.is_some() {
        return Err(concat(&[name, ": given more than once"]));
    }
    *slot = Some(value);
    Ok(())
}

/// Reads a registration URL's query (`location.search`, with or without the leading `?`).
///
/// Errors name the parameter (and index) and the rule, e.g.
/// `salon_ids[2]: expected a positive integer, got "abc"`.
pub fn parse_search(search: &str) -> Result<Registration, String> {
    let query = search.strip_prefix('?').unwrap_or(search);
    // (name for messages, raw value) of every location ID, in URL order.
    let mut raw_ids: Vec<(String, String)> = Vec::new();
    let mut list_index = 0;
    let mut data = None;
    let mut sign = None;
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (raw_key, raw_value) = pair.split_once('=').unwrap_or((pair, ""));
        let key = percent_decode(raw_key, Plus::Space);
        match key.as_str() {
            "salon_id" => raw_ids.push((key, percent_decode(raw_value, Plus::Space))),
            "salon_ids" => {
                for part in percent_decode(raw_value, Plus::Space).split(',') {
                    raw_ids.push((indexed(list_index), part.to_string()));
                    list_index += 1;
                }
            }
            k if is_list_key(k) => {
                raw_ids.push((indexed(list_index), percent_decode(raw_value, Plus::Space)));
                list_index += 1;
            }
            // Base64 has no spaces: a `+` is a digit, and a space can only be a `+` that some
            // hop decoded as form data.
            "user_data" => once(
                &mut data,
                "user_data",
                percent_decode(raw_value, Plus::Keep).replace(' ', "+"),
            )?,
            "user_data_sign" => once(
                &mut sign,
                "user_data_sign",
                percent_decode(raw_value, Plus::Space),
            )?,
            _ => {}
        }
    }
    if raw_ids.len() > MAX_LOCATIONS {
        let mut message =
            String::from("salon_ids: at most 100 location IDs per registration, got ");
        push_u64(&mut message, raw_ids.len() as u64);
        return Err(message);
    }
    if raw_ids.is_empty() {
        return Err(
            "salon_ids: the page address carries no location ID (expected salon_ids[]=…, \
             salon_ids=… or salon_id=…)"
                .to_string(),
        );
    }
    let mut salon_ids: Vec<u64> = Vec::with_capacity(raw_ids.len());
    for (name, raw) in &raw_ids {
        let id = salon_id(name, raw)?;
        if !salon_ids.contains(&id) {
            salon_ids.push(id);
        }
    }
    let present = |v: Option<String>| v.filter(|s| !s.trim().is_empty());
    let user_data = match (present(data), present(sign)) {
        (None, None) => None,
        (Some(_), None) => return Err("user_data_sign: required when user_data is given".into()),
        (None, Some(_)) => return Err("user_data: required when user_data_sign is given".into()),
        (Some(data), Some(sign)) => Some(check_user_data(data, sign)?),
    };
    Ok(Registration {
        salon_ids,
        user_data,
    })
}

/// The shape checks the module can make; the signature itself is the companion's to verify.
fn check_user_data(data: String, sign: String) -> Result<UserData, String> {
    let base64 = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'-' | b'_' | b'=');
    if let Some(bad) = data.chars().find(|c| !c.is_ascii() || !base64(*c as u8)) {
        let mut text = String::new();
        text.push(bad);
        return Err(concat(&[
            "user_data: expected base64, got the character ",
            &quoted(&text),
        ]));
    }
    let sign = String::from(sign.trim());
    if sign.len() != 64 || !sign.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(concat(&[
            "user_data_sign: expected 64 hexadecimal digits (HMAC-SHA256), got ",
            &quoted(&sign),
        ]));
    }
    Ok(UserData { data, sign })
}

/// The body of the companion's `POST /api/connect`:
/// `{"salon_ids":[1,2],"user_data":"…","user_data_sign":"…"}`.
pub fn request_json(registration: &Registration) -> String {
    let mut out = String::with_capacity(32 + registration.salon_ids.len() * 8);
    let mut object = Object::open(&mut out);
    let list = object.key("salon_ids");
    list.push('[');
    for (i, id) in registration.salon_ids.iter().enumerate() {
        if i > 0 {
            list.push(',');
        }
        push_u64(list, *id);
    }
    list.push(']');
    if let Some(user) = &registration.user_data {
        object.str("user_data", &user.data);
        object.str("user_data_sign", &user.sign);
    }
    object.close();
    out
}

/// The checked options of `connectLocations`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectOptions {
    /// The companion's `/api/connect` URL.
    pub endpoint: String,
    /// The origins Altegio's app may have: messages are posted to these only and accepted from
    /// these only.
    pub altegio_origins: Vec<String>,
    /// Inside the iframe, ask Altegio to close the modal when every location is active.
    pub close_on_success: bool,
}

/// `scheme://host[:port]` with http or https and nothing after it.
fn is_origin(s: &str) -> bool {
    let rest = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"));
    rest.is_some_and(|host| {
        !host.is_empty()
            && host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'))
    })
}

fn altegio_origins(value: Option<&Value>) -> Result<Vec<String>, String> {
    let check = |name: &str, s: &str| {
        if is_origin(s) {
            Ok(s.to_string())
        } else {
            Err(concat(&[
                name,
                ": expected an origin like \"https://app.alteg.io\" (no path, no wildcard), got ",
                &quoted(s),
            ]))
        }
    };
    match value {
        None | Some(Value::Null) => Ok(DEFAULT_ALTEGIO_ORIGINS
            .iter()
            .map(|o| o.to_string())
            .collect()),
        Some(Value::String(s)) => Ok(Vec::from([check("altegioOrigin", s)?])),
        Some(Value::Array(items)) if !items.is_empty() => {
            let mut origins = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                let mut name = String::from("altegioOrigin[");
                push_u64(&mut name, i as u64);
                name.push(']');
                match item {
                    Value::String(s) => origins.push(check(&name, s)?),
                    _ => return Err(concat(&[&name, ": expected a string"])),
                }
            }
            Ok(origins)
        }
        Some(_) => {
            Err("altegioOrigin: expected an origin string or a non-empty array of them".into())
        }
    }
}

/// Reads the options of `connectLocations` (as JSON sees them: functions are left out, so
/// `onAltegioMessage` is checked by the browser side). Unknown keys are refused.
pub fn read_options(options: &Value) -> Result<ConnectOptions, String> {
    let Value::Object(entries) = options else {
        return Err("options: expected an object like { companionUrl: \"https://…\" }".into());
    };
    if let Some((unknown, _)) = entries
        .iter()
        .find(|(k, _)| !KNOWN_OPTIONS.contains(&k.as_str()))
    {
        return Err(concat(&[
            "options.",
            unknown,
            ": unknown option (known: companionUrl, altegioOrigin, closeOnSuccess, onAltegioMessage)",
        ]));
    }
    let url = match options.get("companionUrl") {
        Some(Value::String(url)) => url.trim(),
        _ => return Err("companionUrl: expected the companion's URL as a string".into()),
    };
    let base = url.trim_end_matches('/');
    let host = base
        .strip_prefix("https://")
        .or_else(|| base.strip_prefix("http://"));
    if host.is_none_or(|h| h.is_empty() || h.contains(['?', '#', ' '])) {
        return Err(concat(&[
            "companionUrl: expected an http(s) URL without query, got ",
            &quoted(url),
        ]));
    }
    let close_on_success = match options.get("closeOnSuccess") {
        None | Some(Value::Null) => true,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err("closeOnSuccess: expected true or false".into()),
    };
    Ok(ConnectOptions {
        endpoint: concat(&[base, "/api/connect"]),
        altegio_origins: altegio_origins(options.get("altegioOrigin"))?,
        close_on_success,
    })
}

/// Whether one location was connected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Connected (now or before).
    Active,
    /// Not connected; see the reason.
    Failed,
}

/// One location's outcome, as the companion reported it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// Altegio's location ID.
    pub salon_id: u64,
    /// Connected or not.
    pub status: Status,
    /// For `Active`: whether it was active before this request.
    pub already_active: Option<bool>,
    /// For `Failed`: why.
    pub reason: Option<String>,
}

fn broken(why: &str) -> String {
    concat(&["the companion answered something unexpected: ", why])
}

fn outcome(item: &Value) -> Result<Outcome, String> {
    let salon_id = match item.get("salon_id") {
        Some(Value::Number(n)) if *n >= 1.0 && *n <= MAX_SALON_ID as f64 => *n as u64,
        _ => return Err(broken("a location without a valid salon_id")),
    };
    let status = match item.get("status").and_then(Value::as_str) {
        Some("active") => Status::Active,
        Some("failed") => Status::Failed,
        _ => {
            return Err(broken(
                "a location whose status is neither active nor failed",
            ))
        }
    };
    let already_active = match item.get("already_active") {
        Some(Value::Bool(b)) => Some(*b),
        _ => None,
    };
    let reason = item.get("reason").and_then(Value::as_str).map(String::from);
    Ok(Outcome {
        salon_id,
        status,
        already_active,
        reason,
    })
}

/// Reads the companion's answer: the outcomes on 2xx, or an error sentence naming the HTTP
/// status, the error code and the companion's message (which names the field).
pub fn read_response(status: u16, body: &str) -> Result<Vec<Outcome>, String> {
    let parsed = parse(body, "answer").ok();
    if !(200..300).contains(&status) {
        let error = parsed.as_ref().and_then(|v| v.get("error"));
        let message = error.and_then(|e| e.get("message")).and_then(Value::as_str);
        let code = error.and_then(|e| e.get("code")).and_then(Value::as_str);
        let mut text = String::from("the companion refused the connect (HTTP ");
        push_u64(&mut text, u64::from(status));
        if let Some(code) = code {
            text.push(' ');
            text.push_str(code);
        }
        text.push_str("): ");
        text.push_str(message.unwrap_or("no error message in the answer"));
        return Err(text);
    }
    let Some(Value::Array(items)) = parsed.as_ref().and_then(|v| v.get("locations")) else {
        return Err(broken("no locations list"));
    };
    items.iter().map(outcome).collect()
}

/// The outcomes as `connectLocations` resolves them, shaped as the `ConnectResult`
/// TypeScript interface: `{"locations":[{"salonId":1,"status":"active","alreadyActive":false}]}`.
pub fn result_json(outcomes: &[Outcome]) -> String {
    let mut out = String::with_capacity(24 + outcomes.len() * 48);
    out.push_str("{\"locations\":[");
    for (i, o) in outcomes.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let mut object = Object::open(&mut out);
        push_u64(object.key("salonId"), o.salon_id);
        object.str(
            "status",
            match o.status {
                Status::Active => "active",
                Status::Failed => "failed",
            },
        );
        if let Some(already) = o.already_active {
            object.bool("alreadyActive", already);
        }
        if let Some(reason) = &o.reason {
            object.str("reason", reason);
        }
        object.close();
    }
    out.push_str("]}");
    out
}

/// Whether every location is active.
pub fn all_active(outcomes: &[Outcome]) -> bool {
    outcomes.iter().all(|o| o.status == Status::Active)
}

/// One sentence for Altegio's toast: "3 locations connected." or
/// "2 of 3 locations connected; not connected: 102."
pub fn summary(outcomes: &[Outcome]) -> String {
    let total = u64_to_string(outcomes.len() as u64);
    let plural = if outcomes.len() == 1 {
        " location"
    } else {
        " locations"
    };
    if all_active(outcomes) {
        return concat(&[&total, plural, " connected."]);
    }
    let active = outcomes
        .iter()
        .filter(|o| o.status == Status::Active)
        .count();
    let mut text = concat(&[&u64_to_string(active as u64), " of ", &total, plural]);
    text.push_str(" connected; not connected: ");
    let failed = outcomes.iter().filter(|o| o.status == Status::Failed);
    for (i, o) in failed.enumerate() {
        if i > 0 {
            text.push_str(", ");
        }
        push_u64(&mut text, o.salon_id);
    }
    text.push('.');
    text
}

/// `{"action":"show_toast","params":{"type":"success"|"error","message":…}}` for Altegio's
/// app page.
pub fn toast_json(success: bool, message: &str) -> String {
    let mut out = String::from("{\"action\":\"show_toast\",\"params\":{\"type\":");
    push_str(&mut out, if success { "success" } else { "error" });
    out.push_str(",\"message\":");
    push_str(&mut out, message);
    out.push_str("}}");
    out
}

/// `{"action":"close_modal"}`.
pub const CLOSE_MODAL_JSON: &str = "{\"action\":\"close_modal\"}";

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(search: &str) -> Vec<u64> {
        parse_search(search).expect("valid").salon_ids
    }

    fn err(search: &str) -> String {
        parse_search(search).expect_err("invalid")
    }

    const SIGN: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn the_three_shapes_of_location_ids() {
        assert_eq!(ids("?salon_ids[]=1&salon_ids[]=2"), [1, 2]);
        assert_eq!(ids("?salon_ids%5B%5D=1&salon_ids%5b%5d=2"), [1, 2]);
        assert_eq!(ids("salon_ids[0]=5&salon_ids[1]=6"), [5, 6]);
        assert_eq!(ids("?salon_ids=1,2,3"), [1, 2, 3]);
        assert_eq!(ids("?salon_ids=1%2C2%2C%203"), [1, 2, 3]);
        assert_eq!(ids("?salon_id=123"), [123]);
        assert_eq!(ids("?lang=en&salon_id=7&utm=x"), [7]);
    }

    #[test]
    fn duplicates_go_first_seen_order_stays() {
        assert_eq!(
            ids("?salon_ids[]=3&salon_ids[]=1&salon_ids[]=3&salon_id=1&salon_ids[]=2"),
            [3, 1, 2]
        );
        assert_eq!(ids("?salon_ids[]=007&salon_ids[]=7"), [7]);
    }

    #[test]
    fn bad_ids_are_named_with_index_and_rule() {
        assert_eq!(
            err("?salon_ids[]=1&salon_ids[]=2&salon_ids[]=abc"),
            r#"salon_ids[2]: expected a positive integer, got "abc""#
        );
        assert_eq!(
            err("?salon_ids[]=0"),
            r#"salon_ids[0]: expected a positive integer, got "0""#
        );
        assert_eq!(
            err("?salon_ids[]=-1"),
            r#"salon_ids[0]: expected a positive integer, got "-1""#
        );
        assert_eq!(
            err("?salon_ids[]=1.5"),
            r#"salon_ids[0]: expected a positive integer, got "1.5""#
        );
        assert_eq!(
            err("?salon_ids[]="),
            r#"salon_ids[0]: expected a positive integer, got """#
        );
        assert_eq!(
            err("?salon_ids=1,,2"),
            r#"salon_ids[1]: expected a positive integer, got """#
        );
        assert_eq!(
            err("?salon_id=x"),
            r#"salon_id: expected a positive integer, got "x""#
        );
        assert_eq!(
            err("?salon_id=%2B5"),
            r#"salon_id: expected a positive integer, got "+5""#
        );
        assert_eq!(
            err("?salon_id=9007199254740992"),
            r#"salon_id: expected a positive integer up to 9007199254740991, got "9007199254740992""#
        );
        assert_eq!(
            err("?salon_id=99999999999999999999999"),
            r#"salon_id: expected a positive integer up to 9007199254740991, got "99999999999999999999999""#
        );
        assert_eq!(ids("?salon_id=9007199254740991"), [MAX_SALON_ID]);
        assert!(err("?utm=1").starts_with("salon_ids: the page address carries no location ID"));
        assert!(err("").starts_with("salon_ids: "));
    }

    #[test]
    fn at_most_one_hundred_ids() {
        let list = |n: u64| {
            let mut s = String::from("?salon_ids=");
            for i in 1..=n {
                if i > 1 {
                    s.push(',');
                }
                push_u64(&mut s, i);
            }
            s
        };
        assert_eq!(ids(&list(100)).len(), 100);
        assert_eq!(
            err(&list(101)),
            "salon_ids: at most 100 location IDs per registration, got 101"
        );
    }

    #[test]
    fn user_data_keeps_its_plus_signs() {
        let search = concat(&[
            "?salon_id=1&user_data=eyJpZCI6MX0+/a%2Bb%3D&user_data_sign=",
            SIGN,
        ]);
        let user = parse_search(&search)
            .expect("valid")
            .user_data
            .expect("user data");
        assert_eq!(user.data, "eyJpZCI6MX0+/a+b=");
        assert_eq!(user.sign, SIGN);
        // A `+` that some hop turned into %20 is a `+` again.
        let user = parse_search(&concat(&[
            "?salon_id=1&user_data=a%20b&user_data_sign=",
            SIGN,
        ]))
        .expect("valid")
        .user_data
        .expect("user data");
        assert_eq!(user.data, "a+b");
    }

    #[test]
    fn user_data_and_sign_go_together() {
        assert_eq!(
            err("?salon_id=1&user_data=abc"),
            "user_data_sign: required when user_data is given"
        );
        assert_eq!(
            err(&concat(&["?salon_id=1&user_data_sign=", SIGN])),
            "user_data: required when user_data_sign is given"
        );
        assert_eq!(
            parse_search("?salon_id=1&user_data=&user_data_sign=")
                .expect("valid")
                .user_data,
            None
        );
        assert_eq!(
            err("?salon_id=1&user_data=abc&user_data_sign=xyz"),
            r#"user_data_sign: expected 64 hexadecimal digits (HMAC-SHA256), got "xyz""#
        );
        assert_eq!(
            err(&concat(&[
                "?salon_id=1&user_data=a%22b&user_data_sign=",
                SIGN
            ])),
            r#"user_data: expected base64, got the character """"#
        );
        assert_eq!(
            err(&concat(&[
                "?salon_id=1&user_data=a&user_data=b&user_data_sign=",
                SIGN
            ])),
            "user_data: given more than once"
        );
    }

    #[test]
    fn the_request_body_is_what_the_companion_takes() {
        let registration = parse_search("?salon_ids[]=1&salon_ids[]=22").expect("valid");
        assert_eq!(request_json(&registration), r#"{"salon_ids":[1,22]}"#);
        let registration = parse_search(&concat(&[
            "?salon_id=5&user_data=ab%2Bc%3D&user_data_sign=",
            SIGN,
        ]))
        .expect("valid");
        assert_eq!(
            request_json(&registration),
            concat(&[
                r#"{"salon_ids":[5],"user_data":"ab+c=","user_data_sign":""#,
                SIGN,
                r#""}"#
            ])
        );
    }

    fn options(json: &str) -> Result<ConnectOptions, String> {
        read_options(&parse(json, "options").expect("JSON"))
    }

    #[test]
    fn options_are_checked() {
        let o = options(r#"{"companionUrl":"http://127.0.0.1:8080/"}"#).expect("valid");
        assert_eq!(o.endpoint, "http://127.0.0.1:8080/api/connect");
        assert_eq!(
            o.altegio_origins,
            ["https://app.alteg.io", "https://yclients.com"]
        );
        assert!(o.close_on_success);
        let o = options(r#"{"companionUrl":"https://c.example/x","altegioOrigin":"http://127.0.0.1:9","closeOnSuccess":false}"#)
            .expect("valid");
        assert_eq!(o.endpoint, "https://c.example/x/api/connect");
        assert_eq!(o.altegio_origins, ["http://127.0.0.1:9"]);
        assert!(!o.close_on_success);
        for (json, message) in [
            ("null", "options: expected an object like { companionUrl: \"https://…\" }"),
            ("{}", "companionUrl: expected the companion's URL as a string"),
            (r#"{"companionUrl":"ftp://x"}"#, r#"companionUrl: expected an http(s) URL without query, got "ftp://x""#),
            (r#"{"companionUrl":"https://x","altegioOrigin":"https://app.alteg.io/"}"#,
             r#"altegioOrigin: expected an origin like "https://app.alteg.io" (no path, no wildcard), got "https://app.alteg.io/""#),
            (r#"{"companionUrl":"https://x","altegioOrigin":["https://*.alteg.io"]}"#,
             r#"altegioOrigin[0]: expected an origin like "https://app.alteg.io" (no path, no wildcard), got "https://*.alteg.io""#),
            (r#"{"companionUrl":"https://x","altegioOrigin":[]}"#, "altegioOrigin: expected an origin string or a non-empty array of them"),
            (r#"{"companionUrl":"https://x","closeOnSuccess":1}"#, "closeOnSuccess: expected true or false"),
            (r#"{"companionURL":"https://x"}"#, "options.companionURL: unknown option (known: companionUrl, altegioOrigin, closeOnSuccess, onAltegioMessage)"),
        ] {
            assert_eq!(options(json), Err(message.to_string()), "{json}");
        }
    }

    #[test]
    fn answers_are_read() {
        let outcomes = read_response(
            200,
            r#"{"locations":[{"salon_id":1,"status":"active","already_active":false},{"salon_id":2,"status":"failed","reason":"HTTP 422: bad"}]}"#,
        )
        .expect("valid");
        assert_eq!(
            result_json(&outcomes),
            r#"{"locations":[{"salonId":1,"status":"active","alreadyActive":false},{"salonId":2,"status":"failed","reason":"HTTP 422: bad"}]}"#
        );
        assert!(!all_active(&outcomes));
        assert_eq!(
            summary(&outcomes),
            "1 of 2 locations connected; not connected: 2."
        );
        assert_eq!(summary(&outcomes[..1]), "1 location connected.");
        assert_eq!(
            read_response(422, r#"{"error":{"code":"invalid_salon_id","message":"salon_ids[2]: expected a positive integer, got \"abc\"","field":"salon_ids[2]"}}"#),
            Err(r#"the companion refused the connect (HTTP 422 invalid_salon_id): salon_ids[2]: expected a positive integer, got "abc""#.to_string())
        );
        assert_eq!(
            read_response(502, "<html>Bad gateway</html>"),
            Err(
                "the companion refused the connect (HTTP 502): no error message in the answer"
                    .to_string()
            )
        );
        assert_eq!(
            read_response(200, r#"{"locations":[{"salon_id":1,"status":"pending"}]}"#),
            Err("the companion answered something unexpected: a location whose status is neither active nor failed".to_string())
        );
        assert!(read_response(200, "not json").is_err());
    }

    #[test]
    fn messages_for_altegio() {
        assert_eq!(
            toast_json(true, "3 locations connected."),
            r#"{"action":"show_toast","params":{"type":"success","message":"3 locations connected."}}"#
        );
        assert!(parse(CLOSE_MODAL_JSON, "x").is_ok());
    }
}
