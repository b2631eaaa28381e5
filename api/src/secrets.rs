//! Secrets at rest: the master key that seals connected-account credentials
//! (XChaCha20-Poly1305), and the pepper that keys API-key hashes
//! (HMAC-SHA256).
//!
//! The master key comes from `TOOLSHED_MASTER_KEY` (64 hex digits) or from
//! `master.key` in the data directory, created with mode 0600 on first
//! start. A sealed value is `v1:` + base64(nonce ‖ ciphertext), bound to the
//! row it belongs to (the account id is the associated data), so a sealed
//! value copied into another row does not open. `toolshed secrets rotate`
//! re-seals every value under a new key.
//!
//! The pepper (`api-keys.pepper`, 0600) is separate and never rotated: API
//! keys are only known to their holders, so their hashes cannot be
//! recomputed under a new secret.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// Environment variable holding the master key (64 hex digits).
pub const MASTER_KEY_VAR: &str = "TOOLSHED_MASTER_KEY";
/// The master key's file in the data directory (when the variable is unset).
pub const MASTER_KEY_FILE: &str = "master.key";
/// The API-key pepper's file in the data directory.
pub const PEPPER_FILE: &str = "api-keys.pepper";
/// Prefix of a sealed value (the format's version).
const SEALED_PREFIX: &str = "v1:";
/// XChaCha20 nonce length.
const NONCE_BYTES: usize = 24;

/// Why a secret could not be loaded, sealed or opened.
#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    /// The key in the environment is not 64 hex digits.
    #[error("{MASTER_KEY_VAR} must be 64 hex digits (32 bytes)")]
    BadKey,
    /// A key file is unreadable, malformed, or readable by others.
    #[error("{path}: {problem}")]
    KeyFile {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        problem: String,
    },
    /// A sealed value did not open: another key, another row, or tampering.
    #[error("a stored secret could not be decrypted (wrong master key, or the data was altered)")]
    Open,
    /// The operating system's random source failed.
    #[error("no randomness available: {0}")]
    Random(String),
}

/// 32 secret bytes.
#[derive(Clone)]
pub struct Key([u8; 32]);

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key(..)")
    }
}

impl Key {
    /// A new random key.
    pub fn generate() -> Result<Key, SecretsError> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).map_err(|e| SecretsError::Random(e.to_string()))?;
        Ok(Key(bytes))
    }

    /// Parses 64 hex digits.
    pub fn from_hex(text: &str) -> Option<Key> {
        let text = text.trim();
        if text.len() != 64 || !text.is_ascii() {
            return None;
        }
        let mut bytes = [0u8; 32];
        for (i, byte) in bytes.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok()?;
        }
        Some(Key(bytes))
    }

    /// 64 lower-case hex digits.
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// Seals and opens credentials under the master key.
#[derive(Clone, Debug)]
pub struct Sealer {
    key: Key,
}

impl Sealer {
    /// A sealer using `key`.
    pub fn new(key: Key) -> Sealer {
        Sealer { key }
    }

    /// Loads the master key: from `TOOLSHED_MASTER_KEY`, else from the data
    /// directory's key file (created on first start).
    pub fn load(data_dir: &Path) -> Result<Sealer, SecretsError> {
        if let Some(value) = std::env::var_os(MASTER_KEY_VAR) {
            let key = value
                .to_str()
                .and_then(Key::from_hex)
                .ok_or(SecretsError::BadKey)?;
            return Ok(Sealer::new(key));
        }
        Ok(Sealer::new(load_or_create(
            &data_dir.join(MASTER_KEY_FILE),
        )?))
    }

    /// Whether `stored` is sealed (as opposed to a legacy plaintext row).
    pub fn is_sealed(stored: &str) -> bool {
        stored.starts_with(SEALED_PREFIX)
    }

    /// Seals `plaintext`, bound to `context` (the row's id).
    pub fn seal(&self, plaintext: &[u8], context: &str) -> Result<String, SecretsError> {
        use base64::Engine as _;
        let mut nonce = [0u8; NONCE_BYTES];
        getrandom::fill(&mut nonce).map_err(|e| SecretsError::Random(e.to_string()))?;
        let cipher = XChaCha20Poly1305::new((&self.key.0).into());
        let sealed = cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| SecretsError::Open)?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Ok(format!(
            "{SEALED_PREFIX}{}",
            base64::engine::general_purpose::STANDARD_NO_PAD.encode(out)
        ))
    }

    /// Opens a value sealed for `context`.
    pub fn open(&self, stored: &str, context: &str) -> Result<Vec<u8>, SecretsError> {
        use base64::Engine as _;
        let encoded = stored
            .strip_prefix(SEALED_PREFIX)
            .ok_or(SecretsError::Open)?;
        let bytes = base64::engine::general_purpose::STANDARD_NO_PAD
            .decode(encoded)
            .map_err(|_| SecretsError::Open)?;
        if bytes.len() < NONCE_BYTES {
            return Err(SecretsError::Open);
        }
        let (nonce, sealed) = bytes.split_at(NONCE_BYTES);
        XChaCha20Poly1305::new((&self.key.0).into())
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: sealed,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| SecretsError::Open)
    }
}

/// Keys the hashes of API keys.
#[derive(Clone, Debug)]
pub struct Pepper {
    key: Key,
}

impl Pepper {
    /// Loads the data directory's pepper (created on first start).
    pub fn load(data_dir: &Path) -> Result<Pepper, SecretsError> {
        Ok(Pepper {
            key: load_or_create(&data_dir.join(PEPPER_FILE))?,
        })
    }

    /// A pepper for tests.
    pub fn new(key: Key) -> Pepper {
        Pepper { key }
    }

    /// HMAC-SHA256 of an API key, hex.
    pub fn hash(&self, api_key: &str) -> String {
        let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(&self.key.0)
            .expect("HMAC takes any key length");
        mac.update(api_key.as_bytes());
        mac.finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

/// Reads a 0600 key file, or creates it with a new random key.
fn load_or_create(path: &Path) -> Result<Key, SecretsError> {
    let problem = |problem: String| SecretsError::KeyFile {
        path: path.to_owned(),
        problem,
    };
    match std::fs::read_to_string(path) {
        Ok(text) => {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(path)
                .map_err(|e| problem(e.to_string()))?
                .permissions()
                .mode();
            if mode & 0o077 != 0 {
                return Err(problem(format!(
                    "readable by others (mode {:o}); run `chmod 600` on it",
                    mode & 0o777
                )));
            }
            Key::from_hex(&text).ok_or_else(|| problem("not 64 hex digits".into()))
        }
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            let key = Key::generate()?;
            write_key_file(path, &key)?;
            Ok(key)
        }
        Err(err) => Err(problem(err.to_string())),
    }
}

/// Writes `key` to a new file at `path` with mode 0600 (fails if it exists).
pub fn write_key_file(path: &Path, key: &Key) -> Result<(), SecretsError> {
    let problem = |problem: String| SecretsError::KeyFile {
        path: path.to_owned(),
        problem,
    };
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| problem(e.to_string()))?;
    writeln!(file, "{}", key.to_hex())
        .and_then(|()| file.sync_all())
        .map_err(|e| problem(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sealer() -> Sealer {
        Sealer::new(Key::generate().unwrap())
    }

    #[test]
    fn sealed_values_open_only_with_their_key_and_row() {
        let sealer = sealer();
        let sealed = sealer.seal(b"{\"token\":\"secret\"}", "ca_1").unwrap();
        assert!(Sealer::is_sealed(&sealed));
        assert!(!sealed.contains("secret"));
        assert_eq!(
            sealer.open(&sealed, "ca_1").unwrap(),
            b"{\"token\":\"secret\"}"
        );
        assert!(sealer.open(&sealed, "ca_2").is_err(), "bound to its row");
        assert!(
            self::sealer().open(&sealed, "ca_1").is_err(),
            "bound to its key"
        );
        // Change one character in the middle of the ciphertext.
        let mut tampered: Vec<char> = sealed.chars().collect();
        let middle = tampered.len() / 2;
        tampered[middle] = if tampered[middle] == 'A' { 'B' } else { 'A' };
        let tampered: String = tampered.into_iter().collect();
        assert!(sealer.open(&tampered, "ca_1").is_err());
        assert_ne!(
            sealer.seal(b"x", "r").unwrap(),
            sealer.seal(b"x", "r").unwrap()
        );
    }

    #[test]
    fn key_files_are_created_private_and_must_stay_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        let key = load_or_create(&path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(load_or_create(&path).unwrap().to_hex(), key.to_hex());
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(load_or_create(&path).is_err());
    }

    #[test]
    fn hex_keys_round_trip_and_bad_ones_are_refused() {
        let key = Key::generate().unwrap();
        assert_eq!(Key::from_hex(&key.to_hex()).unwrap().to_hex(), key.to_hex());
        assert!(Key::from_hex("abc").is_none());
        assert!(Key::from_hex(&"zz".repeat(32)).is_none());
    }

    #[test]
    fn peppered_hashes_differ_from_plain_sha256() {
        let pepper = Pepper::new(Key::generate().unwrap());
        let other = Pepper::new(Key::generate().unwrap());
        assert_eq!(pepper.hash("ts_abc"), pepper.hash("ts_abc"));
        assert_ne!(pepper.hash("ts_abc"), other.hash("ts_abc"));
        assert_ne!(pepper.hash("ts_abc"), crate::keys::hash("ts_abc"));
    }
}
