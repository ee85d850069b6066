//! Parsing helpers shared by the commands: ids, times, compositions, JSON files.

use std::path::Path;

use passport_schema::Composition;
use serde::de::DeserializeOwned;
use uuid::Uuid;

use crate::error::{CliError, Result};

/// Parses a UUID argument.
pub fn parse_id(s: &str, what: &str) -> Result<Uuid> {
    Uuid::parse_str(s.trim())
        .map_err(|_| CliError::usage(format!("{what} {s:?} is not a UUID (e.g. 0193a5b0-...)")))
}

/// Parses `ID` or `ID@VERSION`.
pub fn parse_versioned(s: &str, what: &str) -> Result<(Uuid, Option<u32>)> {
    match s.split_once('@') {
        Some((id, v)) => {
            let v: u32 = v.parse().map_err(|_| {
                CliError::usage(format!("{what} {s:?}: version {v:?} is not a number"))
            })?;
            Ok((parse_id(id, what)?, Some(v)))
        }
        None => Ok((parse_id(s, what)?, None)),
    }
}

/// Days since 1970-01-01 of a civil date (proleptic Gregorian).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Days in month `m` (1-12) of year `y` (proleptic Gregorian).
fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Parses a time: Unix milliseconds, `YYYY-MM-DD`, or
/// `YYYY-MM-DDTHH:MM[:SS][Z]` (always UTC). Impossible dates (2025-02-31)
/// are usage errors.
pub fn parse_time(s: &str) -> Result<i64> {
    let bad = || {
        CliError::usage(format!(
            "{s:?} is not a time: give Unix milliseconds or YYYY-MM-DD[THH:MM[:SS]Z] (UTC)"
        ))
    };
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        return s.parse().map_err(|_| bad());
    }
    let s2 = s.trim_end_matches('Z');
    let (date, time) = match s2.split_once('T') {
        Some((d, t)) => (d, Some(t)),
        None => (s2, None),
    };
    let parts: Vec<&str> = date.split('-').collect();
    let [y, m, d] = parts.as_slice() else {
        return Err(bad());
    };
    let num = |x: &str, lo: i64, hi: i64| -> Result<i64> {
        let n: i64 = x.parse().map_err(|_| bad())?;
        if n < lo || n > hi { Err(bad()) } else { Ok(n) }
    };
    let (y, m, d) = (num(y, 1970, 9999)?, num(m, 1, 12)?, num(d, 1, 31)?);
    if d > days_in_month(y, m) {
        return Err(CliError::usage(format!(
            "{s:?} is not a time: {y:04}-{m:02} has {} days",
            days_in_month(y, m)
        )));
    }
    let mut ms = days_from_civil(y, m, d) * 86_400_000;
    if let Some(t) = time {
        let tp: Vec<&str> = t.split(':').collect();
        let (h, mi, sec) = match tp.as_slice() {
            [h, mi] => (num(h, 0, 23)?, num(mi, 0, 59)?, 0),
            [h, mi, sec] => (num(h, 0, 23)?, num(mi, 0, 59)?, num(sec, 0, 60)?),
            _ => return Err(bad()),
        };
        ms += ((h * 60 + mi) * 60 + sec) * 1000;
    }
    Ok(ms)
}

/// Formats Unix ms as `YYYY-MM-DD HH:MM UTC`.
pub fn fmt_time(ms: i64) -> String {
    let days = ms.div_euclid(86_400_000);
    let rem = ms.rem_euclid(86_400_000) / 1000;
    // civil from days
    let z = days + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02} UTC",
        rem / 3600,
        (rem / 60) % 60
    )
}

/// Parses `Cu=999950,O=40` into a composition.
pub fn parse_composition(s: &str) -> Result<Composition> {
    let mut c = Composition::new();
    for part in s.split([',', ';']).filter(|p| !p.trim().is_empty()) {
        let (el, ppm) = part.split_once('=').ok_or_else(|| {
            CliError::usage(format!("composition {s:?}: {part:?} is not ELEMENT=PPM"))
        })?;
        let ppm: u32 = ppm.trim().parse().map_err(|_| {
            CliError::usage(format!(
                "composition {s:?}: {ppm:?} is not a whole number of ppm"
            ))
        })?;
        c = c.with(el.trim(), ppm);
    }
    Ok(c)
}

/// Reads a JSON file into `T`; errors name the file, the field path, line and column.
pub fn read_json<T: DeserializeOwned>(path: &Path) -> Result<T> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::usage(format!("cannot read {}: {e}", path.display())))?;
    let mut de = serde_json::Deserializer::from_str(&text);
    let v: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path_s = e.path().to_string();
        let at = if path_s == "." {
            String::new()
        } else {
            format!(" at {path_s}")
        };
        CliError::input(format!(
            "{}: invalid JSON{at}: {}",
            path.display(),
            e.inner()
        ))
    })?;
    de.end()
        .map_err(|e| CliError::input(format!("{}: trailing data: {e}", path.display())))?;
    Ok(v)
}

/// SHA-256 of an evidence file.
pub fn hash_file(path: &Path) -> Result<passport_schema::Bytes32> {
    let bytes = std::fs::read(path).map_err(|e| {
        CliError::usage(format!("cannot read evidence file {}: {e}", path.display()))
    })?;
    Ok(passport_schema::sha256(&bytes))
}

/// Parses a snake_case enum value (`melt`, `post_consumer`, ...) through serde.
pub fn parse_enum<T: DeserializeOwned>(s: &str, what: &str, choices: &str) -> Result<T> {
    let norm = s.trim().to_ascii_lowercase().replace('-', "_");
    serde_json::from_value(serde_json::Value::String(norm))
        .map_err(|_| CliError::usage(format!("{what} {s:?} is not one of: {choices}")))
}
