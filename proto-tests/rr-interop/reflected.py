#!/usr/bin/env python3
"""reflected.py RR_ADDR CLUSTER_ID < decode.jsonl

Reads `evpnd decode --pcap F --json` (a capture on the route reflector's link) and
checks every EVPN route the reflector (RR_ADDR) advertised against the last
advertisement of the same route by its originating client before it:

- ORIGINATOR_ID is the originator's BGP identifier (RFC 4456 section 8: set from the
  client's router-id when the reflector first reflects the route); the clients here
  use their address as router-id, so it must equal the source address of the
  client's UPDATE;
- CLUSTER_LIST is exactly [CLUSTER_ID] (RFC 4456 section 8: prepended by the one
  reflector the route crossed);
- everything else the originator sent is unchanged: MP_REACH next hop (RFC 4456
  section 10: a reflector must not change the next hop), label(s), and every other
  attribute (ORIGIN, AS_PATH, LOCAL_PREF, extended communities - RTs and the
  encapsulation, RFC 9012, compared as a set - and the PMSI tunnel attribute, RFC 6514
  section 5);
- the reflector never sends a route back to its originator (RFC 4456 section 8
  allows it, but evpnd claims not to; reported, not failed).

Prints one summary line; the details of any mismatch go to stderr. Exit 1 on a
mismatch or when nothing was reflected.
"""
import json
import sys

RR_ATTRS = ("ORIGINATOR_ID", "CLUSTER_LIST")
# decode prints type-2 labels raw (label1, label2), as VNIs (vni, labels), type-1/5 labels as label + labels
LABEL_FIELDS = ("label1", "label2", "vni", "label", "labels")


def host(endpoint):
    return endpoint.rsplit(":", 1)[0]


def normalise(attribute):
    # extended communities are a set (RFC 4360 section 2): their order on the wire carries no meaning
    if attribute.startswith("EXT_COMM "):
        return "EXT_COMM " + " ".join(sorted(attribute.split()[1:]))
    return attribute


def route_key(route):
    # the NLRI key without the label fields (RFC 7432 7.2: the label is not part of the route key)
    return json.dumps({k: v for k, v in route.items() if k not in LABEL_FIELDS}, sort_keys=True)


def main():
    rr, cluster = sys.argv[1], sys.argv[2]
    messages = [json.loads(line) for line in sys.stdin if line.strip()]
    last_from_client = {}  # route key -> (originator address, signature) of the latest advertisement
    checked = mismatches = back_to_origin = 0
    per_receiver = {}
    for msg in messages:
        reach = msg.get("mp_reach")
        if not reach or msg.get("type") != "UPDATE":
            continue
        src, dst = host(msg["src"]), host(msg["dst"])
        attrs = [normalise(a) for a in msg.get("attributes", []) if not a.startswith("MP_REACH_NLRI")]
        plain = sorted(a for a in attrs if not a.startswith(RR_ATTRS))
        rr_attrs = sorted(a for a in attrs if a.startswith(RR_ATTRS))
        for route in reach.get("routes", []):
            labels = {k: route.get(k) for k in LABEL_FIELDS}
            signature = {"next_hop": reach.get("next_hop"), "labels": labels, "attributes": plain}
            key = route_key(route)
            if src != rr:
                last_from_client[key] = (src, signature, rr_attrs)
                continue
            checked += 1
            per_receiver[dst] = per_receiver.get(dst, 0) + 1
            origin = last_from_client.get(key)
            if origin is None:
                mismatches += 1
                print(f"reflected to {dst} but never advertised by a client: {key}", file=sys.stderr)
                continue
            orig_src, orig_sig, orig_rr_attrs = origin
            if orig_src == dst:
                back_to_origin += 1
            want_rr = sorted([f"ORIGINATOR_ID {orig_src}", f"CLUSTER_LIST {cluster}"])
            problems = []
            if orig_rr_attrs:
                problems.append(f"originator {orig_src} itself sent {orig_rr_attrs}")
            if rr_attrs != want_rr:
                problems.append(f"RR attributes {rr_attrs}, want {want_rr}")
            if signature != orig_sig:
                problems.append(f"sent {json.dumps(signature)}, originator sent {json.dumps(orig_sig)}")
            if problems:
                mismatches += 1
                print(f"{key} from {orig_src} to {dst}: " + "; ".join(problems), file=sys.stderr)
    receivers = ", ".join(f"{d}: {n}" for d, n in sorted(per_receiver.items()))
    print(
        f"{checked} reflected route advertisements checked ({receivers}), {mismatches} mismatches, "
        f"{back_to_origin} sent back to their originator"
    )
    return 0 if checked > 0 and mismatches == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
