//! `cupass`: the command-line tool for every ledger user. See `cupass --help`.

fn main() -> std::process::ExitCode {
    let code = cli::main_with_env();
    std::process::ExitCode::from(u8::try_from(code).unwrap_or(1))
}
