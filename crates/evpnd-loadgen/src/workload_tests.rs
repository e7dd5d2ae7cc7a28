//! The hard digests below were computed with the Python harness, each with
//! the command next to it:
//!   python3 /work/shared/bench/evpn-blast.py encode ARGS
//! (evpn-blast.py 0.1, its `workload_sha256` and message counts).

use super::*;

fn spec(routes: u64) -> Spec {
    Spec {
        routes,
        ..Spec::default()
    }
}

/// The lengths of the messages of a stream, in order.
fn sizes(stream: &[u8]) -> Vec<usize> {
    let mut out = Vec::new();
    let mut p = 0;
    while p < stream.len() {
        assert_eq!(&stream[p..p + 16], &MARKER);
        let l = u16::from_be_bytes([stream[p + 16], stream[p + 17]]) as usize;
        assert_eq!(stream[p + 18], UPDATE);
        out.push(l);
        p += l;
    }
    assert_eq!(p, stream.len());
    out
}

struct Expect {
    args: &'static str,
    spec: Spec,
    sha: &'static str,
    announce: (usize, u64),
    withdraw: (usize, u64),
}

fn cases() -> Vec<Expect> {
    let small = Spec {
        routes: 5000,
        vteps: 2,
        vnis: 3,
        ..Spec::default()
    };
    vec![
        // evpn-blast.py encode -n 1000
        Expect {
            args: "-n 1000",
            spec: spec(1000),
            sha: "c65211b3e01a2bf9",
            announce: (204000, 2000),
            withdraw: (54420, 14),
        },
        // evpn-blast.py encode -n 1000 --mac-ip
        Expect {
            args: "-n 1000 --mac-ip",
            spec: Spec {
                mac_ip: true,
                ..spec(1000)
            },
            sha: "84fb0ed1f0c4b7e5",
            announce: (208000, 2000),
            withdraw: (58450, 15),
        },
        // evpn-blast.py encode -n 1000 --ext-msg
        Expect {
            args: "-n 1000 --ext-msg",
            spec: Spec {
                ext_msg: true,
                ..spec(1000)
            },
            sha: "55165b5a7a4fd505",
            announce: (204000, 2000),
            withdraw: (54030, 1),
        },
        // evpn-blast.py encode -n 1000 --max-nlri 1
        Expect {
            args: "-n 1000 --max-nlri 1",
            spec: Spec {
                max_nlri: 1,
                ..spec(1000)
            },
            sha: "cb9b0eb5d83e6c04",
            announce: (204000, 2000),
            withdraw: (114000, 2000),
        },
        // evpn-blast.py encode -n 250 -m 7 --vteps 3 --vnis 5 --asn 4200000000 --mac-ip
        Expect {
            args: "-n 250 -m 7 --vteps 3 --vnis 5 --asn 4200000000 --mac-ip",
            spec: Spec {
                routes: 250,
                type3: 7,
                vteps: 3,
                vnis: 5,
                asn: 4_200_000_000,
                mac_ip: true,
                ..Spec::default()
            },
            sha: "fc5b2372d83d1fde",
            announce: (11485, 22),
            withdraw: (9973, 3),
        },
        // evpn-blast.py encode -n 0 -m 0
        Expect {
            args: "-n 0 -m 0",
            spec: Spec {
                routes: 0,
                type3: 0,
                ..Spec::default()
            },
            sha: "e3b0c44298fc1c14",
            announce: (0, 0),
            withdraw: (0, 0),
        },
        // evpn-blast.py encode -n 5000 --vteps 2 --vnis 3
        Expect {
            args: "-n 5000 --vteps 2 --vnis 3",
            spec: small.clone(),
            sha: "fcfe033dc1336159",
            announce: (178912, 54),
            withdraw: (176434, 44),
        },
        // evpn-blast.py encode -n 5000 --vteps 2 --vnis 3 --ext-msg
        Expect {
            args: "-n 5000 --vteps 2 --vnis 3 --ext-msg",
            spec: Spec {
                ext_msg: true,
                ..small.clone()
            },
            sha: "11e1346da3571ec4",
            announce: (176014, 12),
            withdraw: (175204, 3),
        },
        // evpn-blast.py encode -n 5000 --vteps 2 --vnis 3 --mac-ip
        Expect {
            args: "-n 5000 --vteps 2 --vnis 3 --mac-ip",
            spec: Spec {
                mac_ip: true,
                ..small.clone()
            },
            sha: "b1babb3ec3dfdef6",
            announce: (199326, 60),
            withdraw: (196584, 49),
        },
        // evpn-blast.py encode -n 5000 --vteps 2 --vnis 3 --max-nlri 50
        Expect {
            args: "-n 5000 --vteps 2 --vnis 3 --max-nlri 50",
            spec: Spec {
                max_nlri: 50,
                ..small
            },
            sha: "440810e0e9c896fd",
            announce: (182638, 108),
            withdraw: (178144, 101),
        },
    ]
}

#[test]
fn digests_match_the_python_harness() {
    for e in cases() {
        let w = Workload::encode(&e.spec).unwrap();
        assert_eq!(w.sha256, e.sha, "workload_sha256 of {}", e.args);
        assert_eq!(
            (w.announce.len(), w.announce_msgs),
            e.announce,
            "announce of {}",
            e.args
        );
        assert_eq!(
            (w.withdraw.len(), w.withdraw_msgs),
            e.withdraw,
            "withdraw of {}",
            e.args
        );
        assert_eq!(sizes(&w.announce).len() as u64, w.announce_msgs);
        assert_eq!(sizes(&w.withdraw).len() as u64, w.withdraw_msgs);
    }
}

#[test]
fn packing_4096_octet_updates() {
    // 2 x 3 groups of ~833 routes: full UPDATEs of 115 MAC-only NLRI (4094 octets)
    let w = Workload::encode(&Spec {
        routes: 5000,
        vteps: 2,
        vnis: 3,
        ..Spec::default()
    })
    .unwrap();
    let a = sizes(&w.announce);
    assert!(a.iter().all(|&l| l <= STD_MAX));
    assert_eq!(&a[..3], &[4094, 4094, 4094]);
    // 19 header + 4 + 33 attributes (ORIGIN, AS_PATH, LOCAL_PREF, ext. communities) + 13 MP_REACH fixed + 115 * 35
    assert_eq!(19 + 4 + 33 + 13 + 115 * 35, 4094);
    let wd = sizes(&w.withdraw);
    assert!(wd.iter().all(|&l| l <= STD_MAX));
    assert_eq!(wd[0], 4090); // 116 NLRI of 35 octets after 19 + 4 + 4 + 3
    // the last 6 announce messages are the type-3 routes, one per UPDATE
    assert!(a[a.len() - 6..].iter().all(|&l| l == a[a.len() - 1]));
}

#[test]
fn packing_extended_messages_and_max_nlri() {
    let w = Workload::encode(&Spec {
        routes: 5000,
        vteps: 2,
        vnis: 3,
        ext_msg: true,
        ..Spec::default()
    })
    .unwrap();
    let a = sizes(&w.announce);
    // one group's 834 routes fit a single 65535-octet UPDATE
    assert_eq!(&a[..3], &[29259, 29259, 29224]);
    let wd = sizes(&w.withdraw);
    assert_eq!(wd, vec![65515, 65515, 44174]);
    assert!(wd.iter().all(|&l| l <= EXT_MAX));

    let w = Workload::encode(&Spec {
        routes: 300,
        vteps: 1,
        vnis: 1,
        max_nlri: 1,
        ..Spec::default()
    })
    .unwrap();
    assert_eq!(w.announce_msgs, 301);
    assert_eq!(w.withdraw_msgs, 301);
    let a = sizes(&w.announce);
    assert!(a[..300].iter().all(|&l| l == 19 + 4 + 33 + 13 + 35));
}

#[test]
fn end_of_rib() {
    let w = Workload::encode(&spec(1)).unwrap();
    let hex: String = w.eor.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(
        hex,
        "ffffffffffffffffffffffffffffffff001d0200000006800f03001946"
    );
}

#[test]
fn nlri_layout() {
    let w = Workload::encode(&Spec {
        routes: 1,
        type3: 1,
        vteps: 1,
        vnis: 1,
        mac_ip: true,
        ..Spec::default()
    })
    .unwrap();
    let m = &w.announce;
    let l = u16::from_be_bytes([m[16], m[17]]) as usize;
    let nlri = &m[l - 39..l];
    // type 2, RD 1:198.19.0.1:10000, ESI 0, tag 0, MAC 02:eb:00:00:00:00, 198.18.0.1, label 10000
    let mut want = vec![2, 37, 0, 1, 198, 19, 0, 1, 0x27, 0x10];
    want.extend_from_slice(&[0; 14]);
    want.extend_from_slice(&[48, 2, 0xeb, 0, 0, 0, 0, 32, 198, 18, 0, 1, 0, 0x27, 0x10]);
    assert_eq!(nlri, &want[..]);
}

#[test]
fn refuses_what_python_refuses() {
    let e = Workload::encode(&Spec {
        type3: 1001,
        ..spec(1)
    })
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "--type3 1001 > vteps*vnis 1000 (one IMET route per (vtep,vni))"
    );
    assert_eq!(
        Workload::encode(&Spec {
            vteps: 0,
            ..spec(1)
        })
        .unwrap_err(),
        WorkloadError::NoGroups
    );
}

#[test]
fn info_fields() {
    let w = Workload::encode(&spec(1000)).unwrap();
    let i = w.info();
    let keys: Vec<&str> = i.keys().collect();
    assert_eq!(
        keys,
        [
            "routes_type2",
            "routes_type3",
            "vteps",
            "vnis",
            "mac_ip",
            "ext_msg",
            "max_nlri",
            "announce_bytes",
            "announce_msgs",
            "withdraw_bytes",
            "withdraw_msgs",
            "bytes_per_route",
            "encode_s",
            "encode_routes_per_s",
            "workload_sha256"
        ]
    );
    assert_eq!(i.f64("bytes_per_route"), Some(102.0));
}
