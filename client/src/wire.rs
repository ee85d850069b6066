//! The JSON bodies that the node sends and the client reads, beside the
//! [`crate::Receipt`] and the views of `passport-schema`.

use passport_schema::Event;
use serde::{Deserialize, Serialize};

/// The JSON error body: `{"error": code, "message": text}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// A stable snake_case code ([`crate::Error::code`]).
    pub error: String,
    /// What went wrong, for people.
    pub message: String,
}

/// `GET /v1/entries/{index}/json`: one decoded entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryJson {
    /// Its index.
    pub index: u64,
    /// The signer's key id (hex).
    pub signer: String,
    /// The event, in its JSON form.
    pub event: Event,
}
