//! The analyser CSV: averaging and strict errors with row and column.

use cli::readings::{Unit, parse};

use crate::cli_support::BERRY_CSV;

#[test]
fn averages_spots_exactly() {
    let a = parse(BERRY_CSV, "t.csv", Unit::Percent).unwrap();
    assert_eq!(a.spots, 5);
    // (99.52 + 99.48 + 99.55 + 99.50 + 99.53) / 5 = 99.516 % = 995,160 ppm
    assert_eq!(a.mean_ppm["Cu"], 995_160);
    // (0.015 + 0.012 + 0.014 + 0.016 + 0.013) / 5 = 0.014 % = 140 ppm
    assert_eq!(a.mean_ppm["Pb"], 140);
    let p = parse("Cu,Sn\n995000.5,12\n995001,13\n", "p.csv", Unit::Ppm).unwrap();
    assert_eq!(p.mean_ppm["Cu"], 995_000); // 995000.75: Cu is floored
    assert_eq!(p.mean_ppm["Sn"], 13); // 12.5 rounds up
}

#[test]
fn cu_mean_is_floored_never_lifted_onto_a_minimum() {
    // 999,899.5 ppm would round half up onto a 999,900 minimum.
    let p = parse("Cu,Sn\n999899,1\n999900,2\n", "p.csv", Unit::Ppm).unwrap();
    assert_eq!(p.mean_ppm["Cu"], 999_899);
    assert_eq!(p.mean_ppm["Sn"], 2); // 1.5: the other elements round half up
    // Percent: (99.9899 + 99.9900) / 2 = 99.98995 %.
    let p = parse("Cu\n99.9899\n99.9900\n", "p.csv", Unit::Percent).unwrap();
    assert_eq!(p.mean_ppm["Cu"], 999_899);
    // A mean just below a whole ppm stays below it.
    let p = parse("Cu\n1.999\n1.999\n1.999\n", "p.csv", Unit::Ppm).unwrap();
    assert_eq!(p.mean_ppm["Cu"], 1);
}

#[test]
fn ignores_known_metadata_and_uncertainty_columns() {
    let text = "Date,Time,Sample,ID,Operator,Mode,Duration,Units,Cu,Cu +/-,Sn,Sn Err,Pb,Pb±,Zn,Zn Error\n\
        2025-05-30,10:01:02,Lot 17,A-1,li,Alloy Plus,10.0 s,%,99.52,0.05,0.04,0.01,0.015,0.003,0.06,0.01\n\
        2025-05-30,10:01:20,Lot 17,A-2,li,Alloy Plus,10.0 s,%,99.48,0.05,0.05,0.01,0.012,0.003,0.07,0.01\n";
    let a = parse(text, "export.csv", Unit::Percent).unwrap();
    assert_eq!(a.spots, 2);
    assert_eq!(a.elements, ["Cu", "Sn", "Pb", "Zn"]);
    assert_eq!(a.mean_ppm["Cu"], 995_000);
    assert_eq!(a.mean_ppm["Sn"], 450);
    // Names and suffixes case-insensitive (the element symbol as written),
    // with or without a space or underscore.
    let a = parse(
        "spot,DATE,operator,Cu,Cu_err,CuSD\n1,x,y,99.5,0.1,0.1\n",
        "export.csv",
        Unit::Percent,
    )
    .unwrap();
    assert_eq!(a.elements, ["Cu"]);
    // Metadata cells are never read: blanks there are fine.
    let a = parse("Sample,Cu\n,99.5\n", "export.csv", Unit::Percent).unwrap();
    assert_eq!(a.mean_ppm["Cu"], 995_000);
    // A Units cell that contradicts --unit is refused with its row and column.
    let e = parse("spot,Units,Cu\n1,ppm,99.5\n", "export.csv", Unit::Percent).unwrap_err();
    assert_eq!(e.exit, 2);
    assert!(
        e.message.contains("row 2 (spot 1), column 2 (Units)"),
        "{}",
        e.message
    );
}

#[test]
fn refuses_bad_files_naming_row_and_column() {
    let cases = [
        (
            "spot,Cu,Sn\n1,99.5,0.01\n2,99.4,<LOD\n",
            "row 3 (spot 2), column 3 (Sn)",
        ),
        ("spot,Cu,Sn\n1,99.5,\n", "column 3 (Sn): empty cell"),
        ("spot,Cu,Sn\n1,99.5,-0.1\n", "column 3 (Sn)"),
        ("spot,Cu,Temp\n1,99.5,20\n", "column 3 (\"Temp\")"),
        // Unknown columns stay refused, even next to ignored ones.
        (
            "Date,Cu,Cu +/-,Grade\nx,99.5,0.1,B\n",
            "column 4 (\"Grade\")",
        ),
        (
            "spot,Cu,Cu Uncert\n1,99.5,0.1\n",
            "column 3 (\"Cu Uncert\")",
        ),
        ("spot,Cu,Cu\n1,99.5,99.5\n", "element appears twice"),
        ("spot,Cu\n", "no readings"),
        ("spot,Cu,Sn\n1,99.5\n", "record"),
        ("spot,Cu\n1,100.1\n", "exceeds 100"),
        ("spot,Cu\n1,99.12345\n", "more than 4 decimals"),
        ("spot\n1\n", "no element columns"),
    ];
    for (text, want) in cases {
        let e = parse(text, "gun.csv", Unit::Percent).unwrap_err();
        assert_eq!(e.exit, 2, "{text}");
        assert!(e.message.contains(want), "{text:?}: {}", e.message);
        assert!(e.message.starts_with("gun.csv: "), "{}", e.message);
    }
}
