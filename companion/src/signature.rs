//! Altegio's signed user data: `user_data` is base64 of a JSON object, `user_data_sign` the
//! lower-case hex HMAC-SHA256 of the decoded JSON bytes, keyed with the partner token.
//!
//! The signature is checked in constant time (`Mac::verify_slice`) before the JSON is even
//! parsed. Of the object only the user's ID is kept; phone, email and name are dropped here.
//! [`sign`] and [`tag_matches`] also make and check the webhook URL tokens
//! ([`crate::webhook_token`]).

use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::Value;
use sha2::Sha256;

use crate::config::Secret;
use crate::error::AppError;

type HmacSha256 = Hmac<Sha256>;

const LENIENT: GeneralPurposeConfig =
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
const STANDARD: GeneralPurpose = GeneralPurpose::new(&alphabet::STANDARD, LENIENT);
const URL_SAFE: GeneralPurpose = GeneralPurpose::new(&alphabet::URL_SAFE, LENIENT);

/// What is kept of verified user data.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct VerifiedUser {
    /// The Altegio user's ID (`id` or `user_id`), as text.
    pub user_id: Option<String>,
}

/// Decodes `user_data` as base64, standard or URL-safe alphabet, padded or not.
///
/// A `+` that became a space on its way through a query string is put back; line breaks are
/// ignored.
pub fn decode_base64(raw: &str) -> Option<Vec<u8>> {
    let cleaned: String = raw
        .trim()
        .chars()
        .filter(|c| !matches!(c, '\r' | '\n' | '\t'))
        .map(|c| if c == ' ' { '+' } else { c })
        .collect();
    if cleaned.is_empty() {
        return None;
    }
    STANDARD
        .decode(&cleaned)
        .or_else(|_| URL_SAFE.decode(&cleaned))
        .ok()
}

/// The lower-case hex HMAC-SHA256 of `data` keyed with `key` (what Altegio sends).
pub fn sign(data: &[u8], key: &Secret) -> String {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = match HmacSha256::new_from_slice(key.expose().as_bytes()) {
        Ok(m) => m,
        Err(_) => return String::new(),
    };
    mac.update(data);
    hex::encode(mac.finalize().into_bytes())
}

/// Whether `tag` is the HMAC-SHA256 of `data` keyed with `key`, compared in constant time
/// (`Mac::verify_slice`). A tag of the wrong length never matches.
pub fn tag_matches(data: &[u8], tag: &[u8], key: &Secret) -> bool {
    // HMAC accepts keys of any length, so `new_from_slice` cannot fail.
    let Ok(mut mac) = HmacSha256::new_from_slice(key.expose().as_bytes()) else {
        return false;
    };
    mac.update(data);
    mac.verify_slice(tag).is_ok()
}

/// Verifies `user_data` against `user_data_sign` with the partner token, then reads the user.
///
/// Errors: 422 when `user_data` is not base64 or `user_data_sign` not 64 hex digits; 403 when
/// the signature does not match; 422 when verified data is not a JSON object.
pub fn verify(
    user_data: &str,
    user_data_sign: &str,
    key: &Secret,
) -> Result<VerifiedUser, AppError> {
    let data = decode_base64(user_data).ok_or_else(|| {
        AppError::invalid_field(
            "invalid_user_data",
            "user_data",
            "user_data: expected base64 (standard or URL-safe alphabet)",
        )
    })?;
    let sign = user_data_sign.trim();
    let tag = match hex::decode(sign) {
        Ok(t) if t.len() == 32 => t,
        _ => {
            return Err(AppError::invalid_field(
                "invalid_user_data_sign",
                "user_data_sign",
                "user_data_sign: expected 64 hex digits (HMAC-SHA256)",
            ))
        }
    };
    if !tag_matches(&data, &tag, key) {
        return Err(AppError::Forbidden {
            code: "invalid_signature",
            message: "user_data_sign does not match user_data".to_owned(),
        });
    }
    let value: Value = serde_json::from_slice(&data).map_err(|_| {
        AppError::invalid_field(
            "invalid_user_data",
            "user_data",
            "user_data: the signed data is not JSON",
        )
    })?;
    let Value::Object(object) = value else {
        return Err(AppError::invalid_field(
            "invalid_user_data",
            "user_data",
            "user_data: expected a JSON object",
        ));
    };
    let user_id = ["id", "user_id"]
        .iter()
        .filter_map(|k| object.get(*k))
        .find_map(|v| match v {
            Value::Number(n) => Some(n.to_string()),
            Value::String(s) if !s.is_empty() && s.len() <= 64 => Some(s.clone()),
            _ => None,
        });
    Ok(VerifiedUser { user_id })
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::{STANDARD as STD, URL_SAFE_NO_PAD};

    const JSON: &str =
        r#"{"id":77,"name":"Ann","phone":"+79990000000","email":"a@b.c","salon_name":"Spa ?>"}"#;

    fn key() -> Secret {
        Secret::new("partner-token")
    }

    #[test]
    fn accepts_a_valid_signature_in_both_alphabets() {
        let sign = sign(JSON.as_bytes(), &key());
        assert_eq!(sign.len(), 64);
        assert_eq!(sign, sign.to_lowercase());
        for encoded in [STD.encode(JSON), URL_SAFE_NO_PAD.encode(JSON)] {
            let user = verify(&encoded, &sign, &key()).unwrap();
            assert_eq!(user.user_id.as_deref(), Some("77"));
        }
        // `+` turned into a space by form decoding, and upper-case hex.
        let mangled = STD.encode(JSON).replace('+', " ");
        assert!(verify(&mangled, &sign.to_uppercase(), &key()).is_ok());
    }

    #[test]
    fn known_vector() {
        // HMAC-SHA256 test vector (RFC 4231 case 2).
        assert_eq!(
            sign(b"what do ya want for nothing?", &Secret::new("Jefe")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn refuses_tampering() {
        let sign = sign(JSON.as_bytes(), &key());
        let tampered = STD.encode(JSON.replace("77", "78"));
        assert!(matches!(
            verify(&tampered, &sign, &key()),
            Err(AppError::Forbidden { .. })
        ));
        let mut bad = sign.clone().into_bytes();
        bad[0] = if bad[0] == b'0' { b'1' } else { b'0' };
        let bad = String::from_utf8(bad).unwrap();
        assert!(matches!(
            verify(&STD.encode(JSON), &bad, &key()),
            Err(AppError::Forbidden { .. })
        ));
        assert!(matches!(
            verify(&STD.encode(JSON), &sign, &Secret::new("other")),
            Err(AppError::Forbidden { .. })
        ));
        assert!(matches!(
            verify(&STD.encode(JSON), "zz", &key()),
            Err(AppError::Invalid { .. })
        ));
        assert!(matches!(
            verify("!!!", &sign, &key()),
            Err(AppError::Invalid { .. })
        ));
    }

    #[test]
    fn verified_data_must_be_an_object() {
        let data = b"[1,2]";
        let sign = sign(data, &key());
        assert!(matches!(
            verify(&STD.encode(data), &sign, &key()),
            Err(AppError::Invalid { .. })
        ));
        let data = br#"{"user_id":"u-5"}"#;
        let user = verify(&STD.encode(data), &sign_of(data), &key()).unwrap();
        assert_eq!(user.user_id.as_deref(), Some("u-5"));
    }

    fn sign_of(data: &[u8]) -> String {
        sign(data, &key())
    }
}
