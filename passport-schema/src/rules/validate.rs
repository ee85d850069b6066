//! Field validation shared by the rules.

use crate::error::RuleViolation;
use crate::events::Composition;

/// Upper bound of every `*_ppm` value.
pub(crate) const MILLION: u32 = 1_000_000;

/// An invalid field, with the reason.
pub(crate) fn invalid(field: &'static str, reason: impl Into<String>) -> RuleViolation {
    RuleViolation::InvalidField {
        field,
        reason: reason.into(),
    }
}

/// ISO 3166-1 alpha-2 shape: two ASCII capital letters.
pub(crate) fn country(field: &'static str, s: &str) -> Result<(), RuleViolation> {
    if s.len() == 2 && s.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(())
    } else {
        Err(invalid(
            field,
            format!("`{s}` is not an ISO 3166-1 alpha-2 code"),
        ))
    }
}

/// ISO 4217 shape: three ASCII capital letters.
pub(crate) fn currency(field: &'static str, s: &str) -> Result<(), RuleViolation> {
    if s.len() == 3 && s.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(())
    } else {
        Err(invalid(field, format!("`{s}` is not an ISO 4217 code")))
    }
}

/// Non-blank text.
pub(crate) fn text(field: &'static str, s: &str) -> Result<(), RuleViolation> {
    if s.trim().is_empty() {
        Err(invalid(field, "must not be empty"))
    } else {
        Ok(())
    }
}

/// A ppm value within [0, 1,000,000].
pub(crate) fn ppm(field: &'static str, v: u32) -> Result<(), RuleViolation> {
    if v > MILLION {
        Err(invalid(field, format!("{v} ppm exceeds 1,000,000")))
    } else {
        Ok(())
    }
}

/// Chemical element symbol shape: `X` or `Xy` (`Cu`, `S`). Analyser
/// readings use it to tell element columns from the rest.
pub fn is_element(s: &str) -> bool {
    let b = s.as_bytes();
    match b {
        [a] => a.is_ascii_uppercase(),
        [a, c] => a.is_ascii_uppercase() && c.is_ascii_lowercase(),
        _ => false,
    }
}

/// Element symbol.
pub(crate) fn element(field: &'static str, s: &str) -> Result<(), RuleViolation> {
    if is_element(s) {
        Ok(())
    } else {
        Err(invalid(field, format!("`{s}` is not an element symbol")))
    }
}

/// Valid symbols, each ≤ 1,000,000 ppm, total ≤ 1,000,000 ppm.
pub(crate) fn composition(field: &'static str, c: &Composition) -> Result<(), RuleViolation> {
    let mut sum: u64 = 0;
    for (el, v) in &c.elements_ppm {
        element(field, el)?;
        ppm(field, *v)?;
        sum += u64::from(*v);
    }
    if sum > u64::from(MILLION) {
        return Err(invalid(
            field,
            format!("elements sum to {sum} ppm > 1,000,000"),
        ));
    }
    Ok(())
}

/// GS1 Digital Link: `https://host/.../01/<GTIN-14 with valid check digit>[/...]`.
pub(crate) fn gs1_digital_link(uri: &str) -> Result<(), &'static str> {
    let rest = uri
        .strip_prefix("https://")
        .ok_or("must start with https://")?;
    let (host, path) = rest.split_once('/').ok_or("missing path")?;
    if host.is_empty() || host.contains(char::is_whitespace) {
        return Err("missing host");
    }
    let mut parts = path.split('/');
    let mut gtin = None;
    while let Some(p) = parts.next() {
        if p == "01" {
            gtin = parts.next();
            break;
        }
    }
    let gtin = gtin.ok_or("missing /01/<GTIN> primary key")?;
    let digits: Vec<u32> = gtin.chars().filter_map(|c| c.to_digit(10)).collect();
    if gtin.len() != 14 || digits.len() != 14 {
        return Err("GTIN must be 14 digits");
    }
    let (body, check) = digits.split_at(13);
    let sum: u32 = body
        .iter()
        .enumerate()
        .map(|(i, d)| if i % 2 == 0 { d * 3 } else { *d })
        .sum();
    if check.first().copied() != Some((10 - sum % 10) % 10) {
        return Err("GTIN check digit is wrong");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gs1() {
        assert!(gs1_digital_link("https://id.gs1.org/01/09506000134352").is_ok());
        assert!(gs1_digital_link("https://example.com/x/01/09506000134352/21/ABC").is_ok());
        assert!(gs1_digital_link("https://id.gs1.org/01/09506000134353").is_err());
        assert!(gs1_digital_link("http://id.gs1.org/01/09506000134352").is_err());
        assert!(gs1_digital_link("https://id.gs1.org/10/ABC").is_err());
    }

    #[test]
    fn shapes() {
        assert!(is_element("Cu") && is_element("O") && !is_element("CU") && !is_element("cu"));
        assert!(country("c", "CN").is_ok() && country("c", "cn").is_err());
        assert!(currency("c", "CNY").is_ok() && currency("c", "CN").is_err());
    }
}
