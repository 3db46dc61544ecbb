//! Advanced matching: the visitor's e-mail and phone, normalised as Meta asks (trimmed,
//! lower-cased; the phone as digits only) and hashed with SHA-256 in the page, so that only
//! the hashes ever leave the browser (to the companion, which passes them to Meta; never to
//! GA4, never to gtag).

use crate::outbox::UserData;
use crate::prelude::*;

/// SHA-256's round constants.
const K: [u32; 64] = [
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
];

/// SHA-256 of `text`, as 64 lower-case hex digits: a compact, loop-based implementation of
/// FIPS 180-4. (The `sha2` crate cost the npm build 4.3 KB gzip, this a fraction of that; the
/// values hashed are a few dozen bytes, so speed does not matter.)
pub fn sha256_hex(text: &str) -> String {
    let bytes = text.as_bytes();
    let len = bytes.len();
    let bits = (len as u64).wrapping_mul(8);
    // The padded message, byte by byte without building it: the text, 0x80, zeros, and the
    // bit length in the last 8 bytes of the last 64-byte block.
    let total = (len + 9).div_ceil(64) * 64;
    let mut h: [u32; 8] = [
        0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab,
        0x5be0cd19,
    ];
    // The block's 16 words; the schedule's later words overwrite them in place (`& 15`
    // indexes cannot fail, so they carry no bounds-check panic).
    let mut w = [0u32; 16];
    for at in 0..total {
        let from_end = total - 1 - at;
        let byte = match bytes.get(at) {
            Some(&byte) => byte,
            None if at == len => 0x80,
            None if from_end < 8 => (bits >> (8 * from_end)) as u8,
            None => 0,
        };
        // Four shifts per word push out the previous block's bytes.
        let word = &mut w[(at / 4) & 15];
        *word = (*word << 8) | u32::from(byte);
        if at % 64 == 63 {
            compress(&mut h, &mut w);
        }
    }
    let hex = b"0123456789abcdef";
    let mut out = String::with_capacity(64);
    for &word in &h {
        let mut word = word;
        for _ in 0..8 {
            out.push(char::from(hex[(word >> 28) as usize]));
            word <<= 4;
        }
    }
    out
}

/// One block's rounds: `w` holds the block's words and is consumed as the message schedule.
fn compress(h: &mut [u32; 8], w: &mut [u32; 16]) {
    let mut v = *h;
    for i in 0..64 {
        if i >= 16 {
            // w[i] = σ1(w[i-2]) + w[i-7] + σ0(w[i-15]) + w[i-16], the slot of w[i-16].
            let (a, b) = (w[(i + 1) & 15], w[(i + 14) & 15]);
            let s0 = a.rotate_right(7) ^ a.rotate_right(18) ^ (a >> 3);
            let s1 = b.rotate_right(17) ^ b.rotate_right(19) ^ (b >> 10);
            w[i & 15] = w[i & 15]
                .wrapping_add(s0)
                .wrapping_add(w[(i + 9) & 15])
                .wrapping_add(s1);
        }
        let [a, b, c, d, e, f, g, hh] = v;
        let s1 = e.rotate_right(6) ^ e.rotate_right(11) ^ e.rotate_right(25);
        let ch = (e & f) ^ (!e & g);
        let t1 = hh
            .wrapping_add(s1)
            .wrapping_add(ch)
            .wrapping_add(K[i])
            .wrapping_add(w[i & 15]);
        let s0 = a.rotate_right(2) ^ a.rotate_right(13) ^ a.rotate_right(22);
        let maj = (a & b) ^ (a & c) ^ (b & c);
        let t2 = s0.wrapping_add(maj);
        v = [t1.wrapping_add(t2), a, b, c, d.wrapping_add(t1), e, f, g];
    }
    for i in 0..8 {
        h[i] = h[i].wrapping_add(v[i]);
    }
}

/// The normalised e-mail: trimmed, lower-cased (ASCII letters: Unicode case tables would cost
/// every page kilobytes, and e-mail addresses are ASCII but for rare internationalised ones);
/// `None` when nothing is left.
pub fn normalise_email(email: &str) -> Option<String> {
    let email = crate::text::trim(email).to_ascii_lowercase();
    (!email.is_empty()).then_some(email)
}

/// The normalised phone: its digits only; `None` when it has none.
pub fn normalise_phone(phone: &str) -> Option<String> {
    let mut digits = String::new();
    for &b in phone.as_bytes() {
        if b.is_ascii_digit() {
            digits.push(char::from(b));
        }
    }
    (!digits.is_empty()).then_some(digits)
}

/// The hashes of what was given.
pub fn user_data(email: Option<&str>, phone: Option<&str>) -> UserData {
    UserData {
        em: email.and_then(normalise_email).map(|e| sha256_hex(&e)),
        ph: phone.and_then(normalise_phone).map(|p| sha256_hex(&p)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_normalised_then_hashed() {
        assert_eq!(
            sha256_hex(""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        let data = user_data(Some("  Jane.Doe@Example.COM "), Some("+49 (30) 123-456"));
        assert_eq!(data.em, Some(sha256_hex("jane.doe@example.com")));
        assert_eq!(data.ph, Some(sha256_hex("4930123456")));
        assert_eq!(
            data.em.as_deref(),
            Some("86e0b9e56c17cc4d12387e1949b85053fbe73bc3ce5a1188713a9d300cc6133d")
        );
        assert_eq!(
            data.ph.as_deref(),
            Some("ac75546db905289f50bd750fd5648fec0719074ce391521b2372abeae9110668")
        );
        assert_eq!(user_data(Some("   "), Some("n/a")), UserData::default());
        // Two blocks (the padding does not fit after 56 bytes).
        assert_eq!(
            sha256_hex(&"a".repeat(64)),
            "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb"
        );
        assert_eq!(
            sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
        );
    }
}

/// The hand-written SHA-256 against the `sha2` crate, on arbitrary text (natively: proptest
/// does not build for wasm32).
#[cfg(all(test, not(target_arch = "wasm32")))]
mod reference {
    use super::sha256_hex;
    use proptest::prelude::*;
    use sha2::{Digest, Sha256};

    fn reference_hex(text: &str) -> String {
        Sha256::digest(text.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    proptest! {
        #[test]
        fn matches_the_sha2_crate(text in ".{0,300}") {
            prop_assert_eq!(sha256_hex(&text), reference_hex(&text));
        }
    }

    #[test]
    fn matches_at_every_padding_boundary() {
        for len in 0..200 {
            let text = "a".repeat(len);
            assert_eq!(sha256_hex(&text), reference_hex(&text), "length {len}");
        }
    }
}
