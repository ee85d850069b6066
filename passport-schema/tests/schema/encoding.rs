//! Canonical payloads, untrusted input and the JSON form.

use passport_schema::*;
use serde::Serialize;
use uuid::Uuid;

use crate::common::*;

fn sample() -> Event {
    Event::new(
        T0,
        TransformationBuilder::new(Process::Melt)
            .input(Uuid::now_v7(), 1_000)
            .output(MaterialKind::Intermediate, 1_000)
            .build(),
    )
}

fn find(h: &[u8], n: &[u8]) -> usize {
    h.windows(n.len()).position(|w| w == n).unwrap()
}

#[test]
fn canonical_round_trip() {
    let ev = sample();
    let b = encode(&ev).unwrap();
    assert_eq!(decode_canonical(&b).unwrap(), ev);
    assert_eq!(b[0], 0xa3, "definite map of 3 fields");
}

#[test]
fn non_shortest_integer_rejected() {
    let b = encode(&sample()).unwrap();
    let key = b"\x66schema\x03";
    let at = find(&b, key);
    let mut bad = b[..at + 7].to_vec();
    bad.extend_from_slice(&[0x18, 0x03]); // 3 as a one-byte-argument uint
    bad.extend_from_slice(&b[at + 8..]);
    assert_eq!(decode_canonical(&bad), Err(Error::NonCanonicalPayload));
}

#[test]
fn trailing_bytes_rejected() {
    let mut b = encode(&sample()).unwrap();
    b.push(0x00);
    assert_eq!(decode_canonical(&b), Err(Error::NonCanonicalPayload));
}

#[test]
fn indefinite_length_map_rejected() {
    let b = encode(&sample()).unwrap();
    let mut bad = vec![0xbf];
    bad.extend_from_slice(&b[1..]);
    bad.push(0xff);
    assert_eq!(decode_canonical(&bad), Err(Error::NonCanonicalPayload));
}

#[derive(Serialize)]
struct Reordered<'a> {
    occurred_ms: i64,
    schema: u16,
    body: &'a EventBody,
}

#[derive(Serialize)]
struct Extra<'a> {
    schema: u16,
    occurred_ms: i64,
    body: &'a EventBody,
    note: &'a str,
}

#[test]
fn reordered_keys_rejected() {
    let ev = sample();
    let b = cbor4ii::serde::to_vec(
        Vec::new(),
        &Reordered {
            occurred_ms: ev.occurred_ms,
            schema: ev.schema,
            body: &ev.body,
        },
    )
    .unwrap();
    assert_eq!(decode_canonical(&b), Err(Error::NonCanonicalPayload));
}

#[test]
fn unknown_field_rejected() {
    let ev = sample();
    let b = cbor4ii::serde::to_vec(
        Vec::new(),
        &Extra {
            schema: ev.schema,
            occurred_ms: ev.occurred_ms,
            body: &ev.body,
            note: "x",
        },
    )
    .unwrap();
    match decode_canonical(&b) {
        Err(Error::Decode { message }) => assert!(message.contains("note"), "{message}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn unsupported_schema_rejected() {
    let mut ev = sample();
    ev.schema = 9;
    let b = encode(&ev).unwrap();
    assert!(matches!(
        decode_canonical(&b),
        Err(Error::UnsupportedSchema { found: 9, .. })
    ));
}

#[test]
fn huge_length_prefixes_fail_without_allocating() {
    let b = encode(&sample()).unwrap();
    // `inputs` array of 1 element -> claim 2^64-1 elements.
    let at = find(&b, b"\x66inputs\x81") + 7;
    let mut bad = b[..at].to_vec();
    bad.extend_from_slice(&[0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
    bad.extend_from_slice(&b[at + 1..]);
    assert!(matches!(decode_canonical(&bad), Err(Error::Decode { .. })));
    // Top-level map and byte string with absurd lengths.
    for p in [
        vec![0xbb, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
        vec![0x5b, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
        vec![0x7b, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x61],
    ] {
        assert!(
            matches!(decode_canonical(&p), Err(Error::Decode { .. })),
            "{p:x?}"
        );
    }
}

#[test]
fn deep_nesting_and_garbage_fail_cleanly() {
    let deep = vec![0x81u8; 60_000];
    assert!(matches!(decode_canonical(&deep), Err(Error::Decode { .. })));
    let deep_maps: Vec<u8> = std::iter::repeat_n([0xa1u8, 0x61, 0x61], 20_000)
        .flatten()
        .collect();
    assert!(matches!(
        decode_canonical(&deep_maps),
        Err(Error::Decode { .. })
    ));
    assert!(matches!(decode_canonical(&[]), Err(Error::Decode { .. })));
    // A float where an integer belongs.
    let b = encode(&sample()).unwrap();
    let at = find(&b, b"\x66schema\x03") + 7;
    let mut f = b[..at].to_vec();
    f.extend_from_slice(&[0xf9, 0x3c, 0x00]); // half-float 1.0
    f.extend_from_slice(&b[at + 1..]);
    assert!(decode_canonical(&f).is_err());
}

#[test]
fn payload_size_limit() {
    let big = vec![0u8; MAX_PAYLOAD_BYTES + 1];
    assert!(matches!(
        decode_canonical(&big),
        Err(Error::PayloadTooLarge { .. })
    ));
}

#[test]
fn json_round_trip_and_shape() {
    let ev = sample();
    let j = to_json(&ev).unwrap();
    assert!(j.contains("\"transform\""));
    assert_eq!(from_json(&j).unwrap(), ev);
}

#[test]
fn json_errors_name_the_field() {
    let j = to_json(&sample()).unwrap();
    let bad = j.replacen("\"mass_g\": 1000", "\"mass_g\": \"heavy\"", 1);
    match from_json(&bad) {
        Err(Error::Json { path, message }) => {
            assert_eq!(path, "body.transform.inputs[0].mass_g");
            assert!(message.contains("line"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    let unknown = j.replacen("\"losses_g\"", "\"lossez_g\"", 1);
    match from_json(&unknown) {
        Err(Error::Json { path, message }) => {
            assert!(path.starts_with("body.transform"), "{path}");
            assert!(message.contains("lossez_g"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        from_json(&format!("{j} x")),
        Err(Error::Json { .. })
    ));
}

#[test]
fn isri_file_is_the_publication_body_and_says_illustrative() {
    let rs = isri_illustrative_rule_set().unwrap();
    assert!(rs.note.contains("ILLUSTRATIVE") && rs.note.contains("NOT the published"));
    let codes: Vec<&str> = rs.grades.iter().map(|g| g.code.as_str()).collect();
    assert_eq!(
        codes,
        [
            "ISRI:Barley",
            "ISRI:Berry/Candy",
            "ISRI:Birch/Cliff",
            "ISRI:Dream"
        ]
    );
    let birch = &rs.grades[2];
    assert_eq!((birch.nominal_cu_ppm, birch.min_cu_ppm), (960_000, 940_000));
    let dream = &rs.grades[3];
    assert_eq!((dream.nominal_cu_ppm, dream.min_cu_ppm), (920_000, 880_000));
    // As an event body it survives the canonical round trip.
    let ev = Event::new(T0, rs);
    assert_eq!(decode_canonical(&encode(&ev).unwrap()).unwrap(), ev);
}

#[test]
fn grading_picks_by_precedence() {
    let rs = isri();
    let g = |cu: u32| {
        GradingBuilder::new(Uuid::nil(), isri_ref(), Instrument::Xrf, "s", 0)
            .reading("Cu", cu, 3)
            .reading("Sn", 100, 3)
            .reading("Pb", 100, 3)
            .reading("Zn", 100, 3)
            .reading("Fe", 100, 3)
            .build()
    };
    let code = |cu| {
        let x = g(cu);
        grading::compute_grade(&rs, &x.readings, &x.visual_ppm).map(|g| g.code.clone())
    };
    assert_eq!(code(996_000).as_deref(), Some("ISRI:Barley"));
    assert_eq!(code(950_000).as_deref(), Some("ISRI:Birch/Cliff"));
    assert_eq!(code(890_000).as_deref(), Some("ISRI:Dream"));
    assert_eq!(code(870_000), None);
}
