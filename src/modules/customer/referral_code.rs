//! Referral codes: 6 characters from an alphabet without look-alikes
//! (no 0/O, 1/I/L), so a code read aloud or typed from a poster works.
use rand::Rng;

const ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
pub const LEN: usize = 6;

pub fn generate() -> String {
    let mut rng = rand::rng();
    (0..LEN)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

/// Upper-cases and trims what a user typed; `None` when it cannot be a code.
pub fn normalize(input: &str) -> Option<String> {
    let code = input.trim().to_ascii_uppercase();
    (code.len() == LEN && code.bytes().all(|b| ALPHABET.contains(&b))).then_some(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_short_and_unambiguous() {
        for _ in 0..1000 {
            let c = generate();
            assert_eq!(c.len(), LEN);
            assert!(!c.contains(['0', 'O', '1', 'I', 'L']));
            assert_eq!(normalize(&c.to_lowercase()), Some(c));
        }
        assert_eq!(normalize("ab0def"), None);
        assert_eq!(normalize("toolongcode"), None);
    }
}
