//! The command line (clap derive).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

const MAIN_HELP: &str = "\
Examples:
  # The whole Tongling scenario in a fresh local ledger, in one run
  cupass demo

  # A local ledger (no server needed)
  cupass init --origin tongling.cupass.example/log
  cupass key new --name Tongling_Cable_Works -o cable.key
  cupass actor register --key cupass-data/operator.key --name 'Tongling Cable Works' \\
      --country CN --key-file cable.key.pub
  cupass actor grant --key cupass-data/operator.key --actor cable.key.pub --role manufacturer

  # The same commands against a running node
  cupass --node http://127.0.0.1:8080 passport show 0193...

  # Offline audit of a certificate's evidence
  cupass verify cert.cupass --log-key cupass-data/log.pub

Exit status: 0 ok, 1 invalid / refused / not found, 2 usage error
(bad arguments, missing key file, malformed JSON or CSV).
Colour is used only on a terminal (and never with --json or NO_COLOR).";

/// cupass: signed, publicly verifiable copper product passports and
/// recycling traceability.
///
/// Every command that reads or writes the ledger works on a local ledger
/// directory (--dir, the default ./cupass-data, no server needed) or on a
/// running node (--node URL), with identical results.
#[derive(Parser, Debug)]
#[command(name = "cupass", version, after_help = MAIN_HELP)]
pub struct Cli {
    /// Local ledger directory.
    #[arg(long, global = true, env = "CUPASS_DIR", default_value = "cupass-data")]
    pub dir: PathBuf,
    /// Talk to a node instead of the local directory, e.g. http://127.0.0.1:8080.
    #[arg(long, global = true, env = "CUPASS_NODE")]
    pub node: Option<String>,
    /// Print JSON instead of tables (no colour, no progress bar).
    #[arg(long, global = true)]
    pub json: bool,
    /// Record events as happening at this time (Unix ms or YYYY-MM-DD[THH:MM[:SS]]Z, UTC);
    /// default now. The ledger refuses times in the future.
    #[arg(long, global = true, value_name = "TIME")]
    pub at: Option<String>,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// Every command.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Create and inspect signing keys.
    #[command(subcommand)]
    Key(KeyCmd),
    /// Create a local ledger: log key, operator key (mode 0600) and the genesis entry.
    #[command(
        after_help = "Example:\n  cupass --dir ./ledger init --origin tongling.cupass.example/log\n\n\
        Prints the log's verifier key: give it to auditors (it is also in DIR/log.pub).\n\
        DIR/operator.key signs actor registrations and role grants; move it somewhere safe."
    )]
    Init(InitArgs),
    /// Register actors and grant roles (signed by the operator).
    #[command(subcommand)]
    Actor(ActorCmd),
    /// Register primary cathode lots and show lots.
    #[command(subcommand)]
    Lot(LotCmd),
    /// Record a transformation (melt, refine, cast, roll, draw, anneal, plate, assemble, disassemble).
    #[command(after_help = PROCESS_HELP)]
    Process(ProcessArgs),
    /// Issue and show product passports.
    #[command(subcommand)]
    Passport(PassportCmd),
    /// Transfer a node (lot or product) to a new owner; with --contract, a delivery.
    #[command(
        after_help = "Example:\n  cupass transfer --key rod.key 0193... --to cable.key.pub\n  \
        cupass transfer --key refinery.key 0193... --to 5f1c...e2 --contract 0193..."
    )]
    Transfer(TransferArgs),
    /// Record a service event (install, inspect, repair, refurbish, decommission),
    /// as the owner or a service actor it authorised; `service authorise` authorises one.
    #[command(
        after_help = "Examples:\n  cupass service --key utility.key --product 0193... --kind inspect \\\n      \
        --note 'thermal scan ok' --evidence scan-2025-03.pdf\n  \
        cupass service authorise --key utility.key --product 0193... --actor service-co.key.pub \\\n      \
        --until 2026-12-31"
    )]
    Service(ServiceArgs),
    /// Declare a product end of life (it may then feed post-consumer scrap).
    #[command(
        after_help = "Example:\n  cupass retire --key utility.key --product 0193... --reason 'feeder replaced'"
    )]
    Retire(RetireArgs),
    /// Receive and grade scrap.
    #[command(subcommand)]
    Scrap(ScrapCmd),
    /// Publish grading rule sets.
    #[command(subcommand)]
    Rules(RulesCmd),
    /// Publish certification schemes.
    #[command(subcommand)]
    Scheme(SchemeCmd),
    /// Issue, revoke and inspect certificates; export evidence bundles.
    #[command(subcommand)]
    Cert(CertCmd),
    /// Verify an evidence bundle: signatures, proofs, checkpoint, rules, criteria, statuses;
    /// with --node also against the node's current tree.
    #[command(
        long_about = "Verify an evidence bundle.\n\n\
        Offline (the default) the verdict is \"valid as of tree size N, integrated at time T\": \
        the bundle's entries, proofs and status proofs hold at its own checkpoint. A bundle \
        exported before a revocation still verifies offline; to learn the status now, give \
        --node: the node's current checkpoint must extend the bundle's (a consistency proof), \
        and the statuses are checked again at the current size. --max-age refuses as STALE a \
        status commitment older than that.",
        after_help = "Examples:\n  cupass verify cert.cupass --log-key cupass-data/log.pub\n  \
        cupass verify cert.cupass --log-key 'tongling.cupass.example/log+1a2b3c4d+AbC...'\n  \
        cupass --node http://127.0.0.1:8080 verify cert.cupass --log-key log.pub --max-age 24h\n\n\
        Exit status: 0 valid; 1 invalid, revoked or stale (the failing part is named); \
        2 usage error; 3 node unreachable (no verdict)."
    )]
    Verify(VerifyArgs),
    /// Show the current status of a certificate, key or material with its proof, checked
    /// against the log key: also proves that something does NOT exist or was never revoked.
    #[command(
        after_help = "Examples:\n  cupass status certificate 0193... --log-key cupass-data/log.pub\n  \
        cupass status key 1f2e...64 hex... --log-key log.pub     # revoked? when?\n  \
        cupass status material 0193... --log-key log.pub         # which certificates exist for a lot\n\n\
        A status that does not exist is shown with its proof of absence.\n\
        Exit status: 0 proved; 1 the proof does not verify; 2 usage error; 3 node unreachable."
    )]
    Status(StatusArgs),
    /// Circular performance contracts: propose, accept, audit.
    #[command(subcommand)]
    Contract(ContractCmd),
    /// The log itself: checkpoint, proofs, entries, full verification.
    #[command(subcommand)]
    Log(LogCmd),
    /// Sign and submit any event given in its full JSON form ({schema, occurred_ms, body}).
    #[command(
        after_help = "Example:\n  cupass submit --key cable.key event.json\n\n\
        The JSON form is documented in docs/DOMAIN.md; errors name the field path."
    )]
    Submit(SubmitArgs),
    /// Build the Tongling scenario in a fresh local ledger, export and verify a bundle.
    #[command(
        after_help = "Example:\n  cargo run --release -p cli -- demo\n  cupass demo --out /tmp/tongling\n\n\
        The output directory is wiped first. It holds the ledger, every actor's key,\n\
        the XRF/LIBS readings CSVs, the evidence bundle and the rule set / scheme JSON."
    )]
    Demo(DemoArgs),
}

const PROCESS_HELP: &str = "\
Examples:
  # From flags: draw 60 t of cathode into rod, 100 kg lost
  cupass process --key rod.key --process draw --input 0193...:60000000 \\
      --output rod:59900000:Cu=999930 --losses-g 100000

  # From a JSON file (the `transform` event body, see docs/DOMAIN.md)
  cupass process --key refinery.key melt.json

Masses are grams. An output is KIND:MASS_G[:ELEMENT=PPM,...] with KIND one of
intermediate, refined, rod, foil, strip, wire, product, scrap. New output ids
are printed (and are in the JSON output).";

/// `cupass key ...`
#[derive(Subcommand, Debug)]
pub enum KeyCmd {
    /// Create a new Ed25519 signing key (file mode 0600) and FILE.pub.
    #[command(
        after_help = "Example:\n  cupass key new --name Tongling_Cable_Works -o cable.key\n\n\
        Prints the public key and the key id (kid) the operator registers."
    )]
    New {
        /// The organisation's key name (no spaces or '+'; spaces become '_').
        #[arg(long)]
        name: String,
        /// Where to write the secret key (refuses to overwrite).
        #[arg(short = 'o', long = "out")]
        out: PathBuf,
    },
    /// Show the public key and key id of a key file (never the secret).
    #[command(after_help = "Example:\n  cupass key show cable.key")]
    Show {
        /// A secret key file or a .pub file.
        file: PathBuf,
    },
}

/// `cupass init`
#[derive(Args, Debug)]
pub struct InitArgs {
    /// The log's origin line (also its key name), e.g. tongling.cupass.example/log.
    #[arg(long)]
    pub origin: String,
    /// The operator organisation's name.
    #[arg(long, default_value = "Ledger Operator")]
    pub operator_name: String,
    /// The operator's country (ISO 3166-1 alpha-2).
    #[arg(long, default_value = "CN")]
    pub operator_country: String,
    /// How many hours before the log's own time an event may be dated
    /// (written into the genesis; at most two years).
    #[arg(long, default_value_t = 72)]
    pub max_backdating_hours: i64,
}

/// `cupass actor ...`
#[derive(Subcommand, Debug)]
pub enum ActorCmd {
    /// Register an organisation's key (signed by the operator).
    #[command(
        after_help = "Example:\n  cupass actor register --key cupass-data/operator.key \\\n      \
        --name 'Tongling Cable Works' --country CN --key-file cable.key.pub"
    )]
    Register {
        /// The operator's key file.
        #[arg(long)]
        key: PathBuf,
        /// Organisation name.
        #[arg(long)]
        name: String,
        /// ISO 3166-1 alpha-2 country.
        #[arg(long)]
        country: String,
        /// The actor's public key: 64 hex digits or a key string name+id+base64.
        #[arg(
            long,
            conflicts_with = "key_file",
            required_unless_present = "key_file"
        )]
        public_key: Option<String>,
        /// The actor's key file or .pub file (only the public key is used).
        #[arg(long)]
        key_file: Option<PathBuf>,
    },
    /// Grant a role (operator, manufacturer, refiner, recycler, certifier, service, auditor).
    #[command(
        after_help = "Example:\n  cupass actor grant --key cupass-data/operator.key --actor cable.key.pub --role manufacturer"
    )]
    Grant {
        /// The operator's key file.
        #[arg(long)]
        key: PathBuf,
        /// The actor: key id (64 hex) or its key / .pub file.
        #[arg(long)]
        actor: String,
        /// The role.
        #[arg(long)]
        role: String,
    },
}

/// `cupass lot ...`
#[derive(Subcommand, Debug)]
pub enum LotCmd {
    /// Register a primary cathode lot (100 % primary, one origin country).
    #[command(
        after_help = "Example:\n  cupass lot register --key refinery.key --mass-g 25000000 --origin CL \\\n      \
        --supplier 'Codelco' --brand 'CCC-P' --composition Cu=999950,O=40"
    )]
    Register {
        /// Signer (refiner or manufacturer).
        #[arg(long)]
        key: PathBuf,
        /// Mass in grams.
        #[arg(long)]
        mass_g: u64,
        /// Country of origin (ISO 3166-1 alpha-2).
        #[arg(long)]
        origin: String,
        /// Supplier name.
        #[arg(long)]
        supplier: String,
        /// Brand or grade designation.
        #[arg(long)]
        brand: Option<String>,
        /// Assay as ELEMENT=PPM,... e.g. Cu=999950,O=40.
        #[arg(long)]
        composition: Option<String>,
        /// Use this id instead of a fresh UUID v7.
        #[arg(long)]
        id: Option<String>,
    },
    /// Show any material: mass, owner, derived recycled and origin shares, history.
    #[command(after_help = "Example:\n  cupass lot show 0193...")]
    Show {
        /// Material id.
        id: String,
    },
    /// Record an independent assay: a measured composition of a material
    /// you neither own nor made (a lab or grader, with its instrument).
    #[command(
        after_help = "Example:\n  cupass lot assay --key lab.key --lot 0193... --instrument oes \\\n      \
        --serial OES-9 --calibrated 2026-11-01 --composition Cu=999960,O=4 --evidence report.pdf"
    )]
    Assay {
        /// Signer (a certifier, recycler or refiner with no stake in the material).
        #[arg(long)]
        key: PathBuf,
        /// The material assayed.
        #[arg(long)]
        lot: String,
        /// xrf, libs or oes.
        #[arg(long)]
        instrument: String,
        /// Instrument serial number.
        #[arg(long)]
        serial: String,
        /// Last calibration (YYYY-MM-DD or Unix ms).
        #[arg(long)]
        calibrated: String,
        /// Spots or samples measured.
        #[arg(long, default_value_t = 3)]
        spots: u16,
        /// The measured composition, ELEMENT=PPM,... (must include Cu).
        #[arg(long)]
        composition: String,
        /// Evidence files (lab report, spectra): their SHA-256 is recorded (repeat).
        #[arg(long)]
        evidence: Vec<PathBuf>,
    },
}

/// `cupass process`
#[derive(Args, Debug)]
pub struct ProcessArgs {
    /// Signer (owner of every input).
    #[arg(long)]
    pub key: PathBuf,
    /// The `transform` body as a JSON file (instead of the flags).
    pub file: Option<PathBuf>,
    /// melt, refine, cast, roll, draw, anneal, plate, assemble or disassemble.
    #[arg(long, required_unless_present = "file")]
    pub process: Option<String>,
    /// An input as NODE_ID:MASS_G (repeat).
    #[arg(long = "input")]
    pub inputs: Vec<String>,
    /// An output as KIND:MASS_G[:ELEMENT=PPM,...] (repeat).
    #[arg(long = "output")]
    pub outputs: Vec<String>,
    /// Recorded losses in grams.
    #[arg(long, default_value_t = 0)]
    pub losses_g: u64,
    /// Weighing tolerance in grams (at most 0.5 % of inputs).
    #[arg(long, default_value_t = 0)]
    pub tolerance_g: u64,
}

/// `cupass passport ...`
#[derive(Subcommand, Debug)]
pub enum PassportCmd {
    /// Issue the passport of a product you own, from a JSON file.
    #[command(
        after_help = "Example:\n  cupass passport issue --key electronics.key passport.json\n\n\
        The file is the `issue_passport` body, e.g.\n  \
        {\"product\": \"0193...\", \"name\": \"PCB assembly\", \"model\": \"TL-PCB-4\",\n   \
        \"serial_or_batch\": \"SN-0001\", \"gs1_digital_link\": null, \"granularity\": \"item\",\n   \
        \"alloy\": {\"gb\": \"T2\"}, \"composition\": {\"elements_ppm\": {\"Cu\": 999900}},\n   \
        \"carbon_footprint\": {\"g_co2e_per_kg\": 3100, \"method\": \"iso14067\",\n   \
        \"boundary\": \"cradle_to_gate\", \"third_party_verified\": false},\n   \
        \"conductivity_centi_iacs\": 10100,\n   \
        \"process_summary\": [{\"process\": \"assemble\", \"facility\": \"Plant 2\", \"country\": \"CN\"}]}"
    )]
    Issue {
        /// Signer (manufacturer owning the product).
        #[arg(long)]
        key: PathBuf,
        /// The passport JSON file.
        file: PathBuf,
    },
    /// Show a passport: identity, status, owner, derived shares, service history.
    #[command(
        after_help = "Example:\n  cupass passport show 0193...\n  cupass --json passport show 0193..."
    )]
    Show {
        /// Product id.
        id: String,
    },
}

/// `cupass transfer`
#[derive(Args, Debug)]
pub struct TransferArgs {
    /// Signer (the current owner).
    #[arg(long)]
    pub key: PathBuf,
    /// The lot or product id.
    pub id: String,
    /// The new owner: key id (64 hex) or key / .pub file.
    #[arg(long)]
    pub to: String,
    /// Contract id: makes this a delivery under the contract.
    #[arg(long)]
    pub contract: Option<String>,
}

/// `cupass service`: record a service entry, or `service authorise`.
#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct ServiceArgs {
    /// Authorise a service actor instead of recording a service entry.
    #[command(subcommand)]
    pub cmd: Option<ServiceCmd>,
    /// Signer (the owner or a service actor it authorised).
    #[arg(long, required = true)]
    pub key: Option<PathBuf>,
    /// Product id.
    #[arg(long, required = true)]
    pub product: Option<String>,
    /// install, inspect, repair, refurbish or decommission.
    #[arg(long, required = true)]
    pub kind: Option<String>,
    /// What was done.
    #[arg(long, required = true)]
    pub note: Option<String>,
    /// An evidence file kept off-ledger; its SHA-256 is recorded (repeat).
    #[arg(long)]
    pub evidence: Vec<PathBuf>,
}

/// `cupass service ...`
#[derive(Subcommand, Debug)]
pub enum ServiceCmd {
    /// Authorise a service actor to record service entries on a product you own
    /// (until a time, or until the product changes owner).
    #[command(
        after_help = "Example:\n  cupass service authorise --key utility.key --product 0193... \\\n      \
        --actor service-co.key.pub --until 2026-12-31\n\n\
        Authorising the same actor again replaces the earlier authorisation\n\
        (an --until a moment ahead withdraws it)."
    )]
    Authorise(AuthoriseArgs),
}

/// `cupass service authorise`
#[derive(Args, Debug)]
pub struct AuthoriseArgs {
    /// Signer (the product's owner).
    #[arg(long)]
    pub key: PathBuf,
    /// Product id.
    #[arg(long)]
    pub product: String,
    /// The service actor: key id (64 hex) or key / .pub file.
    #[arg(long)]
    pub actor: String,
    /// End of the authorisation (exclusive): Unix ms or YYYY-MM-DD[THH:MM[:SS]][Z], UTC.
    #[arg(long)]
    pub until: Option<String>,
}

/// `cupass retire`
#[derive(Args, Debug)]
pub struct RetireArgs {
    /// Signer (the owner).
    #[arg(long)]
    pub key: PathBuf,
    /// Product id.
    #[arg(long)]
    pub product: String,
    /// Why.
    #[arg(long)]
    pub reason: String,
    /// An evidence file kept off-ledger; its SHA-256 is recorded (repeat).
    #[arg(long)]
    pub evidence: Vec<PathBuf>,
}

/// `cupass scrap ...`
#[derive(Subcommand, Debug)]
pub enum ScrapCmd {
    /// Receive a scrap lot (weighbridge gross/tare; source passports or a declared origin class).
    #[command(after_help = "Examples:\n  \
        # Post-consumer scrap from two end-of-life passports you own\n  \
        cupass scrap receive --key recycler.key --gross-g 1250000 --tare-g 50000 \\\n      \
        --supplier 'Anhui Grid Utility' --supplier-country CN --source-passport 0193... --source-passport 0193...\n\n  \
        # Pre-consumer scrap without passports\n  \
        cupass scrap receive --key recycler.key --gross-g 5200000 --tare-g 200000 \\\n      \
        --supplier 'Wuhu Wire' --supplier-country CN --origin-class pre_consumer \\\n      \
        --evidence weighbridge-ticket.pdf\n\n  \
        # From a registered supplier: name the dispatch it signed\n  \
        cupass scrap receive --key recycler.key --gross-g 5200000 --tare-g 200000 \\\n      \
        --supplier 'Tongling Cable Works' --supplier-country CN --supplier-kid cable.key \\\n      \
        --origin-class pre_consumer --dispatch 0193...")]
    Receive(ReceiveArgs),
    /// Dispatch scrap to a receiver (signed by the supplier); the receiver's receipt names it.
    #[command(after_help = "Examples:\n  \
        # A customer's take-back dispatch to the contract's producer\n  \
        cupass scrap dispatch --key cable.key --to refiner.pub --mass-g 4000000 \\\n      \
        --description 'cable offcuts' --contract 0193... --evidence delivery-note.pdf")]
    Dispatch(DispatchArgs),
    /// Name the one grader besides you who may grade your scrap lot (before it is consumed).
    NameGrader(NameGraderArgs),
    /// Settle a disputed grading (the publisher of the first grading's rule set).
    Settle(SettleArgs),
    /// Grade a scrap lot from analyser readings (CSV); refuses grades the rules would reject.
    #[command(after_help = GRADE_HELP)]
    Grade(GradeArgs),
}

const GRADE_HELP: &str = "\
Example:
  cupass scrap grade --key recycler.key --lot 0193... \\
      --rules 01936a1e-0000-7000-8000-15e1c0ffee01 --readings lot-17.csv \\
      --instrument xrf --serial XRF-001 --calibrated 2025-01-15 --visual oil=500

The readings CSV is what a handheld XRF/LIBS analyser exports: a header row,
then one row per measured spot. An optional `spot` column labels the spot;
the reading columns are element symbols (Cu, Sn, Pb, Zn, Fe, Ni, ...):

  spot,Cu,Sn,Pb,Zn,Fe
  1,99.52,0.02,0.01,0.03,0.01
  2,99.47,0.03,0.01,0.02,0.01
  3,99.55,0.02,0.01,0.03,0.01

Values are mass percent by default (--unit percent, at most 4 decimals, i.e.
1 ppm); with --unit ppm they are ppm by mass (at most 3 decimals). Every cell
must be a number: '<LOD', 'ND' or blanks are refused with their row and
column, because a missing reading cannot prove a limit holds.

Known export columns are ignored (case-insensitive): the metadata columns
Date, Time, Units, Unit, Sample, ID, Operator, Mode, Duration, and
per-element uncertainty columns: an element symbol followed by +/-, ±, Err,
Error, SD or Sigma ('Cu +/-', 'Cu Err', 'Sn±'). A Units cell naming a unit
must agree with --unit. Any other column is refused with its column number.

The CLI averages the spots per element in integer arithmetic: Cu is rounded
down to whole ppm (rounding never lifts a lot onto a grade's Cu minimum),
every other element is rounded half up,
shows the grade the rule set gives and why the other grades do not match,
and only then signs. It refuses (exit 1, nothing signed) when the rule set
would reject the grading: too few spots, a stale or future calibration, or a
grade other than --expect.";

/// `cupass scrap receive`
#[derive(Args, Debug)]
pub struct ReceiveArgs {
    /// Signer (recycler or refiner).
    #[arg(long)]
    pub key: PathBuf,
    /// Gross weight in grams.
    #[arg(long)]
    pub gross_g: u64,
    /// Tare in grams.
    #[arg(long, default_value_t = 0)]
    pub tare_g: u64,
    /// Supplier name.
    #[arg(long)]
    pub supplier: String,
    /// Supplier country (ISO 3166-1 alpha-2).
    #[arg(long)]
    pub supplier_country: String,
    /// Supplier's key id or key file, if it is a registered actor (required for take-backs).
    #[arg(long)]
    pub supplier_kid: Option<String>,
    /// An end-of-life passport you own that this scrap comes from (repeat).
    #[arg(long = "source-passport")]
    pub source_passports: Vec<String>,
    /// post_consumer, pre_consumer or home (default post_consumer with passports).
    #[arg(long)]
    pub origin_class: Option<String>,
    /// Contract id: makes this a take-back under the contract.
    #[arg(long)]
    pub contract: Option<String>,
    /// The supplier's dispatch id (required with --supplier-kid and for take-backs).
    #[arg(long)]
    pub dispatch: Option<String>,
    /// An evidence file kept off-ledger (weighbridge ticket, invoice); its
    /// SHA-256 is recorded (repeat; required without --supplier-kid).
    #[arg(long)]
    pub evidence: Vec<PathBuf>,
    /// Use this id instead of a fresh UUID v7.
    #[arg(long)]
    pub id: Option<String>,
}

/// `cupass scrap dispatch`
#[derive(Args, Debug)]
pub struct DispatchArgs {
    /// Signer: the supplier.
    #[arg(long)]
    pub key: PathBuf,
    /// The receiver's key id or key file.
    #[arg(long)]
    pub to: String,
    /// Dispatched net mass in grams (the receipt must agree within 0.5 %).
    #[arg(long)]
    pub mass_g: u64,
    /// What is dispatched.
    #[arg(long)]
    pub description: String,
    /// An evidence file kept off-ledger (delivery note); its SHA-256 is recorded (repeat).
    #[arg(long)]
    pub evidence: Vec<PathBuf>,
    /// Contract id: a take-back dispatch by the customer to the producer.
    #[arg(long)]
    pub contract: Option<String>,
    /// Use this id instead of a fresh UUID v7.
    #[arg(long)]
    pub id: Option<String>,
}

/// `cupass scrap name-grader`
#[derive(Args, Debug)]
pub struct NameGraderArgs {
    /// Signer: the lot's owner.
    #[arg(long)]
    pub key: PathBuf,
    /// The scrap lot id.
    #[arg(long)]
    pub lot: String,
    /// The grader's key id or key file.
    #[arg(long)]
    pub grader: String,
}

/// `cupass scrap settle`
#[derive(Args, Debug)]
pub struct SettleArgs {
    /// Signer: the certifier who published the rule set of the lot's first grading.
    #[arg(long)]
    pub key: PathBuf,
    /// The scrap lot id.
    #[arg(long)]
    pub lot: String,
    /// The entry index of the grading that applies.
    #[arg(long)]
    pub grading: u64,
    /// Why.
    #[arg(long)]
    pub reason: String,
}

/// `cupass scrap grade`
#[derive(Args, Debug)]
pub struct GradeArgs {
    /// Signer (the lot's owner, or the grader its owner named).
    #[arg(long)]
    pub key: PathBuf,
    /// The scrap lot id.
    #[arg(long)]
    pub lot: String,
    /// Rule set: ID, ID@VERSION, or a rule set JSON file (its id and version are used).
    #[arg(long)]
    pub rules: String,
    /// The analyser's readings CSV (one row per spot).
    #[arg(long)]
    pub readings: PathBuf,
    /// Unit of the CSV values: percent (mass %) or ppm.
    #[arg(long, default_value = "percent")]
    pub unit: String,
    /// xrf, libs or oes.
    #[arg(long)]
    pub instrument: String,
    /// Analyser serial number.
    #[arg(long)]
    pub serial: String,
    /// Last calibration (Unix ms or YYYY-MM-DD, UTC).
    #[arg(long)]
    pub calibrated: String,
    /// A visual contaminant estimate as CLASS=PPM (insulation, solder, oil, enamel,
    /// burnt, paint, attachments; repeat).
    #[arg(long = "visual")]
    pub visual: Vec<String>,
    /// Refuse to sign unless the computed grade is this one ("off-grade" for none).
    #[arg(long)]
    pub expect: Option<String>,
    /// Compute and show the grade, sign nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// `cupass rules ...`
#[derive(Subcommand, Debug)]
pub enum RulesCmd {
    /// Publish a grading rule set (JSON file, or the shipped illustrative ISRI-named set).
    #[command(
        after_help = "Examples:\n  cupass rules publish --key certifier.key --isri-illustrative\n  \
        cupass rules publish --key certifier.key my-rules.json\n\n\
        The ISRI-named set is ILLUSTRATIVE: it borrows the ISRI grade names, not the\n\
        published ISRI circular's limits. Publish your own rule set for real trade."
    )]
    Publish {
        /// Signer (certifier).
        #[arg(long)]
        key: PathBuf,
        /// The `publish_rule_set` body as JSON.
        #[arg(required_unless_present = "isri_illustrative")]
        file: Option<PathBuf>,
        /// Publish the illustrative ISRI-named rule set shipped with cupass.
        #[arg(long, conflicts_with = "file")]
        isri_illustrative: bool,
    },
}

/// `cupass scheme ...`
#[derive(Subcommand, Debug)]
pub enum SchemeCmd {
    /// Publish a certification scheme (JSON file or flags).
    #[command(
        after_help = "Example:\n  cupass scheme publish --key certifier.key --name 'Tongling Recycled' \\\n      \
        --min-recycled-share-ppm 300000 --limit Cu:999500: \\\n      \
        --accept-rule-set 01936a1e-0000-7000-8000-15e1c0ffee01@1\n\n\
        A limit is ELEMENT:MIN_PPM:MAX_PPM with either bound empty."
    )]
    Publish {
        /// Signer (certifier).
        #[arg(long)]
        key: PathBuf,
        /// The `publish_scheme` body as JSON (instead of the flags).
        file: Option<PathBuf>,
        /// Scheme name.
        #[arg(long, required_unless_present = "file")]
        name: Option<String>,
        /// Minimum derived recycled share, ppm.
        #[arg(long, default_value_t = 0)]
        min_recycled_share_ppm: u32,
        /// Composition limit ELEMENT:MIN:MAX (repeat).
        #[arg(long = "limit")]
        limits: Vec<String>,
        /// Accepted rule set ID@VERSION (repeat).
        #[arg(long = "accept-rule-set")]
        accept: Vec<String>,
        /// Require the subject's composition to be measured (a grading or an
        /// independent assay), not declared by whoever made it.
        #[arg(long)]
        require_measured: bool,
        /// Scheme id (a new version of an existing scheme); default a fresh id.
        #[arg(long)]
        id: Option<String>,
        /// Version (default 1).
        #[arg(long, default_value_t = 1)]
        version: u32,
        /// Transition window, days: how long certificates may still cite
        /// the previous version once this one is published.
        #[arg(long, default_value_t = 0)]
        transition_days: u32,
    },
}

/// `cupass cert ...`
#[derive(Subcommand, Debug)]
pub enum CertCmd {
    /// Issue a certificate on a lot or product; the rules recompute every criterion.
    #[command(
        after_help = "Example:\n  cupass cert issue --key certifier.key --scheme 0193...@1 --subject 0193...\n\n\
        Without --claimed-share-ppm / --claimed-mass-g the subject's derived share and\n\
        mass are claimed (shown before signing)."
    )]
    Issue {
        /// Signer (certifier).
        #[arg(long)]
        key: PathBuf,
        /// Scheme ID or ID@VERSION (default its latest version).
        #[arg(long)]
        scheme: String,
        /// The certified lot or product.
        #[arg(long)]
        subject: String,
        /// Claimed recycled share, ppm.
        #[arg(long)]
        claimed_share_ppm: Option<u32>,
        /// Claimed mass, grams.
        #[arg(long)]
        claimed_mass_g: Option<u64>,
        /// Use this id instead of a fresh UUID v7.
        #[arg(long)]
        id: Option<String>,
    },
    /// Revoke a certificate you issued.
    #[command(
        after_help = "Example:\n  cupass cert revoke --key certifier.key 0193... --reason 'audit finding 2025-07'"
    )]
    Revoke {
        /// Signer (the issuing certifier).
        #[arg(long)]
        key: PathBuf,
        /// Certificate id.
        id: String,
        /// Why.
        #[arg(long)]
        reason: String,
    },
    /// Show a certificate's status and its criteria, recomputed now.
    #[command(after_help = "Example:\n  cupass cert status 0193...")]
    Status {
        /// Certificate id.
        id: String,
    },
    /// Export a certificate's evidence bundle (.cupass) for offline verification.
    #[command(
        after_help = "Examples:\n  cupass cert bundle 0193... -o cert.cupass\n  \
        cupass --json cert bundle 0193...   # readable dump (entries in base64, events decoded)"
    )]
    Bundle {
        /// Certificate id.
        id: String,
        /// Where to write the bundle.
        #[arg(short = 'o', long = "out")]
        out: Option<PathBuf>,
    },
}

/// `cupass status`
#[derive(Args, Debug)]
pub struct StatusArgs {
    /// What: certificate (cert), key, or material (lot).
    pub kind: String,
    /// Its id: a UUID, or for a key its key id in hex (64 digits).
    pub id: String,
    /// The log's verifier key: the key string, or a file holding it (e.g. DIR/log.pub).
    #[arg(long)]
    pub log_key: String,
}

/// `cupass verify`
#[derive(Args, Debug)]
pub struct VerifyArgs {
    /// The evidence bundle (.cupass).
    pub file: PathBuf,
    /// The log's verifier key: the key string, or a file holding it (e.g. DIR/log.pub).
    #[arg(long)]
    pub log_key: String,
    /// Refuse as STALE a bundle whose status commitment is older than this
    /// (e.g. 24h, 7days); with --node, the node's current one counts.
    #[arg(long, value_name = "DURATION")]
    pub max_age: Option<String>,
    /// A C2SP witness policy file: the checkpoint must carry its quorum of
    /// witness cosignatures (with --node, the node's current one too).
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
}

/// `cupass contract ...`
#[derive(Subcommand, Debug)]
pub enum ContractCmd {
    /// Propose a circular performance contract (JSON file or flags), signed by the producer.
    #[command(
        after_help = "Example:\n  cupass contract propose --key refinery.key --customer cable.key.pub \\\n      \
        --description 'Cu-CATH-1 equivalent' --kind refined --min-cu-ppm 999500 \\\n      \
        --start 2025-01-01 --end 2026-01-01 --take-back-share-ppm 100000 \\\n      \
        --grade-rules 01936a1e-0000-7000-8000-15e1c0ffee01@1 \\\n      \
        --grade ISRI:Berry/Candy=30000 --grade ISRI:Birch/Cliff=-15000 --currency CNY \\\n      \
        --min-recycled-share-ppm 300000\n\n\
        A grade is CODE=DIFFERENTIAL (minor units per tonne; negative is a discount), \
        earned under the rule set version --grade-rules names."
    )]
    Propose(Box<ProposeArgs>),
    /// Accept a contract (signed by its customer). The acceptance commits to
    /// the proposal entry's leaf hash: the command reads the entry the
    /// contract view names and hashes its bytes itself.
    #[command(after_help = "Example:\n  cupass contract accept --key cable.key 0193...")]
    Accept {
        /// Signer (the customer).
        #[arg(long)]
        key: PathBuf,
        /// Contract id.
        id: String,
    },
    /// Audit a contract: terms, figures, pass/fail, evidence indices.
    #[command(after_help = "Example:\n  cupass contract audit 0193...")]
    Audit {
        /// Contract id.
        id: String,
    },
}

/// `cupass contract propose`
#[derive(Args, Debug)]
pub struct ProposeArgs {
    /// Signer (the producer).
    #[arg(long)]
    pub key: PathBuf,
    /// The `propose_contract` body as JSON (instead of the flags).
    pub file: Option<PathBuf>,
    /// The customer: key id or key / .pub file.
    #[arg(long, required_unless_present = "file")]
    pub customer: Option<String>,
    /// Material specification text.
    #[arg(long, default_value = "copper per contract")]
    pub description: String,
    /// Deliverable material kind (repeat): refined, rod, foil, strip, wire, product, ...
    #[arg(long = "kind")]
    pub kinds: Vec<String>,
    /// Minimum Cu ppm of every delivery.
    #[arg(long, default_value_t = 0)]
    pub min_cu_ppm: u32,
    /// Period start (Unix ms or YYYY-MM-DD).
    #[arg(long, required_unless_present = "file")]
    pub start: Option<String>,
    /// Period end, exclusive (Unix ms or YYYY-MM-DD).
    #[arg(long, required_unless_present = "file")]
    pub end: Option<String>,
    /// Minimum eligible take-back share of delivered mass, ppm.
    #[arg(long, default_value_t = 0)]
    pub take_back_share_ppm: u32,
    /// Eligible grade CODE=DIFFERENTIAL_PER_TONNE_MINOR (repeat).
    #[arg(long = "grade")]
    pub grades: Vec<String>,
    /// The rule set ID@VERSION the --grade codes must be earned under
    /// (required with --grade).
    #[arg(long)]
    pub grade_rules: Option<String>,
    /// ISO 4217 currency.
    #[arg(long, default_value = "CNY")]
    pub currency: String,
    /// Guaranteed minimum recycled share of deliveries, ppm.
    #[arg(long, default_value_t = 0)]
    pub min_recycled_share_ppm: u32,
    /// Use this id instead of a fresh UUID v7.
    #[arg(long)]
    pub id: Option<String>,
}

/// `cupass log ...`
#[derive(Subcommand, Debug)]
pub enum LogCmd {
    /// Show the latest signed checkpoint (and check its signature when the log key is known).
    #[command(
        after_help = "Example:\n  cupass log checkpoint\n  cupass --node http://127.0.0.1:8080 log checkpoint --log-key log.pub"
    )]
    Checkpoint {
        /// Log verifier key (default DIR/log.pub in local mode).
        #[arg(long)]
        log_key: Option<String>,
    },
    /// Inclusion and consistency proofs, verified on receipt; `log proof INDEX --tlog-proof`
    /// exports one entry's proof as a C2SP tlog-proof file.
    #[command(
        args_conflicts_with_subcommands = true,
        after_help = "Examples:\n  cupass log proof inclusion --index 42\n  \
        cupass log proof consistency --old 100\n  \
        cupass log proof 42 --tlog-proof -o entry-42.tlog-proof\n  \
        cupass --node http://127.0.0.1:8080 log proof 42 --tlog-proof -o entry-42.tlog-proof\n\n\
        A .tlog-proof file (c2sp.org/tlog-proof@v1) holds the entry itself (its COSE bytes as\n\
        the `extra` line), its index, the inclusion proof and the log's signed checkpoint with\n\
        any witness cosignatures (a node with witnesses serves them on /checkpoint). Anyone\n\
        checks it offline with `cupass log verify-proof FILE --log-key KEY [--policy FILE]`.\n\
        Without -o the proof is printed on stdout."
    )]
    Proof(ProofArgs),
    /// Show one entry: signer and decoded event.
    #[command(after_help = "Example:\n  cupass log entry 42")]
    Entry {
        /// Entry index.
        index: u64,
    },
    /// Full replay: every signature (batch, both cores), the tree against the signed
    /// checkpoint, every rule. Names the first failing entry.
    #[command(after_help = "Examples:\n  cupass log verify\n  \
        cupass --node http://127.0.0.1:8080 log verify --log-key log.pub\n\n\
        In local mode the entries are read straight from the sled store (no open-time\n\
        check), so a tampered store gets a report naming the first failing entry.\n\
        In node mode the checkpoint, hash tiles and entry bundles are fetched and checked.")]
    Verify {
        /// Log verifier key (default DIR/log.pub in local mode; required with --node).
        #[arg(long)]
        log_key: Option<String>,
    },
    /// Verify a C2SP tlog-proof file offline: the log's signature on its checkpoint,
    /// the entry's inclusion at its index and, with --policy, the witness quorum.
    #[command(after_help = "Examples:\n  \
        cupass log verify-proof entry-42.tlog-proof --log-key cupass-data/log.pub\n  \
        cupass log verify-proof entry-42.tlog-proof --log-key 'tongling.cupass.example/log+1a2b3c4d+AbC...'\n  \
        cupass log verify-proof entry-42.tlog-proof --log-key log.pub --policy witnesses.policy\n\n\
        The entry checked is the one the file carries (its `extra` line); it is trusted only\n\
        once its leaf hash is proved to be at the index in the signed tree. Nothing is fetched.\n\
        Exit status: 0 valid; 1 invalid (malformed or truncated file, bad signature, bad\n\
        proof, quorum not met; the reason is named); 2 usage error (unreadable file, bad key\n\
        or policy).")]
    VerifyProof {
        /// The .tlog-proof file.
        file: PathBuf,
        /// The log's verifier key: the key string, or a file holding it (e.g. DIR/log.pub).
        #[arg(long)]
        log_key: String,
        /// A C2SP witness policy file: the checkpoint must carry its quorum of
        /// witness cosignatures.
        #[arg(long, value_name = "FILE")]
        policy: Option<PathBuf>,
    },
}

/// `cupass log proof ...`: a subcommand, or `INDEX --tlog-proof`.
#[derive(Args, Debug)]
pub struct ProofArgs {
    /// The proof to show.
    #[command(subcommand)]
    pub cmd: Option<ProofCmd>,
    /// Entry index (with --tlog-proof).
    #[arg(value_name = "INDEX", requires = "tlog_proof")]
    pub index: Option<u64>,
    /// Export entry INDEX's proof against the current checkpoint as a C2SP tlog-proof.
    #[arg(long, requires = "index")]
    pub tlog_proof: bool,
    /// Write the tlog-proof to FILE (conventionally NAME.tlog-proof) instead of stdout.
    #[arg(short = 'o', long = "out", value_name = "FILE", requires = "index")]
    pub out: Option<PathBuf>,
    /// Check the proof with this log verifier key before writing it
    /// (default DIR/log.pub in local mode).
    #[arg(long, requires = "index")]
    pub log_key: Option<String>,
}

/// `cupass log proof inclusion|consistency`
#[derive(Subcommand, Debug)]
pub enum ProofCmd {
    /// Prove an entry is in the tree.
    #[command(
        after_help = "Example:\n  cupass log proof inclusion --index 42\n  cupass log proof inclusion --index 42 --tree-size 100"
    )]
    Inclusion {
        /// Entry index.
        #[arg(long)]
        index: u64,
        /// Tree size (default the current size).
        #[arg(long)]
        tree_size: Option<u64>,
        /// Log verifier key (default DIR/log.pub in local mode).
        #[arg(long)]
        log_key: Option<String>,
    },
    /// Prove an older tree is a prefix of a newer one.
    #[command(
        after_help = "Example:\n  cupass log proof consistency --old 100\n  cupass log proof consistency --old 100 --new 250"
    )]
    Consistency {
        /// Older tree size.
        #[arg(long)]
        old: u64,
        /// Newer tree size (default the current size).
        #[arg(long)]
        new: Option<u64>,
    },
}

/// `cupass submit`
#[derive(Args, Debug)]
pub struct SubmitArgs {
    /// Signer.
    #[arg(long)]
    pub key: PathBuf,
    /// The event JSON file.
    pub file: PathBuf,
}

/// `cupass demo`
#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Output directory. Default DIR/demo. It must not exist, be empty, or
    /// be an earlier demo's output (holding the `.cupass-demo` marker the
    /// demo writes), which is wiped first; anything else is refused.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Number of product passports: a multiple of 20 from 20 to 480.
    #[arg(long, default_value_t = 240)]
    pub passports: u32,
}
