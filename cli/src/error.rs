//! The CLI's one error type and its exit codes.
//!
//! Every command uses one table (docs/USER-GUIDE.md, "Exit codes"):
//!
//! | status | meaning |
//! |---|---|
//! | 0 | done; for a verification, valid |
//! | 1 | invalid, revoked, stale, refused, not found or failed |
//! | 2 | usage: bad arguments, unreadable or malformed input files |
//! | 3 | the node could not be reached (no verdict) |

use std::fmt;

/// Exit status: success (for a verification: valid).
pub const EXIT_OK: i32 = 0;
/// Exit status: invalid, revoked, stale, refused, not found or failed.
pub const EXIT_INVALID: i32 = 1;
/// Exit status: usage error (bad arguments, unreadable or malformed input files).
pub const EXIT_USAGE: i32 = 2;
/// Exit status: the node could not be reached, so there is no verdict.
pub const EXIT_UNREACHABLE: i32 = 3;

/// A failed command: what to print and which exit status to use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CliError {
    /// [`EXIT_INVALID`], [`EXIT_USAGE`] or [`EXIT_UNREACHABLE`].
    pub exit: i32,
    /// A short, stable snake_case code (the node's error code for refusals).
    pub code: String,
    /// What went wrong, for people.
    pub message: String,
}

impl CliError {
    /// A usage error (exit 2): the command line or an input file must be fixed.
    pub fn usage(message: impl Into<String>) -> Self {
        CliError {
            exit: EXIT_USAGE,
            code: "usage".into(),
            message: message.into(),
        }
    }

    /// Malformed input (a JSON or CSV file): exit 2.
    pub fn input(message: impl Into<String>) -> Self {
        CliError {
            exit: EXIT_USAGE,
            code: "bad_input".into(),
            message: message.into(),
        }
    }

    /// A refusal or failure with a code (exit 1).
    pub fn refused(code: impl Into<String>, message: impl Into<String>) -> Self {
        CliError {
            exit: EXIT_INVALID,
            code: code.into(),
            message: message.into(),
        }
    }

    /// A failure outside the ledger's rules (I/O, network): exit 1.
    pub fn failed(message: impl Into<String>) -> Self {
        Self::refused("failed", message)
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message, self.code)
    }
}

impl From<client::Error> for CliError {
    fn from(e: client::Error) -> Self {
        // Same code and message as the node's HTTP error body, so both modes
        // report a refusal identically. A configuration problem (an
        // unreadable key file, ...) is a usage error to fix (exit 2); a
        // store that disagrees with its checkpoint is a refusal (exit 1).
        match e {
            client::Error::Config(_) => CliError {
                exit: EXIT_USAGE,
                code: e.code().into(),
                message: e.to_string(),
            },
            other => CliError::refused(other.code(), other.to_string()),
        }
    }
}

impl From<client::http::HttpError> for CliError {
    fn from(e: client::http::HttpError) -> Self {
        use client::http::HttpError;
        match e {
            HttpError::BadUrl(_) => CliError::usage(format!("--node {e}")),
            HttpError::Refused { code, message, .. } => CliError::refused(code, message),
            HttpError::Unreachable { .. } => CliError {
                exit: EXIT_UNREACHABLE,
                code: "unreachable".into(),
                message: e.to_string(),
            },
            other => CliError::failed(other.to_string()),
        }
    }
}

impl From<ledger::Error> for CliError {
    fn from(e: ledger::Error) -> Self {
        CliError::from(client::Error::from(e))
    }
}

impl From<passport_schema::Error> for CliError {
    fn from(e: passport_schema::Error) -> Self {
        CliError::from(client::Error::from(e))
    }
}

impl From<std::io::Error> for CliError {
    fn from(e: std::io::Error) -> Self {
        CliError::failed(format!("I/O: {e}"))
    }
}

/// Shorthand for results in this crate.
pub type Result<T, E = CliError> = std::result::Result<T, E>;
