//! `evpnd` binary: see `evpnd --help` and `src/cli.rs`.

#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    evpnd::cli::main()
}
