//! Key files: one line, the C2SP signer key string
//! `PRIVATE+KEY+<name>+<key id>+<base64(0x01 || seed)>`, written with mode 0600.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::Path;

use ledger::NoteSigner;

use crate::{Error, Result};

/// Writes a new key file, refusing to overwrite one (a lost key cannot be recovered).
pub fn write_key_file(path: &Path, signer: &NoteSigner) -> Result<()> {
    let mut opts = OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(path)
        .map_err(|e| Error::Config(format!("cannot create key file {}: {e}", path.display())))?;
    writeln!(f, "{}", signer.to_secret_string())?;
    f.sync_all()?;
    Ok(())
}

/// How a key file that others can read is treated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Permissions {
    /// Warn (through `tracing`) and load it.
    Warn,
    /// Refuse to load it.
    Strict,
}

/// Reads a key file. A file readable by group or others is refused under
/// [`Permissions::Strict`] and logged as a warning otherwise.
pub fn read_key_file(path: &Path, perms: Permissions) -> Result<NoteSigner> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)
            .map_err(|e| Error::Config(format!("cannot read key file {}: {e}", path.display())))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            let msg = format!(
                "key file {} is readable by others (mode {:o}); run chmod 600 on it",
                path.display(),
                mode & 0o777
            );
            match perms {
                Permissions::Strict => return Err(Error::Config(msg)),
                Permissions::Warn => tracing::warn!("{msg}"),
            }
        }
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::Config(format!("cannot read key file {}: {e}", path.display())))?;
    NoteSigner::parse(text.trim())
        .map_err(|e| Error::Config(format!("key file {}: {e}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn signer() -> NoteSigner {
        NoteSigner::new(
            "Hefei_Recycling",
            ed25519_dalek::SigningKey::from_bytes(&[3; 32]),
        )
        .unwrap()
    }

    #[test]
    fn written_0600_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("k.key");
        write_key_file(&p, &signer()).unwrap();
        let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let back = read_key_file(&p, Permissions::Strict).unwrap();
        assert_eq!(back.verifier(), signer().verifier());
        // Never overwrites an existing key.
        assert!(write_key_file(&p, &signer()).is_err());
    }

    #[test]
    fn readable_by_others_is_refused_when_strict() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("k.key");
        write_key_file(&p, &signer()).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = read_key_file(&p, Permissions::Strict)
            .unwrap_err()
            .to_string();
        assert!(e.contains("readable by others"), "{e}");
        assert!(read_key_file(&p, Permissions::Warn).is_ok());
        std::fs::write(&p, "not a key\n").unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert!(read_key_file(&p, Permissions::Strict).is_err());
    }
}
