//! evpnd-loadgen: see the crate documentation (src/lib.rs) and
//! docs/benchmarking.md.
#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::Parser;
use evpnd_loadgen::cli::{Cmd, LoadgenCli};
use evpnd_loadgen::selftest::send_to_discard;
use evpnd_loadgen::workload::Workload;

fn main() -> ExitCode {
    let cli = LoadgenCli::parse();
    match cli.cmd {
        Cmd::Run(r) => {
            let args = match r.to_run() {
                Ok(a) => a,
                Err(e) => {
                    eprintln!("evpnd-loadgen: {e}");
                    return ExitCode::from(2);
                }
            };
            let (res, ok) = evpnd_loadgen::run::run(args);
            println!("{}", res.to_json());
            // a writer stuck on a peer that never reads must not hold the exit
            std::process::exit(if ok { 0 } else { 1 });
        }
        Cmd::Encode(w) => match Workload::encode(&w.spec()) {
            Ok(wl) => {
                println!("{}", wl.info().to_json());
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("{e}");
                ExitCode::FAILURE
            }
        },
        Cmd::Inject(a) => ExitCode::from(evpnd_loadgen::inject::main(a)),
        Cmd::Selftest(w) => {
            let wl = match Workload::encode(&w.spec()) {
                Ok(wl) => wl,
                Err(e) => {
                    eprintln!("{e}");
                    return ExitCode::FAILURE;
                }
            };
            let mut info = wl.info();
            info.set("check", "encode");
            println!("{}", info.to_json());
            match send_to_discard(&wl) {
                Ok(o) => {
                    println!("{}", o.to_json());
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("send_to_discard: {e}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}
