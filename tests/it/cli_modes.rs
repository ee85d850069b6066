//! One scripted lifecycle through every command, in --dir mode and in
//! --node mode against a real node on 127.0.0.1:0: both modes must give
//! identical results for identical inputs. Also the main error paths in both.

use std::path::Path;

use serde_json::{Value, json};

use crate::cli_support::*;

const DAY_MS: i64 = 86_400_000;

/// The time every scripted event is dated: two days before the run, well
/// inside the log's 72-hour backdating window, the same in both modes.
pub fn at_ms() -> i64 {
    static AT: std::sync::OnceLock<i64> = std::sync::OnceLock::new();
    *AT.get_or_init(|| {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as i64;
        // Whole minutes, so every mode prints the same times.
        (now - 2 * DAY_MS) / 60_000 * 60_000
    })
}

/// A time `days` after [`at_ms`], as the CLI takes it (Unix ms).
pub fn day(days: i64) -> String {
    (at_ms() + days * DAY_MS).to_string()
}
pub const L1: &str = "01970000-0000-7000-8000-000000000001";
pub const L2: &str = "01970000-0000-7000-8000-000000000002";
pub const P1: &str = "01970000-0000-7000-8000-0000000000a1";
pub const P2: &str = "01970000-0000-7000-8000-0000000000a2";
pub const S1: &str = "01970000-0000-7000-8000-0000000000b1";
pub const S2: &str = "01970000-0000-7000-8000-0000000000b2";
pub const F1: &str = "01970000-0000-7000-8000-0000000000c1";
pub const F2: &str = "01970000-0000-7000-8000-0000000000c2";
pub const SCH: &str = "01970000-0000-7000-8000-0000000000d1";
pub const C1: &str = "01970000-0000-7000-8000-0000000000e1";
pub const K1: &str = "01970000-0000-7000-8000-0000000000f1";
pub const D1: &str = "01970000-0000-7000-8000-0000000000d9";
pub const S3: &str = "01970000-0000-7000-8000-0000000000b3";

/// Keys and input files shared by both modes.
pub struct World {
    pub dir: tempfile::TempDir,
}

impl World {
    pub fn new() -> World {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        for (name, file) in [
            ("Tongling Refinery", "r"),
            ("Tongling Cable", "m"),
            ("Tongling Cert", "x"),
            ("Anhui Grid", "u"),
        ] {
            cupass(&[
                "key",
                "new",
                "--name",
                name,
                "-o",
                &s(&d.join(format!("{file}.key"))),
            ])
            .ok();
        }
        let passport = |id: &str, serial: &str| {
            json!({
                "product": id, "name": "Copper busbar unit", "model": "PDU-400",
                "serial_or_batch": serial, "gs1_digital_link": null, "granularity": "item",
                "alloy": {"gb": "T2"}, "composition": {"elements_ppm": {"Cu": 999900}},
                "carbon_footprint": {"g_co2e_per_kg": 3100, "method": "iso14067",
                    "boundary": "cradle_to_gate", "third_party_verified": false},
                "conductivity_centi_iacs": 10100,
                "process_summary": [{"process": "assemble", "facility": "Plant 2", "country": "CN"}]
            })
        };
        std::fs::write(d.join("p1.json"), passport(P1, "SN-1").to_string()).unwrap();
        std::fs::write(d.join("p2.json"), passport(P2, "SN-2").to_string()).unwrap();
        let assemble = json!({
            "process": "assemble",
            "inputs": [{"material": L1, "mass_g": 9_000_000}],
            "outputs": [
                {"id": P1, "kind": "product", "mass_g": 4_000_000, "composition": null},
                {"id": P2, "kind": "product", "mass_g": 4_900_000, "composition": null}
            ],
            "losses_g": 100_000, "tolerance_g": 0
        });
        std::fs::write(d.join("assemble.json"), assemble.to_string()).unwrap();
        let refine = json!({
            "process": "refine",
            "inputs": [
                {"material": S1, "mass_g": 3_900_000},
                {"material": S2, "mass_g": 4_800_000},
                {"material": L2, "mass_g": 8_000_000}
            ],
            "outputs": [
                {"id": F1, "kind": "refined", "mass_g": 8_000_000, "composition": {"elements_ppm": {"Cu": 999970}}},
                {"id": F2, "kind": "refined", "mass_g": 8_000_000, "composition": {"elements_ppm": {"Cu": 999970}}}
            ],
            "losses_g": 700_000, "tolerance_g": 0
        });
        std::fs::write(d.join("refine.json"), refine.to_string()).unwrap();
        std::fs::write(d.join("berry.csv"), BERRY_CSV).unwrap();
        std::fs::write(d.join("birch.csv"), BIRCH_CSV).unwrap();
        std::fs::write(
            d.join("ticket.txt"),
            "weighbridge ticket WB-17: gross 4000 kg",
        )
        .unwrap();
        World { dir }
    }

    pub fn p(&self, f: &str) -> String {
        s(&self.dir.path().join(f))
    }
}

/// Runs `cupass MODE... --at AT --json ARGS` ([`at_ms`]).
pub fn run(mode: &[String], args: &[&str]) -> Out {
    let mut all: Vec<&str> = mode.iter().map(String::as_str).collect();
    let at = day(0);
    all.extend(["--at", at.as_str(), "--json"]);
    all.extend_from_slice(args);
    cupass(&all)
}

/// The lifecycle; returns every reading command's JSON, by name.
pub fn scenario(mode: &[String], op_key: &Path, w: &World) -> Vec<(String, Value)> {
    let op = s(op_key);
    let (r, m, x, u) = (w.p("r.key"), w.p("m.key"), w.p("x.key"), w.p("u.key"));
    let mut reads = Vec::new();
    let go = |args: &[&str]| run(mode, args).ok().json();
    for (name, key, roles) in [
        ("Tongling Refinery", &r, &["refiner", "recycler"][..]),
        ("Tongling Cable", &m, &["manufacturer"][..]),
        ("Tongling Cert", &x, &["certifier"][..]),
        ("Anhui Grid", &u, &["service"][..]),
    ] {
        let pubf = format!("{key}.pub");
        go(&[
            "actor",
            "register",
            "--key",
            &op,
            "--name",
            name,
            "--country",
            "CN",
            "--key-file",
            &pubf,
        ]);
        for role in roles {
            go(&[
                "actor", "grant", "--key", &op, "--actor", &pubf, "--role", role,
            ]);
        }
    }
    go(&[
        "lot",
        "register",
        "--key",
        &r,
        "--id",
        L1,
        "--mass-g",
        "10000000",
        "--origin",
        "CL",
        "--supplier",
        "Codelco",
        "--composition",
        "Cu=999950,O=40",
    ]);
    go(&["transfer", "--key", &r, L1, "--to", &format!("{m}.pub")]);
    let t = go(&["process", "--key", &m, &w.p("assemble.json")]);
    assert_eq!(t["outputs"][0]["id"], P1);
    go(&["passport", "issue", "--key", &m, &w.p("p1.json")]);
    go(&["passport", "issue", "--key", &m, &w.p("p2.json")]);
    // A use phase: delivered to the grid, installed there (post-consumer means used).
    go(&["transfer", "--key", &m, P1, "--to", &format!("{u}.pub")]);
    go(&[
        "service",
        "--key",
        &u,
        "--product",
        P1,
        "--kind",
        "install",
        "--note",
        "installed",
        "--evidence",
        &w.p("berry.csv"),
    ]);
    go(&[
        "service",
        "--key",
        &u,
        "--product",
        P1,
        "--kind",
        "decommission",
        "--note",
        "upgrade",
    ]);
    go(&[
        "retire",
        "--key",
        &u,
        "--product",
        P1,
        "--reason",
        "replaced",
    ]);
    go(&["transfer", "--key", &u, P1, "--to", &format!("{r}.pub")]);
    go(&[
        "scrap",
        "receive",
        "--key",
        &r,
        "--id",
        S1,
        "--gross-g",
        "4000000",
        "--tare-g",
        "100000",
        "--supplier",
        "Tongling Cable",
        "--supplier-country",
        "CN",
        "--source-passport",
        P1,
        "--evidence",
        &w.p("ticket.txt"),
    ]);
    go(&["rules", "publish", "--key", &x, "--isri-illustrative"]);
    let g = go(&[
        "scrap",
        "grade",
        "--key",
        &r,
        "--lot",
        S1,
        "--rules",
        &isri_id(),
        "--readings",
        &w.p("berry.csv"),
        "--instrument",
        "xrf",
        "--serial",
        "XRF-1",
        "--calibrated",
        &day(-31),
        "--visual",
        "oil=500",
    ]);
    assert_eq!(g["grading"]["grade"], "ISRI:Berry/Candy");
    go(&[
        "scrap",
        "receive",
        "--key",
        &r,
        "--id",
        S2,
        "--gross-g",
        "5000000",
        "--tare-g",
        "200000",
        "--supplier",
        "Wuhu Wire",
        "--supplier-country",
        "CN",
        "--origin-class",
        "pre_consumer",
        "--evidence",
        &w.p("ticket.txt"),
    ]);
    go(&[
        "scrap",
        "grade",
        "--key",
        &r,
        "--lot",
        S2,
        "--rules",
        &format!("{}@1", isri_id()),
        "--readings",
        &w.p("birch.csv"),
        "--instrument",
        "libs",
        "--serial",
        "LIBS-2",
        "--calibrated",
        &day(-31),
        "--expect",
        "ISRI:Birch/Cliff",
    ]);
    go(&[
        "lot",
        "register",
        "--key",
        &r,
        "--id",
        L2,
        "--mass-g",
        "8000000",
        "--origin",
        "CN",
        "--supplier",
        "Jinguan",
    ]);
    go(&["process", "--key", &r, &w.p("refine.json")]);
    go(&[
        "scheme",
        "publish",
        "--key",
        &x,
        "--id",
        SCH,
        "--name",
        "Tongling Recycled",
        "--min-recycled-share-ppm",
        "300000",
        "--limit",
        "Cu:999500:",
        "--accept-rule-set",
        &format!("{}@1", isri_id()),
    ]);
    let c = go(&[
        "cert",
        "issue",
        "--key",
        &x,
        "--scheme",
        SCH,
        "--subject",
        F1,
        "--id",
        C1,
    ]);
    assert!(c["claimed_recycled_share_ppm"].as_u64().unwrap() > 300_000);
    go(&[
        "contract",
        "propose",
        "--key",
        &r,
        "--id",
        K1,
        "--customer",
        &format!("{m}.pub"),
        "--kind",
        "refined",
        "--min-cu-ppm",
        "999500",
        "--start",
        &day(-151),
        "--end",
        &day(214),
        "--take-back-share-ppm",
        "0",
        "--grade-rules",
        &format!("{}@1", isri_id()),
        "--grade",
        "ISRI:Berry/Candy=30000",
        "--min-recycled-share-ppm",
        "300000",
    ]);
    go(&["contract", "accept", "--key", &m, K1]);
    go(&[
        "transfer",
        "--key",
        &r,
        F2,
        "--to",
        &format!("{m}.pub"),
        "--contract",
        K1,
    ]);
    // A take-back: the customer dispatches, the producer receives it.
    let d = go(&[
        "scrap",
        "dispatch",
        "--key",
        &m,
        "--id",
        D1,
        "--to",
        &format!("{r}.pub"),
        "--mass-g",
        "800000",
        "--description",
        "busbar offcuts",
        "--contract",
        K1,
    ]);
    assert_eq!(d["mass_g"], 800_000);
    let tb = go(&[
        "scrap",
        "receive",
        "--key",
        &r,
        "--id",
        S3,
        "--gross-g",
        "850000",
        "--tare-g",
        "48000",
        "--supplier",
        "Tongling Cable",
        "--supplier-country",
        "CN",
        "--supplier-kid",
        &format!("{m}.pub"),
        "--origin-class",
        "pre_consumer",
        "--contract",
        K1,
        "--dispatch",
        D1,
    ]);
    assert_eq!(tb["declared"], false);
    for (name, args) in [
        ("passport P1", vec!["passport", "show", P1]),
        ("passport P2", vec!["passport", "show", P2]),
        ("lot F1", vec!["lot", "show", F1]),
        ("lot S1", vec!["lot", "show", S1]),
        ("cert", vec!["cert", "status", C1]),
        ("audit", vec!["contract", "audit", K1]),
        // Every commit is closed by a status entry: event 12 is entry 24.
        ("entry 24", vec!["log", "entry", "24"]),
        ("lot S3", vec!["lot", "show", S3]),
    ] {
        reads.push((name.to_string(), go(&args)));
    }
    reads
}

/// Error paths; returns (exit code, error code) per case.
pub fn errors(mode: &[String], w: &World) -> Vec<(i32, String)> {
    let (m, x) = (w.p("m.key"), w.p("x.key"));
    let missing = w.p("nope.key");
    let bad_json = w.p("bad.json");
    std::fs::write(&bad_json, r#"{"product": "01970000-0000-7000-8000-0000000000a9", "name": "x", "model": "y",
        "serial_or_batch": "z", "gs1_digital_link": null, "granularity": "item", "alloy": {"gb": "T2"},
        "composition": {"elements_ppm": {"Cu": 999900}}, "carbon_footprint": {"g_co2e_per_kg": "heavy",
        "method": "iso14067", "boundary": "cradle_to_gate", "third_party_verified": false},
        "conductivity_centi_iacs": null, "process_summary": []}"#).unwrap();
    let lod = w.p("lod.csv");
    std::fs::write(&lod, "spot,Cu,Sn\n1,99.5,0.01\n2,99.4,<LOD\n").unwrap();
    let cases: Vec<Vec<String>> = vec![
        // missing key file
        vec![
            "lot",
            "register",
            "--key",
            &missing,
            "--mass-g",
            "1",
            "--origin",
            "CN",
            "--supplier",
            "s",
        ],
        // wrong key for the role: a manufacturer publishing a rule set
        vec!["rules", "publish", "--key", &m, "--isri-illustrative"],
        // malformed JSON
        vec!["passport", "issue", "--key", &m, &bad_json],
        // unknown ids
        vec!["passport", "show", "01970000-0000-7000-8000-00000000ffff"],
        vec!["cert", "status", "01970000-0000-7000-8000-00000000ffff"],
        vec!["contract", "audit", "01970000-0000-7000-8000-00000000ffff"],
        // bad CSV
        vec![
            "scrap",
            "grade",
            "--key",
            &x,
            "--lot",
            S1,
            "--rules",
            &isri_id(),
            "--readings",
            &lod,
            "--instrument",
            "xrf",
            "--serial",
            "s",
            "--calibrated",
            &day(-31),
        ],
        // a grade the rules would reject (stale calibration): refused before signing
        vec![
            "scrap",
            "grade",
            "--key",
            &x,
            "--lot",
            S1,
            "--rules",
            &isri_id(),
            "--readings",
            &w.p("berry.csv"),
            "--instrument",
            "xrf",
            "--serial",
            "s",
            "--calibrated",
            &day(-880),
            "--visual",
            "oil=500",
        ],
        // the rules refuse: the manufacturer no longer owns P1 (it was
        // transferred to the refinery), so transferring it again is not_owner
        vec!["transfer", "--key", &m, P1, "--to", &format!("{x}.pub")],
        // the rules refuse: only a service actor may be authorised to service
        // a product (the certifier holds no service role)
        vec![
            "service",
            "authorise",
            "--key",
            &m,
            "--product",
            P2,
            "--actor",
            &format!("{x}.pub"),
            "--until",
            &day(30),
        ],
    ]
    .into_iter()
    .map(|v| v.into_iter().map(String::from).collect())
    .collect();
    cases
        .iter()
        .map(|c| {
            let args: Vec<&str> = c.iter().map(String::as_str).collect();
            let o = run(mode, &args);
            let code = o
                .json()
                .get("error")
                .and_then(Value::as_str)
                .map(String::from)
                .unwrap_or_else(|| {
                    if o.json().get("signed") == Some(&json!(false)) {
                        "not_signed".into()
                    } else {
                        "?".into()
                    }
                });
            (o.code, code)
        })
        .collect()
}

fn expected_errors() -> Vec<(i32, String)> {
    [
        (2, "usage"),
        (1, "role_not_permitted"),
        (2, "bad_input"),
        (1, "not_found"),
        (1, "not_found"),
        (1, "not_found"),
        (2, "bad_input"),
        (1, "not_signed"),
        (1, "not_owner"),
        (1, "not_a_service_actor"),
    ]
    .into_iter()
    .map(|(c, s)| (c, s.to_string()))
    .collect()
}

#[test]
fn dir_and_node_modes_give_identical_results() {
    let w = World::new();
    // Local mode.
    let a = tempfile::tempdir().unwrap();
    let local = a.path().join("ledger");
    // Both logs have the same name: an entry names its log in its signed
    // header, so the same event signed for two differently named logs is
    // two entries, and the contract audit's proposal leaf hash would differ.
    cupass(&[
        "--dir",
        &s(&local),
        "init",
        "--origin",
        "test.example/modes",
    ])
    .ok();
    let mode_a = vec!["--dir".to_string(), s(&local)];
    let reads_a = scenario(&mode_a, &local.join("operator.key"), &w);
    let errs_a = errors(&mode_a, &w);
    // Node mode: a ledger created by `cupass init`, served by a real node.
    let b = tempfile::tempdir().unwrap();
    let served = b.path().join("ledger");
    cupass(&[
        "--dir",
        &s(&served),
        "init",
        "--origin",
        "test.example/modes",
    ])
    .ok();
    let node = TestNode::start(&served);
    let mode_b = vec!["--node".to_string(), node.url.clone()];
    let reads_b = scenario(&mode_b, &served.join("operator.key"), &w);
    let errs_b = errors(&mode_b, &w);

    assert_eq!(
        reads_a.len(),
        reads_b.len(),
        "--dir and --node gave a different number of results"
    );
    for ((name, va), (_, vb)) in reads_a.iter().zip(&reads_b) {
        assert_eq!(va, vb, "{name} differs between --dir and --node");
    }
    assert_eq!(errs_a, expected_errors(), "--dir error paths");
    assert_eq!(errs_a, errs_b, "error paths differ between modes");

    // Spot checks of the content.
    let cert = &reads_a[4].1;
    assert_eq!(cert["status"], "active");
    assert_eq!(cert["all_criteria_hold"], true);
    let audit = &reads_a[5].1;
    assert_eq!(audit["all_terms_hold"], true);
    assert_eq!(audit["delivered_g"], 8_000_000);
    let p1 = &reads_a[0].1;
    assert_eq!(p1["status"], "consumed");
    // The take-back is co-signed: the customer's dispatch, not a declaration.
    let s3 = &reads_a[7].1;
    assert_eq!(s3["declared"], false, "{s3}");
    assert!(s3["creation"]["scrap_receipt"]["dispatch"].is_u64(), "{s3}");
    assert_eq!(p1["service_history"].as_array().unwrap().len(), 2);

    // Bundles from both modes verify offline with their own log key, and
    // not with the other's.
    for (mode, dir) in [(&mode_a, &local), (&mode_b, &served)] {
        let f = dir.parent().unwrap().join("c1.cupass");
        let f_s = s(&f);
        let mut args: Vec<&str> = mode.iter().map(String::as_str).collect();
        args.extend(["cert", "bundle", C1, "-o", &f_s]);
        cupass(&args).ok();
        let v = cupass(&[
            "--json",
            "verify",
            &f_s,
            "--log-key",
            &s(&dir.join("log.pub")),
        ])
        .ok()
        .json();
        assert_eq!(v["valid"], true);
        let other = if dir == &local { &served } else { &local };
        let bad = cupass(&[
            "--json",
            "verify",
            &f_s,
            "--log-key",
            &s(&other.join("log.pub")),
        ]);
        assert_eq!(bad.code, 1);
        assert_eq!(bad.json()["checks"][0]["part"], "checkpoint");
    }

    // The log verifies in both modes, and the proofs check.
    let v = cupass(&["--dir", &s(&local), "--json", "log", "verify"])
        .ok()
        .json();
    assert_eq!(v["valid"], true);
    let v = cupass(&[
        "--node",
        &node.url,
        "--json",
        "log",
        "verify",
        "--log-key",
        &s(&served.join("log.pub")),
    ])
    .ok()
    .json();
    assert_eq!(v["valid"], true);
    assert_eq!(v["entries"], v["tree_size"]);
    for mode in [&mode_a, &mode_b] {
        let dir = if mode == &mode_a { &local } else { &served };
        let key = s(&dir.join("log.pub"));
        let mut args: Vec<&str> = mode.iter().map(String::as_str).collect();
        args.extend([
            "--json",
            "log",
            "proof",
            "inclusion",
            "--index",
            "5",
            "--log-key",
            &key,
        ]);
        assert_eq!(cupass(&args).ok().json()["verified"], true);
        let mut args: Vec<&str> = mode.iter().map(String::as_str).collect();
        args.extend(["--json", "log", "proof", "consistency", "--old", "7"]);
        assert_eq!(cupass(&args).ok().json()["verified"], true);
        let mut args: Vec<&str> = mode.iter().map(String::as_str).collect();
        args.extend(["--json", "log", "checkpoint", "--log-key", &key]);
        assert_eq!(cupass(&args).ok().json()["verified"], true);
    }
    // A node is never written through --dir while it serves: stop it first.
    drop(node);
}

#[test]
fn usage_and_help() {
    let h = cupass(&["--help"]);
    assert_eq!(h.code, 0);
    assert!(h.stdout.contains("cupass demo") && h.stdout.contains("Exit status"));
    let h = cupass(&["scrap", "grade", "--help"]);
    assert_eq!(h.code, 0);
    assert!(h.stdout.contains("spot,Cu,Sn,Pb,Zn,Fe"));
    assert_eq!(cupass(&["frobnicate"]).code, 2);
    assert_eq!(cupass(&["lot", "register", "--mass-g", "x"]).code, 2);
    let d = tempfile::tempdir().unwrap();
    // No ledger here: a usage error naming the fix.
    let o = cupass(&["--dir", &s(d.path()), "passport", "show", P1]);
    assert_eq!(o.code, 2);
    assert!(o.stderr.contains("init"), "{}", o.stderr);
    let o = cupass(&["--dir", &s(d.path()), "passport", "show", "not-a-uuid"]);
    assert_eq!(o.code, 2);
}

#[test]
fn keys_are_private_and_shown() {
    let d = tempfile::tempdir().unwrap();
    let k = d.path().join("org.key");
    let o = cupass(&[
        "--json",
        "key",
        "new",
        "--name",
        "Tongling Foil Co",
        "-o",
        &s(&k),
    ])
    .ok()
    .json();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&k).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    assert_eq!(o["kid"].as_str().unwrap().len(), 64);
    let shown = cupass(&["--json", "key", "show", &s(&k)]).ok().json();
    assert_eq!(shown["kid"], o["kid"]);
    let shown_pub = cupass(&["--json", "key", "show", &format!("{}.pub", s(&k))])
        .ok()
        .json();
    assert_eq!(shown_pub["public_key"], o["public_key"]);
    assert!(!cupass(&["key", "show", &s(&k)]).stdout.contains("PRIVATE"));
    // Refuses to overwrite.
    assert_eq!(cupass(&["key", "new", "--name", "x", "-o", &s(&k)]).code, 2);
}

#[test]
fn parse_time_rejects_impossible_dates() {
    use cli::time::parse_time;
    assert_eq!(parse_time("1970-01-02").unwrap(), 86_400_000);
    assert_eq!(
        parse_time("2024-02-29T00:00Z").unwrap(),
        parse_time("2024-03-01").unwrap() - 86_400_000
    );
    assert!(parse_time("2000-02-29").is_ok()); // divisible by 400: leap
    assert!(parse_time("2025-12-31T23:59:59Z").is_ok());
    for bad in [
        "2025-02-31",
        "2025-02-29",
        "1900-02-29",
        "2100-02-29",
        "2025-04-31",
        "2025-06-31T00:00Z",
        "2025-11-31",
        "2025-13-01",
        "2025-00-10",
    ] {
        let e = parse_time(bad).unwrap_err();
        assert_eq!(e.exit, 2, "{bad}");
        assert_eq!(e.code, "usage", "{bad}");
        assert!(e.message.contains(bad), "{bad}: {}", e.message);
    }
    // Through the command line: a usage error, nothing run.
    let d = tempfile::tempdir().unwrap();
    let o = cupass(&[
        "--dir",
        &s(d.path()),
        "--at",
        "2025-02-31",
        "passport",
        "show",
        P1,
    ]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(o.stderr.contains("2025-02 has 28 days"), "{}", o.stderr);
}
