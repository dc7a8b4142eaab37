//! Small crypto helpers every floor may use: random tokens, digests, and
//! sealing a value under a secret the caller holds.
use aes_gcm::{
    Aes256Gcm,
    aead::{Aead, KeyInit},
};
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// A random URL-safe token of `bytes` random bytes.
pub fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}

/// Hex SHA-256, for storing tokens and API keys that must only be compared.
pub fn sha256_hex(value: &str) -> String {
    hex::encode(Sha256::digest(value.as_bytes()))
}

/// The AES-256-GCM key for `secret`: a domain-separated SHA-256, so that
/// it never equals the [`sha256_hex`] under which the same secret is looked up.
fn sealing_key(secret: &str) -> Aes256Gcm {
    let mut h = Sha256::new();
    h.update(b"siyu seal v1\0");
    h.update(secret.as_bytes());
    Aes256Gcm::new(&h.finalize())
}

/// Encrypts `plaintext` under a key derived from `secret` (a random token of
/// at least 128 bits): nonce (12 bytes) followed by the ciphertext. Who holds
/// the sealed bytes but not the secret (a Redis dump) learns nothing.
pub fn seal(secret: &str, plaintext: &[u8]) -> Vec<u8> {
    let mut nonce = [0u8; 12];
    rand::rng().fill_bytes(&mut nonce);
    let sealed = sealing_key(secret)
        .encrypt(&aes_gcm::Nonce::from(nonce), plaintext)
        .expect("AES-GCM encrypts any length a cache holds");
    [nonce.as_slice(), &sealed].concat()
}

/// The plaintext of [`seal`]; `None` when the secret is not the one it was
/// sealed with or the bytes were altered.
pub fn open(secret: &str, sealed: &[u8]) -> Option<Vec<u8>> {
    let (nonce, ciphertext) = sealed.split_at_checked(12)?;
    let nonce: [u8; 12] = nonce.try_into().ok()?;
    sealing_key(secret)
        .decrypt(&aes_gcm::Nonce::from(nonce), ciphertext)
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_with_their_secret() {
        let sealed = seal("secret-a", b"pair");
        assert_eq!(open("secret-a", &sealed).as_deref(), Some(&b"pair"[..]));
        assert_eq!(open("secret-b", &sealed), None);
        let mut altered = sealed.clone();
        *altered.last_mut().unwrap() ^= 1;
        assert_eq!(open("secret-a", &altered), None);
        assert_eq!(open("secret-a", b"short"), None);
    }

    #[test]
    fn tokens_are_random_and_urlsafe() {
        let a = random_token(32);
        assert_ne!(a, random_token(32));
        assert!(
            a.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
    }
}
