//! `cupass lot assay`: a measured composition, only from someone with no stake.

use crate::cli_support::*;

#[test]
fn an_assay_comes_from_a_lab_never_from_the_maker() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().join("ledger");
    let ds = s(&dir);
    cupass(&["--dir", &ds, "init", "--origin", "test.example/assay"]).ok();
    let op = s(&dir.join("operator.key"));
    let mut keys = Vec::new();
    for (name, role) in [("Refinery", "refiner"), ("Lab", "certifier")] {
        let k = s(&d.path().join(format!("{name}.key")));
        cupass(&["key", "new", "--name", name, "-o", &k]).ok();
        let pubf = format!("{k}.pub");
        register_actor(&ds, &op, name, &pubf, &[role]);
        keys.push(k);
    }
    let lot = cupass(&[
        "--dir",
        &ds,
        "--json",
        "lot",
        "register",
        "--key",
        &keys[0],
        "--mass-g",
        "1000000",
        "--origin",
        "CL",
        "--supplier",
        "Codelco",
        "--composition",
        "Cu=999950",
    ])
    .ok()
    .json()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let report = d.path().join("report.pdf");
    std::fs::write(&report, b"lab report").unwrap();
    // Calibrated a month ago (Unix ms), so the test never ages.
    let calibrated = (std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
        - 30 * 86_400_000)
        .to_string();
    let assay = |key: &str| {
        cupass(&[
            "--dir",
            &ds,
            "--json",
            "lot",
            "assay",
            "--key",
            key,
            "--lot",
            &lot,
            "--instrument",
            "oes",
            "--serial",
            "OES-9",
            "--calibrated",
            &calibrated,
            "--composition",
            "Cu=999960,O=4",
            "--evidence",
            &s(&report),
        ])
    };
    // The refinery made the lot: its figure is a declaration, refused.
    let o = assay(&keys[0]);
    assert_eq!(o.code, 1, "{}", o.stdout);
    assert_eq!(o.json()["error"], "assay_not_independent", "{}", o.stdout);
    // The lab's assay is recorded and becomes the lot's composition.
    assay(&keys[1]).ok();
    let v = cupass(&["--dir", &ds, "--json", "lot", "show", &lot])
        .ok()
        .json();
    assert_eq!(v["composition"]["elements_ppm"]["Cu"], 999_960, "{v:#}");
    let last = v["history"].as_array().unwrap().last().unwrap().clone();
    assert!(last["change"]["assayed"].is_object(), "{last:#}");
}
