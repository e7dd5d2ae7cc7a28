#!/usr/bin/env python3
"""kernel-view.py NS [--raw] - a VTEP's EVPN kernel state as device-independent lines.

Reads, inside network namespace NS, what the control plane installed for remote
VTEPs: the vxlan devices' fdb rows and the SVIs' NOARP neighbours. It prints one
line per object, sorted, in a form that does not depend on the VTEP model:

  flood  vni=<V> dst=<VTEP> flags=<f,...>              00:00:00:00:00:00 row (type-3, RFC 8365 5.1.3)
  mac    vni=<V> mac=<M> dst=<VTEP> flags=<f,...>      the vxlan device's own row (type-2)
  bridge vni=<V> mac=<M> dst=<VTEP> flags=<f,...>      the bridge's row towards the vxlan port
  neigh  vni=<V> ip=<IP> mac=<M> dst=<VTEP> flags=<f,...>  the SVI's suppression entry

so FRR 8.4's per-VNI devices (vxlan10 with no src_vni; VNI = the device's id) and
evpnd's single external vxlan0 (VNI = src_vni, or the VLAN's tunnel_info) compare
line for line. `dst` on bridge and neigh lines is the VTEP of the same MAC's vxlan
row (or "-"), so a comparison can be restricted to the routes of one VTEP.
flags are sorted; the kernel's state words (permanent, noarp, ...) are flags too.

--raw adds the device names and the neighbours' protocol (e.g. proto=zebra): the
differences that --raw shows and the plain form hides are the naming ones.
Local rows are left out: the port's own permanent addresses, and neighbours that
the kernel resolved itself (REACHABLE, STALE...: not NOARP).
"""
import ipaddress
import json
import subprocess
import sys

ZERO_MAC = "00:00:00:00:00:00"


def run_json(ns, *cmd):
    out = subprocess.run(
        ["ip", "netns", "exec", ns, *cmd, ], capture_output=True, text=True, check=False
    )
    if out.returncode != 0:
        sys.exit(f"kernel-view: {' '.join(cmd)} in {ns} failed: {out.stderr.strip()}")
    return json.loads(out.stdout or "[]")


def links(ns):
    """name -> (kind, info_data) for every link in NS."""
    result = {}
    for link in run_json(ns, "ip", "-j", "-d", "link", "show"):
        info = link.get("linkinfo", {})
        result[link["ifname"]] = (info.get("info_kind"), info.get("info_data", {}), link)
    return result


def vlan_to_vni(ns, vxlans):
    """VLAN -> VNI for external (collect-metadata) vxlan ports: bridge vlan tunnel_info."""
    mapping = {}
    for port in run_json(ns, "bridge", "-j", "vlan", "tunnelshow"):
        if port.get("ifname") not in vxlans:
            continue
        for t in port.get("tunnels", []):
            first, last = t["vlan"], t.get("vlanEnd", t["vlan"])
            vni = t["tunid"]
            for i, vlan in enumerate(range(first, last + 1)):
                mapping[vlan] = vni + i
    return mapping


def view(ns, raw):
    devs = links(ns)
    vxlans = {n: d for n, (k, d, _) in devs.items() if k == "vxlan"}
    own_macs = {link.get("address") for _, _, link in devs.values()}
    tunnel = vlan_to_vni(ns, vxlans)
    # SVI name -> VLAN id (a vlan device on the bridge)
    svis = {n: d.get("id") for n, (k, d, _) in devs.items() if k == "vlan"}

    def vni_of(dev, row):
        if "src_vni" in row:
            return row["src_vni"]
        if not vxlans[dev].get("external") and "id" in vxlans[dev]:
            return vxlans[dev]["id"]
        vlan = row.get("vlan")
        return tunnel.get(vlan, f"vlan{vlan}" if vlan is not None else "?")

    rows = []
    dst_of = {}  # (vni, mac) -> VTEP of the vxlan row
    for row in run_json(ns, "bridge", "-j", "fdb", "show"):
        dev = row.get("ifname")
        if dev not in vxlans:
            continue
        mac = row["mac"].lower()
        flags = set(row.get("flags", []))
        state = row.get("state") or ""
        if state:
            flags.add(state)
        if row.get("master"):
            if mac in own_macs and "permanent" in flags:
                continue  # the port's own address
            flags.add("master")
            kind = "bridge"
        elif mac == ZERO_MAC:
            kind = "flood"
        else:
            kind = "mac"
        vni = vni_of(dev, row)
        if kind == "mac":
            dst_of[(vni, mac)] = row.get("dst", "-")
        rows.append((kind, vni, mac, row.get("dst"), flags, dev))

    lines = []
    for kind, vni, mac, dst, flags, dev in rows:
        fl = ",".join(sorted(flags))
        suffix = f" dev={dev}" if raw else ""
        if kind == "flood":
            lines.append(f"flood vni={vni} dst={dst} flags={fl}{suffix}")
        elif kind == "mac":
            lines.append(f"mac vni={vni} mac={mac} dst={dst} flags={fl}{suffix}")
        else:
            lines.append(f"bridge vni={vni} mac={mac} dst={dst_of.get((vni, mac), '-')} flags={fl}{suffix}")

    for n in run_json(ns, "ip", "-j", "neigh", "show"):
        dev = n.get("dev")
        if dev not in svis or "NOARP" not in n.get("state", []):
            continue
        vlan = svis[dev]
        vni = tunnel.get(vlan)
        if vni is None:
            # per-VNI model: the vxlan port that is an access port of this VLAN
            vni = per_vni_of_vlan(ns, vxlans, vlan)
        mac = n.get("lladdr", "-").lower()
        flags = {s.lower() for s in n.get("state", [])}
        flags |= {f for f in ("extern_learn", "router") if f in n}
        ip = str(ipaddress.ip_address(n["dst"]))
        suffix = f" dev={dev} proto={n.get('protocol', '-')}" if raw else ""
        lines.append(
            f"neigh vni={vni} ip={ip} mac={mac} dst={dst_of.get((vni, mac), '-')} flags={','.join(sorted(flags))}{suffix}"
        )
    return sorted(set(lines))


_PVID_CACHE = {}


def per_vni_of_vlan(ns, vxlans, vlan):
    if ns not in _PVID_CACHE:
        m = {}
        for port in run_json(ns, "bridge", "-j", "vlan", "show"):
            name = port.get("ifname")
            if name not in vxlans or "id" not in vxlans[name] or vxlans[name].get("external"):
                continue
            for v in port.get("vlans", []):
                m[v["vlan"]] = vxlans[name]["id"]
        _PVID_CACHE[ns] = m
    return _PVID_CACHE[ns].get(vlan, f"vlan{vlan}")


def main(argv):
    args = [a for a in argv[1:] if not a.startswith("--")]
    if len(args) != 1:
        sys.exit("usage: kernel-view.py NS [--raw]")
    for line in view(args[0], "--raw" in argv):
        print(line)


if __name__ == "__main__":
    main(sys.argv)
