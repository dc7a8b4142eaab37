//! The `scene` of a mini-program code, as the login receives it.
//!
//! WeChat hands a page the scene of the code that opened it URL-encoded
//! (`ref%3DAB23CD`); clients pass it on as they got it or decoded. A share
//! code carries the inviter as `r=<code>` (optionally `&p=<product id>`, to
//! stay within WeChat's 32 characters), older posters as `ref=<code>`.

use std::borrow::Cow;

use percent_encoding::percent_decode_str;

/// The scene as recorded: percent-decoded once, so that the encoded and the
/// decoded form of one entry count as one.
pub fn decode(scene: &str) -> Cow<'_, str> {
    percent_decode_str(scene).decode_utf8_lossy()
}

/// The referral code a (decoded) scene carries, if any.
pub fn referral_code(scene: &str) -> Option<String> {
    // Early posters separated pairs with `;` or `,` as well as `&`.
    scene
        .split([';', ','])
        .flat_map(|part| url::form_urlencoded::parse(part.trim().as_bytes()))
        .find_map(|(key, value)| {
            let value = value.trim();
            (matches!(key.trim(), "r" | "ref") && !value.is_empty()).then(|| value.to_string())
        })
}

#[cfg(test)]
mod tests {
    use super::{decode, referral_code};

    fn code(raw: &str) -> Option<String> {
        referral_code(&decode(raw))
    }

    #[test]
    fn both_forms_and_both_encodings() {
        for raw in [
            "ref=AB23CD",
            "ref%3DAB23CD",
            "r=AB23CD",
            "r%3DAB23CD%26p%3D42",
            "p=42&r=AB23CD",
            "from=poster;ref=AB23CD",
            "ch=qr,ref=AB23CD",
        ] {
            assert_eq!(code(raw).as_deref(), Some("AB23CD"), "{raw}");
        }
    }

    #[test]
    fn scenes_without_a_referral() {
        for raw in [
            "",
            "poster-qr",
            "ref=",
            "pref=AB23CD",
            "%E4%B8%AD",
            "%ZZ",
            "rr=AB23CD",
        ] {
            assert_eq!(code(raw), None, "{raw}");
        }
        assert_eq!(decode("%E6%B5%B7%E6%8A%A5"), "海报");
        assert_eq!(decode("poster-qr"), "poster-qr");
    }
}
