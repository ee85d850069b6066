//! Roles and which roles may sign which event kind.

use serde::{Deserialize, Serialize};

use crate::events::EventKind;

/// An actor role, granted by an operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Runs the log; registers actors, grants roles, revokes keys.
    Operator,
    /// Makes semi-finished goods and products; issues passports.
    Manufacturer,
    /// Refines; required of a certified lot's producer.
    Refiner,
    /// Receives and grades scrap.
    Recycler,
    /// Publishes rule sets and schemes; issues certificates; settles
    /// disputed gradings; grades lots whose owner named it.
    Certifier,
    /// Records service history on products it owns or whose owner authorised
    /// it; may own products.
    Service,
    /// Reads and audits; signs no events.
    Auditor,
}

impl Role {
    /// The snake_case name.
    pub fn name(self) -> &'static str {
        match self {
            Role::Operator => "operator",
            Role::Manufacturer => "manufacturer",
            Role::Refiner => "refiner",
            Role::Recycler => "recycler",
            Role::Certifier => "certifier",
            Role::Service => "service",
            Role::Auditor => "auditor",
        }
    }
}

impl core::fmt::Display for Role {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

/// Roles that may hold custody of material and sign custody events.
const CUSTODY: &[Role] = &[
    Role::Manufacturer,
    Role::Refiner,
    Role::Recycler,
    Role::Service,
];

/// The roles of which the signer must hold at least one to sign `kind`.
/// Genesis has none: it is signed by the key it registers.
pub fn allowed_roles(kind: EventKind) -> &'static [Role] {
    match kind {
        EventKind::Genesis | EventKind::LogTime | EventKind::LogStatus => &[],
        EventKind::RegisterActor | EventKind::GrantRole | EventKind::RevokeKey => &[Role::Operator],
        EventKind::RegisterPrimaryLot => &[Role::Refiner, Role::Manufacturer],
        EventKind::Transform => &[Role::Manufacturer, Role::Refiner, Role::Recycler],
        EventKind::IssuePassport => &[Role::Manufacturer],
        EventKind::Transfer
        | EventKind::Service
        | EventKind::EndOfLife
        | EventKind::AuthoriseService => CUSTODY,
        EventKind::ReceiveScrap => &[Role::Recycler, Role::Refiner],
        EventKind::DispatchScrap | EventKind::NameGrader => CUSTODY,
        EventKind::Grade => &[Role::Recycler, Role::Refiner, Role::Certifier],
        EventKind::Assay => &[Role::Certifier, Role::Recycler, Role::Refiner],
        EventKind::SettleGrade => &[Role::Certifier],
        EventKind::PublishRuleSet | EventKind::PublishScheme | EventKind::IssueCertificate => {
            &[Role::Certifier]
        }
        EventKind::RevokeCertificate => &[Role::Certifier, Role::Operator],
        EventKind::ProposeContract => &[Role::Refiner, Role::Manufacturer, Role::Recycler],
        EventKind::AcceptContract => CUSTODY,
    }
}
