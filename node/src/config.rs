//! Node settings: defaults, a TOML file, environment variables and flags.

use std::path::Path;

use serde::{Deserialize, Serialize};

use client::{Error, Result};

/// Tunable settings. Every field has a default; a TOML file may set any of
/// them, and flags or `CUPASS_*` environment variables override the file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Most entries the sequencer commits in one batch.
    pub batch_max: usize,
    /// How long the sequencer waits to fill a batch, in milliseconds.
    pub batch_delay_ms: u64,
    /// How far ahead of the node's clock an event may be dated, in milliseconds.
    pub clock_skew_ms: i64,
    /// Largest request body accepted, in bytes.
    pub body_limit: usize,
    /// Request timeout, in milliseconds: from the end of the headers to the
    /// response, so it bounds a slowly sent body.
    pub request_timeout_ms: u64,
    /// Time a client has to send a request's headers, in milliseconds. It
    /// also closes idle keep-alive connections (slowloris defence).
    pub header_timeout_ms: u64,
    /// Most HTTP connections open at once; more are closed on accept.
    pub max_connections: usize,
    /// sled page cache, in bytes.
    pub cache_capacity: u64,
    /// A C2SP witness policy file: the node sends every new checkpoint to
    /// its witnesses and serves the cosignatures it collects.
    pub witness_policy: Option<std::path::PathBuf>,
}

impl Default for Config {
    fn default() -> Self {
        let ledger = client::Options::default();
        Config {
            batch_max: 1024,
            batch_delay_ms: 5,
            clock_skew_ms: ledger.clock_skew_ms,
            body_limit: 64 * 1024,
            request_timeout_ms: 10_000,
            header_timeout_ms: 10_000,
            max_connections: 1024,
            cache_capacity: ledger.cache_capacity,
            witness_policy: None,
        }
    }
}

impl Config {
    /// The settings the ledger itself takes.
    pub fn ledger_options(&self) -> client::Options {
        client::Options {
            clock_skew_ms: self.clock_skew_ms,
            cache_capacity: self.cache_capacity,
            ..client::Options::default()
        }
    }

    /// Reads a TOML file; missing fields keep their defaults.
    pub fn from_toml_file(path: &Path) -> Result<Config> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::Config(format!("reading {}: {e}", path.display())))?;
        toml::from_str(&text).map_err(|e| Error::Config(format!("{}: {e}", path.display())))
    }

    /// The witness policy, read and parsed, if one is set.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] if the file cannot be read or is not a valid policy.
    pub fn policy(&self) -> Result<Option<ledger::policy::Policy>> {
        let Some(p) = &self.witness_policy else {
            return Ok(None);
        };
        let text = std::fs::read_to_string(p)
            .map_err(|e| Error::Config(format!("reading {}: {e}", p.display())))?;
        ledger::policy::Policy::parse(&text)
            .map(Some)
            .map_err(|e| Error::Config(format!("{}: {e}", p.display())))
    }

    /// Checks that the values make sense together.
    pub fn validate(&self) -> Result<()> {
        if self.batch_max == 0 {
            return Err(Error::Config("batch_max must be at least 1".into()));
        }
        if self.body_limit == 0 || self.body_limit > 1024 * 1024 {
            return Err(Error::Config(
                "body_limit must be between 1 byte and 1 MiB".into(),
            ));
        }
        if self.request_timeout_ms == 0 || self.header_timeout_ms == 0 {
            return Err(Error::Config(
                "request_timeout_ms and header_timeout_ms must be at least 1".into(),
            ));
        }
        if self.max_connections == 0 {
            return Err(Error::Config("max_connections must be at least 1".into()));
        }
        if self.clock_skew_ms < 0 {
            return Err(Error::Config("clock_skew_ms must not be negative".into()));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_overrides_only_what_it_names() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("node.toml");
        std::fs::write(&p, "batch_max = 64\nclock_skew_ms = 1000\n").unwrap();
        let c = Config::from_toml_file(&p).unwrap();
        assert_eq!(c.batch_max, 64);
        assert_eq!(c.clock_skew_ms, 1000);
        assert_eq!(c.body_limit, Config::default().body_limit);
        c.validate().unwrap();
    }

    #[test]
    fn bad_settings_are_refused_with_the_reason() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("node.toml");
        std::fs::write(&p, "batch_maxx = 64\n").unwrap();
        let e = Config::from_toml_file(&p).unwrap_err().to_string();
        assert!(e.contains("batch_maxx"), "{e}");
        let c = Config {
            batch_max: 0,
            ..Config::default()
        };
        assert!(c.validate().unwrap_err().to_string().contains("batch_max"));
        assert!(Config::from_toml_file(&dir.path().join("missing.toml")).is_err());
    }
}
