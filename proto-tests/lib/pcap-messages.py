#!/usr/bin/env python3
"""pcap-messages.py CAPTURE.pcap: the BGP messages of a capture, one block each, in the
layout of proto-tests/vectors/*/messages.txt:

    # msg N t=+SECONDS SRC -> DST TYPE len=LENGTH
    #   <attribute, as evpnd decode prints it>            (UPDATEs)
    #     + <announced EVPN route> / - <withdrawn route>  (UPDATEs)
    <the whole message in hex, marker included>
    ...
    # totals: OPEN=n, UPDATE=n, KEEPALIVE=n, ...
    # evpn nlri: reach-type2=n, withdraw-type3=n, ...

The decoding is evpnd's own (`evpnd decode --pcap CAPTURE --json`: TCP port 179 either
side, each direction reassembled); t is relative to the first message. The binary is
$EVPND_BIN (default target/debug/evpnd). Exits non-zero if evpnd could not decode every
message.
"""

import json
import os
import subprocess
import sys
from collections import Counter


def route_line(route):
    fields = " ".join(
        f"{k}={v}"
        for k, v in route.items()
        if k not in ("route_type", "route", "rd") and v not in (None, [], "")
    )
    return f"[{route.get('route_type')}] {route.get('route', '')} RD {route.get('rd')} {fields}".rstrip()


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    evpnd = os.environ.get("EVPND_BIN", "target/debug/evpnd")
    run = subprocess.run(
        [evpnd, "decode", "--pcap", sys.argv[1], "--json"], capture_output=True, text=True
    )
    if run.returncode != 0:
        sys.stderr.write(run.stderr)
    messages = [json.loads(line) for line in run.stdout.splitlines() if line.strip()]
    types, nlri = Counter(), Counter()
    t0 = messages[0]["time"] if messages else 0.0
    for n, m in enumerate(messages):
        types[m["type"]] += 1
        print(f"# msg {n} t=+{m['time'] - t0:.3f}s {m['src']} -> {m['dst']} {m['type']} len={m['length']}")
        for attribute in m.get("attributes") or []:
            print(f"#   {attribute}")
        for field, sign, kind in (("mp_reach", "+", "reach"), ("mp_unreach", "-", "withdraw")):
            for route in (m.get(field) or {}).get("routes") or []:
                nlri[f"{kind}-type{route.get('route_type')}"] += 1
                print(f"#     {sign} {route_line(route)}")
        if m.get("end_of_rib"):
            print("#   End-of-RIB")
        print(m["hex"])
    order = ["OPEN", "UPDATE", "NOTIFICATION", "KEEPALIVE", "ROUTE-REFRESH"]
    ranked = sorted(types, key=lambda k: (order.index(k) if k in order else len(order), k))
    print("# totals: " + ", ".join(f"{k}={types[k]}" for k in ranked))
    print("# evpn nlri: " + ", ".join(f"{k}={nlri[k]}" for k in sorted(nlri)))
    sys.exit(run.returncode)


if __name__ == "__main__":
    main()
