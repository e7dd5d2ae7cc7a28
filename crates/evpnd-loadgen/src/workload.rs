//! The benchmark workload, encoded byte for byte as evpn-blast.py's
//! `Workload` does, so both print the same `workload_sha256`.
//!
//! * N type-2 routes (RFC 7432 section 7.2, MAC/IP Advertisement), round
//!   robin over G = vteps x vnis groups; the routes of one group share one
//!   attribute set and are packed into as few UPDATEs as fit (4096 octets,
//!   65535 with RFC 8654 extended messages, or `max_nlri` per UPDATE).
//! * M type-3 routes (RFC 7432 section 7.3, Inclusive Multicast Ethernet
//!   Tag), one per group, one per UPDATE since each has its own PMSI Tunnel
//!   attribute (RFC 6514 section 5).
//! * The withdraw stream: every NLRI again, in announce order, in
//!   MP_UNREACH_NLRI (RFC 4760 section 4) packed regardless of attributes.

use std::net::Ipv4Addr;
use std::time::Instant;

use sha2::{Digest, Sha256};
use thiserror::Error;

use crate::json::{Obj, round};
use crate::wire::{
    AFI_L2VPN, ATTR_AS_PATH, ATTR_EXT_COMM, ATTR_LOCAL_PREF, ATTR_MP_REACH, ATTR_MP_UNREACH,
    ATTR_ORIGIN, ATTR_PMSI, EXT_MAX, HEADER_LEN, MARKER, SAFI_EVPN, STD_MAX, UPDATE, message,
    push_attr,
};

/// The workload arguments (evpn-blast.py's `workload_args`).
#[derive(Debug, Clone, PartialEq)]
pub struct Spec {
    /// N: type-2 routes.
    pub routes: u64,
    /// M: type-3 routes; negative means one per group.
    pub type3: i64,
    pub vteps: u32,
    pub vnis: u32,
    pub vni_base: u32,
    /// VTEP i is vtep_base + 1 + i.
    pub vtep_base: Ipv4Addr,
    pub mac_ip: bool,
    pub ext_msg: bool,
    pub max_nlri: u64,
    pub asn: u32,
}

impl Default for Spec {
    fn default() -> Spec {
        Spec {
            routes: 10_000,
            type3: -1,
            vteps: 10,
            vnis: 100,
            vni_base: 10_000,
            vtep_base: Ipv4Addr::new(198, 19, 0, 0),
            mac_ip: false,
            ext_msg: false,
            max_nlri: 1 << 30,
            asn: 65_000,
        }
    }
}

#[derive(Debug, Error, PartialEq)]
pub enum WorkloadError {
    #[error("--type3 {m} > vteps*vnis {g} (one IMET route per (vtep,vni))")]
    TooManyType3 { m: i64, g: u64 },
    #[error("vteps*vnis is 0: no group to put routes in")]
    NoGroups,
    #[error("--max-nlri must be at least 1")]
    MaxNlri,
    #[error("{0} does not fit in 32 bits (MAC of route index, VTEP or VNI address arithmetic)")]
    Overflow(&'static str),
}

/// The encoded streams.
#[derive(Debug, Clone)]
pub struct Workload {
    pub spec: Spec,
    /// M after the default is applied.
    pub type3: u64,
    pub announce: Vec<u8>,
    pub announce_msgs: u64,
    pub withdraw: Vec<u8>,
    pub withdraw_msgs: u64,
    /// End-of-RIB for L2VPN/EVPN (RFC 4724 section 2): an empty MP_UNREACH.
    pub eor: Vec<u8>,
    pub encode_s: f64,
    /// First 16 hex digits of SHA-256(announce || withdraw).
    pub sha256: String,
}

/// Offsets of the length fields of an UPDATE being written, patched when
/// it is finished.
struct OpenUpdate {
    msg: usize,
    attrs: usize,
    mp: usize,
}

fn begin_update(out: &mut Vec<u8>) -> (usize, usize) {
    let msg = out.len();
    out.extend_from_slice(&MARKER);
    out.extend_from_slice(&[0, 0, UPDATE, 0, 0, 0, 0]); // length, type, withdrawn length 0, attribute length
    (msg, out.len())
}

/// An UPDATE with `attrs` and an MP_REACH_NLRI (RFC 4760 section 3) for
/// L2VPN/EVPN with next hop `nh` (4 octets) and a zero reserved octet; NLRI
/// are appended after it. MP_REACH always has the extended-length flag (0x90).
fn begin_reach(out: &mut Vec<u8>, attrs: &[u8], nh: Ipv4Addr) -> OpenUpdate {
    let (msg, a) = begin_update(out);
    out.extend_from_slice(attrs);
    let mp = out.len();
    out.extend_from_slice(&[0x90, ATTR_MP_REACH, 0, 0]);
    out.extend_from_slice(&AFI_L2VPN.to_be_bytes());
    out.extend_from_slice(&[SAFI_EVPN, 4]);
    out.extend_from_slice(&nh.octets());
    out.push(0);
    OpenUpdate { msg, attrs: a, mp }
}

/// An UPDATE holding only an MP_UNREACH_NLRI (RFC 4760 section 4).
fn begin_unreach(out: &mut Vec<u8>) -> OpenUpdate {
    let (msg, a) = begin_update(out);
    let mp = out.len();
    out.extend_from_slice(&[0x90, ATTR_MP_UNREACH, 0, 0]);
    out.extend_from_slice(&AFI_L2VPN.to_be_bytes());
    out.push(SAFI_EVPN);
    OpenUpdate { msg, attrs: a, mp }
}

fn finish(out: &mut [u8], o: OpenUpdate) {
    let end = out.len();
    let put = |out: &mut [u8], at: usize, v: usize| {
        out[at..at + 2].copy_from_slice(&(v as u16).to_be_bytes())
    };
    put(out, o.mp + 2, end - o.mp - 4);
    put(out, o.attrs - 2, end - o.attrs);
    put(out, o.msg + 16, end - o.msg);
}

/// ORIGIN IGP, empty AS_PATH, LOCAL_PREF 100 (RFC 4271 section 5.1).
fn common_attrs() -> Vec<u8> {
    let mut v = Vec::with_capacity(16);
    push_attr(&mut v, 0x40, ATTR_ORIGIN, &[0]);
    push_attr(&mut v, 0x40, ATTR_AS_PATH, &[]);
    push_attr(&mut v, 0x40, ATTR_LOCAL_PREF, &100u32.to_be_bytes());
    v
}

/// The route target `asn:vni` (RFC 4360 section 4: two-octet AS specific,
/// type 0x00 subtype 0x02; RFC 5668 four-octet AS specific, type 0x02, when
/// the AS needs 4 octets, the VNI then cut to 16 bits) and the BGP
/// Encapsulation extended community (RFC 9012 section 4.1, type 0x03
/// subtype 0x0c) with tunnel type 8, VXLAN (RFC 8365 section 5.1.3).
fn ext_comms(asn: u32, vni: u32) -> [u8; 16] {
    let mut v = [0u8; 16];
    if asn <= 0xffff {
        v[..2].copy_from_slice(&[0x00, 0x02]);
        v[2..4].copy_from_slice(&(asn as u16).to_be_bytes());
        v[4..8].copy_from_slice(&vni.to_be_bytes());
    } else {
        v[..2].copy_from_slice(&[0x02, 0x02]);
        v[2..6].copy_from_slice(&asn.to_be_bytes());
        v[6..8].copy_from_slice(&(vni as u16).to_be_bytes());
    }
    v[8..10].copy_from_slice(&[0x03, 0x0c]);
    v[14..16].copy_from_slice(&8u16.to_be_bytes());
    v
}

/// Route distinguisher type 1 (RFC 4364 section 4.2): IPv4 `vtep`, 2-octet
/// number `vni & 0xffff`.
fn rd_type1(vtep: Ipv4Addr, vni: u32) -> [u8; 8] {
    let mut rd = [0u8; 8];
    rd[1] = 1;
    rd[2..6].copy_from_slice(&vtep.octets());
    rd[6..8].copy_from_slice(&(vni as u16).to_be_bytes());
    rd
}

/// The 3-octet MPLS label field carrying the VNI (RFC 8365 section 5.1.3).
fn label3(v: u32) -> [u8; 3] {
    [(v >> 16) as u8, (v >> 8) as u8, v as u8]
}

fn ip_add(base: Ipv4Addr, off: u64, what: &'static str) -> Result<Ipv4Addr, WorkloadError> {
    let v = u64::from(u32::from(base)) + off;
    u32::try_from(v)
        .map(Ipv4Addr::from)
        .map_err(|_| WorkloadError::Overflow(what))
}

impl Workload {
    pub fn encode(spec: &Spec) -> Result<Workload, WorkloadError> {
        let t0 = Instant::now();
        let (vteps, vnis) = (u64::from(spec.vteps), u64::from(spec.vnis));
        let g = vteps * vnis;
        if g == 0 {
            return Err(WorkloadError::NoGroups);
        }
        if spec.max_nlri == 0 {
            return Err(WorkloadError::MaxNlri);
        }
        let type3 = if spec.type3 < 0 { g } else { spec.type3 as u64 };
        if type3 > g {
            return Err(WorkloadError::TooManyType3 { m: spec.type3, g });
        }
        if spec.routes > u64::from(u32::MAX) + 1 {
            return Err(WorkloadError::Overflow("--routes"));
        }
        let maxlen = if spec.ext_msg { EXT_MAX } else { STD_MAX };
        let max_nlri = spec.max_nlri;
        let common = common_attrs();
        let type2_len = if spec.mac_ip { 39 } else { 35 };
        let total = spec.routes + type3;
        // every NLRI in announce order, for the withdraw stream
        let mut all_nlri: Vec<u8> =
            Vec::with_capacity((spec.routes * type2_len + type3 * 19) as usize);
        let mut out: Vec<u8> = Vec::with_capacity((total * (type2_len + 2) + 4096) as usize);
        let mut msgs = 0u64;
        // MP_REACH header (extended length), AFI, SAFI, next hop length, next hop, reserved
        let mpr_fixed = 4 + 2 + 1 + 1 + 4 + 1;

        // ---- type-2, grouped by (vtep, vni): one attribute set per UPDATE
        for grp in 0..g.min(spec.routes) {
            let (vt, vn) = (grp / vnis, grp % vnis);
            let vtep = ip_add(spec.vtep_base, 1 + vt, "--vtep-base")?;
            let vni = u32::try_from(u64::from(spec.vni_base) + vn)
                .map_err(|_| WorkloadError::Overflow("--vni-base"))?;
            let rd = rd_type1(vtep, vni);
            let lab = label3(vni);
            let mut attrs = common.clone();
            push_attr(&mut attrs, 0xc0, ATTR_EXT_COMM, &ext_comms(spec.asn, vni));
            let room = maxlen - HEADER_LEN - 4 - attrs.len() - mpr_fixed;
            let mut open: Option<OpenUpdate> = None;
            let (mut count, mut size) = (0u64, 0usize);
            let mut r = grp;
            while r < spec.routes {
                // RFC 7432 section 7.2: RD, ESI (10 octets, 0), Ethernet Tag
                // (0), MAC length 48, MAC 02:eb:<r>, IP length (0 or 32)
                // and address, MPLS Label1 = VNI (RFC 8365)
                let mut n = [0u8; 41];
                n[0] = 2;
                n[2..10].copy_from_slice(&rd);
                n[24] = 0x30;
                n[25..27].copy_from_slice(&[0x02, 0xeb]);
                n[27..31].copy_from_slice(&(r as u32).to_be_bytes());
                let len = if spec.mac_ip {
                    n[31] = 0x20;
                    let ip = ip_add(Ipv4Addr::new(198, 18, 0, 0), 1 + r / g, "MAC+IP address")?;
                    n[32..36].copy_from_slice(&ip.octets());
                    n[36..39].copy_from_slice(&lab);
                    39
                } else {
                    n[31] = 0;
                    n[32..35].copy_from_slice(&lab);
                    35
                };
                n[1] = (len - 2) as u8;
                let n = &n[..len];
                all_nlri.extend_from_slice(n);
                if count > 0 && (size + len > room || count >= max_nlri) {
                    finish(&mut out, open.take().expect("an UPDATE is open"));
                    msgs += 1;
                    count = 0;
                    size = 0;
                }
                if count == 0 {
                    open = Some(begin_reach(&mut out, &attrs, vtep));
                }
                out.extend_from_slice(n);
                count += 1;
                size += len;
                r += g;
            }
            if let Some(o) = open {
                finish(&mut out, o);
                msgs += 1;
            }
        }

        // ---- type-3, one per (vtep, vni), each with its own PMSI attribute
        for k in 0..type3 {
            let (vt, vn) = (k / vnis, k % vnis);
            let vtep = ip_add(spec.vtep_base, 1 + vt, "--vtep-base")?;
            let vni = u32::try_from(u64::from(spec.vni_base) + vn)
                .map_err(|_| WorkloadError::Overflow("--vni-base"))?;
            // RFC 7432 section 7.3: RD, Ethernet Tag 0, IP length 32, originator = VTEP
            let mut n = [0u8; 19];
            n[0] = 3;
            n[1] = 17;
            n[2..10].copy_from_slice(&rd_type1(vtep, vni));
            n[14] = 0x20;
            n[15..19].copy_from_slice(&vtep.octets());
            all_nlri.extend_from_slice(&n);
            // RFC 6514 section 5: flags 0, tunnel type 6 (ingress replication,
            // RFC 7432 section 11.2), label = VNI, tunnel identifier = VTEP
            let mut pmsi = [0u8; 9];
            pmsi[1] = 6;
            pmsi[2..5].copy_from_slice(&label3(vni));
            pmsi[5..9].copy_from_slice(&vtep.octets());
            let mut attrs = common.clone();
            push_attr(&mut attrs, 0xc0, ATTR_EXT_COMM, &ext_comms(spec.asn, vni));
            push_attr(&mut attrs, 0xc0, ATTR_PMSI, &pmsi);
            let o = begin_reach(&mut out, &attrs, vtep);
            out.extend_from_slice(&n);
            finish(&mut out, o);
            msgs += 1;
        }
        let announce = out;
        let announce_msgs = msgs;

        // ---- withdraw: MP_UNREACH, packed regardless of attributes
        let room = maxlen - HEADER_LEN - 4 - 4 - 3;
        let mut out: Vec<u8> = Vec::with_capacity(all_nlri.len() + all_nlri.len() / 64 + 64);
        let mut msgs = 0u64;
        let mut open: Option<OpenUpdate> = None;
        let (mut count, mut size) = (0u64, 0usize);
        let mut p = 0;
        while p < all_nlri.len() {
            let len = 2 + all_nlri[p + 1] as usize;
            if count > 0 && (size + len > room || count >= max_nlri) {
                finish(&mut out, open.take().expect("an UPDATE is open"));
                msgs += 1;
                count = 0;
                size = 0;
            }
            if count == 0 {
                open = Some(begin_unreach(&mut out));
            }
            out.extend_from_slice(&all_nlri[p..p + len]);
            count += 1;
            size += len;
            p += len;
        }
        if let Some(o) = open {
            finish(&mut out, o);
            msgs += 1;
        }
        let withdraw = out;
        let mut eor_attr = Vec::new();
        let mut afi_safi = AFI_L2VPN.to_be_bytes().to_vec();
        afi_safi.push(SAFI_EVPN);
        push_attr(&mut eor_attr, 0x80, ATTR_MP_UNREACH, &afi_safi);
        let mut body = vec![0, 0];
        body.extend_from_slice(&(eor_attr.len() as u16).to_be_bytes());
        body.extend_from_slice(&eor_attr);
        let eor = message(UPDATE, &body);
        let encode_s = t0.elapsed().as_secs_f64();
        let mut h = Sha256::new();
        h.update(&announce);
        h.update(&withdraw);
        let digest = h.finalize();
        let sha256: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
        Ok(Workload {
            spec: spec.clone(),
            type3,
            announce,
            announce_msgs,
            withdraw,
            withdraw_msgs: msgs,
            eor,
            encode_s,
            sha256,
        })
    }

    /// N + M.
    pub fn total(&self) -> u64 {
        self.spec.routes + self.type3
    }

    /// The summary evpn-blast.py's `Workload.info()` prints, field for field.
    pub fn info(&self) -> Obj {
        let s = &self.spec;
        let mut o = Obj::new();
        o.set("routes_type2", s.routes);
        o.set("routes_type3", self.type3);
        o.set("vteps", s.vteps);
        o.set("vnis", s.vnis);
        o.set("mac_ip", s.mac_ip);
        o.set("ext_msg", s.ext_msg);
        o.set("max_nlri", s.max_nlri);
        o.set("announce_bytes", self.announce.len());
        o.set("announce_msgs", self.announce_msgs);
        o.set("withdraw_bytes", self.withdraw.len());
        o.set("withdraw_msgs", self.withdraw_msgs);
        o.set(
            "bytes_per_route",
            round(self.announce.len() as f64 / self.total().max(1) as f64, 2),
        );
        o.set("encode_s", round(self.encode_s, 3));
        if self.encode_s > 0.0 {
            o.set(
                "encode_routes_per_s",
                (self.total() as f64 / self.encode_s) as u64,
            );
        } else {
            o.set("encode_routes_per_s", serde_json::Value::Null);
        }
        o.set("workload_sha256", self.sha256.clone());
        o
    }
}

#[cfg(test)]
#[path = "workload_tests.rs"]
mod tests;
