//! K sinks without root: a stand-in reflector on 127.0.0.1 (threads, in
//! this test) brings every session up and copies the injector's UPDATEs to
//! every other session, so the load generator's K-sink path (connects from
//! K local addresses, handshakes, keepalive timers, counting, the min/max
//! form of `received` past 10 sinks) runs end to end.

mod common;

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, TcpListener, TcpStream};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use common::{BIN, json_of, run_bounded};
use evpnd_loadgen::wire::{KEEPALIVE_MSG, UPDATE, open_message};
use serde_json::json;

const INJECTOR: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 1, 1));

fn read_msg(s: &mut TcpStream) -> std::io::Result<Vec<u8>> {
    let mut m = vec![0u8; 19];
    s.read_exact(&mut m)?;
    let l = u16::from_be_bytes([m[16], m[17]]) as usize;
    m.resize(l, 0);
    s.read_exact(&mut m[19..])?;
    Ok(m)
}

/// Accepts sessions forever; the injector's UPDATEs go to every sink.
fn reflector(l: TcpListener) {
    let sinks: Arc<Mutex<Vec<TcpStream>>> = Arc::default();
    for c in l.incoming() {
        let Ok(mut c) = c else { return };
        let sinks = sinks.clone();
        thread::spawn(move || {
            let peer = c.peer_addr().unwrap().ip();
            read_msg(&mut c).unwrap(); // OPEN
            c.write_all(&open_message(65000, 90, Ipv4Addr::new(127, 0, 0, 1), false))
                .unwrap();
            c.write_all(&KEEPALIVE_MSG).unwrap();
            if peer != INJECTOR {
                sinks.lock().unwrap().push(c.try_clone().unwrap());
                // drain the sink's KEEPALIVEs until it goes
                while read_msg(&mut c).is_ok() {}
                return;
            }
            while let Ok(m) = read_msg(&mut c) {
                if m[18] == UPDATE {
                    for s in sinks.lock().unwrap().iter_mut() {
                        let _ = s.write_all(&m);
                    }
                }
            }
        });
    }
}

#[test]
fn two_hundred_sinks() {
    // FANOUT_K=1000 for the full fan-out (about 1,000 threads in this test)
    let k: u64 = std::env::var("FANOUT_K")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    evpnd_loadgen::procstat::raise_nofile_limit();
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port().to_string();
    thread::spawn(move || reflector(l));
    let mut cmd = Command::new(BIN);
    let (k_arg, pid) = (k.to_string(), std::process::id().to_string());
    let args = "run --speaker 127.0.0.1 --injector-addr 127.0.1.1 --sink-addr-base 127.0.1.2 \
                -n 5000 --hold 3 --settle 3 --grace 0.1 --timeout 60";
    cmd.args(args.split_whitespace());
    cmd.args(["--port", &port, "-k", &k_arg, "--speaker-pids", &pid]);
    let out = run_bounded(&mut cmd, Duration::from_secs(120));
    let j = json_of(&out);
    println!("{j}");
    assert!(out.status.success(), "{j}");
    assert_eq!(j["sinks"], k);
    for phase in ["announce", "withdraw"] {
        assert_eq!(j[phase]["complete"], true, "{phase}");
        assert_eq!(
            j[phase]["received"],
            json!({"min": 6000, "max": 6000}),
            "{phase}"
        );
        assert!(j[phase]["median_sink_done_s"].as_f64().is_some());
    }
    assert_eq!(j["dup_or_extra_nlri_max"], 0);
    assert_eq!(j["speaker_open"]["hold"], 90);
}
