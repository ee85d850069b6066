//! Writes the fuzz seed corpus, `fuzz/seeds/<target>/`, from a real ledger.
//!
//! Runs the demo (20 passports) into a temporary directory and takes real
//! artefacts from it: one entry and payload per event kind, checkpoints,
//! proofs, key strings, the evidence bundle and the analyser CSVs. Entries
//! are also re-signed with the fixed test keys the COSE target verifies
//! against, so the seeds reach the success paths.
//!
//! `cargo run -p cupass-tests --bin fuzz-seeds`
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use cupass_tests::{fuzz, log_signer, test_key};
use ledger::cose::Entry;

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/seeds");
    let tmp = std::env::temp_dir().join(format!("cupass-fuzz-seeds-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    let demo = tmp.join("demo");
    let dir = tmp.join("cli");
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let mut term = cli::Term {
        out: &mut out,
        err: &mut err,
        out_tty: false,
        err_tty: false,
    };
    let args = [
        "cupass",
        "--dir",
        path(&dir),
        "demo",
        "--passports",
        "20",
        "--out",
        path(&demo),
    ];
    let code = cli::run(args, &mut term);
    assert_eq!(code, 0, "demo failed: {}", String::from_utf8_lossy(&err));

    let ledger_dir = demo.join("ledger");
    let ledger = client::open(
        &ledger_dir,
        &client::Options::default(),
        client::keyfile::Permissions::Warn,
    )
    .expect("open the demo ledger");
    let log = ledger.log();
    let key_line = log.verifier().to_string();
    let size = log.size().unwrap();

    let mut seeds = Seeds::new(&root);

    // One entry per event kind, as signed and re-signed with a test key.
    let mut kinds = BTreeSet::new();
    for i in 0..size {
        let bytes = log.entry(i).unwrap();
        let entry = Entry::from_bytes(&bytes).unwrap();
        let event = passport_schema::decode_canonical(entry.payload()).unwrap();
        let kind = format!("{:?}", event.kind()).to_lowercase();
        if !kinds.insert(kind.clone()) {
            continue;
        }
        seeds.put("cose_entry", &format!("{kind}.cose"), &bytes);
        let key = &fuzz::entry_keys()[kinds.len() % 3];
        let resigned = Entry::sign(key, entry.log(), entry.payload())
            .unwrap()
            .to_bytes()
            .unwrap();
        seeds.put("cose_entry", &format!("{kind}-test-key.cose"), &resigned);
        seeds.put("event_payload", &format!("{kind}.cbor"), entry.payload());
    }

    // Checkpoints: bare bodies and (key, note) pairs, ours and a test log's.
    let note = log.checkpoint().unwrap();
    let body = ledger::Checkpoint::parse_note_unverified(&note)
        .unwrap()
        .to_body();
    seeds.put("signed_note", "body.txt", body.as_bytes());
    seeds.put(
        "signed_note",
        "body-extension.txt",
        format!("{body}ext line\n").as_bytes(),
    );
    seeds.put(
        "signed_note",
        "checkpoint.txt",
        format!("{key_line}\n{note}").as_bytes(),
    );
    let test_log = log_signer("fuzz.cupass.example/log");
    let cp = ledger::Checkpoint {
        origin: "fuzz.cupass.example/log".into(),
        size: 7,
        root: [7; 32],
    };
    let test_note = cp.sign(&test_log).unwrap();
    let test_key_line = test_log.verifier().to_string();
    seeds.put(
        "signed_note",
        "test-log.txt",
        format!("{test_key_line}\n{test_note}").as_bytes(),
    );

    // Key strings.
    seeds.put("verifier_key", "log.pub", key_line.as_bytes());
    seeds.put("verifier_key", "test-log.pub", test_key_line.as_bytes());
    seeds.put(
        "verifier_key",
        "test-signer.key",
        test_log.to_secret_string().as_bytes(),
    );
    seeds.put(
        "verifier_key",
        "raw.bin",
        test_key(5).verifying_key().as_bytes(),
    );

    // Proofs: inclusion with its checkpoint, consistency, each with the key line.
    for index in [0, size / 2, size - 1] {
        let p = log.inclusion_proof(index, size).unwrap();
        let json = serde_json::to_string_pretty(&p).unwrap();
        seeds.put(
            "proof_json",
            &format!("inclusion-{index}.json"),
            format!("{key_line}\n{json}").as_bytes(),
        );
    }
    let p = log.inclusion_proof(1, size / 2).unwrap();
    seeds.put(
        "proof_json",
        "inclusion-old.json",
        serde_json::to_string(&p).unwrap().as_bytes(),
    );
    for (old, new) in [(1, size), (size / 3, size), (size - 1, size)] {
        let p = log.consistency_proof(old, new).unwrap();
        let json = serde_json::to_string(&p).unwrap();
        seeds.put(
            "proof_json",
            &format!("consistency-{old}-{new}.json"),
            json.as_bytes(),
        );
    }

    // The certificate's evidence bundle, bare and with the key line.
    let bundle = std::fs::read(demo.join("certificate.cupass")).unwrap();
    seeds.put("evidence_bundle", "certificate.cupass", &bundle);
    let mut with_key = format!("{key_line}\n").into_bytes();
    with_key.extend_from_slice(&bundle);
    seeds.put("evidence_bundle", "certificate-with-key.cupass", &with_key);

    // Analyser CSVs: every demo file, plus the export extras the parser skips.
    let mut csvs: Vec<PathBuf> = std::fs::read_dir(demo.join("readings"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    csvs.sort();
    for csv in csvs.iter().take(4) {
        let name = csv.file_name().unwrap().to_string_lossy().into_owned();
        seeds.put("readings_csv", &name, &std::fs::read(csv).unwrap());
    }
    seeds.put(
        "readings_csv",
        "export-extras.csv",
        b"Sample,Units,Cu,Cu +/-,Sn,Sn Err,Pb\nA1,%,99.52,0.02,0.31,0.01,0.0042\nA2,%,99.48,0.03,0.29,0.01,0.0051\n",
    );
    seeds.put(
        "readings_csv",
        "ppm.csv",
        b"spot,Cu,Zn\n1,995000.5,3000\n2,994000,3100.125\n",
    );

    drop(ledger);
    let _ = std::fs::remove_dir_all(&tmp);
    println!("wrote {} seeds under {}", seeds.count, root.display());
}

fn path(p: &Path) -> &str {
    p.to_str().expect("temporary paths are UTF-8")
}

/// Writes seed files, replacing the folder of each target it first touches.
struct Seeds {
    root: PathBuf,
    cleared: BTreeSet<&'static str>,
    count: usize,
}

impl Seeds {
    fn new(root: &Path) -> Self {
        Seeds {
            root: root.to_path_buf(),
            cleared: BTreeSet::new(),
            count: 0,
        }
    }

    fn put(&mut self, target: &'static str, name: &str, bytes: &[u8]) {
        let dir = self.root.join(target);
        if self.cleared.insert(target) {
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
        }
        std::fs::write(dir.join(name), bytes).unwrap();
        self.count += 1;
    }
}
