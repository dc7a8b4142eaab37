//! WeChat's message push to the server (消息推送), as WeChat documents it:
//! the signature is the SHA-1 of the token, timestamp and nonce (and, in
//! security mode, the `Encrypt` field) sorted and joined; security mode
//! encrypts with AES-256-CBC, the key being the 43-character EncodingAESKey
//! base64-decoded (with a trailing `=`), the IV its first 16 bytes, PKCS#7
//! padding to 32 bytes, and a plaintext of 16 random bytes, the message's
//! length (4 bytes, big-endian), the message and the app id.
use aes::Aes256;
use base64::{Engine, engine::general_purpose::STANDARD};
use cbc::cipher::{BlockDecryptMut, KeyIvInit, block_padding::NoPadding};

/// Why a push was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PushError {
    #[error("signature does not match")]
    Signature,
    #[error("cannot decrypt: {0}")]
    Decrypt(&'static str),
    #[error("encrypted for another app")]
    AppId,
}

/// The 32-byte key from a 43-character EncodingAESKey; `None` if it is not one.
pub fn aes_key(encoding_aes_key: &str) -> Option<[u8; 32]> {
    use base64::engine::{GeneralPurpose, GeneralPurposeConfig};
    // WeChat draws the 43 characters at random, so the last one often has
    // bits set past the key's 256: WeChat's own decoders ignore them.
    const LENIENT: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true),
    );
    if encoding_aes_key.len() != 43 {
        return None;
    }
    let bytes = LENIENT.decode(format!("{encoding_aes_key}=")).ok()?;
    bytes.try_into().ok()
}

/// SHA-1 hex of the parts sorted and joined.
pub fn signature(parts: &[&str]) -> String {
    let mut sorted = parts.to_vec();
    sorted.sort_unstable();
    sha1_smol::Sha1::from(sorted.concat()).digest().to_string()
}

/// Compares a signature WeChat sent with the expected one, in constant time.
pub fn verify(parts: &[&str], sent: &str) -> Result<(), PushError> {
    let expected = signature(parts);
    let same = expected.len() == sent.len()
        && expected
            .bytes()
            .zip(sent.to_ascii_lowercase().bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
    if same {
        Ok(())
    } else {
        Err(PushError::Signature)
    }
}

/// Decrypts an `Encrypt` field; the message if it was encrypted for `appid`.
pub fn decrypt(key: &[u8; 32], appid: &str, encrypted: &str) -> Result<String, PushError> {
    let mut buf = STANDARD
        .decode(encrypted.trim())
        .map_err(|_| PushError::Decrypt("not base64"))?;
    if buf.is_empty() || buf.len() % 16 != 0 {
        return Err(PushError::Decrypt("not whole blocks"));
    }
    let iv: [u8; 16] = key[..16].try_into().expect("16 bytes");
    let plain = cbc::Decryptor::<Aes256>::new(key.into(), &iv.into())
        .decrypt_padded_mut::<NoPadding>(&mut buf)
        .map_err(|_| PushError::Decrypt("bad blocks"))?;
    // PKCS#7 to 32-byte blocks: the last byte says how many to drop (1-32).
    let pad = *plain.last().ok_or(PushError::Decrypt("empty"))? as usize;
    if !(1..=32).contains(&pad) || pad > plain.len() {
        return Err(PushError::Decrypt("bad padding"));
    }
    let plain = &plain[..plain.len() - pad];
    if plain.len() < 20 {
        return Err(PushError::Decrypt("too short"));
    }
    let len = u32::from_be_bytes(plain[16..20].try_into().expect("4 bytes")) as usize;
    let rest = &plain[20..];
    if len > rest.len() {
        return Err(PushError::Decrypt("bad length"));
    }
    let (message, from_appid) = rest.split_at(len);
    if from_appid != appid.as_bytes() {
        return Err(PushError::AppId);
    }
    String::from_utf8(message.to_vec()).map_err(|_| PushError::Decrypt("not UTF-8"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use cbc::cipher::BlockEncryptMut;

    const KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";

    fn encrypt(key: &[u8; 32], appid: &str, message: &str) -> String {
        let mut plain = vec![7u8; 16];
        plain.extend_from_slice(&(message.len() as u32).to_be_bytes());
        plain.extend_from_slice(message.as_bytes());
        plain.extend_from_slice(appid.as_bytes());
        let pad = 32 - plain.len() % 32;
        plain.extend(std::iter::repeat_n(pad as u8, pad));
        let len = plain.len();
        let iv: [u8; 16] = key[..16].try_into().unwrap();
        let out = cbc::Encryptor::<Aes256>::new(key.into(), &iv.into())
            .encrypt_padded_mut::<NoPadding>(&mut plain, len)
            .unwrap()
            .to_vec();
        STANDARD.encode(out)
    }

    #[test]
    fn a_message_encrypted_for_the_app_decrypts_and_others_do_not() {
        let key = aes_key(KEY).unwrap();
        let sealed = encrypt(&key, "wx-app", r#"{"Event":"x"}"#);
        assert_eq!(
            decrypt(&key, "wx-app", &sealed).unwrap(),
            r#"{"Event":"x"}"#
        );
        assert_eq!(decrypt(&key, "wx-other", &sealed), Err(PushError::AppId));
        let other = aes_key("0123456789abcdefghijklmnopqrstuvwxyzABCDEFG").unwrap();
        assert!(decrypt(&other, "wx-app", &sealed).is_err());
        assert!(decrypt(&key, "wx-app", "not base64!").is_err());
        assert!(aes_key("short").is_none());
    }

    #[test]
    fn signatures_sort_their_parts() {
        // WeChat's documented example: token, timestamp, nonce.
        let s = signature(&["token", "1409735669", "1410230624"]);
        assert_eq!(s, signature(&["1410230624", "token", "1409735669"]));
        assert!(verify(&["token", "1409735669", "1410230624"], &s).is_ok());
        assert!(verify(&["token", "1409735669", "x"], &s).is_err());
    }
}
