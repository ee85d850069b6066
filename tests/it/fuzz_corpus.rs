//! The fuzz targets' inputs as a stable `cargo test`: every committed seed,
//! corpus file and crash reproducer under `fuzz/` goes through the same body
//! the fuzzer runs (`cupass_tests::fuzz`).

use std::path::{Path, PathBuf};

use cupass_tests::fuzz::TARGETS;

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz")
}

/// Files directly in `dir`, sorted; none if it does not exist.
fn files(dir: &Path) -> Vec<PathBuf> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut v: Vec<PathBuf> = rd
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    v.sort();
    v
}

#[test]
fn every_committed_fuzz_input_passes_its_target() {
    let root = fuzz_dir();
    for (name, body) in TARGETS {
        let seeds = files(&root.join("seeds").join(name));
        assert!(
            !seeds.is_empty(),
            "{name}: no seeds under fuzz/seeds/{name}"
        );
        let mut inputs = seeds;
        inputs.extend(files(&root.join("corpus").join(name)));
        inputs.extend(files(&root.join("regressions").join(name)));
        for path in &inputs {
            let data = std::fs::read(path).unwrap();
            let run = std::panic::catch_unwind(|| body(&data));
            assert!(run.is_ok(), "{name}: {} fails its target", path.display());
        }
        eprintln!("{name}: {} inputs", inputs.len());
    }
}

#[test]
fn every_target_has_a_fuzz_binary() {
    for (name, _) in TARGETS {
        let src = fuzz_dir().join("fuzz_targets").join(format!("{name}.rs"));
        let text = std::fs::read_to_string(&src).unwrap();
        assert!(
            text.contains(&format!("cupass_tests::fuzz::{name}(data)")),
            "{} does not call its body",
            src.display()
        );
    }
}

/// The seeds reach the success paths, not only the rejections: otherwise the
/// fuzzer would start from inputs that all fail at the first check.
#[test]
fn seeds_reach_the_success_paths() {
    let seeds = fuzz_dir().join("seeds");
    let read = |t: &str, f: &str| std::fs::read(seeds.join(t).join(f)).unwrap();

    let entry = ledger::Entry::from_bytes(&read("cose_entry", "genesis.cose")).unwrap();
    assert!(passport_schema::decode_canonical(entry.payload()).is_ok());

    let note = String::from_utf8(read("signed_note", "checkpoint.txt")).unwrap();
    let (key, note) = note.split_once('\n').unwrap();
    let key = ledger::NoteVerifier::parse(key).unwrap();
    assert!(ledger::Checkpoint::open(note, &key).is_ok());

    let proof = String::from_utf8(read("proof_json", "inclusion-0.json")).unwrap();
    let (key, json) = proof.split_once('\n').unwrap();
    let key = ledger::NoteVerifier::parse(key).unwrap();
    let proof: ledger::InclusionProof = serde_json::from_str(json).unwrap();
    assert!(proof.verify(&key).is_ok());

    let bundle = read("evidence_bundle", "certificate.cupass");
    let parsed = client::bundle::EvidenceBundle::from_cbor(&bundle).unwrap();
    let key = ledger::NoteVerifier::parse(&parsed.log_key).unwrap();
    let verdict = client::bundle::verify_bundle(&bundle, &key);
    assert!(verdict.valid, "{:?}", verdict.failure());

    let csv = String::from_utf8(read("readings_csv", "export-extras.csv")).unwrap();
    let avg = cli::readings::parse(&csv, "seed", cli::readings::Unit::Percent).unwrap();
    assert_eq!(avg.spots, 2);
}

/// The bundle's log key must be the canonical spelling: the same key with
/// its key id in upper case (which `NoteVerifier::parse` accepts, as Go
/// does) is a changed bundle, and verification says so.
#[test]
fn a_bundle_naming_its_key_in_another_spelling_fails() {
    let bytes = std::fs::read(fuzz_dir().join("seeds/evidence_bundle/certificate.cupass")).unwrap();
    let mut bundle = client::bundle::EvidenceBundle::from_cbor(&bytes).unwrap();
    let key = ledger::NoteVerifier::parse(&bundle.log_key).unwrap();
    let upper = cupass_tests::respell_key_id(&bundle.log_key, str::to_ascii_uppercase);
    assert_ne!(upper, bundle.log_key, "seed key id has no hex letter");
    assert_eq!(ledger::NoteVerifier::parse(&upper).unwrap(), key);
    bundle.log_key = upper;
    let verdict = client::bundle::verify_bundle(&bundle.to_cbor().unwrap(), &key);
    let failure = verdict.failure().expect("a respelled key must fail");
    assert_eq!(failure.part, client::verify::Part::Checkpoint);
}
