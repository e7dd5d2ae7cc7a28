use super::*;
use crate::wire::{KEEPALIVE_MSG, open_message};
use crate::workload::{Spec, Workload};

/// GoBGP 3.10's messages to two peers, as recorded by
/// proto-tests/capture-vectors.sh (its totals line is the expected count).
const GOBGP: &str = include_str!("../../../proto-tests/vectors/gobgp/messages.txt");

fn recorded_stream() -> Vec<u8> {
    let mut out = Vec::new();
    for line in GOBGP
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let l = line.trim();
        for i in (0..l.len()).step_by(2) {
            out.push(u8::from_str_radix(&l[i..i + 2], 16).unwrap());
        }
    }
    out
}

fn feed_in_chunks(c: &mut StreamCounter, stream: &[u8], chunk: usize) -> Vec<StreamEvent> {
    let mut events = Vec::new();
    for part in stream.chunks(chunk) {
        c.feed(part, &mut events).unwrap();
    }
    events
}

#[test]
fn recorded_gobgp_stream() {
    assert!(GOBGP.contains(
        "# evpn nlri: reach-type1=2, reach-type2=10, reach-type3=4, reach-type4=2, reach-type5=2, \
         withdraw-type2=2, withdraw-type3=2, withdraw-type5=2"
    ));
    assert!(GOBGP.contains("# totals: OPEN=2, UPDATE=26, KEEPALIVE=9"));
    let stream = recorded_stream();
    // whole, one octet at a time (every message split), and odd sizes that
    // split headers and bodies at every place
    for chunk in [stream.len(), 1, 2, 7, 18, 19, 20, 64, 99, 1000] {
        let mut c = StreamCounter::new(false);
        let events = feed_in_chunks(&mut c, &stream, chunk);
        assert_eq!(
            c.counts,
            Counts {
                a2: 10,
                a3: 4,
                w2: 2,
                w3: 2,
                other: 2 + 2 + 2 + 2
            },
            "chunk {chunk}"
        );
        assert_eq!(c.updates, 26, "chunk {chunk}");
        assert_eq!(c.bytes, stream.len() as u64);
        assert_eq!(
            events
                .iter()
                .filter(|e| matches!(e, StreamEvent::Open(_)))
                .count(),
            2
        );
        assert_eq!(
            events
                .iter()
                .filter(|e| **e == StreamEvent::Keepalive)
                .count(),
            9
        );
    }
}

#[test]
fn recorded_stream_verify_keys() {
    let mut c = StreamCounter::new(true);
    feed_in_chunks(&mut c, &recorded_stream(), 13);
    let k = c.keys.as_ref().unwrap();
    // every UPDATE went to two peers: the distinct routes are half
    assert_eq!(k.announced.iter().filter(|k| k[0] == 2).count(), 5);
    assert_eq!(k.announced.iter().filter(|k| k[0] == 3).count(), 2);
}

#[test]
fn workload_stream_with_targets() {
    let w = Workload::encode(&Spec {
        routes: 5000,
        vteps: 2,
        vnis: 3,
        ..Spec::default()
    })
    .unwrap();
    let mut stream = w.announce.clone();
    stream.extend_from_slice(&w.eor);
    stream.extend_from_slice(&KEEPALIVE_MSG);
    for chunk in [1usize, 4095, 4097, 65536, 1 << 20] {
        let mut c = StreamCounter::new(false);
        c.reset(w.total());
        feed_in_chunks(&mut c, &stream, chunk);
        assert_eq!(
            c.counts,
            Counts {
                a2: 5000,
                a3: 6,
                ..Counts::default()
            }
        );
        assert!(c.t_first.is_some() && c.t_announced.is_some() && c.t_withdrawn.is_none());
        feed_in_chunks(&mut c, &w.withdraw, chunk);
        assert_eq!(c.counts.withdrawn(), 5006);
        assert!(c.t_withdrawn.unwrap() >= c.t_announced.unwrap());
        assert_eq!(c.updates, w.announce_msgs + 1 + w.withdraw_msgs);
    }
}

#[test]
fn ext_msg_and_one_nlri_per_update() {
    for spec in [
        Spec {
            routes: 3000,
            vteps: 1,
            vnis: 2,
            ext_msg: true,
            ..Spec::default()
        },
        Spec {
            routes: 3000,
            max_nlri: 1,
            mac_ip: true,
            ..Spec::default()
        },
    ] {
        let w = Workload::encode(&spec).unwrap();
        let mut c = StreamCounter::new(false);
        feed_in_chunks(&mut c, &w.announce, 10_000);
        feed_in_chunks(&mut c, &w.withdraw, 333);
        assert_eq!(c.counts.announced(), w.total());
        assert_eq!(c.counts.withdrawn(), w.total());
        assert_eq!(c.counts.other, 0);
    }
}

#[test]
fn reset_forgets_counts_and_times() {
    let w = Workload::encode(&Spec {
        routes: 100,
        ..Spec::default()
    })
    .unwrap();
    let mut c = StreamCounter::new(true);
    feed_in_chunks(&mut c, &w.announce, 4096);
    assert!(c.t_first.is_some() && c.t_announced.is_none());
    c.reset(w.total());
    assert_eq!(c.counts, Counts::default());
    assert!(c.t_first.is_none() && c.keys.as_ref().unwrap().announced.is_empty());
    assert!(c.updates > 0);
}

#[test]
fn session_messages_and_errors() {
    let mut c = StreamCounter::new(false);
    let mut ev = Vec::new();
    let open = open_message(65000, 90, "198.18.0.1".parse().unwrap(), false);
    c.feed(&open[..10], &mut ev).unwrap();
    assert!(ev.is_empty());
    c.feed(&open[10..], &mut ev).unwrap();
    assert!(matches!(&ev[0], StreamEvent::Open(p) if p.hold == 90));
    let mut bad = KEEPALIVE_MSG;
    bad[17] = 18;
    assert_eq!(c.feed(&bad, &mut ev), Err(StreamError::BadLength(18)));
    let mut c = StreamCounter::new(false);
    let n = crate::wire::notification(6, 2);
    assert_eq!(c.feed(&n, &mut ev), Err(StreamError::Notification(6, 2)));
    // an UPDATE whose attribute runs past the message
    let mut c = StreamCounter::new(false);
    let mut m = crate::wire::message(crate::wire::UPDATE, &[0, 0, 0, 4, 0x90, 14, 0, 9]);
    assert!(matches!(
        c.feed(&m, &mut ev),
        Err(StreamError::Malformed(_))
    ));
    m.truncate(0);
}
