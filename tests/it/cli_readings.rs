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
    assert_eq!(p.mean_ppm["Cu"], 995_001); // 995000.75 rounds half up
    assert_eq!(p.mean_ppm["Sn"], 13); // 12.5 rounds up
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
