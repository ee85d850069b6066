//! Parsing what the user hands the CLI: id and enum arguments, compositions, JSON event files, evidence files.

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

/// Parses an optional UUID argument.
pub fn parse_opt_id(s: Option<&str>, what: &str) -> Result<Option<Uuid>> {
    s.map(|s| parse_id(s, what)).transpose()
}

/// The UUID given with `--id`, or a fresh v7 one.
pub fn id_or_new(s: Option<&str>) -> Result<Uuid> {
    Ok(parse_opt_id(s, "--id")?.unwrap_or_else(Uuid::now_v7))
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

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "0193a5b0-7a6e-7cc2-9f1b-1d2e3f405162";

    #[test]
    fn ids_with_and_without_versions() {
        let id = Uuid::parse_str(ID).unwrap();
        assert_eq!(parse_id(&format!(" {ID} "), "--lot").unwrap(), id);
        assert_eq!(parse_versioned(ID, "--scheme").unwrap(), (id, None));
        assert_eq!(
            parse_versioned(&format!("{ID}@3"), "--scheme").unwrap(),
            (id, Some(3))
        );
        let e = parse_versioned(&format!("{ID}@x"), "--scheme").unwrap_err();
        assert_eq!(e.code, "usage");
        assert!(e.message.contains("not a number"), "{}", e.message);
        let e = parse_id("lot-7", "--lot").unwrap_err();
        assert!(
            e.message.contains("--lot \"lot-7\" is not a UUID"),
            "{}",
            e.message
        );
    }

    #[test]
    fn compositions() {
        let c = parse_composition("Cu=999950, O=40;").unwrap();
        assert_eq!(c, Composition::new().with("Cu", 999_950).with("O", 40));
        assert!(parse_composition("Cu").is_err());
        assert!(parse_composition("Cu=99.9").is_err());
    }
}
