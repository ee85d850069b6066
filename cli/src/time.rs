//! Times on the command line: `parse_time` for `--at` and friends, `fmt_time` for output (UTC).

use crate::error::{CliError, Result};

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

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400_000;

    #[test]
    fn unix_milliseconds_pass_through() {
        assert_eq!(parse_time("0").unwrap(), 0);
        assert_eq!(parse_time("1700000000000").unwrap(), 1_700_000_000_000);
        assert_eq!(fmt_time(0), "1970-01-01 00:00 UTC");
    }

    #[test]
    fn dates_and_times_parse_as_utc() {
        assert_eq!(parse_time("1970-01-02").unwrap(), DAY);
        assert_eq!(parse_time("1970-01-01T01:02Z").unwrap(), 3_720_000);
        assert_eq!(parse_time("1970-01-01T01:02:03").unwrap(), 3_723_000);
        assert_eq!(
            parse_time("2025-03-01").unwrap() - parse_time("2025-02-28").unwrap(),
            DAY
        );
        assert_eq!(
            parse_time("2024-03-01").unwrap() - parse_time("2024-02-29").unwrap(),
            DAY
        );
        assert_eq!(
            parse_time("2025-06-15T12:30Z").unwrap(),
            parse_time("2025-06-15").unwrap() + (12 * 60 + 30) * 60_000
        );
    }

    #[test]
    fn fmt_parse_round_trip() {
        for s in [
            "1970-01-01 00:00 UTC",
            "1999-12-31 23:59 UTC",
            "2000-02-29 12:00 UTC",
            "2024-02-29 00:01 UTC",
            "2025-12-31 23:59 UTC",
            "2100-03-01 06:45 UTC",
            "9999-12-31 23:59 UTC",
        ] {
            let arg = s.trim_end_matches(" UTC").replacen(' ', "T", 1) + "Z";
            let ms = parse_time(&arg).unwrap();
            assert_eq!(fmt_time(ms), s, "{arg}");
        }
        // Every day over several leap cycles, at a time that is not midnight.
        let start = parse_time("1996-01-01T07:08Z").unwrap();
        for day in 0..(9 * 366) {
            let ms = start + day * DAY;
            let shown = fmt_time(ms);
            let arg = shown.trim_end_matches(" UTC").replacen(' ', "T", 1) + "Z";
            assert_eq!(parse_time(&arg).unwrap(), ms, "{shown}");
        }
    }

    #[test]
    fn fmt_time_drops_seconds_and_handles_before_1970() {
        assert_eq!(fmt_time(59_999), "1970-01-01 00:00 UTC");
        assert_eq!(fmt_time(-1), "1969-12-31 23:59 UTC");
        assert_eq!(fmt_time(-DAY), "1969-12-31 00:00 UTC");
    }

    #[test]
    fn impossible_dates_are_usage_errors() {
        for bad in [
            "2025-02-29",
            "2025-02-31",
            "2100-02-29",
            "2025-04-31",
            "2025-09-31",
            "2025-11-31",
        ] {
            let e = parse_time(bad).unwrap_err();
            assert_eq!(e.code, "usage", "{bad}");
            assert!(e.message.contains("days"), "{bad}: {}", e.message);
        }
        assert!(parse_time("2000-02-29").is_ok());
        assert!(parse_time("2024-02-29").is_ok());
    }

    #[test]
    fn malformed_times_are_usage_errors() {
        for bad in [
            "",
            "yesterday",
            "2025-13-01",
            "2025-00-10",
            "2025-01-00",
            "1969-12-31",
            "1900-02-29",
            "2025-01",
            "2025-01-01-01",
            "2025-01-01T24:00Z",
            "2025-01-01T12:60Z",
            "2025-01-01T12Z",
            "2025-01-01T12:00:61Z",
            "-5",
        ] {
            let e = parse_time(bad).unwrap_err();
            assert_eq!(e.code, "usage", "{bad:?}");
            assert!(
                e.message.contains("is not a time"),
                "{bad:?}: {}",
                e.message
            );
        }
    }
}
