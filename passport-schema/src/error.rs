//! Errors: one crate error, one rule-violation enum with a variant per rule.

use uuid::Uuid;

use crate::bytes::Bytes32;
use crate::criteria::Criterion;
use crate::events::EventKind;
use crate::roles::Role;
use crate::state::StateError;

/// Any failure of this crate's public functions.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The payload is valid CBOR for an event but not its canonical
    /// encoding (non-shortest integers, reordered keys, indefinite lengths,
    /// trailing bytes...).
    #[error("non-canonical payload: re-encoding gives different bytes")]
    NonCanonicalPayload,
    /// The payload exceeds the entry size limit.
    #[error("payload of {len} bytes exceeds the {max}-byte limit")]
    PayloadTooLarge {
        /// Payload size.
        len: usize,
        /// Limit.
        max: usize,
    },
    /// The payload is not an event (bad CBOR, wrong types, unknown fields).
    #[error("payload does not decode as an event: {message}")]
    Decode {
        /// Decoder message.
        message: String,
    },
    /// Encoding failed (allocation failure only).
    #[error("encoding failed: {message}")]
    Encode {
        /// Encoder message.
        message: String,
    },
    /// Bad JSON form; `path` names the offending field.
    #[error("invalid event JSON at `{path}`: {message}")]
    Json {
        /// Field path, e.g. `body.transform.inputs[0].mass_g`.
        path: String,
        /// serde_json's message with line and column.
        message: String,
    },
    /// The event's schema version is not supported.
    #[error("unsupported schema version {found} (this build supports {supported})")]
    UnsupportedSchema {
        /// Version in the payload.
        found: u16,
        /// Version this build supports.
        supported: u16,
    },
    /// No such record.
    #[error("{what} {id} not found")]
    NotFound {
        /// Record kind.
        what: &'static str,
        /// Its id.
        id: Uuid,
    },
    /// A rule rejected the event.
    #[error(transparent)]
    Rule(#[from] RuleViolation),
    /// The state store failed.
    #[error(transparent)]
    State(#[from] StateError),
}

impl Error {
    /// A stable snake_case code for APIs and logs: the rule's code for
    /// [`Error::Rule`] (e.g. `overconsumption`), otherwise one per variant.
    pub fn code(&self) -> &'static str {
        match self {
            Error::NonCanonicalPayload => "non_canonical_payload",
            Error::PayloadTooLarge { .. } => "payload_too_large",
            Error::Decode { .. } => "decode",
            Error::Encode { .. } => "encode",
            Error::Json { .. } => "json",
            Error::UnsupportedSchema { .. } => "unsupported_schema",
            Error::NotFound { .. } => "not_found",
            Error::Rule(v) => v.code(),
            Error::State(e) => e.code(),
        }
    }
}

impl From<ApplyError> for Error {
    fn from(e: ApplyError) -> Self {
        match e {
            ApplyError::Rule(v) => Error::Rule(v),
            ApplyError::State(s) => Error::State(s),
        }
    }
}

/// Why [`apply`](crate::apply) did not return effects. The two cases are
/// different in kind: a [`RuleViolation`] is a verdict on the event (the
/// same on every replay; an API reports it as the client's fault), a
/// [`StateError`] is a failure of the store the rules read (not a verdict;
/// the event may be retried).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ApplyError {
    /// The rules rejected the event.
    #[error(transparent)]
    Rule(RuleViolation),
    /// The state store failed while the rules read it.
    #[error(transparent)]
    State(StateError),
}

impl ApplyError {
    /// The rule violation, if the rules rejected the event.
    pub fn rule(&self) -> Option<&RuleViolation> {
        match self {
            ApplyError::Rule(v) => Some(v),
            ApplyError::State(_) => None,
        }
    }

    /// A stable snake_case code: the rule's code, or the state error's.
    pub fn code(&self) -> &'static str {
        match self {
            ApplyError::Rule(v) => v.code(),
            ApplyError::State(e) => e.code(),
        }
    }
}

impl From<RuleViolation> for ApplyError {
    fn from(v: RuleViolation) -> Self {
        ApplyError::Rule(v)
    }
}

impl From<StateError> for ApplyError {
    fn from(e: StateError) -> Self {
        ApplyError::State(e)
    }
}

/// Why the rules rejected an event. Every rule has its own variant. A
/// failure of the state store is never one of them: see [`ApplyError`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RuleViolation {
    /// Schema version not supported.
    #[error("unsupported schema version {found}")]
    UnsupportedSchema {
        /// Version in the event.
        found: u16,
    },

    // ---- genesis, signers, roles ----
    /// Genesis is only valid as the first entry (index 0).
    #[error("genesis is only valid at index 0 of an empty log (index {index})")]
    GenesisNotFirst {
        /// Index the entry would get.
        index: u64,
    },
    /// Index 0 must be the genesis.
    #[error("the first entry must be the genesis, not {kind}")]
    GenesisRequired {
        /// Kind submitted.
        kind: EventKind,
    },
    /// Genesis must be signed by the operator key it registers.
    #[error("genesis signed by {signer}, not by the operator key it registers ({operator})")]
    GenesisSignerMismatch {
        /// The signer.
        signer: Bytes32,
        /// kid of the registered operator key.
        operator: Bytes32,
    },
    // ---- the log's time ----
    /// An event time outside 2000-01-01 to 2100-01-01: no copper event
    /// happened then, and such values only serve to break arithmetic.
    #[error("event time {occurred_ms} ms is outside 2000-01-01 to 2100-01-01")]
    TimeOutOfRange {
        /// The declared time.
        occurred_ms: i64,
    },
    /// A log-time or log-status entry not signed by the log key the genesis names.
    #[error("log_time and log_status entries are signed by the log key {log_key}, not by {signer}")]
    NotTheLogKey {
        /// The signer.
        signer: Bytes32,
        /// kid of the genesis log key.
        log_key: Bytes32,
    },
    /// A log-status entry that does not state its own position.
    #[error("a log_status entry at index {index} states that it covers {covers} entries")]
    StatusPositionMismatch {
        /// The entries it says it covers.
        covers: u64,
        /// Its index (the entries before it).
        index: u64,
    },
    /// The log's clock may not go back.
    #[error(
        "log time {ms} ms is before the log's latest time {latest_ms} ms (entry {latest_index})"
    )]
    ClockBackwards {
        /// The new reading.
        ms: i64,
        /// The latest reading.
        latest_ms: i64,
        /// The entry that set it.
        latest_index: u64,
    },
    /// An event dated further before the log's time than the genesis allows.
    #[error(
        "event dated {occurred_ms} ms, more than the log's backdating window of {max_backdating_ms} ms before the log's time {log_ms} ms"
    )]
    Backdated {
        /// The event's declared time.
        occurred_ms: i64,
        /// The log's time at integration.
        log_ms: i64,
        /// The window.
        max_backdating_ms: i64,
    },
    /// The signing key is not registered.
    #[error("signer {kid} is not a registered actor")]
    UnknownSigner {
        /// The signer.
        kid: Bytes32,
    },
    /// The signing key was revoked before this entry.
    #[error("signer {kid} was revoked at entry {revoked_index}")]
    SignerRevoked {
        /// The signer.
        kid: Bytes32,
        /// Revocation entry.
        revoked_index: u64,
    },
    /// The signer holds none of the roles allowed to sign this event kind.
    #[error("{kind} requires one of the roles {allowed:?}; signer {signer} holds {held:?}")]
    RoleNotPermitted {
        /// Event kind.
        kind: EventKind,
        /// The signer.
        signer: Bytes32,
        /// Roles allowed for the kind.
        allowed: Vec<Role>,
        /// Roles the signer holds.
        held: Vec<Role>,
    },
    /// A field fails validation (format, range, emptiness).
    #[error("invalid field `{field}`: {reason}")]
    InvalidField {
        /// Field name.
        field: &'static str,
        /// What is wrong.
        reason: String,
    },

    // ---- actors ----
    /// The Ed25519 public key is invalid or weak.
    #[error("invalid Ed25519 public key: {reason}")]
    InvalidPublicKey {
        /// What is wrong.
        reason: &'static str,
    },
    /// The key is already registered.
    #[error("actor {kid} is already registered")]
    ActorAlreadyRegistered {
        /// The key id.
        kid: Bytes32,
    },
    /// A referenced actor is not registered.
    #[error("actor {kid} is not registered")]
    UnknownActor {
        /// The key id.
        kid: Bytes32,
    },
    /// A referenced actor's key is revoked.
    #[error("actor {kid} is revoked")]
    ActorRevoked {
        /// The key id.
        kid: Bytes32,
    },
    /// The actor already holds the role.
    #[error("actor {kid} already holds role {role}")]
    RoleAlreadyGranted {
        /// The key id.
        kid: Bytes32,
        /// The role.
        role: Role,
    },
    /// The key is already revoked.
    #[error("actor {kid} is already revoked")]
    AlreadyRevoked {
        /// The key id.
        kid: Bytes32,
    },
    /// An operator may not revoke its own key.
    #[error("an operator cannot revoke its own key")]
    CannotRevokeSelf,

    // ---- material ----
    /// A transformation's outputs declare more copper than its inputs hold.
    #[error(
        "copper not conserved: outputs declare {out_cu_g} g of copper, inputs hold {in_cu_g} g (tolerance {tolerance_g} g)"
    )]
    CopperNotConserved {
        /// Copper the outputs declare, grams (mass × Cu ppm).
        out_cu_g: u64,
        /// Copper the inputs hold, grams.
        in_cu_g: u64,
        /// The transformation's tolerance.
        tolerance_g: u64,
    },
    /// Only refining raises purity: an output of another process declares
    /// more copper per gram than its inputs hold on average.
    #[error(
        "{process:?} cannot raise purity: output {output} declares {out_cu_ppm} ppm Cu, the inputs average {in_cu_ppm} ppm"
    )]
    PurityRaised {
        /// The process.
        process: crate::events::Process,
        /// The output.
        output: Uuid,
        /// The output's declared Cu.
        out_cu_ppm: u32,
        /// The inputs' mass-weighted Cu.
        in_cu_ppm: u32,
    },
    /// An assay must be independent of the material's owner and producer.
    #[error("assay of {material} signed by its owner or producer {signer}")]
    AssayNotIndependent {
        /// The material.
        material: Uuid,
        /// The signer.
        signer: Bytes32,
    },
    /// The id is already used by another record.
    #[error("id {id} is already used (entry {index})")]
    DuplicateId {
        /// The id.
        id: Uuid,
        /// Entry that used it.
        index: u64,
    },
    /// No material with this id.
    #[error("material {id} does not exist")]
    UnknownMaterial {
        /// The id.
        id: Uuid,
    },
    /// Only the owner may consume, transfer, service or retire a material.
    #[error("material {material} is owned by {owner}, not by signer {signer}")]
    NotOwner {
        /// The material.
        material: Uuid,
        /// Its owner.
        owner: Bytes32,
        /// The signer.
        signer: Bytes32,
    },
    /// A mass must be positive.
    #[error("`{field}` must be a positive mass")]
    ZeroMass {
        /// The field.
        field: &'static str,
    },
    /// Consumes more than the material's remaining mass (double spend).
    #[error("material {material}: consuming {requested_g} g but only {remaining_g} g remain")]
    Overconsumption {
        /// The material.
        material: Uuid,
        /// Requested grams.
        requested_g: u64,
        /// Remaining grams.
        remaining_g: u64,
    },
    /// The same input material is listed twice.
    #[error("input material {material} is listed more than once")]
    DuplicateInput {
        /// The material.
        material: Uuid,
    },
    /// outputs + losses exceed the consumed inputs (mass created), or fall
    /// short of them by more than the declared tolerance (unrecorded loss).
    #[error(
        "mass not conserved: {imbalance}: inputs {inputs_g} g, outputs {outputs_g} g + losses {losses_g} g, tolerance {tolerance_g} g"
    )]
    MassNotConserved {
        /// Which way the balance failed.
        imbalance: MassImbalance,
        /// Sum of consumed inputs.
        inputs_g: u64,
        /// Sum of outputs.
        outputs_g: u64,
        /// Recorded losses.
        losses_g: u64,
        /// Declared tolerance.
        tolerance_g: u64,
    },
    /// The declared tolerance is above 0.5% of the inputs.
    #[error("tolerance {tolerance_g} g exceeds the maximum {max_g} g (0.5% of inputs)")]
    ToleranceTooLarge {
        /// Declared tolerance.
        tolerance_g: u64,
        /// Maximum allowed.
        max_g: u64,
    },
    /// A transformation needs at least one input and one output.
    #[error("a transformation needs at least one input and one output")]
    EmptyTransformation,
    /// The output kind cannot be produced by this process.
    #[error("{process:?} cannot produce {kind:?} material")]
    OutputKindNotAllowed {
        /// The process.
        process: crate::events::Process,
        /// The kind.
        kind: crate::events::MaterialKind,
    },
    /// The material is not a product.
    #[error("material {material} is a {kind:?}, not a product")]
    NotAProduct {
        /// The material.
        material: Uuid,
        /// Its kind.
        kind: crate::events::MaterialKind,
    },
    /// The product already has a passport.
    #[error("product {product} already has a passport (entry {index})")]
    PassportAlreadyIssued {
        /// The product.
        product: Uuid,
        /// Issuing entry.
        index: u64,
    },
    /// The material has no remaining mass.
    #[error("material {material} is fully consumed")]
    MaterialExhausted {
        /// The material.
        material: Uuid,
    },
    /// Transfer to the current owner.
    #[error("material {material} is already owned by {to}")]
    TransferToSelf {
        /// The material.
        material: Uuid,
        /// The named new owner.
        to: Bytes32,
    },
    /// The product is already declared end of life.
    #[error("product {product} was declared end of life at entry {index}")]
    ProductEndOfLife {
        /// The product.
        product: Uuid,
        /// Declaration entry.
        index: u64,
    },
    /// The GS1 Digital Link URI is malformed.
    #[error("invalid GS1 Digital Link URI `{uri}`: {reason}")]
    InvalidGs1DigitalLink {
        /// The URI.
        uri: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// End of life of a product that never had a use phase: it was never
    /// installed while owned by a user outside its producer's organisation.
    #[error(
        "product {product} was never used: no install service entry while owned by a user other than its producer {producer}"
    )]
    NeverUsed {
        /// The product.
        product: Uuid,
        /// Its producer.
        producer: Bytes32,
    },
    /// The event is dated before a record it refers to.
    #[error(
        "event dated {occurred_ms} precedes material {material}'s entry {record_index} dated {record_ms}"
    )]
    PredatesRecord {
        /// The material.
        material: Uuid,
        /// The event's declared time.
        occurred_ms: i64,
        /// The entry it may not precede.
        record_index: u64,
        /// That entry's declared time.
        record_ms: i64,
    },
    /// The signer's service authorisation on the product has expired.
    #[error("service authorisation of {signer} on product {product} expired at {until_ms}")]
    ServiceAuthorisationExpired {
        /// The product.
        product: Uuid,
        /// The signer.
        signer: Bytes32,
        /// Its end.
        until_ms: i64,
    },
    /// Only an actor holding the service role may be authorised to service.
    #[error("actor {actor} does not hold the service role")]
    NotAServiceActor {
        /// The actor.
        actor: Bytes32,
    },

    // ---- scrap ----
    /// net != gross - tare.
    #[error("net {net_g} g != gross {gross_g} g - tare {tare_g} g")]
    NetMassMismatch {
        /// Gross.
        gross_g: u64,
        /// Tare.
        tare_g: u64,
        /// Net.
        net_g: u64,
    },
    /// A source passport is not declared end of life.
    #[error("source passport {product} is not declared end of life")]
    SourcePassportNotEndOfLife {
        /// The product.
        product: Uuid,
    },
    /// A source product has no passport.
    #[error("source product {product} has no passport")]
    SourceWithoutPassport {
        /// The source.
        product: Uuid,
    },
    /// Scrap from passports must be declared post-consumer.
    #[error("scrap with source passports must have origin class post_consumer, not {declared:?}")]
    PassportScrapMustBePostConsumer {
        /// Declared class.
        declared: crate::events::ScrapOrigin,
    },
    /// More net scrap than the source passports' remaining mass.
    #[error("net scrap {net_g} g exceeds the source passports' remaining {sources_g} g")]
    ScrapExceedsSources {
        /// Net scrap.
        net_g: u64,
        /// Sum of the sources' remaining mass.
        sources_g: u64,
    },
    /// The material is not a scrap lot.
    #[error("material {material} is a {kind:?}, not a scrap lot")]
    NotAScrapLot {
        /// The material.
        material: Uuid,
        /// Its kind.
        kind: crate::events::MaterialKind,
    },
    /// The rule set version does not exist.
    #[error("rule set {id} version {version} is not published")]
    UnknownRuleSet {
        /// Id.
        id: Uuid,
        /// Version.
        version: u32,
    },
    /// A new version must exceed the latest.
    #[error("{what} {id} version {version} must exceed the latest version {latest}")]
    VersionNotIncreasing {
        /// "rule set" or "scheme".
        what: &'static str,
        /// Id.
        id: Uuid,
        /// Submitted version.
        version: u32,
        /// Latest published.
        latest: u32,
    },
    /// Only the original publisher may publish new versions of a rule set
    /// or scheme, and only a scheme's publisher may issue certificates
    /// under it.
    #[error("{what} {id} belongs to publisher {publisher}")]
    NotPublisher {
        /// "rule set" or "scheme".
        what: &'static str,
        /// Id.
        id: Uuid,
        /// Original publisher.
        publisher: Bytes32,
    },
    /// The rule set itself is inconsistent.
    #[error("invalid rule set: {reason}")]
    InvalidRuleSet {
        /// What is wrong.
        reason: String,
    },
    /// The recomputed grade differs from the claim.
    #[error("claimed grade {claimed:?} but readings give {computed:?}")]
    GradeMismatch {
        /// Claimed.
        claimed: Option<String>,
        /// Recomputed.
        computed: Option<String>,
    },
    /// The analyser calibration is too old.
    #[error(
        "calibration at {calibrated_ms} ms is older than {max_age_days} days before {occurred_ms} ms"
    )]
    StaleCalibration {
        /// Calibration time.
        calibrated_ms: i64,
        /// Event time.
        occurred_ms: i64,
        /// Allowed age.
        max_age_days: u32,
    },
    /// The calibration date is after the grading.
    #[error("calibration at {calibrated_ms} ms is after the grading at {occurred_ms} ms")]
    CalibrationInFuture {
        /// Calibration time.
        calibrated_ms: i64,
        /// Event time.
        occurred_ms: i64,
    },
    /// A reading has fewer spots than the rule set requires.
    #[error("reading for {element} has {spots} spots; rule set requires {min}")]
    TooFewSpots {
        /// Element.
        element: String,
        /// Spots.
        spots: u16,
        /// Minimum.
        min: u16,
    },

    // ---- custody and grading (issue 11: principles 3 and 5) ----
    /// A receipt from a registered supplier must name the supplier's dispatch.
    #[error("receipt from registered supplier {supplier} names no dispatch entry signed by it")]
    DispatchRequired {
        /// The registered supplier.
        supplier: Bytes32,
    },
    /// No such dispatch.
    #[error("dispatch {id} does not exist")]
    UnknownDispatch {
        /// Id.
        id: Uuid,
    },
    /// The dispatch names another receiver.
    #[error("dispatch {dispatch} is addressed to {to}, not to the receiver {signer}")]
    DispatchNotToReceiver {
        /// Dispatch.
        dispatch: Uuid,
        /// Named receiver.
        to: Bytes32,
        /// Signer of the receipt.
        signer: Bytes32,
    },
    /// The dispatch was signed by someone other than the receipt's supplier.
    #[error("dispatch {dispatch} was signed by {dispatcher}, not by the supplier {supplier:?}")]
    DispatchNotFromSupplier {
        /// Dispatch.
        dispatch: Uuid,
        /// Its signer.
        dispatcher: Bytes32,
        /// The receipt's supplier kid.
        supplier: Option<Bytes32>,
    },
    /// A dispatch can be received once.
    #[error("dispatch {dispatch} was already received at entry {index}")]
    DispatchAlreadyReceived {
        /// Dispatch.
        dispatch: Uuid,
        /// The receipt entry.
        index: u64,
    },
    /// Dispatched and received net mass differ by more than the tolerance.
    #[error(
        "dispatch {dispatch}: received {received_g} g differs from dispatched {dispatched_g} g by more than {tolerance_g} g"
    )]
    DispatchMassMismatch {
        /// Dispatch.
        dispatch: Uuid,
        /// Dispatched grams.
        dispatched_g: u64,
        /// Received net grams.
        received_g: u64,
        /// Allowed difference, grams.
        tolerance_g: u64,
    },
    /// The receipt is dated before its dispatch.
    #[error("receipt at {occurred_ms} ms is before its dispatch {dispatch} at {dispatched_ms} ms")]
    ReceiptBeforeDispatch {
        /// Dispatch.
        dispatch: Uuid,
        /// Dispatch time.
        dispatched_ms: i64,
        /// Receipt time.
        occurred_ms: i64,
    },
    /// A receipt from an unregistered supplier must carry evidence hashes.
    #[error("declared receipt from an unregistered supplier carries no evidence")]
    DeclaredReceiptWithoutEvidence,
    /// A consumed lot's grade cannot change.
    #[error("lot {lot} is already consumed ({consumed_g} g); its grade cannot change")]
    GradeAfterConsumption {
        /// Lot.
        lot: Uuid,
        /// Grams consumed so far.
        consumed_g: u64,
    },
    /// Only the owner or the grader the owner named may grade a lot.
    #[error("lot {lot}: signer {signer} is neither the owner {owner} nor its named grader")]
    GraderNotNamed {
        /// Lot.
        lot: Uuid,
        /// Owner.
        owner: Bytes32,
        /// Signer.
        signer: Bytes32,
    },
    /// A grading dated before the lot was received.
    #[error("lot {lot}: grading at {occurred_ms} ms is before its receipt at {received_ms} ms")]
    GradedBeforeReceipt {
        /// Lot.
        lot: Uuid,
        /// Receipt time.
        received_ms: i64,
        /// Grading time.
        occurred_ms: i64,
    },
    /// The lot's grading was settled; it cannot be graded or settled again.
    #[error("lot {lot}: grading was settled at entry {index}")]
    GradeAlreadySettled {
        /// Lot.
        lot: Uuid,
        /// Settlement entry.
        index: u64,
    },
    /// Settling needs a dispute (two gradings or more).
    #[error("lot {lot} has no disputed grading to settle")]
    NoGradeDispute {
        /// Lot.
        lot: Uuid,
    },
    /// The settlement picks an entry that is not a grading of the lot.
    #[error("lot {lot}: entry {index} is not one of its gradings")]
    UnknownGrading {
        /// Lot.
        lot: Uuid,
        /// Named entry.
        index: u64,
    },

    // ---- certificates ----
    /// The scheme version does not exist.
    #[error("scheme {id} version {version} is not published")]
    UnknownScheme {
        /// Id.
        id: Uuid,
        /// Version.
        version: u32,
    },
    /// A scheme criterion does not hold.
    #[error("certificate criterion {criterion:?} failed: {detail}")]
    CertificateCriterionFailed {
        /// The first failing criterion.
        criterion: Criterion,
        /// Recomputed values.
        detail: String,
    },
    /// No such certificate.
    #[error("certificate {id} does not exist")]
    UnknownCertificate {
        /// Id.
        id: Uuid,
    },
    /// Already revoked.
    #[error("certificate {id} was already revoked at entry {index}")]
    CertificateAlreadyRevoked {
        /// Id.
        id: Uuid,
        /// Revocation entry.
        index: u64,
    },
    /// The subject already holds an active certificate under this
    /// certification brand (the scheme's normalised name, any scheme id
    /// and version).
    #[error(
        "material {subject} already holds active certificate {certificate} under this certification brand (entry {index})"
    )]
    AlreadyCertified {
        /// The subject material.
        subject: Uuid,
        /// The active certificate.
        certificate: Uuid,
        /// Its issuing entry.
        index: u64,
    },
    /// Only the scheme's owner (the issuer) or an operator revokes.
    #[error("certificate {id} may be revoked only by its scheme's owner {issuer} or an operator")]
    NotCertificateIssuer {
        /// Id.
        id: Uuid,
        /// Issuer (the scheme's owner).
        issuer: Bytes32,
    },
    /// Another actor already publishes schemes under this brand.
    #[error("certification brand {brand:?} is held by {holder} (scheme {scheme}, entry {index})")]
    BrandHeld {
        /// The normalised brand.
        brand: String,
        /// Its holder.
        holder: Bytes32,
        /// The first scheme under it.
        scheme: Uuid,
        /// That publication entry.
        index: u64,
    },
    /// The certificate cites a scheme version whose successor has been
    /// published longer than the successor's transition window.
    #[error(
        "scheme {id} version {version} was superseded by version {newer} at log time {newer_published_ms} ms; its transition window of {transition_days} days ended before log time {log_ms} ms"
    )]
    SchemeVersionSuperseded {
        /// Scheme id.
        id: Uuid,
        /// Cited version.
        version: u32,
        /// The next version.
        newer: u32,
        /// Its publication, log time.
        newer_published_ms: i64,
        /// Its transition window, days.
        transition_days: u32,
        /// The log time of the issuing entry.
        log_ms: i64,
    },

    // ---- contracts ----
    /// No such contract.
    #[error("contract {id} does not exist")]
    UnknownContract {
        /// Id.
        id: Uuid,
    },
    /// The signer is not the contract's customer.
    #[error("contract {contract}: signer {signer} is not the customer {customer}")]
    NotContractCustomer {
        /// Contract.
        contract: Uuid,
        /// Customer.
        customer: Bytes32,
        /// Signer.
        signer: Bytes32,
    },
    /// The signer is not the contract's producer.
    #[error("contract {contract}: signer {signer} is not the producer {producer}")]
    NotContractProducer {
        /// Contract.
        contract: Uuid,
        /// Producer.
        producer: Bytes32,
        /// Signer.
        signer: Bytes32,
    },
    /// Already accepted.
    #[error("contract {contract} was already accepted at entry {index}")]
    ContractAlreadyAccepted {
        /// Contract.
        contract: Uuid,
        /// Acceptance entry.
        index: u64,
    },
    /// The acceptance commits to another proposal entry than the one that
    /// proposed this contract on this log.
    #[error(
        "contract {contract}: the acceptance commits to proposal leaf hash {found}, but this log's proposal has leaf hash {expected}"
    )]
    ContractProposalMismatch {
        /// Contract.
        contract: Uuid,
        /// The leaf hash of the proposal entry on this log.
        expected: Bytes32,
        /// The leaf hash the acceptance names.
        found: Bytes32,
    },
    /// Not accepted yet.
    #[error("contract {contract} has not been accepted by the customer")]
    ContractNotAccepted {
        /// Contract.
        contract: Uuid,
    },
    /// The event time is outside the contract period.
    #[error("contract {contract}: {occurred_ms} ms is outside the period [{start_ms}, {end_ms})")]
    OutsideContractPeriod {
        /// Contract.
        contract: Uuid,
        /// Event time.
        occurred_ms: i64,
        /// Start.
        start_ms: i64,
        /// End.
        end_ms: i64,
    },
    /// A delivery must go to the customer.
    #[error("contract {contract}: delivery to {to}, not to the customer {customer}")]
    DeliveryNotToCustomer {
        /// Contract.
        contract: Uuid,
        /// Named recipient.
        to: Bytes32,
        /// Customer.
        customer: Bytes32,
    },
    /// The delivered material's kind is not in the specification.
    #[error("contract {contract}: {kind:?} is not a specified delivery kind")]
    DeliveryKindNotInSpec {
        /// Contract.
        contract: Uuid,
        /// Material kind.
        kind: crate::events::MaterialKind,
    },
    /// A take-back must come from the customer.
    #[error("contract {contract}: take-back supplier {supplier:?} is not the customer {customer}")]
    TakeBackNotFromCustomer {
        /// Contract.
        contract: Uuid,
        /// Supplier kid given.
        supplier: Option<Bytes32>,
        /// Customer.
        customer: Bytes32,
    },
    /// The dispatch and the receipt name different contracts.
    #[error(
        "dispatch {dispatch} names contract {dispatch_contract:?}, the receipt {receipt_contract:?}"
    )]
    DispatchContractMismatch {
        /// Dispatch.
        dispatch: Uuid,
        /// The dispatch's contract.
        dispatch_contract: Option<Uuid>,
        /// The receipt's contract.
        receipt_contract: Option<Uuid>,
    },
}

/// Which way a transformation's mass balance failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MassImbalance {
    /// outputs + losses exceed the consumed inputs: mass would be created.
    Excess,
    /// inputs - outputs - losses exceed the declared tolerance.
    Deficit,
}

impl core::fmt::Display for MassImbalance {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            MassImbalance::Excess => "outputs + losses exceed inputs",
            MassImbalance::Deficit => "inputs exceed outputs + losses by more than the tolerance",
        })
    }
}

impl RuleViolation {
    /// A stable snake_case code for APIs and logs (e.g. `overconsumption`).
    pub fn code(&self) -> &'static str {
        match self {
            RuleViolation::UnsupportedSchema { .. } => "unsupported_schema",
            RuleViolation::GenesisNotFirst { .. } => "genesis_not_first",
            RuleViolation::GenesisRequired { .. } => "genesis_required",
            RuleViolation::GenesisSignerMismatch { .. } => "genesis_signer_mismatch",
            RuleViolation::UnknownSigner { .. } => "unknown_signer",
            RuleViolation::CopperNotConserved { .. } => "copper_not_conserved",
            RuleViolation::PurityRaised { .. } => "purity_raised",
            RuleViolation::AssayNotIndependent { .. } => "assay_not_independent",
            RuleViolation::TimeOutOfRange { .. } => "time_out_of_range",
            RuleViolation::NotTheLogKey { .. } => "not_the_log_key",
            RuleViolation::ClockBackwards { .. } => "clock_backwards",
            RuleViolation::StatusPositionMismatch { .. } => "status_position_mismatch",
            RuleViolation::Backdated { .. } => "backdated",
            RuleViolation::SignerRevoked { .. } => "signer_revoked",
            RuleViolation::RoleNotPermitted { .. } => "role_not_permitted",
            RuleViolation::InvalidField { .. } => "invalid_field",
            RuleViolation::InvalidPublicKey { .. } => "invalid_public_key",
            RuleViolation::ActorAlreadyRegistered { .. } => "actor_already_registered",
            RuleViolation::UnknownActor { .. } => "unknown_actor",
            RuleViolation::ActorRevoked { .. } => "actor_revoked",
            RuleViolation::RoleAlreadyGranted { .. } => "role_already_granted",
            RuleViolation::AlreadyRevoked { .. } => "already_revoked",
            RuleViolation::CannotRevokeSelf => "cannot_revoke_self",
            RuleViolation::DuplicateId { .. } => "duplicate_id",
            RuleViolation::UnknownMaterial { .. } => "unknown_material",
            RuleViolation::NotOwner { .. } => "not_owner",
            RuleViolation::ZeroMass { .. } => "zero_mass",
            RuleViolation::Overconsumption { .. } => "overconsumption",
            RuleViolation::DuplicateInput { .. } => "duplicate_input",
            RuleViolation::MassNotConserved { .. } => "mass_not_conserved",
            RuleViolation::ToleranceTooLarge { .. } => "tolerance_too_large",
            RuleViolation::EmptyTransformation => "empty_transformation",
            RuleViolation::OutputKindNotAllowed { .. } => "output_kind_not_allowed",
            RuleViolation::NotAProduct { .. } => "not_a_product",
            RuleViolation::PassportAlreadyIssued { .. } => "passport_already_issued",
            RuleViolation::MaterialExhausted { .. } => "material_exhausted",
            RuleViolation::TransferToSelf { .. } => "transfer_to_self",
            RuleViolation::ProductEndOfLife { .. } => "product_end_of_life",
            RuleViolation::InvalidGs1DigitalLink { .. } => "invalid_gs1_digital_link",
            RuleViolation::NeverUsed { .. } => "never_used",
            RuleViolation::PredatesRecord { .. } => "predates_record",
            RuleViolation::ServiceAuthorisationExpired { .. } => "service_authorisation_expired",
            RuleViolation::NotAServiceActor { .. } => "not_a_service_actor",
            RuleViolation::NetMassMismatch { .. } => "net_mass_mismatch",
            RuleViolation::SourcePassportNotEndOfLife { .. } => "source_passport_not_end_of_life",
            RuleViolation::SourceWithoutPassport { .. } => "source_without_passport",
            RuleViolation::PassportScrapMustBePostConsumer { .. } => {
                "passport_scrap_must_be_post_consumer"
            }
            RuleViolation::ScrapExceedsSources { .. } => "scrap_exceeds_sources",
            RuleViolation::NotAScrapLot { .. } => "not_a_scrap_lot",
            RuleViolation::UnknownRuleSet { .. } => "unknown_rule_set",
            RuleViolation::VersionNotIncreasing { .. } => "version_not_increasing",
            RuleViolation::NotPublisher { .. } => "not_publisher",
            RuleViolation::InvalidRuleSet { .. } => "invalid_rule_set",
            RuleViolation::GradeMismatch { .. } => "grade_mismatch",
            RuleViolation::StaleCalibration { .. } => "stale_calibration",
            RuleViolation::CalibrationInFuture { .. } => "calibration_in_future",
            RuleViolation::TooFewSpots { .. } => "too_few_spots",
            RuleViolation::DispatchRequired { .. } => "dispatch_required",
            RuleViolation::UnknownDispatch { .. } => "unknown_dispatch",
            RuleViolation::DispatchNotToReceiver { .. } => "dispatch_not_to_receiver",
            RuleViolation::DispatchNotFromSupplier { .. } => "dispatch_not_from_supplier",
            RuleViolation::DispatchAlreadyReceived { .. } => "dispatch_already_received",
            RuleViolation::DispatchMassMismatch { .. } => "dispatch_mass_mismatch",
            RuleViolation::ReceiptBeforeDispatch { .. } => "receipt_before_dispatch",
            RuleViolation::DeclaredReceiptWithoutEvidence => "declared_receipt_without_evidence",
            RuleViolation::GradeAfterConsumption { .. } => "grade_after_consumption",
            RuleViolation::GraderNotNamed { .. } => "grader_not_named",
            RuleViolation::GradedBeforeReceipt { .. } => "graded_before_receipt",
            RuleViolation::GradeAlreadySettled { .. } => "grade_already_settled",
            RuleViolation::NoGradeDispute { .. } => "no_grade_dispute",
            RuleViolation::UnknownGrading { .. } => "unknown_grading",
            RuleViolation::UnknownScheme { .. } => "unknown_scheme",
            RuleViolation::CertificateCriterionFailed { .. } => "certificate_criterion_failed",
            RuleViolation::UnknownCertificate { .. } => "unknown_certificate",
            RuleViolation::CertificateAlreadyRevoked { .. } => "certificate_already_revoked",
            RuleViolation::NotCertificateIssuer { .. } => "not_certificate_issuer",
            RuleViolation::AlreadyCertified { .. } => "already_certified",
            RuleViolation::BrandHeld { .. } => "brand_held",
            RuleViolation::SchemeVersionSuperseded { .. } => "scheme_version_superseded",
            RuleViolation::UnknownContract { .. } => "unknown_contract",
            RuleViolation::NotContractCustomer { .. } => "not_contract_customer",
            RuleViolation::NotContractProducer { .. } => "not_contract_producer",
            RuleViolation::ContractAlreadyAccepted { .. } => "contract_already_accepted",
            RuleViolation::ContractProposalMismatch { .. } => "contract_proposal_mismatch",
            RuleViolation::ContractNotAccepted { .. } => "contract_not_accepted",
            RuleViolation::OutsideContractPeriod { .. } => "outside_contract_period",
            RuleViolation::DeliveryNotToCustomer { .. } => "delivery_not_to_customer",
            RuleViolation::DeliveryKindNotInSpec { .. } => "delivery_kind_not_in_spec",
            RuleViolation::TakeBackNotFromCustomer { .. } => "take_back_not_from_customer",
            RuleViolation::DispatchContractMismatch { .. } => "dispatch_contract_mismatch",
        }
    }
}
