//! Output: aligned tables, verdict lines, optional colour, and the [`Report`] every command returns.
//!
//! A [`Report`] holds a command's JSON form and its text form.

use serde_json::Value;

use crate::error::EXIT_OK;

/// What a command produced: one JSON value for `--json`, text for people,
/// and the exit status.
#[derive(Debug, Clone)]
pub struct Report {
    /// The `--json` output.
    pub json: Value,
    /// The human output (already formatted, may hold colour codes).
    pub text: String,
    /// Exit status (0 unless the command found something invalid).
    pub exit: i32,
}

impl Report {
    /// A successful report.
    pub fn new(json: Value, text: String) -> Self {
        Report {
            json,
            text,
            exit: EXIT_OK,
        }
    }
}

/// Colour, only when writing to a terminal.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    /// Whether to emit ANSI colour codes.
    pub color: bool,
}

impl Style {
    fn paint(&self, code: &str, s: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
    /// Green.
    pub fn good(&self, s: &str) -> String {
        self.paint("32", s)
    }
    /// Red.
    pub fn bad(&self, s: &str) -> String {
        self.paint("31", s)
    }
    /// Bold.
    pub fn bold(&self, s: &str) -> String {
        self.paint("1", s)
    }
    /// Dim.
    pub fn dim(&self, s: &str) -> String {
        self.paint("2", s)
    }
    /// A verdict mark: `✓` or `✗`.
    pub fn mark(&self, ok: bool) -> String {
        if ok {
            self.good("✓")
        } else {
            self.bad("✗")
        }
    }
    /// `PASS` or `FAIL`.
    pub fn pass_fail(&self, ok: bool) -> String {
        if ok {
            self.good("PASS")
        } else {
            self.bad("FAIL")
        }
    }
}

/// Visible width of a string (ignores ANSI escape codes).
fn width(s: &str) -> usize {
    let mut n = 0;
    let mut in_esc = false;
    for c in s.chars() {
        if in_esc {
            if c == 'm' {
                in_esc = false;
            }
        } else if c == '\x1b' {
            in_esc = true;
        } else {
            n += 1;
        }
    }
    n
}

/// An aligned text table.
#[derive(Debug, Default)]
pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column headings.
    pub fn new(header: &[&str]) -> Self {
        Table {
            header: header.iter().map(|s| s.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    /// Adds a row.
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// Renders with two spaces between columns; numbers are not special-cased.
    pub fn render(&self) -> String {
        let cols = self
            .rows
            .iter()
            .map(Vec::len)
            .chain(std::iter::once(self.header.len()))
            .max()
            .unwrap_or(0);
        let mut widths = vec![0usize; cols];
        for row in std::iter::once(&self.header).chain(self.rows.iter()) {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(width(cell));
            }
        }
        let mut out = String::new();
        let line = |row: &Vec<String>, out: &mut String| {
            let mut s = String::new();
            for (i, (cell, w)) in row.iter().zip(&widths).enumerate() {
                s.push_str(cell);
                if i + 1 < row.len() {
                    s.push_str(&" ".repeat(w - width(cell) + 2));
                }
            }
            out.push_str(s.trim_end());
            out.push('\n');
        };
        if !self.header.is_empty() {
            line(&self.header, &mut out);
            let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
            line(&rule, &mut out);
        }
        for r in &self.rows {
            line(r, &mut out);
        }
        out
    }
}

/// Key/value lines, aligned.
pub fn fields(pairs: &[(&str, String)]) -> String {
    let w = pairs.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    let mut out = String::new();
    for (k, v) in pairs {
        out.push_str(&format!("{k:<w$}  {v}\n"));
    }
    out
}

/// ppm as a percentage with four decimals: `436619` -> `43.6619 %`.
pub fn pct(ppm: u64) -> String {
    format!("{}.{:04} %", ppm / 10_000, ppm % 10_000)
}

/// Grams with thousands separators and a tonne figure for big masses.
pub fn grams(g: u64) -> String {
    let s = g.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if g >= 1_000_000 {
        format!(
            "{out} g ({}.{:03} t)",
            g / 1_000_000,
            (g % 1_000_000) / 1_000
        )
    } else {
        format!("{out} g")
    }
}

/// A short form of a 64-hex key id for tables: the first 12 digits.
pub fn short(hex: &str) -> String {
    hex.get(..12)
        .map_or_else(|| hex.to_string(), |s| format!("{s}…"))
}

/// The serde name of an enum value (`active`, `post_consumer`, ...), as
/// the JSON form spells it.
pub fn name<T: serde::Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => "-".into(),
    }
}

/// A list of entry indices as `12, 15, 19`, or `-`.
pub fn indices(v: &[u64]) -> String {
    if v.is_empty() {
        return "-".into();
    }
    v.iter().map(u64::to_string).collect::<Vec<_>>().join(", ")
}

/// An optional value, or `-`.
pub fn or_dash<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map_or_else(|| "-".into(), |x| x.to_string())
}

/// A view as its JSON form (what `--json` prints).
pub fn to_json<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// Sets a field of a JSON object (no-op on other values).
pub fn set(v: &mut Value, key: &str, val: Value) {
    if let Some(m) = v.as_object_mut() {
        m.insert(key.to_string(), val);
    }
}
