#!/usr/bin/env python3
"""reflect-check.py RR CLUSTER ORIGIN=RECEIVER,... [ORIGIN=RECEIVER,...] < decode.jsonl

Reads `evpnd decode --pcap F --json` of a capture on the route reflector's link and
checks, byte for byte, that every EVPN route an ORIGIN client advertised was
reflected by RR to each of its RECEIVERs unchanged except for the two attributes a
reflector owns (RFC 4456 section 8):

- the NLRI: the route's bytes (route type, length, value: RD, ESI, Ethernet tag,
  MAC, IP, labels, prefix, ...) identical (RFC 7432 section 7, RFC 9136 section 3);
- the MP_REACH_NLRI next hop identical (RFC 4456 section 10: a reflector must not
  change it), the AFI/SAFI 25/70 (RFC 7432 section 5);
- every other path attribute (RFC 4271 section 4.3) with the same flags and value
  bytes, none dropped, none added, except
  ORIGINATOR_ID = the originator's address (the clients here use it as router-id,
  RFC 4456 section 8) and CLUSTER_LIST = [CLUSTER];
- the relative order of the attributes the originator sent is reported (RFC 4271
  section 5 only says a sender SHOULD order them by type code; a difference is
  noted, not failed).

The key of a route is its full NLRI bytes, the last advertisement of the route by
its originator before the reflected copy is the reference. Routes the reflector
sends back to their originator are reported. Prints one line per route type and a
summary; mismatches go to stderr. Exit 1 on a mismatch, a missing (route, receiver)
pair, or when nothing was checked.
"""
import json
import sys

ORIGINATOR_ID, CLUSTER_LIST, MP_REACH, MP_UNREACH = 9, 10, 14, 15
ATTR_NAMES = {1: "ORIGIN", 2: "AS_PATH", 3: "NEXT_HOP", 4: "MED", 5: "LOCAL_PREF", 8: "COMMUNITIES",
              9: "ORIGINATOR_ID", 10: "CLUSTER_LIST", 14: "MP_REACH_NLRI", 15: "MP_UNREACH_NLRI",
              16: "EXT_COMM", 22: "PMSI_TUNNEL"}
BGP_HEADER = 19  # marker 16 + length 2 + type 1 (RFC 4271 section 4.1)


class Malformed(Exception):
    pass


def take(buf, pos, n, what):
    if pos + n > len(buf):
        raise Malformed(f"{what}: needs {n} bytes at {pos}, {len(buf) - pos} left")
    return buf[pos:pos + n], pos + n


def attributes(msg):
    """[(flags, type, value)] of an UPDATE (RFC 4271 section 4.3)."""
    _, pos = take(msg, 0, BGP_HEADER, "header")
    wlen, pos = take(msg, pos, 2, "withdrawn length")
    _, pos = take(msg, pos, int.from_bytes(wlen, "big"), "withdrawn routes")
    alen, pos = take(msg, pos, 2, "attributes length")
    field, _ = take(msg, pos, int.from_bytes(alen, "big"), "path attributes")
    out, p = [], 0
    while p < len(field):
        hdr, p = take(field, p, 2, "attribute header")
        flags, code = hdr[0], hdr[1]
        lbytes = 2 if flags & 0x10 else 1  # Extended Length bit
        ln, p = take(field, p, lbytes, "attribute length")
        value, p = take(field, p, int.from_bytes(ln, "big"), f"attribute {code} value")
        out.append((flags, code, value))
    return out


def mp_reach(value):
    """(afi, safi, next hop bytes, [NLRI bytes]) of MP_REACH_NLRI (RFC 4760 section 3),
    the NLRI split into EVPN routes: type 1 octet, length 1 octet, value (RFC 7432 section 7)."""
    afi_safi, p = take(value, 0, 3, "AFI/SAFI")
    nhl, p = take(value, p, 1, "next hop length")
    nh, p = take(value, p, nhl[0], "next hop")
    _, p = take(value, p, 1, "reserved")
    routes = []
    while p < len(value):
        hdr, p = take(value, p, 2, "EVPN route header")
        body, p = take(value, p, hdr[1], "EVPN route")
        routes.append(hdr + body)
    return int.from_bytes(afi_safi[:2], "big"), afi_safi[2], nh, routes


def ip4(b):
    return ".".join(str(x) for x in b) if len(b) == 4 else b.hex()


def host(endpoint):
    return endpoint.rsplit(":", 1)[0]


def attr_text(a):
    flags, code, value = a
    return f"{ATTR_NAMES.get(code, code)}(flags=0x{flags:02x} {value.hex()})"


def main(argv):
    if len(argv) < 4:
        sys.exit(__doc__)
    rr, cluster = argv[1], argv[2]
    expect = {}  # origin -> receivers
    for spec in argv[3:]:
        origin, _, receivers = spec.partition("=")
        expect[origin] = [r for r in receivers.split(",") if r]
    last = {}  # NLRI bytes -> (origin, next hop, other attributes, order)
    seen = {}  # (NLRI bytes, receiver) -> problems ([] when identical)
    origin_of = {}
    back = 0
    order_notes = set()
    errors = []
    for line in sys.stdin:
        if not line.strip():
            continue
        rec = json.loads(line)
        if rec.get("type") != "UPDATE":
            continue
        src, dst = host(rec["src"]), host(rec["dst"])
        if src != rr and src not in expect:
            continue
        try:
            attrs = attributes(bytes.fromhex(rec["hex"]))
            reach = [a for a in attrs if a[1] == MP_REACH]
            if not reach:
                continue
            afi, safi, nh, routes = mp_reach(reach[0][2])
        except Malformed as err:
            errors.append(f"message {rec.get('index')} {src}->{dst}: {err}")
            continue
        if (afi, safi) != (25, 70):
            continue
        others = [a for a in attrs if a[1] not in (MP_REACH, ORIGINATOR_ID, CLUSTER_LIST)]
        rr_attrs = {a[1]: a for a in attrs if a[1] in (ORIGINATOR_ID, CLUSTER_LIST)}
        order = [a[1] for a in attrs]
        for nlri in routes:
            if src != rr:
                last[nlri] = (src, nh, others, order, rr_attrs)
                origin_of[nlri] = src
                continue
            ref = last.get(nlri)
            if ref is None:
                continue  # a route of a client outside this check (or advertised before the capture)
            origin, ref_nh, ref_others, ref_order, ref_rr = ref
            if dst == origin:
                back += 1
            problems = []
            if ref_rr:
                problems.append(f"the originator itself sent {sorted(ATTR_NAMES[c] for c in ref_rr)}")
            if nh != ref_nh:
                problems.append(f"next hop {ip4(nh)} != {ip4(ref_nh)}")
            want_orig = bytes(int(x) for x in origin.split("."))
            want_cl = bytes(int(x) for x in cluster.split("."))
            o = rr_attrs.get(ORIGINATOR_ID)
            if o is None or o[2] != want_orig or o[0] != 0x80:
                problems.append(f"ORIGINATOR_ID {attr_text(o) if o else 'absent'}, want flags 0x80 {want_orig.hex()}")
            c = rr_attrs.get(CLUSTER_LIST)
            if c is None or c[2] != want_cl or c[0] != 0x80:
                problems.append(f"CLUSTER_LIST {attr_text(c) if c else 'absent'}, want flags 0x80 {want_cl.hex()}")
            if sorted(others) != sorted(ref_others):
                gone = [attr_text(a) for a in ref_others if a not in others]
                added = [attr_text(a) for a in others if a not in ref_others]
                problems.append(f"attributes dropped/changed {gone}, added/changed {added}")
            else:
                sent_order = [c for c in order if c not in (ORIGINATOR_ID, CLUSTER_LIST)]
                ref_order_plain = [c for c in ref_order if c not in (ORIGINATOR_ID, CLUSTER_LIST)]
                if sent_order != ref_order_plain:
                    order_notes.add(
                        f"type {nlri[0]} from {origin}: originator order "
                        f"{[ATTR_NAMES.get(x, x) for x in ref_order]}, reflected {[ATTR_NAMES.get(x, x) for x in order]}"
                    )
            seen[(nlri, dst)] = problems
    mismatches = 0
    per_type = {}
    for nlri, origin in sorted(origin_of.items(), key=lambda kv: (kv[0][0], kv[0])):
        t = per_type.setdefault(nlri[0], {"routes": 0, "pairs": 0, "bad": 0})
        t["routes"] += 1
        for receiver in expect[origin]:
            problems = seen.get((nlri, receiver))
            if problems is None:
                problems = ["never reflected to it"]
            t["pairs"] += 1
            if problems:
                t["bad"] += 1
                mismatches += 1
                print(f"type {nlri[0]} route {nlri.hex()} from {origin} to {receiver}: " + "; ".join(problems),
                      file=sys.stderr)
    for e in errors:
        print(e, file=sys.stderr)
    for note in sorted(order_notes):
        print(f"order: {note}")
    for rtype, t in sorted(per_type.items()):
        print(f"type {rtype}: {t['routes']} routes x receivers = {t['pairs']} reflections, {t['bad']} differ")
    total = sum(t["pairs"] for t in per_type.values())
    print(f"summary: {total} (route, receiver) reflections checked, {mismatches} differ or missing, "
          f"{back} sent back to their originator, {len(order_notes)} attribute-order differences, "
          f"{len(errors)} undecodable")
    return 0 if total > 0 and mismatches == 0 and not errors else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
