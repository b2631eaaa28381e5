//! API keys: generated here, shown once, stored only as hashes (HMAC-SHA256
//! under the server's pepper, see [`crate::secrets::Pepper`]; [`hash`] is
//! the plain SHA-256 older versions stored, recognised once and upgraded).

use sha2::{Digest, Sha256};

/// Prefix of every key toolshed generates.
pub const KEY_PREFIX: &str = "ts_";

/// A new random key (`ts_` + 40 hex digits).
pub fn generate() -> String {
    format!(
        "{KEY_PREFIX}{}{}",
        uuid::Uuid::new_v4().simple(),
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    )
}

/// The plain SHA-256 hash older versions stored for a key.
pub fn hash(key: &str) -> String {
    Sha256::digest(key.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The part of a key shown in listings.
pub fn display_prefix(key: &str) -> String {
    key.chars().take(10).collect()
}

/// A random id with a prefix, e.g. `trs_3f9a…`.
pub fn new_id(prefix: &str) -> String {
    format!(
        "{prefix}{}",
        &uuid::Uuid::new_v4().simple().to_string()[..20]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_unique_and_hashes_stable() {
        let a = generate();
        let b = generate();
        assert_ne!(a, b);
        assert!(a.starts_with(KEY_PREFIX) && a.len() == 43);
        assert_eq!(hash(&a), hash(&a));
        assert_ne!(hash(&a), hash(&b));
        assert_eq!(
            hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
