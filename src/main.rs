//! `evpnd` binary: see `evpnd --help` and `src/cli.rs`.

fn main() -> std::process::ExitCode {
    evpnd::cli::main()
}
