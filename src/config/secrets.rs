//! Secret values: read from a file or an environment variable, never inline.
//!
//! Secret files must not be readable by group or others (like ssh keys), so
//! a mis-provisioned secret is a start-up error rather than a quiet leak.

use std::fmt;
use std::path::Path;

use base64::Engine as _;

use super::raw::RawSecret;

/// A secret string. Its `Debug` never prints the value.
#[derive(Clone)]
pub struct Secret(String);

// === impl Secret ===

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: String) -> Self {
        Self(value)
    }

    /// The secret's value; handle with care.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// Reads one secret; `key` is its config path for error messages.
pub(super) fn load(
    raw: &RawSecret,
    key: &str,
    base_dir: &Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Secret, String> {
    let value = match (&raw.file, &raw.env) {
        (Some(file), None) => read_secret_file(&base_dir.join(file), key)?,
        (None, Some(var)) => {
            env(var).ok_or_else(|| format!("{key}.env: environment variable {var} is not set"))?
        }
        _ => return Err(format!("{key}: set exactly one of `file` or `env`")),
    };
    let value = value.trim().to_owned();
    if value.is_empty() {
        return Err(format!("{key}: the secret is empty"));
    }
    Ok(Secret(value))
}

/// Decodes a base64 secret that must hold exactly 32 bytes.
pub fn decode_key32(secret: &Secret, key: &str) -> Result<[u8; 32], String> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(secret.expose())
        .map_err(|_| format!("{key}: not valid base64"))?;
    <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| {
        format!(
            "{key}: must decode to exactly 32 bytes, got {}",
            bytes.len()
        )
    })
}

fn read_secret_file(path: &Path, key: &str) -> Result<String, String> {
    check_private(path, key)?;
    std::fs::read_to_string(path)
        .map_err(|e| format!("{key}.file: cannot read {}: {e}", path.display()))
}

#[cfg(unix)]
fn check_private(path: &Path, key: &str) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::metadata(path)
        .map_err(|e| format!("{key}.file: cannot read {}: {e}", path.display()))?;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(format!(
            "{key}.file: {} is accessible by group or others (mode {mode:o}); use chmod 600",
            path.display()
        ));
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_path: &Path, _key: &str) -> Result<(), String> {
    Ok(())
}
