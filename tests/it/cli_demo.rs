//! `cupass demo` end to end, then its outputs through the binary.

use crate::cli_support::*;

#[test]
fn demo_end_to_end() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("demo");
    let o = cupass(&["--json", "demo", "--out", &s(&out), "--passports", "200"]).ok();
    let j = o.json();
    assert_eq!(j["passports"], 200);
    assert_eq!(j["counts"]["issue_passport"], 200);
    assert!(j["counts"]["service"].as_u64().unwrap() >= 400);
    assert_eq!(j["counts"]["issue_certificate"], 1);
    assert_eq!(j["verdict"]["valid"], true);
    assert_eq!(
        j["refused_certificate"]["error"],
        "certificate_criterion_failed"
    );
    assert!(
        j["refused_certificate"]["message"]
            .as_str()
            .unwrap()
            .contains("off-grade")
    );
    assert_eq!(j["contract_audit"]["all_terms_hold"], true);
    assert!(j["recycled_share_ppm"].as_u64().unwrap() >= 300_000);
    let grades = j["grades"].as_object().unwrap();
    assert!(grades.values().any(|g| g.is_null()), "one lot is off-grade");
    assert!(std::fs::read_dir(out.join("readings")).unwrap().count() >= 7);

    // The files it names work with the binary, offline.
    let bundle = s(&out.join("certificate.cupass"));
    let key = s(&out.join("ledger/log.pub"));
    let v = cupass_process(&["verify", &bundle, "--log-key", &key]);
    assert_eq!(v.code, 0, "{}{}", v.stdout, v.stderr);
    assert!(v.stdout.contains("VALID"));
    // The whole log replays.
    let ledger = s(&out.join("ledger"));
    let lv = cupass(&["--dir", &ledger, "--json", "log", "verify"])
        .ok()
        .json();
    assert_eq!(lv["valid"], true);
    assert_eq!(lv["entries"], j["entries"]);
    // The human report says what was recorded and where the files are.
    let o = cupass(&["demo", "--out", &s(&out), "--passports", "200"]).ok();
    for want in [
        "What was recorded",
        "REFUSED",
        "Circular performance contract",
        "VALID",
        "Files",
    ] {
        assert!(o.stdout.contains(want), "missing {want:?}");
    }
}

#[test]
fn demo_refuses_to_wipe_what_it_did_not_create() {
    let d = tempfile::tempdir().unwrap();
    // A directory with someone's files in it: refused, untouched.
    let mine = d.path().join("mine");
    std::fs::create_dir(&mine).unwrap();
    std::fs::write(mine.join("thesis.tex"), "precious").unwrap();
    let o = cupass(&["demo", "--out", &s(&mine), "--passports", "20"]);
    assert_eq!(o.code, 2, "{}{}", o.stdout, o.stderr);
    assert!(o.stderr.contains("refusing to wipe"), "{}", o.stderr);
    assert!(o.stderr.contains(".cupass-demo"), "{}", o.stderr);
    assert_eq!(
        std::fs::read_to_string(mine.join("thesis.tex")).unwrap(),
        "precious"
    );
    assert_eq!(std::fs::read_dir(&mine).unwrap().count(), 1);
    // A file: refused, untouched.
    let file = d.path().join("file");
    std::fs::write(&file, "x").unwrap();
    let o = cupass(&["--json", "demo", "--out", &s(&file), "--passports", "20"]);
    assert_eq!(o.code, 2);
    assert_eq!(o.json()["error"], "usage");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "x");
    // Out-of-range passport counts are usage errors.
    for n in ["0", "10", "30", "500"] {
        assert_eq!(
            cupass(&["demo", "--out", &s(&d.path().join("n")), "--passports", n]).code,
            2,
            "{n}"
        );
    }
    assert!(!d.path().join("n").exists());
}

/// The README's main job is the demo at its default size (240 passports):
/// its larger scrap share once made the refining claim more copper than
/// the anodes held, which the 200-passport runs above did not reach.
#[test]
fn the_default_demo_the_readme_runs_is_valid() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("demo");
    let j = cupass(&["--json", "demo", "--out", &s(&out)]).ok().json();
    assert_eq!(j["passports"], 240, "{j:#}");
    assert_eq!(j["verdict"]["valid"], true, "{j:#}");
    let v = cupass(&["--dir", &s(&out.join("ledger")), "--json", "log", "verify"])
        .ok()
        .json();
    assert_eq!(v["valid"], true, "{v:#}");
}
