//! RFC 7606 for the EVPN NLRI against a running reflector (issue 14), with
//! UPDATEs built octet by octet:
//! - a route of a type evpnd does not recognize is discarded (section 5.4),
//!   the recognized routes of the same UPDATE are reflected, the session
//!   stays up;
//! - an EVPN NLRI that does not parse resets the session (section 5.3) with
//!   UPDATE Message Error / Optional Attribute Error whose Data is the
//!   erroneous attribute, type, length and value (RFC 4271 section 6.3).

// The helpers are shared with tests/daemon_rr.rs; this test uses a few.
#[allow(dead_code)]
mod common;

use common::two_clients::*;
use common::*;
use evpnd_wire::notification::{ErrorCode, UpdateSubcode};

/// MP_REACH_NLRI (RFC 4760 section 3) for l2vpn-evpn from A's VTEP, with
/// `nlri` as given: flags, type, length (extended), value.
fn mp_reach(nlri: &[u8]) -> Vec<u8> {
    let mut value = vec![0, 25, 70, 4];
    value.extend(A_VTEP.octets());
    value.push(0);
    value.extend_from_slice(nlri);
    let mut attribute = vec![0x90, 14];
    attribute.extend((value.len() as u16).to_be_bytes());
    attribute.extend(value);
    attribute
}

/// A whole UPDATE: MP_REACH_NLRI with `nlri`, then A's other attributes.
fn update_with(nlri: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let reach = mp_reach(nlri);
    let mut attributes = reach.clone();
    attributes.extend_from_slice(&a_attributes());
    let mut body = vec![0, 0];
    body.extend((attributes.len() as u16).to_be_bytes());
    body.extend(attributes);
    let mut message = vec![0xff; 16];
    message.extend(((19 + body.len()) as u16).to_be_bytes());
    message.push(2);
    message.extend(body);
    (message, reach)
}

#[test]
fn a_route_of_an_unrecognized_type_is_discarded_and_the_others_reflected() {
    let daemon = Daemon::start("rfc7606-unknown-type", &[A, B]);
    let mut a = Speaker::establish(A, A_ID, daemon.port);
    let mut b = Speaker::establish(B, B_ID, daemon.port);
    a.initial_table();
    b.initial_table();
    let known = a_routes(&[1]);
    let mut field = nlri(&known[0]).to_vec();
    // Type 200, length 2.
    field.extend([200, 2, 0xab, 0xcd]);
    let (message, _) = update_with(&field);
    a.send_raw(&message);
    let mut seen = Received::default();
    b.collect_until(&mut seen, |r| !r.announced.is_empty());
    assert_eq!(seen.announced_keys(), vec![key(&known[0])]);
    let row = daemon.wait_state(A, "Established");
    assert_eq!(row.prefixes_received, 1, "the type-200 route is not held");
    assert!(
        daemon
            .log()
            .contains("routes of EVPN route types evpnd does not recognize: discarded"),
        "{}",
        daemon.log()
    );
}

#[test]
fn an_unparsable_evpn_nlri_resets_with_the_attribute_as_data() {
    let daemon = Daemon::start("rfc7606-bad-nlri", &[A, B]);
    let mut a = Speaker::establish(A, A_ID, daemon.port);
    let mut b = Speaker::establish(B, B_ID, daemon.port);
    a.initial_table();
    b.initial_table();
    // A type-3 route whose length claims one octet more than there is.
    let mut field = nlri(&type3(rd(A_ID, 10), A_VTEP)).to_vec();
    field[1] += 1;
    let (message, reach) = update_with(&field);
    a.send_raw(&message);
    let n = a.expect_notification();
    assert_eq!(
        n.code,
        ErrorCode::Update(UpdateSubcode::OptionalAttributeError)
    );
    assert_eq!(&n.data[..], &reach[..], "RFC 4271 section 6.3");
    a.expect_closed();
    // B never sees anything of it, and its own session stays.
    let mut quiet = Received::default();
    b.drain(&mut quiet, std::time::Duration::from_millis(500));
    assert!(quiet.announced.is_empty() && quiet.notifications.is_empty());
    assert!(daemon.log().contains("malformed EVPN NLRI"));
}
