//! The crate layout holds: each crate depends only on what its job needs.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;

/// The crates `package` links in normal builds (`cargo tree -e normal`).
fn normal_dependencies(package: &str) -> BTreeSet<String> {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../Cargo.toml");
    let out = Command::new(env!("CARGO"))
        .args([
            "tree",
            "--offline",
            "--locked",
            "-e",
            "normal",
            "--prefix",
            "none",
        ])
        .args(["--format", "{p}", "-p", package, "--manifest-path"])
        .arg(manifest)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(String::from))
        .collect()
}

#[test]
fn the_cli_and_the_client_link_no_async_runtime_or_http_server() {
    for package in ["cli", "client"] {
        let deps = normal_dependencies(package);
        assert!(
            deps.contains("ledger") && deps.contains("passport-schema"),
            "{deps:?}"
        );
        for server_side in ["tokio", "axum", "hyper", "node", "reqwest", "tower-http"] {
            assert!(
                !deps.contains(server_side),
                "{package} links {server_side}: {deps:?}"
            );
        }
    }
}

#[test]
fn the_domain_and_the_log_link_no_client_or_server() {
    let ledger = normal_dependencies("ledger");
    for upward in ["passport-schema", "client", "node", "cli", "tokio", "axum"] {
        assert!(!ledger.contains(upward), "ledger links {upward}");
    }
    let schema = normal_dependencies("passport-schema");
    for upward in ["ledger", "client", "node", "cli", "tokio", "sled"] {
        assert!(!schema.contains(upward), "passport-schema links {upward}");
    }
}
