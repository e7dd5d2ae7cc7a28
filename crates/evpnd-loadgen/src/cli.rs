//! The command line: evpn-blast.py's, flag for flag, so rr-bench.sh can run
//! either (see scripts/bench-loadgen-python).

use std::net::{IpAddr, Ipv4Addr};

use clap::{Args, Parser, Subcommand};

use crate::net::parse_opt_addr;
use crate::run;
use crate::workload::Spec;

#[derive(Debug, Parser)]
#[command(
    name = "evpnd-loadgen",
    version,
    about = "Route-reflector benchmark load: evpn-blast.py's run/selftest/encode, compiled, same workload byte for byte"
)]
pub struct LoadgenCli {
    #[command(subcommand)]
    pub cmd: Cmd,
}

#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// Benchmark a speaker (or --direct: injector -> one listening sink, the harness ceiling).
    Run(RunArgs),
    /// Encode rate, wire size, raw send ceiling.
    Selftest(WorkloadArgs),
    /// Build the workload and print its summary.
    Encode(WorkloadArgs),
    /// The injector alone: announce / withdraw / close on stdin lines (or --auto S), send times as JSON lines.
    Inject(InjectArgs),
}

/// The workload (must be identical across speakers).
#[derive(Debug, Clone, Args)]
pub struct WorkloadArgs {
    /// EVPN type-2 routes (N).
    #[arg(short = 'n', long = "routes", default_value_t = 10_000)]
    pub routes: u64,
    /// EVPN type-3 routes (M); default one per (vtep, vni) = vteps*vnis.
    #[arg(short = 'm', long = "type3", default_value_t = -1, allow_negative_numbers = true)]
    pub type3: i64,
    /// Distinct VTEPs (next hops / RD admin) behind the injector.
    #[arg(long, default_value_t = 10)]
    pub vteps: u32,
    /// VNIs per VTEP.
    #[arg(long, default_value_t = 100)]
    pub vnis: u32,
    #[arg(long, default_value_t = 10_000)]
    pub vni_base: u32,
    /// VTEP i is base+1+i (inert next-hop data).
    #[arg(long, default_value = "198.19.0.0")]
    pub vtep_base: Ipv4Addr,
    /// Type-2 MAC+IPv4 (default MAC only).
    #[arg(long)]
    pub mac_ip: bool,
    /// RFC 8654 extended messages (64 KiB UPDATEs).
    #[arg(long)]
    pub ext_msg: bool,
    /// Cap NLRI per UPDATE (1 = GoBGP-like).
    #[arg(long, default_value_t = 1 << 30)]
    pub max_nlri: u64,
    /// iBGP AS (harness and speaker).
    #[arg(long, default_value_t = 65_000)]
    pub asn: u32,
    /// Do not send EVPN End-of-RIB.
    #[arg(long = "no-eor", action = clap::ArgAction::SetFalse)]
    pub eor: bool,
}

impl WorkloadArgs {
    pub fn spec(&self) -> Spec {
        Spec {
            routes: self.routes,
            type3: self.type3,
            vteps: self.vteps,
            vnis: self.vnis,
            vni_base: self.vni_base,
            vtep_base: self.vtep_base,
            mac_ip: self.mac_ip,
            ext_msg: self.ext_msg,
            max_nlri: self.max_nlri,
            asn: self.asn,
        }
    }
}

/// `inject`: the injector alone (see [`crate::inject`]).
#[derive(Debug, Clone, Args)]
pub struct InjectArgs {
    #[command(flatten)]
    pub workload: WorkloadArgs,
    /// Speaker address.
    #[arg(long)]
    pub speaker: IpAddr,
    #[arg(long, default_value_t = 179)]
    pub port: u16,
    /// Local address of the session ('' = any).
    #[arg(long, default_value = "")]
    pub injector_addr: String,
    /// BGP identifier.
    #[arg(long, default_value = "198.18.1.1")]
    pub router_id: Ipv4Addr,
    #[arg(long, default_value_t = 180)]
    pub hold: u16,
    /// Seconds to keep trying to establish the session (connection refused
    /// or closed: try again every 0.5 s).
    #[arg(long, default_value_t = 60.0)]
    pub establish_timeout: f64,
    /// No stdin: announce, withdraw this many seconds after the announce
    /// stream is sent, close as long after the withdraw.
    #[arg(long)]
    pub auto: Option<f64>,
    /// k=v copied into every JSON line.
    #[arg(long, action = clap::ArgAction::Append)]
    pub label: Vec<String>,
}

#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub workload: WorkloadArgs,
    /// Speaker address (listen address with --direct).
    #[arg(long, default_value = "127.0.0.1")]
    pub speaker: IpAddr,
    #[arg(long, default_value_t = 179)]
    pub port: u16,
    /// K sink sessions.
    #[arg(short = 'k', long = "sinks", default_value_t = 1)]
    pub sinks: usize,
    /// Local address of the injector ('' = any).
    #[arg(long, default_value = "127.0.1.1")]
    pub injector_addr: String,
    /// Sink i binds base+i ('' = any).
    #[arg(long, default_value = "127.0.1.2")]
    pub sink_addr_base: String,
    /// Injector BGP identifier.
    #[arg(long, default_value = "198.18.1.1")]
    pub router_id: Ipv4Addr,
    /// Sink i uses base+1+i as BGP identifier.
    #[arg(long, default_value = "198.18.2.0")]
    pub sink_id_base: Ipv4Addr,
    #[arg(long, default_value_t = 180)]
    pub hold: u16,
    /// Seconds between all sessions Established and the announce (default
    /// max(5, 2+0.06*K)): FRR keeps coalescing update sub-groups for about
    /// 1 s + 50 ms per peer after sessions come up.
    #[arg(long)]
    pub settle: Option<f64>,
    /// Seconds to keep reading after each phase.
    #[arg(long, default_value_t = 0.5)]
    pub grace: f64,
    /// Seconds per phase.
    #[arg(long, default_value_t = 600.0)]
    pub timeout: f64,
    #[arg(long, default_value_t = 60.0)]
    pub establish_timeout: f64,
    #[arg(long)]
    pub no_withdraw: bool,
    /// No speaker: the sink listens on --speaker:--port, the injector connects to it.
    #[arg(long)]
    pub direct: bool,
    /// Sinks track distinct NLRI keys (slow; small N).
    #[arg(long)]
    pub verify: bool,
    /// Comma list of speaker PIDs to sample (/proc).
    #[arg(long, default_value = "")]
    pub speaker_pids: String,
    /// k=v copied into the JSON result.
    #[arg(long, action = clap::ArgAction::Append)]
    pub label: Vec<String>,
    /// Threads for the sinks (evpn-blast.py: one process); more only helps
    /// when the sinks, not the speaker, are the limit.
    #[arg(long, default_value_t = 1)]
    pub sink_threads: usize,
}

impl RunArgs {
    pub fn to_run(&self) -> Result<run::Args, String> {
        let pids = self
            .speaker_pids
            .split(',')
            .filter(|x| !x.is_empty())
            .map(|x| {
                x.trim()
                    .parse::<u32>()
                    .map_err(|e| format!("--speaker-pids {x}: {e}"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let injector_addr =
            parse_opt_addr(&self.injector_addr).map_err(|e| format!("--injector-addr: {e}"))?;
        let sink_addr_base = match parse_opt_addr(&self.sink_addr_base)
            .map_err(|e| format!("--sink-addr-base: {e}"))?
        {
            None => None,
            Some(IpAddr::V4(a)) => Some(a),
            Some(IpAddr::V6(_)) => return Err("--sink-addr-base: IPv4 only".into()),
        };
        Ok(run::Args {
            spec: self.workload.spec(),
            eor: self.workload.eor,
            speaker: self.speaker,
            port: self.port,
            sinks: self.sinks,
            injector_addr,
            sink_addr_base,
            router_id: self.router_id,
            sink_id_base: self.sink_id_base,
            hold: self.hold,
            settle: self.settle,
            grace: self.grace,
            timeout: self.timeout,
            establish_timeout: self.establish_timeout,
            no_withdraw: self.no_withdraw,
            direct: self.direct,
            verify: self.verify,
            speaker_pids: pids,
            labels: self.label.clone(),
            sink_threads: self.sink_threads,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rr_bench_command_line() {
        // as rr-bench.sh calls evpn-blast.py run (after the script path)
        let cli = LoadgenCli::try_parse_from([
            "x",
            "run",
            "--speaker",
            "198.18.0.1",
            "--port",
            "179",
            "--injector-addr",
            "198.18.16.1",
            "--sink-addr-base",
            "198.18.16.2",
            "-n",
            "100000",
            "-m",
            "-1",
            "-k",
            "10",
            "--vteps",
            "10",
            "--vnis",
            "100",
            "--timeout",
            "600",
            "--asn",
            "65000",
            "--speaker-pids",
            "12,34",
            "--label",
            "speaker=evpnd",
            "--label",
            "speaker_version=0.1.0",
            "--label",
            "rep=1",
            "--label",
            "kernel=6.18",
            "--ext-msg",
        ])
        .unwrap();
        let Cmd::Run(r) = cli.cmd else { panic!("run") };
        let a = r.to_run().unwrap();
        assert_eq!(a.spec.routes, 100_000);
        assert_eq!(a.spec.type3, -1);
        assert!(a.spec.ext_msg && a.eor);
        assert_eq!(a.speaker_pids, vec![12, 34]);
        assert_eq!(a.labels.len(), 4);
        assert_eq!(a.sink_addr_base, Some(Ipv4Addr::new(198, 18, 16, 2)));
        // direct, as rr-bench.sh direct calls it; '' = any address
        let cli = LoadgenCli::try_parse_from([
            "x",
            "run",
            "--direct",
            "--speaker",
            "198.18.0.1",
            "--port",
            "179",
            "--injector-addr",
            "",
            "-n",
            "10",
            "-m",
            "-1",
            "--no-eor",
            "--max-nlri",
            "1",
        ])
        .unwrap();
        let Cmd::Run(r) = cli.cmd else { panic!("run") };
        let a = r.to_run().unwrap();
        assert!(a.direct && !a.eor && a.injector_addr.is_none());
        assert_eq!(a.spec.max_nlri, 1);
        assert!(LoadgenCli::try_parse_from(["x", "encode", "-n", "5", "--mac-ip"]).is_ok());
    }
}
