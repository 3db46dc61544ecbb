//! The per-location webhook URLs: `{public_url}/api/altegio/webhook/{salon_id}/{token}`.
//!
//! Altegio does not sign entity webhooks, so the URL itself is the credential: the companion
//! gives Altegio each location's URL in that location's activation call, and `token` is the
//! lower-case hex HMAC-SHA256 of `"altegio-companion webhook v1:{salon_id}"` keyed with the
//! partner token. It is derived, not stored: nothing to migrate, and the same URL after every
//! restart. Changing the partner token changes every URL (locations must then be activated
//! again). The token of one location is worthless for another, and is checked in constant
//! time ([`signature::tag_matches`]).

use std::borrow::Cow;

use crate::config::Secret;
use crate::signature;

/// Where webhooks are posted: `{public_url}{WEBHOOK_PATH}/{salon_id}/{token}`.
pub const WEBHOOK_PATH: &str = "/api/altegio/webhook";
/// What the HMAC covers before the salon ID: names the purpose and version, so that a token
/// can never be mistaken for another HMAC made with the partner token (such as Altegio's
/// `user_data_sign`).
pub const DOMAIN: &str = "altegio-companion webhook v1:";

fn message(salon_id: i64) -> String {
    format!("{DOMAIN}{salon_id}")
}

/// The token of `salon_id`: 64 lower-case hex digits.
pub fn token(salon_id: i64, partner_token: &Secret) -> String {
    signature::sign(message(salon_id).as_bytes(), partner_token)
}

/// The webhook URL of `salon_id` given to Altegio (`public_url` without a trailing slash).
pub fn url(public_url: &str, salon_id: i64, partner_token: &Secret) -> String {
    format!(
        "{public_url}{WEBHOOK_PATH}/{salon_id}/{}",
        token(salon_id, partner_token)
    )
}

/// Why a webhook URL's token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenProblem {
    /// Not 64 hex digits.
    Malformed,
    /// Well-formed, but not this location's token.
    Mismatch,
}

/// Checks `given` (from the URL) against the token of `salon_id`, in constant time.
/// Hex digits are accepted in either case (the same bytes).
pub fn check(salon_id: i64, given: &str, partner_token: &Secret) -> Result<(), TokenProblem> {
    let tag = match hex::decode(given) {
        Ok(tag) if tag.len() == 32 => tag,
        _ => return Err(TokenProblem::Malformed),
    };
    if signature::tag_matches(message(salon_id).as_bytes(), &tag, partner_token) {
        Ok(())
    } else {
        Err(TokenProblem::Mismatch)
    }
}

/// A request path fit for the log: the token of a webhook URL is replaced by `[redacted]`
/// (it is a credential). Other paths are returned as they are.
pub fn loggable_path(path: &str) -> Cow<'_, str> {
    let Some(rest) = path
        .strip_prefix(WEBHOOK_PATH)
        .and_then(|r| r.strip_prefix('/'))
    else {
        return Cow::Borrowed(path);
    };
    match rest.split_once('/') {
        Some((salon_id, _token)) => Cow::Owned(format!("{WEBHOOK_PATH}/{salon_id}/[redacted]")),
        None => Cow::Borrowed(path),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> Secret {
        Secret::new("partner-token")
    }

    #[test]
    fn tokens_are_per_location_and_keyed() {
        let a = token(51, &key());
        assert_eq!(a.len(), 64);
        assert!(a
            .bytes()
            .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c)));
        assert_eq!(a, token(51, &key()), "derived, so stable");
        assert_ne!(a, token(52, &key()));
        assert_ne!(a, token(51, &Secret::new("another-token")));
        // The documented construction, so that an operator can recompute a URL.
        assert_eq!(
            a,
            signature::sign(b"altegio-companion webhook v1:51", &key())
        );
        assert_eq!(
            url("https://c.example", 51, &key()),
            format!("https://c.example/api/altegio/webhook/51/{a}")
        );
    }

    #[test]
    fn check_accepts_the_token_only_for_its_location() {
        let t = token(7, &key());
        assert_eq!(check(7, &t, &key()), Ok(()));
        assert_eq!(check(7, &t.to_uppercase(), &key()), Ok(()));
        assert_eq!(check(8, &t, &key()), Err(TokenProblem::Mismatch));
        assert_eq!(
            check(7, &t, &Secret::new("other")),
            Err(TokenProblem::Mismatch)
        );
        assert_eq!(
            check(7, &token(8, &key()), &key()),
            Err(TokenProblem::Mismatch)
        );
        let long = format!("{t}00");
        let not_hex = "g".repeat(64);
        for bad in ["", "zz", &t[..62], long.as_str(), not_hex.as_str()] {
            assert_eq!(check(7, bad, &key()), Err(TokenProblem::Malformed), "{bad}");
        }
    }

    #[test]
    fn tokens_are_redacted_in_logged_paths() {
        assert_eq!(
            loggable_path("/api/altegio/webhook/51/abcdef"),
            "/api/altegio/webhook/51/[redacted]"
        );
        assert_eq!(
            loggable_path("/api/altegio/webhook/51/abc/def"),
            "/api/altegio/webhook/51/[redacted]"
        );
        for unchanged in [
            "/api/altegio/webhook",
            "/api/altegio/webhook/51",
            "/api/altegio/webhooks/51/x",
            "/api/locations",
            "/register",
        ] {
            assert_eq!(loggable_path(unchanged), unchanged);
        }
    }
}
