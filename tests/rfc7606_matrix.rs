//! The malformed-input matrix (issue 14): what a running reflector does on
//! the wire with every hostile UPDATE, OPEN and header evpnd can be sent,
//! one table row per case: the bytes, the rule (RFC section) and the
//! outcome the rule asks for, observed by two reflector clients:
//!
//! - treat-as-withdraw (RFC 7606 section 2): A's session stays up and the
//!   route, announced well-formed first, is withdrawn from B;
//! - attribute-discard (RFC 7606 section 2): the route reaches B without the
//!   attribute (and "reflected" rows check what B gets, so that every
//!   discard and withdraw row has a positive counterpart that can fail);
//! - discarded routes (RFC 7606 section 5.4): nothing reaches B, A stays up;
//! - session reset: the NOTIFICATION's code, subcode and Data (RFC 4271
//!   section 6), then the close; each reset row speaks from a fresh client
//!   address of its own, and after it B still gets A's next route.
//!
//! Where a unit test in evpnd-wire already pins the classification the row
//! names it; the row is about the daemon's behaviour on the wire. Cases
//! already in tests/rfc7606_nlri.rs and tests/daemon_rr.rs are cited there,
//! not repeated. Three tables, three daemons (run in parallel by the test
//! harness), everything on loopback.

// The helpers are shared with the other daemon tests; this one uses some.
#[allow(dead_code)]
mod common;

use common::two_clients::*;
use common::*;
use evpnd_wire::attribute::{AttributeValue, Community, Origin};
use evpnd_wire::capability::Capability;
use evpnd_wire::evpn::EvpnRoute;
use evpnd_wire::message::Message;
use evpnd_wire::open::Open;
use evpnd_wire::update::Update;
use evpnd_wire::{Family, header};
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

/// How long B is watched for strays after the expected message.
const SETTLE: Duration = Duration::from_millis(150);
/// Fresh client addresses per daemon, one per session-reset row.
const POOL: u8 = 32;

/// Where in the session the row's bytes are sent (RFC 4271 section 8.2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// The daemon's OPEN received, nothing of ours sent (OpenSent).
    OpenSent,
    /// Our OPEN sent, the daemon's OPEN and KEEPALIVE received, our
    /// KEEPALIVE not sent (OpenConfirm).
    OpenConfirm,
    Established,
}

/// The outcome the rule asks for.
enum Expect {
    /// RFC 7606 section 2 treat-as-withdraw: `route` is first announced
    /// well-formed, then the row's UPDATE must withdraw it from B.
    Withdraw,
    /// Reflected to B, and what B gets satisfies the check (for
    /// attribute-discard: the attribute is gone).
    Reflected(fn(&Update) -> bool),
    /// Nothing reaches B (routes of unrecognized types, RFC 7606 5.4).
    Nothing,
    /// NOTIFICATION (code, subcode) with exactly this Data, then the close.
    Reset((u8, u8), Vec<u8>),
}

struct Case {
    /// What is sent.
    what: &'static str,
    /// The rule, with its section.
    rule: &'static str,
    /// The unit test that pins the same classification, if any.
    unit: Option<&'static str>,
    stage: Stage,
    /// The whole message(s), header included.
    bytes: Vec<u8>,
    /// The route the UPDATE announces (for Withdraw and Reflected).
    route: Option<EvpnRoute>,
    expect: Expect,
}

impl Expect {
    fn kind(&self) -> &'static str {
        match self {
            Expect::Withdraw => "treat-as-withdraw",
            Expect::Reflected(_) => "reflected",
            Expect::Nothing => "discarded",
            Expect::Reset(..) => "session reset",
        }
    }
}

// ---- building messages octet by octet ----

const ORIGIN: [u8; 4] = [0x40, 1, 1, 0];
const AS_PATH: [u8; 3] = [0x40, 2, 0];

/// A's EXTENDED_COMMUNITIES (VNI 10's RT, VXLAN), as [`a_attributes`] has
/// them after ORIGIN and AS_PATH.
fn ext_communities() -> Vec<u8> {
    let all = a_attributes();
    assert_eq!(&all[..7], &[ORIGIN.as_slice(), &AS_PATH].concat()[..]);
    assert_eq!(&all[7..9], &[0xc0, 16]);
    all[7..].to_vec()
}

/// ORIGIN, AS_PATH, EXTENDED_COMMUNITIES without the attributes of type
/// `drop`, then `extra`.
fn attrs(drop: &[u8], extra: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    for (code, bytes) in [
        (1, ORIGIN.to_vec()),
        (2, AS_PATH.to_vec()),
        (16, ext_communities()),
    ] {
        if !drop.contains(&code) {
            out.extend(bytes);
        }
    }
    for e in extra {
        out.extend_from_slice(e);
    }
    out
}

/// A whole message: marker, length, type, body (RFC 4271 section 4.1).
fn message(message_type: u8, body: &[u8]) -> Vec<u8> {
    let mut m = vec![0xff; 16];
    m.extend(((19 + body.len()) as u16).to_be_bytes());
    m.push(message_type);
    m.extend_from_slice(body);
    m
}

/// An UPDATE (RFC 4271 section 4.3) with these three fields.
fn update(withdrawn: &[u8], attributes: &[u8], nlri: &[u8]) -> Vec<u8> {
    let mut body = (withdrawn.len() as u16).to_be_bytes().to_vec();
    body.extend_from_slice(withdrawn);
    body.extend((attributes.len() as u16).to_be_bytes());
    body.extend_from_slice(attributes);
    body.extend_from_slice(nlri);
    message(2, &body)
}

/// An attribute with the Extended Length bit and a 2-octet length.
fn long_attribute(flags: u8, code: u8, value: &[u8]) -> Vec<u8> {
    let mut a = vec![flags | 0x10, code];
    a.extend((value.len() as u16).to_be_bytes());
    a.extend_from_slice(value);
    a
}

/// MP_REACH_NLRI for l2vpn-evpn (RFC 4760 section 3) from A's VTEP.
fn mp_reach(nlri: &[u8]) -> Vec<u8> {
    let mut value = vec![0, 25, 70, 4];
    value.extend(A_VTEP.octets());
    value.push(0);
    value.extend_from_slice(nlri);
    long_attribute(0x80, 14, &value)
}

/// MP_UNREACH_NLRI for l2vpn-evpn (RFC 4760 section 4).
fn mp_unreach(nlri: &[u8]) -> Vec<u8> {
    let mut value = vec![0, 25, 70];
    value.extend_from_slice(nlri);
    long_attribute(0x80, 15, &value)
}

/// An EVPN UPDATE: MP_REACH_NLRI with `nlri`, then `attributes`.
fn evpn_update(nlri: &[u8], attributes: &[u8]) -> Vec<u8> {
    let mut all = mp_reach(nlri);
    all.extend_from_slice(attributes);
    update(&[], &all, &[])
}

/// A's n-th type-2 route of the matrix.
fn route(n: u16) -> EvpnRoute {
    type2(rd(A_ID, 10), mac(2, 100 + n), None, 10)
}

fn opaque(route_type: u8, value: Vec<u8>) -> EvpnRoute {
    EvpnRoute::Opaque {
        route_type,
        value: value.into(),
    }
}

/// Type 1 (RFC 7432 section 7.1): RD, ESI, Ethernet tag, label: 25 octets.
fn type1_value() -> Vec<u8> {
    let mut v = rd(A_ID, 10).to_bytes().to_vec();
    v.extend([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    v.extend([0, 0, 0, 10]);
    v.extend([0, 0, 0xa1]);
    v
}

/// Type 4 (RFC 7432 section 7.4): RD, ESI, IP length 32, IPv4: 23 octets.
fn type4_value() -> Vec<u8> {
    let mut v = rd(A_ID, 10).to_bytes().to_vec();
    v.extend([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    v.push(32);
    v.extend(A_VTEP.octets());
    v
}

/// Type 5 (RFC 9136 section 3.1), IPv4: RD, ESI, Ethernet tag, prefix
/// length, prefix, gateway, label: 34 octets.
fn type5_value() -> Vec<u8> {
    let mut v = rd(A_ID, 5).to_bytes().to_vec();
    v.extend([0; 10]);
    v.extend([0; 4]);
    v.push(24);
    v.extend([198, 18, 50, 0]);
    v.extend([0; 4]);
    v.extend([0, 0, 50]);
    v
}

/// An NLRI from a type and a value, the length octet computed.
fn raw_nlri(route_type: u8, value: &[u8]) -> Vec<u8> {
    let mut n = vec![route_type, value.len() as u8];
    n.extend_from_slice(value);
    n
}

/// A type-2 route of A with its length octet kept and the value edited.
fn type2_bytes(n: u16) -> Vec<u8> {
    nlri(&route(n)).to_vec()
}

fn open_bytes(open: Open) -> Vec<u8> {
    Message::Open(open)
        .to_bytes(&Default::default())
        .expect("encode OPEN")
        .to_vec()
}

/// The OPEN a fresh client `id` sends (iBGP, l2vpn-evpn, 4-octet AS).
fn good_open(id: Ipv4Addr) -> Open {
    Open::new(
        ASN,
        90,
        id,
        vec![
            Capability::Multiprotocol(Family::L2VPN_EVPN),
            Capability::RouteRefresh,
            Capability::FourOctetAs(ASN),
        ],
    )
}

/// The BGP identifier the row's OPEN carries; the runner's fresh clients
/// use 198.18.0.(10 + n), their OPENs are built with this placeholder and
/// patched in (octets 24..28 of an OPEN message).
const ID_PLACEHOLDER: Ipv4Addr = Ipv4Addr::new(198, 18, 9, 9);

fn attribute_has(u: &Update, code: u8) -> bool {
    u.attribute(code).is_some()
}

// ---- the three tables ----

/// Every path attribute evpnd knows, and unknown ones: wrong length, wrong
/// flags, bad value, repeated, missing (RFC 7606 sections 3, 4, 7; RFC
/// 4271 section 6.3; RFC 6793; RFC 8092).
fn attribute_cases() -> Vec<Case> {
    let mut n = 0u16;
    let mut next = || {
        n += 1;
        route(n)
    };
    let mut cases = Vec::new();
    let mut row =
        |what, rule, unit, extra: Vec<u8>, expect: Expect, next: &mut dyn FnMut() -> EvpnRoute| {
            let r = next();
            cases.push(Case {
                what,
                rule,
                unit,
                stage: Stage::Established,
                bytes: evpn_update(&nlri(&r), &extra),
                route: Some(r),
                expect,
            });
        };
    const TAW_UNIT: Option<&str> =
        Some("rfc7606::tests::well_known_attribute_errors_treat_as_withdraw");
    const DISCARD_UNIT: Option<&str> =
        Some("rfc7606::tests::aggregator_and_atomic_aggregate_errors_discard");
    const DUP_UNIT: Option<&str> =
        Some("rfc7606::tests::duplicates_discard_except_mp_which_resets");
    use Expect::*;
    let ext = ext_communities();

    // Positive control: every attribute well-formed reaches B, so that the
    // rows below can fail.
    row(
        "ORIGIN, AS_PATH, EXT_COMM, MED 5, LOCAL_PREF 200, ATOMIC_AGGREGATE, AGGREGATOR, COMMUNITIES, ORIGINATOR_ID, CLUSTER_LIST, PMSI_TUNNEL, LARGE_COMMUNITY, all well-formed",
        "RFC 4271 5, RFC 4456 8: reflected; ORIGINATOR_ID kept, CLUSTER_ID prepended",
        None,
        attrs(
            &[],
            &[
                &[0x80, 4, 4, 0, 0, 0, 5],
                &[0x40, 5, 4, 0, 0, 0, 200],
                &[0x40, 6, 0],
                &[0xc0, 7, 8, 0, 0, 0xfd, 0xe8, 198, 18, 0, 2],
                &[0xc0, 8, 4, 0xfd, 0xe8, 0, 1],
                &[0x80, 9, 4, 198, 18, 0, 77],
                &[0x80, 10, 4, 198, 18, 0, 78],
                &[0xc0, 22, 9, 0, 6, 0, 0, 0xa1, 198, 18, 1, 2],
                &[0xc0, 32, 12, 0, 0, 0xfd, 0xe8, 0, 0, 0, 1, 0, 0, 0, 2],
            ],
        ),
        Reflected(|u| {
            u.multi_exit_disc() == Some(5)
                && u.local_pref() == Some(200)
                && [6, 7, 8, 22, 32].iter().all(|c| attribute_has(u, *c))
                && u.originator_id() == Some(Ipv4Addr::new(198, 18, 0, 77))
                && u.cluster_list() == Some(&[CLUSTER_ID, Ipv4Addr::new(198, 18, 0, 78)][..])
        }),
        &mut next,
    );

    // ORIGIN (RFC 7606 7.1).
    row(
        "ORIGIN of length 2",
        "RFC 7606 7.1: treat-as-withdraw",
        None,
        attrs(&[1], &[&[0x40, 1, 2, 0, 0]]),
        Withdraw,
        &mut next,
    );
    row(
        "ORIGIN value 3",
        "RFC 7606 7.1: treat-as-withdraw",
        TAW_UNIT,
        attrs(&[1], &[&[0x40, 1, 1, 3]]),
        Withdraw,
        &mut next,
    );
    row(
        "ORIGIN flagged optional (0xc0)",
        "RFC 7606 3 c, 7.1: treat-as-withdraw",
        TAW_UNIT,
        attrs(&[1], &[&[0xc0, 1, 1, 0]]),
        Withdraw,
        &mut next,
    );
    row(
        "ORIGIN with the Partial bit (0x60)",
        "RFC 4271 4.3: Partial MUST be 0 on a well-known attribute; handled as the 3 c conflict: treat-as-withdraw",
        None,
        attrs(&[1], &[&[0x60, 1, 1, 0]]),
        Withdraw,
        &mut next,
    );
    row(
        "no ORIGIN",
        "RFC 7606 3 d: missing well-known mandatory, treat-as-withdraw",
        None,
        attrs(&[1], &[]),
        Withdraw,
        &mut next,
    );
    row(
        "ORIGIN twice, IGP then INCOMPLETE",
        "RFC 7606 3 g: all but the first discarded",
        DUP_UNIT,
        attrs(&[], &[&[0x40, 1, 1, 2]]),
        Reflected(|u| u.origin() == Some(Origin::Igp)),
        &mut next,
    );

    // AS_PATH (RFC 7606 7.2).
    row(
        "AS_PATH segment of 5 ASes with none present",
        "RFC 7606 7.2: treat-as-withdraw",
        None,
        attrs(&[2], &[&[0x40, 2, 2, 2, 5]]),
        Withdraw,
        &mut next,
    );
    row(
        "AS_PATH with a lone octet after its segment",
        "RFC 7606 7.2: treat-as-withdraw",
        None,
        attrs(&[2], &[&[0x40, 2, 7, 2, 1, 0, 0, 0xfd, 0xe8, 0]]),
        Withdraw,
        &mut next,
    );
    row(
        "AS_PATH segment of 0 ASes",
        "RFC 7606 7.2: a segment of length zero is malformed, treat-as-withdraw",
        TAW_UNIT,
        attrs(&[2], &[&[0x40, 2, 2, 2, 0]]),
        Withdraw,
        &mut next,
    );
    row(
        "AS_PATH segment type 0",
        "RFC 7606 7.2: unrecognized segment type, treat-as-withdraw",
        None,
        attrs(&[2], &[&[0x40, 2, 6, 0, 1, 0, 0, 0xfd, 0xe8]]),
        Withdraw,
        &mut next,
    );
    row(
        "AS_PATH flagged optional (0xc0)",
        "RFC 7606 3 c, 7.2: treat-as-withdraw",
        None,
        attrs(&[2], &[&[0xc0, 2, 0]]),
        Withdraw,
        &mut next,
    );
    row(
        "no AS_PATH",
        "RFC 7606 3 d: treat-as-withdraw",
        TAW_UNIT,
        attrs(&[2], &[]),
        Withdraw,
        &mut next,
    );
    row(
        "AS_PATH twice, empty then [65001]",
        "RFC 7606 3 g: all but the first discarded",
        None,
        attrs(&[], &[&[0x40, 2, 6, 2, 1, 0, 0, 0xfd, 0xe9]]),
        Reflected(|u| u.as_path().is_some_and(|p| p.segments.is_empty())),
        &mut next,
    );

    // NEXT_HOP (RFC 7606 7.3); an MP-only UPDATE need not carry one (RFC
    // 4760 3), a well-formed one is no error.
    row(
        "well-formed NEXT_HOP beside MP_REACH_NLRI",
        "RFC 4760 3: the receiver ignores it; the route is reflected",
        None,
        attrs(&[], &[&[0x40, 3, 4, 198, 18, 1, 2]]),
        Reflected(|_| true),
        &mut next,
    );
    row(
        "NEXT_HOP of length 3",
        "RFC 7606 7.3: treat-as-withdraw",
        TAW_UNIT,
        attrs(&[], &[&[0x40, 3, 3, 198, 18, 1]]),
        Withdraw,
        &mut next,
    );
    row(
        "NEXT_HOP flagged optional (0xc0)",
        "RFC 7606 3 c, 7.3: treat-as-withdraw",
        None,
        attrs(&[], &[&[0xc0, 3, 4, 198, 18, 1, 2]]),
        Withdraw,
        &mut next,
    );

    // MULTI_EXIT_DISC (RFC 7606 7.4).
    row(
        "MED of length 2",
        "RFC 7606 7.4: treat-as-withdraw",
        TAW_UNIT,
        attrs(&[], &[&[0x80, 4, 2, 0, 5]]),
        Withdraw,
        &mut next,
    );
    row(
        "MED flagged well-known (0x40)",
        "RFC 7606 3 c, 7.4: treat-as-withdraw",
        None,
        attrs(&[], &[&[0x40, 4, 4, 0, 0, 0, 5]]),
        Withdraw,
        &mut next,
    );

    // LOCAL_PREF (RFC 7606 7.5, internal peer).
    row(
        "LOCAL_PREF of length 2",
        "RFC 7606 7.5: treat-as-withdraw (iBGP)",
        TAW_UNIT,
        attrs(&[], &[&[0x40, 5, 2, 0, 100]]),
        Withdraw,
        &mut next,
    );
    row(
        "LOCAL_PREF flagged optional (0xc0)",
        "RFC 7606 3 c, 7.5: treat-as-withdraw",
        None,
        attrs(&[], &[&[0xc0, 5, 4, 0, 0, 0, 100]]),
        Withdraw,
        &mut next,
    );
    row(
        "no LOCAL_PREF from an internal peer",
        "RFC 7606 3 d names only well-known mandatory attributes: no error; RFC 4271 5.1.5: sent on with LOCAL_PREF",
        None,
        attrs(&[], &[]),
        Reflected(|u| u.local_pref() == Some(100)),
        &mut next,
    );
    row(
        "LOCAL_PREF twice, 200 then 300",
        "RFC 7606 3 g: all but the first discarded",
        None,
        attrs(
            &[],
            &[&[0x40, 5, 4, 0, 0, 0, 200], &[0x40, 5, 4, 0, 0, 1, 44]],
        ),
        Reflected(|u| u.local_pref() == Some(200)),
        &mut next,
    );

    // ATOMIC_AGGREGATE (RFC 7606 7.6), AGGREGATOR (7.7): discard.
    row(
        "ATOMIC_AGGREGATE of length 1",
        "RFC 7606 7.6: attribute-discard",
        DISCARD_UNIT,
        attrs(&[], &[&[0x40, 6, 1, 0]]),
        Reflected(|u| !attribute_has(u, 6)),
        &mut next,
    );
    row(
        "ATOMIC_AGGREGATE flagged optional (0xc0)",
        "RFC 7606 3 c: treat-as-withdraw (7.6's discard is for a bad length, not flags)",
        Some("rfc7606::tests::flags_conflicts_treat_as_withdraw_where_values_discard"),
        attrs(&[], &[&[0xc0, 6, 0]]),
        Withdraw,
        &mut next,
    );
    row(
        "AGGREGATOR of length 6 (8 between 4-octet speakers)",
        "RFC 7606 7.7: attribute-discard",
        DISCARD_UNIT,
        attrs(&[], &[&[0xc0, 7, 6, 0, 0, 0xfd, 0xe8, 198, 18]]),
        Reflected(|u| !attribute_has(u, 7)),
        &mut next,
    );
    row(
        "AGGREGATOR flagged non-transitive (0x80)",
        "RFC 7606 3 c: treat-as-withdraw (7.7's discard is for a bad value, not flags)",
        Some("rfc7606::tests::flags_conflicts_treat_as_withdraw_where_values_discard"),
        attrs(&[], &[&[0x80, 7, 8, 0, 0, 0xfd, 0xe8, 198, 18, 0, 2]]),
        Withdraw,
        &mut next,
    );

    // AS number 0 (RFC 7607 section 2).
    row(
        "AS_PATH [0]",
        "RFC 7607 2: AS 0 in AS_PATH is malformed; RFC 7606 7.2: treat-as-withdraw",
        Some("rfc7606::tests::as_zero_is_malformed_rfc7607"),
        attrs(&[2], &[&[0x40, 2, 6, 2, 1, 0, 0, 0, 0]]),
        Withdraw,
        &mut next,
    );
    row(
        "AGGREGATOR with AS 0",
        "RFC 7607 2: malformed; RFC 7606 7.7: attribute-discard",
        Some("rfc7606::tests::as_zero_is_malformed_rfc7607"),
        attrs(&[], &[&[0xc0, 7, 8, 0, 0, 0, 0, 198, 18, 0, 2]]),
        Reflected(|u| !attribute_has(u, 7)),
        &mut next,
    );

    // The other attributes repeated: the first kept (RFC 7606 3 g).
    row(
        "MED twice, 5 then 6",
        "RFC 7606 3 g: all but the first discarded",
        DUP_UNIT,
        attrs(&[], &[&[0x80, 4, 4, 0, 0, 0, 5], &[0x80, 4, 4, 0, 0, 0, 6]]),
        Reflected(|u| u.multi_exit_disc() == Some(5)),
        &mut next,
    );
    row(
        "ATOMIC_AGGREGATE twice",
        "RFC 7606 3 g: all but the first discarded",
        DUP_UNIT,
        attrs(&[], &[&[0x40, 6, 0], &[0x40, 6, 0]]),
        Reflected(|u| u.attributes.iter().filter(|a| a.type_code() == 6).count() == 1),
        &mut next,
    );
    row(
        "AGGREGATOR twice, AS 65000 then AS 65001",
        "RFC 7606 3 g: all but the first discarded",
        DUP_UNIT,
        attrs(
            &[],
            &[
                &[0xc0, 7, 8, 0, 0, 0xfd, 0xe8, 198, 18, 0, 2],
                &[0xc0, 7, 8, 0, 0, 0xfd, 0xe9, 198, 18, 0, 2],
            ],
        ),
        Reflected(
            |u| matches!(u.attribute(7), Some(AttributeValue::Aggregator(a)) if a.asn == 65000),
        ),
        &mut next,
    );
    row(
        "COMMUNITIES twice, 65000:1 then 65000:2",
        "RFC 7606 3 g: all but the first discarded",
        DUP_UNIT,
        attrs(
            &[],
            &[
                &[0xc0, 8, 4, 0xfd, 0xe8, 0, 1],
                &[0xc0, 8, 4, 0xfd, 0xe8, 0, 2],
            ],
        ),
        Reflected(|u| {
            u.attribute(8) == Some(&AttributeValue::Communities(vec![Community(0xfde8_0001)]))
        }),
        &mut next,
    );
    row(
        "ORIGINATOR_ID twice, 198.18.0.77 then 198.18.0.79",
        "RFC 7606 3 g: all but the first discarded",
        DUP_UNIT,
        attrs(
            &[],
            &[&[0x80, 9, 4, 198, 18, 0, 77], &[0x80, 9, 4, 198, 18, 0, 79]],
        ),
        Reflected(|u| u.originator_id() == Some(Ipv4Addr::new(198, 18, 0, 77))),
        &mut next,
    );
    row(
        "CLUSTER_LIST twice, [198.18.0.78] then [198.18.0.79]",
        "RFC 7606 3 g: all but the first discarded (then RFC 4456 8: CLUSTER_ID prepended)",
        DUP_UNIT,
        attrs(
            &[],
            &[
                &[0x80, 10, 4, 198, 18, 0, 78],
                &[0x80, 10, 4, 198, 18, 0, 79],
            ],
        ),
        Reflected(|u| u.cluster_list() == Some(&[CLUSTER_ID, Ipv4Addr::new(198, 18, 0, 78)][..])),
        &mut next,
    );
    row(
        "PMSI_TUNNEL twice, labels 0xa1 then 0xa2",
        "RFC 7606 3 g: all but the first discarded",
        DUP_UNIT,
        attrs(
            &[],
            &[
                &[0xc0, 22, 9, 0, 6, 0, 0, 0xa1, 198, 18, 1, 2],
                &[0xc0, 22, 9, 0, 6, 0, 0, 0xa2, 198, 18, 1, 2],
            ],
        ),
        Reflected(|u| u.pmsi_tunnel().is_some_and(|p| p.label == 0xa1)),
        &mut next,
    );
    row(
        "LARGE_COMMUNITY twice, 65000:1:2 then 65000:1:3",
        "RFC 7606 3 g: all but the first discarded",
        DUP_UNIT,
        attrs(
            &[],
            &[
                &[0xc0, 32, 12, 0, 0, 0xfd, 0xe8, 0, 0, 0, 1, 0, 0, 0, 2],
                &[0xc0, 32, 12, 0, 0, 0xfd, 0xe8, 0, 0, 0, 1, 0, 0, 0, 3],
            ],
        ),
        Reflected(
            |u| matches!(u.attribute(32), Some(AttributeValue::LargeCommunities(c)) if c.len() == 1 && c[0].local_data_2 == 2),
        ),
        &mut next,
    );

    // COMMUNITIES (RFC 7606 7.8).
    // Empty lists: RFC 7606 7.8, 7.10, 7.14, RFC 8092 6 ask for a
    // non-zero multiple of the item size (the valid attribute of the type,
    // if any, left out).
    for (what, rule, empty) in [
        (
            "COMMUNITIES of length 0",
            "RFC 7606 7.8: treat-as-withdraw",
            [0xc0, 8, 0],
        ),
        (
            "CLUSTER_LIST of length 0",
            "RFC 7606 7.10: treat-as-withdraw",
            [0x80, 10, 0],
        ),
        (
            "EXTENDED_COMMUNITIES of length 0",
            "RFC 7606 7.14: treat-as-withdraw",
            [0xc0, 16, 0],
        ),
        (
            "LARGE_COMMUNITY of length 0",
            "RFC 8092 6: treat-as-withdraw",
            [0xc0, 32, 0],
        ),
    ] {
        row(
            what,
            rule,
            None,
            attrs(&[empty[1]], &[&empty]),
            Withdraw,
            &mut next,
        );
    }
    row(
        "COMMUNITIES of length 3",
        "RFC 7606 7.8: treat-as-withdraw",
        TAW_UNIT,
        attrs(&[], &[&[0xc0, 8, 3, 0xfd, 0xe8, 0]]),
        Withdraw,
        &mut next,
    );
    row(
        "COMMUNITIES flagged non-transitive (0x80)",
        "RFC 7606 3 c, 7.8: treat-as-withdraw",
        None,
        attrs(&[], &[&[0x80, 8, 4, 0xfd, 0xe8, 0, 1]]),
        Withdraw,
        &mut next,
    );

    // ORIGINATOR_ID (7.9), CLUSTER_LIST (7.10); the wrong lengths are also
    // in tests/daemon_rr.rs garbage_resets_only_the_offending_session.
    row(
        "ORIGINATOR_ID of length 3",
        "RFC 7606 7.9: treat-as-withdraw",
        TAW_UNIT,
        attrs(&[], &[&[0x80, 9, 3, 198, 18, 0]]),
        Withdraw,
        &mut next,
    );
    row(
        "ORIGINATOR_ID flagged transitive (0xc0)",
        "RFC 7606 3 c, 7.9: treat-as-withdraw",
        None,
        attrs(&[], &[&[0xc0, 9, 4, 198, 18, 0, 77]]),
        Withdraw,
        &mut next,
    );
    row(
        "CLUSTER_LIST of length 5",
        "RFC 7606 7.10: treat-as-withdraw",
        TAW_UNIT,
        attrs(&[], &[&[0x80, 10, 5, 198, 18, 0, 78, 1]]),
        Withdraw,
        &mut next,
    );
    row(
        "CLUSTER_LIST flagged transitive (0xc0)",
        "RFC 7606 3 c, 7.10: treat-as-withdraw",
        None,
        attrs(&[], &[&[0xc0, 10, 4, 198, 18, 0, 78]]),
        Withdraw,
        &mut next,
    );

    // EXTENDED_COMMUNITIES (RFC 7606 7.14).
    row(
        "EXTENDED_COMMUNITIES of length 4",
        "RFC 7606 7.14: treat-as-withdraw",
        TAW_UNIT,
        attrs(&[16], &[&[0xc0, 16, 4, 0, 2, 0xfd, 0xe8]]),
        Withdraw,
        &mut next,
    );
    let mut non_transitive = ext.clone();
    non_transitive[0] = 0x80;
    row(
        "EXTENDED_COMMUNITIES flagged non-transitive (0x80)",
        "RFC 7606 3 c, 7.14: treat-as-withdraw",
        None,
        attrs(&[16], &[&non_transitive]),
        Withdraw,
        &mut next,
    );
    row(
        "EXTENDED_COMMUNITIES twice, VNI 10's RT then VNI 20's",
        "RFC 7606 3 g: all but the first discarded",
        None,
        attrs(&[], &[&[0xc0, 16, 8, 0, 2, 0xfd, 0xe8, 0, 0, 0, 20]]),
        Reflected(|u| {
            u.extended_communities()
                .is_some_and(|c| c.contains(&rt(10)) && !c.contains(&rt(20)))
        }),
        &mut next,
    );

    // AS4_PATH, AS4_AGGREGATOR (RFC 6793).
    row(
        "AS4_PATH segment of 5 ASes with none present",
        "RFC 6793 6 (malformed), 4.1 (from a 4-octet speaker, unread): attribute-discard",
        DISCARD_UNIT,
        attrs(&[], &[&[0xc0, 17, 2, 2, 5]]),
        Reflected(|u| !attribute_has(u, 17)),
        &mut next,
    );
    row(
        "AS4_AGGREGATOR of length 7",
        "RFC 6793 6 (malformed), 4.1 (from a 4-octet speaker, unread): attribute-discard",
        None,
        attrs(&[], &[&[0xc0, 18, 7, 0, 0, 0xfd, 0xe8, 198, 18, 0]]),
        Reflected(|u| !attribute_has(u, 18)),
        &mut next,
    );
    row(
        "well-formed AS4_PATH from a 4-octet-AS speaker",
        "RFC 6793 4.1: MUST NOT be carried between NEW speakers; the receiver discards it",
        Some("rfc7606::tests::as4_attributes_between_new_speakers_are_discarded"),
        attrs(&[], &[&[0xc0, 17, 6, 2, 1, 0, 0, 0xfd, 0xe9]]),
        Reflected(|u| !attribute_has(u, 17)),
        &mut next,
    );
    row(
        "well-formed AS4_AGGREGATOR from a 4-octet-AS speaker",
        "RFC 6793 4.1: discarded",
        Some("rfc7606::tests::as4_attributes_between_new_speakers_are_discarded"),
        attrs(&[], &[&[0xc0, 18, 8, 0, 0, 0xfd, 0xe8, 198, 18, 0, 2]]),
        Reflected(|u| !attribute_has(u, 18)),
        &mut next,
    );

    row(
        "AS4_PATH flagged non-transitive (0x80) from a 4-octet-AS speaker",
        "RFC 6793 4.1: discarded unread, whatever its flags",
        Some("rfc7606::tests::as4_attributes_between_new_speakers_are_discarded"),
        attrs(&[], &[&[0x80, 17, 6, 2, 1, 0, 0, 0xfd, 0xe9]]),
        Reflected(|u| !attribute_has(u, 17)),
        &mut next,
    );

    // PMSI_TUNNEL (RFC 6514 5; not in RFC 7606: as NEXT_HOP, 7.3).
    row(
        "PMSI_TUNNEL of length 4",
        "RFC 7606 7.3 by analogy (attribute_table.rs): treat-as-withdraw",
        None,
        attrs(&[], &[&[0xc0, 22, 4, 0, 6, 0, 0]]),
        Withdraw,
        &mut next,
    );
    row(
        "PMSI_TUNNEL flagged well-known (0x40)",
        "RFC 7606 3 c: treat-as-withdraw",
        None,
        attrs(&[], &[&[0x40, 22, 9, 0, 6, 0, 0, 0xa1, 198, 18, 1, 2]]),
        Withdraw,
        &mut next,
    );

    // LARGE_COMMUNITY (RFC 8092).
    row(
        "LARGE_COMMUNITY of length 11",
        "RFC 8092 6: treat-as-withdraw",
        None,
        attrs(
            &[],
            &[&[0xc0, 32, 11, 0, 0, 0xfd, 0xe8, 0, 0, 0, 1, 0, 0, 0]],
        ),
        Withdraw,
        &mut next,
    );
    row(
        "LARGE_COMMUNITY flagged non-transitive (0x80)",
        "RFC 8092 6, RFC 7606 3 c: treat-as-withdraw",
        None,
        attrs(
            &[],
            &[&[0x80, 32, 12, 0, 0, 0xfd, 0xe8, 0, 0, 0, 1, 0, 0, 0, 2]],
        ),
        Withdraw,
        &mut next,
    );

    // Unknown attributes (RFC 4271 section 5 and 9.1.3).
    row(
        "unknown optional transitive type 99",
        "RFC 4271 5: passed on, Partial bit set",
        Some("rfc7606::tests::unrecognized_well_known_resets_and_unknown_optional_is_kept"),
        attrs(&[], &[&[0xc0, 99, 2, 0xbe, 0xef]]),
        Reflected(|u| {
            u.attributes.iter().any(|a| {
                a.flags.0 == 0xe0
                    && a.value
                        == AttributeValue::Unknown {
                            type_code: 99,
                            value: vec![0xbe, 0xef].into(),
                        }
            })
        }),
        &mut next,
    );
    row(
        "unknown optional non-transitive type 99",
        "RFC 4271 5: quietly ignored, not passed on",
        None,
        attrs(&[], &[&[0x80, 99, 2, 0xbe, 0xef]]),
        Reflected(|u| !attribute_has(u, 99)),
        &mut next,
    );

    // The attribute list itself (RFC 7606 section 4), after MP_REACH_NLRI.
    let r = next();
    let mut list = mp_reach(&nlri(&r));
    list.extend(attrs(&[], &[&[0x40, 5, 9, 0, 0]]));
    cases.push(Case {
        what: "last attribute's length past the attribute field, MP_REACH_NLRI parsed before",
        rule: "RFC 7606 4: treat-as-withdraw",
        unit: Some("rfc7606::tests::attribute_list_overrun_section_4"),
        stage: Stage::Established,
        bytes: update(&[], &list, &[]),
        route: Some(r),
        expect: Withdraw,
    });
    let r = next();
    let mut list = mp_reach(&nlri(&r));
    list.extend(attrs(&[], &[&[0x40, 5]]));
    cases.push(Case {
        what: "2 octets left after the last whole attribute, MP_REACH_NLRI parsed before",
        rule: "RFC 7606 4 (second case): treat-as-withdraw",
        unit: None,
        stage: Stage::Established,
        bytes: update(&[], &list, &[]),
        route: Some(r),
        expect: Withdraw,
    });

    // Session resets, each from a fresh client.
    let reset = |what, rule, unit, bytes, code, data| Case {
        what,
        rule,
        unit,
        stage: Stage::Established,
        bytes,
        route: None,
        expect: Reset(code, data),
    };
    let r = nlri(&route(900));
    let unknown_wk = [0x40, 99, 2, 0xbe, 0xef];
    cases.push(reset(
        "unknown well-known type 99 (no Optional bit)",
        "RFC 4271 6.3: Unrecognized Well-known Attribute, Data the attribute",
        Some("rfc7606::tests::unrecognized_well_known_resets_and_unknown_optional_is_kept"),
        evpn_update(&r, &attrs(&[], &[&unknown_wk])),
        (3, 2),
        unknown_wk.to_vec(),
    ));
    // MP_REACH_NLRI (RFC 7606 7.11; evpnd resets, AFI/SAFI disable is
    // not built) and MP_UNREACH_NLRI (7.12).
    let mut value = vec![0, 25, 70, 5];
    value.extend([198, 18, 1, 2, 3, 0]);
    value.extend_from_slice(&r);
    let bad_nh = long_attribute(0x80, 14, &value);
    cases.push(reset(
        "MP_REACH_NLRI with an EVPN next hop of length 5",
        "RFC 7606 7.11, RFC 4760 7: Optional Attribute Error, Data the attribute (RFC 4271 6.3)",
        Some("rfc7606::tests::mp_reach_errors_reset"),
        update(&[], &[bad_nh.clone(), attrs(&[], &[])].concat(), &[]),
        (3, 9),
        bad_nh,
    ));
    let short = long_attribute(0x80, 14, &[0, 25]);
    cases.push(reset(
        "MP_REACH_NLRI of length 2",
        "RFC 7606 7.11: Optional Attribute Error, Data the attribute",
        None,
        update(&[], &[short.clone(), attrs(&[], &[])].concat(), &[]),
        (3, 9),
        short,
    ));
    let mut transitive = mp_reach(&r);
    transitive[0] = 0xd0;
    cases.push(reset(
        "MP_REACH_NLRI flagged transitive (0xd0)",
        "RFC 4271 6.3: Attribute Flags Error, Data the attribute (RFC 7606 3 c keeps the reset for MP_REACH)",
        Some("rfc7606::tests::mp_reach_errors_reset"),
        update(&[], &[transitive.clone(), attrs(&[], &[])].concat(), &[]),
        (3, 4),
        transitive,
    ));
    cases.push(reset(
        "MP_REACH_NLRI twice",
        "RFC 7606 3 g: session reset, Malformed Attribute List",
        DUP_UNIT,
        update(
            &[],
            &[mp_reach(&r), mp_reach(&r), attrs(&[], &[])].concat(),
            &[],
        ),
        (3, 1),
        vec![],
    ));
    let short = long_attribute(0x80, 15, &[0, 25]);
    cases.push(reset(
        "MP_UNREACH_NLRI of length 2",
        "RFC 7606 7.12: Optional Attribute Error, Data the attribute",
        Some("rfc7606::tests::mp_reach_errors_reset"),
        update(&[], &short, &[]),
        (3, 9),
        short,
    ));
    let mut transitive = mp_unreach(&r);
    transitive[0] = 0xd0;
    cases.push(reset(
        "MP_UNREACH_NLRI flagged transitive (0xd0)",
        "RFC 4271 6.3: Attribute Flags Error, Data the attribute",
        None,
        update(&[], &transitive, &[]),
        (3, 4),
        transitive,
    ));
    cases.push(reset(
        "MP_UNREACH_NLRI twice",
        "RFC 7606 3 g: session reset, Malformed Attribute List",
        None,
        update(&[], &[mp_unreach(&r), mp_unreach(&r)].concat(), &[]),
        (3, 1),
        vec![],
    ));
    cases.push(reset(
        "last attribute's length past the attribute field, before any MP_REACH_NLRI",
        "RFC 7606 3 j: the NLRI cannot be found, so no treat-as-withdraw: Malformed Attribute List",
        Some("rfc7606::tests::attribute_list_overrun_section_4"),
        update(&[], &[ORIGIN.as_slice(), &[0x40, 2, 9, 0]].concat(), &[]),
        (3, 1),
        vec![],
    ));
    cases
}

/// The EVPN NLRI of every route type: well-formed (reflected), broken
/// lengths (RFC 7606 5.3: reset, Data the MP attribute), unrecognized types
/// (5.4: discarded). tests/rfc7606_nlri.rs has a type-200 route beside a
/// known one and a type-3 length past the field; tests/daemon_rr.rs
/// malformed_evpn_nlri_resets_the_session a type-2 MAC length of 47.
fn nlri_cases() -> Vec<Case> {
    use Expect::*;
    let mut cases = Vec::new();
    let a = attrs(&[], &[]);
    let reflected = |what, rule, r: EvpnRoute| Case {
        what,
        rule,
        unit: None,
        stage: Stage::Established,
        bytes: evpn_update(&nlri(&r), &a),
        route: Some(r),
        expect: Reflected(|_| true),
    };
    cases.push(reflected(
        "type 1, 25 octets",
        "RFC 7432 7.1: reflected",
        opaque(1, type1_value()),
    ));
    cases.push(reflected(
        "type 2, no IP, 33 octets",
        "RFC 7432 7.2: reflected",
        route(1),
    ));
    cases.push(reflected(
        "type 3, IPv4, 17 octets",
        "RFC 7432 7.3: reflected",
        type3(rd(A_ID, 10), A_VTEP),
    ));
    cases.push(reflected(
        "type 4, IPv4, 23 octets",
        "RFC 7432 7.4: reflected",
        opaque(4, type4_value()),
    ));
    cases.push(reflected(
        "type 5, IPv4, 34 octets",
        "RFC 9136 3.1: reflected",
        opaque(5, type5_value()),
    ));
    let mut two_labels = type2_bytes(5)[2..].to_vec();
    two_labels.extend([0, 0x27, 0x11]);
    cases.push(reflected(
        "type 2 with label2, 36 octets",
        "RFC 7432 7.2: reflected",
        opaque(2, two_labels),
    ));

    let broken = |what, rule, field: Vec<u8>| {
        let reach = mp_reach(&field);
        Case {
            what,
            rule,
            unit: None,
            stage: Stage::Established,
            bytes: evpn_update(&field, &a),
            route: None,
            expect: Reset((3, 9), reach),
        }
    };
    const R53: &str =
        "RFC 7606 5.3, RFC 4760 7: Optional Attribute Error, Data the MP_REACH_NLRI (RFC 4271 6.3)";
    let t1 = type1_value();
    cases.push(broken(
        "type 1 of 24 octets (label cut)",
        R53,
        raw_nlri(1, &t1[..24]),
    ));
    cases.push(broken(
        "type 1 of 26 octets (one trailing)",
        R53,
        raw_nlri(1, &[t1.clone(), vec![0]].concat()),
    ));
    let t2 = type2_bytes(2);
    cases.push(broken(
        "type 2 of 32 octets (label1 cut)",
        R53,
        raw_nlri(2, &t2[2..34]),
    ));
    cases.push(broken(
        "type 2 of 34 octets (neither label2 nor none)",
        R53,
        raw_nlri(2, &[&t2[2..], &[0]].concat()),
    ));
    let mut ip24 = t2[2..].to_vec();
    ip24[8 + 10 + 4 + 1 + 6] = 24;
    cases.push(broken(
        "type 2 with an IP length of 24 bits",
        R53,
        raw_nlri(2, &ip24),
    ));
    let t3 = nlri(&type3(rd(A_ID, 10), A_VTEP)).to_vec();
    let mut ip24 = t3[2..].to_vec();
    ip24[12] = 24;
    cases.push(broken(
        "type 3 with an IP length of 24 bits",
        R53,
        raw_nlri(3, &ip24),
    ));
    cases.push(broken(
        "type 3 of 16 octets (IP cut)",
        R53,
        raw_nlri(3, &t3[2..18]),
    ));
    let t4 = type4_value();
    cases.push(broken(
        "type 4 of 22 octets (IP cut)",
        R53,
        raw_nlri(4, &t4[..22]),
    ));
    cases.push(broken(
        "type 4 of 24 octets (one trailing)",
        R53,
        raw_nlri(4, &[t4.clone(), vec![0]].concat()),
    ));
    let mut ip16 = t4.clone();
    ip16[18] = 16;
    cases.push(broken(
        "type 4 with an IP length of 16 bits",
        R53,
        raw_nlri(4, &ip16),
    ));
    let t5 = type5_value();
    cases.push(broken(
        "type 5 of 35 octets (neither 34 nor 58)",
        R53,
        raw_nlri(5, &[t5.clone(), vec![0]].concat()),
    ));
    let mut p33 = t5.clone();
    p33[22] = 33;
    cases.push(broken(
        "type 5, IPv4, prefix length 33",
        R53,
        raw_nlri(5, &p33),
    ));
    cases.push(broken(
        "type 200 whose length runs past the field",
        "RFC 7606 5.3: an NLRI that cannot be split is a syntax error whatever its type: Optional Attribute Error",
        [nlri(&route(3)).to_vec(), vec![200, 9, 1, 2]].concat(),
    ));
    // The Data is the attribute as received: here in the short length form
    // (flags 0x80, a 1-octet length).
    let mut short_form = vec![0x80, 14, 0, 0, 25, 70, 4];
    short_form.extend(A_VTEP.octets());
    short_form.push(0);
    short_form.extend(raw_nlri(3, &ip24));
    short_form[2] = (short_form.len() - 3) as u8;
    cases.push(Case {
        what: "MP_REACH_NLRI in the 1-octet length form with a type-3 IP length of 24 bits",
        rule: R53,
        unit: None,
        stage: Stage::Established,
        bytes: update(&[], &[short_form.clone(), a.clone()].concat(), &[]),
        route: None,
        expect: Reset((3, 9), short_form),
    });
    // ... and as received when the Reserved octet is not 0.
    let mut reserved_bad = mp_reach(&raw_nlri(4, &t4[..22]));
    reserved_bad[4 + 4 + 4] = 1;
    cases.push(Case {
        what: "MP_REACH_NLRI with Reserved octet 1 and a type-4 route of 22 octets",
        rule: R53,
        unit: None,
        stage: Stage::Established,
        bytes: update(&[], &[reserved_bad.clone(), a.clone()].concat(), &[]),
        route: None,
        expect: Reset((3, 9), reserved_bad),
    });
    // RFC 4760 3: the Reserved octet "SHOULD be ignored upon receipt".
    let r = route(4);
    let mut reserved = mp_reach(&nlri(&r));
    reserved[4 + 4 + 4] = 1;
    cases.push(Case {
        what: "MP_REACH_NLRI with Reserved octet 1",
        rule: "RFC 4760 3: the Reserved octet is ignored on receipt; reflected",
        unit: None,
        stage: Stage::Established,
        bytes: update(&[], &[reserved, a.clone()].concat(), &[]),
        route: Some(r),
        expect: Reflected(|_| true),
    });
    let field = [t2.clone(), vec![2, 40, 0]].concat();
    let unreach = mp_unreach(&field);
    cases.push(Case {
        what: "MP_UNREACH_NLRI whose second type-2 route runs past the field",
        rule: "RFC 7606 5.3, 7.12: Optional Attribute Error, Data the MP_UNREACH_NLRI",
        unit: None,
        stage: Stage::Established,
        bytes: update(&[], &unreach, &[]),
        route: None,
        expect: Reset((3, 9), unreach),
    });

    // RFC 7606 5.4: unrecognized types discarded, the session kept.
    let discarded = |what, field: Vec<u8>, bytes| Case {
        what,
        rule: "RFC 7606 5.4: routes of unrecognized types discarded, session up",
        unit: Some(
            "rib::ingress::tests::routes_of_unrecognized_types_are_discarded_rfc7606_5_4 (evpnd-core)",
        ),
        stage: Stage::Established,
        bytes: if bytes {
            evpn_update(&field, &a)
        } else {
            update(&[], &mp_unreach(&field), &[])
        },
        route: None,
        expect: Nothing,
    };
    cases.push(discarded(
        "MP_REACH_NLRI with only a type-200 route",
        vec![200, 3, 1, 2, 3],
        true,
    ));
    cases.push(discarded(
        "MP_REACH_NLRI with only a type-0 route",
        vec![0, 2, 1, 2],
        true,
    ));
    cases.push(discarded(
        "MP_UNREACH_NLRI with only a type-200 route",
        vec![200, 3, 1, 2, 3],
        false,
    ));
    // Families not negotiated: no RFC rule, ignored (as FRR 8.4 does,
    // bgp_update_receive: "UPDATE for non-enabled AFI/SAFI").
    let mut v4_reach = vec![0, 1, 1, 4];
    v4_reach.extend(A_VTEP.octets());
    v4_reach.extend([0, 24, 198, 18, 7]);
    cases.push(Case {
        what: "MP_REACH_NLRI for ipv4-unicast, which was not negotiated",
        rule: "RFC 4760 8 (only negotiated families are exchanged): ignored, session up",
        unit: None,
        stage: Stage::Established,
        bytes: update(
            &[],
            &[long_attribute(0x80, 14, &v4_reach), a.clone()].concat(),
            &[],
        ),
        route: None,
        expect: Nothing,
    });
    cases.push(Case {
        what: "a route in the UPDATE's own NLRI field (ipv4-unicast, not negotiated)",
        rule: "RFC 4760 8: ignored, session up",
        unit: None,
        stage: Stage::Established,
        bytes: update(
            &[],
            &[ORIGIN.as_slice(), &AS_PATH, &[0x40, 3, 4, 198, 18, 1, 2]].concat(),
            &[24, 198, 18, 7],
        ),
        route: None,
        expect: Nothing,
    });
    cases
}

/// Message header, UPDATE length fields, OPEN and FSM errors (RFC 4271
/// sections 6.1, 6.2, 6.3, 6.6; RFC 6608; RFC 7313 5); every one a reset.
fn message_cases() -> Vec<Case> {
    let mut cases = Vec::new();
    let mut row = |what, rule, unit, stage, bytes: Vec<u8>, code, data: Vec<u8>| {
        cases.push(Case {
            what,
            rule,
            unit,
            stage,
            bytes,
            route: None,
            expect: Expect::Reset(code, data),
        })
    };
    use Stage::*;
    let keepalive = message(4, &[]);
    let header_of = |length: u16, message_type: u8| {
        let mut h = vec![0xff; 16];
        h.extend(length.to_be_bytes());
        h.push(message_type);
        h
    };
    // RFC 4271 6.1; the bad marker and a length of 5000 are also in
    // tests/daemon_rr.rs.
    let mut bad_marker = keepalive.clone();
    bad_marker[0] = 0xfe;
    row(
        "KEEPALIVE whose marker is not all ones",
        "RFC 4271 6.1: Connection Not Synchronized",
        Some("header::tests"),
        Established,
        bad_marker,
        (1, 1),
        vec![],
    );
    row(
        "header with length 18",
        "RFC 4271 6.1: Bad Message Length, Data the Length field",
        None,
        Established,
        header_of(18, 4),
        (1, 2),
        vec![0, 18],
    );
    row(
        "UPDATE header with length 4097",
        "RFC 4271 6.1 (RFC 8654 not negotiated): Bad Message Length, Data the Length field",
        None,
        Established,
        header_of(4097, 2),
        (1, 2),
        vec![0x10, 0x01],
    );
    row(
        "KEEPALIVE of length 20",
        "RFC 4271 6.1: Bad Message Length",
        None,
        Established,
        [header_of(20, 4), vec![0]].concat(),
        (1, 2),
        vec![0, 20],
    );
    row(
        "UPDATE of length 22",
        "RFC 4271 6.1: Bad Message Length",
        None,
        Established,
        [header_of(22, 2), vec![0, 0, 0]].concat(),
        (1, 2),
        vec![0, 22],
    );
    row(
        "OPEN of length 28",
        "RFC 4271 6.1: Bad Message Length",
        None,
        OpenSent,
        [header_of(28, 1), vec![0; 9]].concat(),
        (1, 2),
        vec![0, 28],
    );
    row(
        "message type 7",
        "RFC 4271 6.1: Bad Message Type, Data the Type field",
        None,
        Established,
        header_of(19, 7),
        (1, 3),
        vec![7],
    );
    row(
        "message type 0",
        "RFC 4271 6.1: Bad Message Type",
        None,
        Established,
        header_of(19, 0),
        (1, 3),
        vec![0],
    );
    // RFC 7313 5.
    row(
        "ROUTE-REFRESH of length 24",
        "RFC 7313 5: ROUTE-REFRESH Message Error / Invalid Message Length, Data the message",
        None,
        Established,
        message(5, &[0, 25, 1, 70, 0]),
        (7, 1),
        message(5, &[0, 25, 1, 70, 0]),
    );

    // UPDATE length fields and network fields (RFC 4271 6.3, RFC 7606 3 b,
    // 3 i, 5.3).
    row(
        "UPDATE whose Withdrawn Routes Length runs past the message",
        "RFC 4271 6.3, RFC 7606 3 b: Malformed Attribute List",
        Some("rfc7606::tests::length_fields_and_nlri_errors_reset"),
        Established,
        message(2, &[0, 9, 0, 0]),
        (3, 1),
        vec![],
    );
    row(
        "UPDATE whose Total Path Attribute Length runs past the message",
        "RFC 4271 6.3, RFC 7606 3 b: Malformed Attribute List",
        Some("rfc7606::tests::length_fields_and_nlri_errors_reset"),
        Established,
        message(2, &[0, 0, 0, 9, 0x40, 1, 1, 0]),
        (3, 1),
        vec![],
    );
    row(
        "UPDATE with a /33 in the NLRI field",
        "RFC 7606 3 i, 5.3: Invalid Network Field",
        Some("rfc7606::tests::length_fields_and_nlri_errors_reset"),
        Established,
        update(
            &[],
            &[ORIGIN.as_slice(), &AS_PATH, &[0x40, 3, 4, 198, 18, 1, 2]].concat(),
            &[33, 198, 18, 1, 2, 3],
        ),
        (3, 10),
        vec![],
    );
    row(
        "UPDATE with a /33 in Withdrawn Routes",
        "RFC 7606 3 i, 5.3: Invalid Network Field",
        Some("rfc7606::tests::length_fields_and_nlri_errors_reset"),
        Established,
        update(&[33, 198, 18, 1, 2, 3], &[], &[]),
        (3, 10),
        vec![],
    );

    // OPEN (RFC 4271 6.2); the wrong AS is also in tests/daemon_rr.rs.
    let id = ID_PLACEHOLDER;
    let unit = Some("session::open_check::tests (evpnd-core)");
    row(
        "OPEN version 3",
        "RFC 4271 6.2: Unsupported Version Number, Data the largest version supported (2 octets)",
        unit,
        OpenSent,
        open_bytes(Open {
            version: 3,
            ..good_open(id)
        }),
        (2, 1),
        vec![0, 4],
    );
    let mut other_as = good_open(id);
    other_as.my_as = 65001;
    other_as.parameters = Open::new(
        65001,
        90,
        id,
        vec![
            Capability::Multiprotocol(Family::L2VPN_EVPN),
            Capability::FourOctetAs(65001),
        ],
    )
    .parameters;
    row(
        "OPEN from AS 65001 (65000 configured)",
        "RFC 4271 6.2: Bad Peer AS",
        unit,
        OpenSent,
        open_bytes(other_as),
        (2, 2),
        vec![],
    );
    let mut as_zero = Open::new(
        0,
        90,
        id,
        vec![
            Capability::Multiprotocol(Family::L2VPN_EVPN),
            Capability::FourOctetAs(0),
        ],
    );
    as_zero.my_as = 0;
    row(
        "OPEN from AS 0",
        "RFC 7607 2: Bad Peer AS",
        None,
        OpenSent,
        open_bytes(as_zero),
        (2, 2),
        vec![],
    );
    row(
        "OPEN with BGP Identifier 0.0.0.0",
        "RFC 6286 2.2, RFC 4271 6.2: Bad BGP Identifier",
        unit,
        OpenSent,
        open_bytes(Open {
            bgp_identifier: Ipv4Addr::UNSPECIFIED,
            ..good_open(id)
        }),
        (2, 3),
        vec![],
    );
    row(
        "OPEN with the reflector's own BGP Identifier (iBGP)",
        "RFC 6286 2.2: Bad BGP Identifier",
        unit,
        OpenSent,
        open_bytes(Open {
            bgp_identifier: RR_ROUTER_ID,
            ..good_open(id)
        }),
        (2, 3),
        vec![],
    );
    row(
        "OPEN with Hold Time 2",
        "RFC 4271 4.2, 6.2: Unacceptable Hold Time",
        unit,
        OpenSent,
        open_bytes(Open {
            hold_time: 2,
            ..good_open(id)
        }),
        (2, 6),
        vec![],
    );
    let mut unknown_param = open_bytes(good_open(id));
    unknown_param.extend([7, 1, 0]);
    unknown_param[28] += 3;
    let len = unknown_param.len() as u16;
    unknown_param[16..18].copy_from_slice(&len.to_be_bytes());
    row(
        "OPEN with optional parameter type 7",
        "RFC 4271 6.2: Unsupported Optional Parameter",
        unit,
        OpenSent,
        unknown_param,
        (2, 4),
        vec![],
    );
    let mut cut_capability = open_bytes(good_open(id));
    // The first capability (Multiprotocol, length 4) claims 15 octets, past
    // its parameter (14).
    assert_eq!(&cut_capability[29..33], &[2, 14, 1, 4]);
    cut_capability[32] = 15;
    row(
        "OPEN whose capability runs past its parameter",
        "RFC 4271 6.2: a recognized optional parameter malformed: Unspecific (subcode 0)",
        None,
        OpenSent,
        cut_capability,
        (2, 0),
        vec![],
    );
    let v4_only = Open::new(
        ASN,
        90,
        id,
        vec![
            Capability::Multiprotocol(Family::IPV4_UNICAST),
            Capability::FourOctetAs(ASN),
        ],
    );
    row(
        "OPEN with ipv4-unicast only",
        "RFC 5492 5, RFC 4760 8: Unsupported Capability, Data our Multiprotocol capability",
        unit,
        OpenSent,
        open_bytes(v4_only),
        (2, 7),
        vec![1, 4, 0, 25, 0, 70],
    );

    // FSM (RFC 4271 6.6, subcodes RFC 6608 3).
    let end_of_rib = update(&[], &mp_unreach(&[]), &[]);
    let unit = Some("session::fsm::tests::unexpected_messages_are_fsm_errors (evpnd-core)");
    row(
        "UPDATE before our OPEN",
        "RFC 4271 6.6, 8.2.2 OpenSent; RFC 6608: FSM Error / Unexpected Message in OpenSent",
        unit,
        OpenSent,
        end_of_rib.clone(),
        (5, 1),
        vec![],
    );
    row(
        "KEEPALIVE before our OPEN",
        "RFC 4271 6.6; RFC 6608: FSM Error / Unexpected Message in OpenSent",
        None,
        OpenSent,
        keepalive.clone(),
        (5, 1),
        vec![],
    );
    row(
        "UPDATE before our KEEPALIVE",
        "RFC 4271 6.6, 8.2.2 OpenConfirm; RFC 6608: FSM Error / Unexpected Message in OpenConfirm",
        unit,
        OpenConfirm,
        end_of_rib,
        (5, 2),
        vec![],
    );
    row(
        "OPEN in Established",
        "RFC 4271 6.6; RFC 6608: FSM Error / Unexpected Message in Established",
        unit,
        Established,
        open_bytes(good_open(id)),
        (5, 3),
        vec![],
    );
    cases
}

// ---- the runner ----

struct Matrix {
    daemon: Daemon,
    a: Speaker,
    b: Speaker,
    pool: Vec<Ipv4Addr>,
    live: u16,
}

impl Matrix {
    fn start(name: &str) -> Matrix {
        let mut pool: Vec<Ipv4Addr> = (0..POOL)
            .map(|i| Ipv4Addr::new(127, 0, 0, 10 + i))
            .collect();
        let mut peers = vec![A, B];
        peers.extend(&pool);
        let daemon = Daemon::start(name, &peers);
        let mut a = Speaker::establish(A, A_ID, daemon.port);
        let mut b = Speaker::establish(B, B_ID, daemon.port);
        a.initial_table();
        b.initial_table();
        pool.reverse();
        Matrix {
            daemon,
            a,
            b,
            pool,
            live: 0,
        }
    }

    /// Run every case; a failure names the row.
    fn run(&mut self, cases: &[Case]) {
        for (i, case) in cases.iter().enumerate() {
            let started = Instant::now();
            self.case(case);
            eprintln!(
                "ok {i:3} [{}] {} ({}; {}) {:?}",
                case.expect.kind(),
                case.what,
                case.rule,
                case.unit.unwrap_or("no unit test"),
                started.elapsed()
            );
        }
    }

    fn case(&mut self, case: &Case) {
        let row = format!("row {:?} ({})", case.what, case.rule);
        match &case.expect {
            Expect::Withdraw => {
                let route = case.route.as_ref().expect("a withdraw row has a route");
                self.a
                    .announce(A_VTEP, &a_attributes(), std::slice::from_ref(route));
                let got = watch(&mut self.b, |r| !r.announced.is_empty(), &row);
                assert_eq!(got.announced_keys(), vec![key(route)], "{row}: set-up");
                self.a.send_raw(&case.bytes);
                let got = watch(&mut self.b, |r| !r.withdrawn.is_empty(), &row);
                assert_eq!(got.withdrawn_keys(), vec![key(route)], "{row}");
                assert!(got.announced.is_empty(), "{row}: {:?}", got.announced);
                self.a_still_up(&row);
            }
            Expect::Reflected(check) => {
                let route = case.route.as_ref().expect("a reflected row has a route");
                self.a.send_raw(&case.bytes);
                let got = watch(&mut self.b, |r| !r.announced.is_empty(), &row);
                assert_eq!(got.announced_keys(), vec![key(route)], "{row}");
                assert!(got.withdrawn.is_empty(), "{row}: {:?}", got.withdrawn);
                let update = &got.announced[0].1;
                assert!(check(update), "{row}: B got {update}");
                self.a_still_up(&row);
            }
            Expect::Nothing => {
                self.a.send_raw(&case.bytes);
                // A's next route, in a later UPDATE, bounds the wait.
                self.live_route(&row);
                self.a_still_up(&row);
            }
            Expect::Reset(code, data) => {
                let from = self.pool.pop().expect("enough fresh clients");
                let id = Ipv4Addr::new(198, 18, 0, from.octets()[3]);
                let mut s = Speaker::connect(from, id, self.daemon.port);
                let mut bytes = case.bytes.clone();
                if bytes.len() >= 28 && bytes[18] == 1 && bytes[24..28] == ID_PLACEHOLDER.octets() {
                    bytes[24..28].copy_from_slice(&id.octets());
                }
                self.reach(&mut s, case.stage, &row);
                s.send_raw(&bytes);
                let n = s.expect_notification();
                assert_eq!(n.code.to_wire(), *code, "{row}: got {n}");
                assert_eq!(hex(&n.data), hex(data), "{row}: NOTIFICATION Data");
                s.expect_closed();
                // Nothing of it reached B, and the daemon still serves A
                // and B.
                self.live_route(&row);
            }
        }
    }

    /// Bring a fresh client's session to `stage`.
    fn reach(&self, s: &mut Speaker, stage: Stage, row: &str) {
        let expect_open = |s: &mut Speaker| match s.recv(STEP) {
            Ok(Message::Open(_)) => {}
            other => panic!("{row}: expected the daemon's OPEN, got {other:?}"),
        };
        match stage {
            Stage::OpenSent => expect_open(s),
            Stage::OpenConfirm => {
                let open = s.our_open();
                s.send(&Message::Open(open));
                expect_open(s);
                match s.recv(STEP) {
                    Ok(Message::Keepalive) => {}
                    other => panic!("{row}: expected KEEPALIVE, got {other:?}"),
                }
            }
            Stage::Established => s.handshake(),
        }
    }

    /// A announces a new route; B gets exactly it.
    fn live_route(&mut self, row: &str) {
        self.live += 1;
        let route = type2(rd(A_ID, 10), mac(2, 5000 + self.live), None, 10);
        self.a
            .announce(A_VTEP, &a_attributes(), std::slice::from_ref(&route));
        let got = watch(&mut self.b, |r| !r.announced.is_empty(), row);
        assert_eq!(got.announced_keys(), vec![key(&route)], "{row}: after it");
        assert!(got.withdrawn.is_empty(), "{row}: {:?}", got.withdrawn);
    }

    /// A got no NOTIFICATION and its session is up.
    fn a_still_up(&mut self, row: &str) {
        let mut got = Received::default();
        self.a.drain(&mut got, Duration::from_millis(20));
        assert!(
            got.notifications.is_empty(),
            "{row}: A got {:?}",
            got.notifications
        );
        assert_eq!(self.daemon.neighbor(A).state, "Established", "{row}");
    }

    /// The daemon still runs and A and B never left Established.
    fn finish(mut self) {
        self.daemon.assert_running();
        for peer in [A, B] {
            let row = self.daemon.neighbor(peer);
            assert_eq!(row.state, "Established", "{peer}");
        }
    }
}

/// B's messages until `done`, then whatever follows within [`SETTLE`].
fn watch(b: &mut Speaker, done: impl Fn(&Received) -> bool, row: &str) -> Received {
    let mut got = Received::default();
    let deadline = Instant::now() + STEP;
    while !done(&got) {
        let left = deadline.saturating_duration_since(Instant::now());
        match b.recv(left) {
            Ok(m) => absorb(&mut got, m),
            Err(e) => panic!("{row}: B: {e}; got {got:?}"),
        }
    }
    b.drain(&mut got, SETTLE);
    assert!(
        got.notifications.is_empty(),
        "{row}: B got {:?}",
        got.notifications
    );
    got
}

fn tally(cases: &[Case]) -> String {
    let mut counts = std::collections::BTreeMap::new();
    for c in cases {
        *counts.entry(c.expect.kind()).or_insert(0) += 1;
    }
    format!("{} cases: {counts:?}", cases.len())
}

#[test]
fn attribute_matrix() {
    let cases = attribute_cases();
    eprintln!("attributes: {}", tally(&cases));
    let mut m = Matrix::start("matrix-attributes");
    m.run(&cases);
    m.finish();
}

#[test]
fn evpn_nlri_matrix() {
    let cases = nlri_cases();
    eprintln!("EVPN NLRI: {}", tally(&cases));
    let mut m = Matrix::start("matrix-nlri");
    m.run(&cases);
    m.finish();
}

#[test]
fn message_matrix() {
    let cases = message_cases();
    eprintln!("messages: {}", tally(&cases));
    let mut m = Matrix::start("matrix-messages");
    m.run(&cases);
    m.finish();
}

/// The header the tables build is the one evpnd's codec writes.
#[test]
fn hand_built_messages_match_the_codec() {
    let keepalive = Message::Keepalive.to_bytes(&Default::default()).unwrap();
    assert_eq!(message(4, &[]), keepalive.to_vec());
    assert_eq!(header::HEADER_LEN, 19);
    let eor = Message::Update(Update::end_of_rib(Family::L2VPN_EVPN))
        .to_bytes(&Default::default())
        .unwrap();
    let ours = update(&[], &[0x80, 15, 3, 0, 25, 70], &[]);
    assert_eq!(ours, eor.to_vec());
}
