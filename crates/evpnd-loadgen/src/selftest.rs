//! `selftest`: the workload's encode figures and the raw send ceiling, a
//! loopback TCP connection into a reader that discards (no BGP parsing),
//! as evpn-blast.py's selftest.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::thread;
use std::time::Instant;

use crate::json::{Obj, round};
use crate::workload::Workload;

pub fn send_to_discard(wl: &Workload) -> io::Result<Obj> {
    let l = TcpListener::bind("127.0.0.1:0")?;
    let addr = l.local_addr()?;
    let reader = thread::spawn(move || -> io::Result<u64> {
        let (mut c, _) = l.accept()?;
        let mut buf = vec![0u8; 1 << 20];
        let mut total = 0u64;
        loop {
            match c.read(&mut buf)? {
                0 => return Ok(total),
                n => total += n as u64,
            }
        }
    });
    let mut s = TcpStream::connect(addr)?;
    let t0 = Instant::now();
    s.write_all(&wl.announce)?;
    s.shutdown(Shutdown::Write)?;
    let got = reader
        .join()
        .map_err(|_| io::Error::other("discard reader panicked"))??;
    let dt = t0.elapsed().as_secs_f64().max(1e-9);
    let mut o = Obj::new();
    o.set("check", "send_to_discard");
    o.set("bytes", got);
    o.set("seconds", round(dt, 4));
    o.set("MB_per_s", round(got as f64 / dt / 1e6, 1));
    o.set("routes_per_s", (wl.total() as f64 / dt) as u64);
    Ok(o)
}
