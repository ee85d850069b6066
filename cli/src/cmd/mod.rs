//! The commands, grouped by who uses them.

pub(crate) mod certs;
pub(crate) mod keys;
pub(crate) mod log;
pub(crate) mod material;
pub(crate) mod scrap;
