#!/usr/bin/env python3
"""Normalise the EVPN routes a BGP speaker holds into one canonical line per route.

Usage:
    evpn-routes.py frr|gobgp|evpnd [--exclude-nh IP[,IP...]] [--types N[,N...]] [FILE]

Reads FILE (or stdin) and prints the canonical lines, sorted in byte order
(compare with `LC_ALL=C comm` or `diff`), duplicates removed.

Inputs:
    frr    `vtysh -c 'show bgp l2vpn evpn route detail json'` (FRR 8.4). The
           non-detail `show bgp l2vpn evpn json` is read too, but it carries no
           labels and no PMSI: those fields come out as `?` (see below).
    gobgp  `gobgp global rib -a evpn -j` (GoBGP 3.10).
    evpnd  `evpnd show routes --json` (rows of src/api/protocol.rs RouteRow).

Canonical lines (one per route; paths of one route that differ only in the
peer, ORIGINATOR_ID, CLUSTER_LIST, origin, local-pref, ... give one line):

    T2 rd=<rd> etag=<n> mac=<mac> ip=<ip|-> label=<l2vni>[,<l3vni>] nh=<ip> rt=<rts> seq=<n|-> sticky=<0|1> gw=<0|1>
    T3 rd=<rd> etag=<n> orig=<ip> label=<pmsi label|-> nh=<ip> rt=<rts> pmsi=<tunnel type|->
    T1 rd=<rd> etag=<n> esi=<esi> nh=<ip> rt=<rts>
    T4 rd=<rd> esi=<esi> orig=<ip> nh=<ip> rt=<rts>
    T5 rd=<rd> etag=<n> esi=<esi> prefix=<ip/len> gw=<ip|-> label=<l3vni> nh=<ip> rt=<rts>
    T<n> rd=<rd> nh=<ip> rt=<rts>                       (any other route type)

    rd     "A.B.C.D:N" or "AS:N" (4-octet AS in plain, not dotted, form).
    mac    lowercase, colon-separated.
    ip/nh/orig  canonical text of the address (IPv6 compressed); `-` when absent.
    label  type 2: the MPLS label field(s) as VNIs (RFC 8365 section 5.1.3), the
           L3 VNI second when the route carries two labels (RFC 9135 section 10.2).
    rt     the Route Target extended communities (RFC 4360 section 4), "AS:N" or
           "A.B.C.D:N", sorted and de-duplicated, comma-separated; `-` if none.
    seq    MAC Mobility sequence number (RFC 7432 section 7.7), `-` if the route
           carries no MAC Mobility community; sticky = its static flag.
    gw     Default Gateway extended community present (RFC 7432 section 7.8).
    pmsi   PMSI tunnel type number (RFC 6514 section 5): 6 = ingress replication.
    esi    Ethernet Segment Identifier (RFC 7432 section 5), ten lowercase
           colon-separated octets ("00:11:22:33:44:55:66:77:88:99").
    prefix type 5 IP prefix (RFC 9136 section 3.1), "<address>/<length>" as sent.
    gw     on T5: the gateway IP; `-` when absent or all zeros (RFC 9136
           section 3.2: no gateway overlay index).
    `?`    the speaker's output does not say (e.g. FRR's non-detail JSON has no
           labels); never equal to a real value, so such a line never matches.

Where the fields of types 1, 4 and 5 come from:
    FRR    the prefix key (FRR's prefix2str): type 1 "[1]:[EthTag]:[ESI]:[32]:
           [0.0.0.0]:[0]" (VTEP IP and fragment are FRR's own, always 0 in its
           global table), type 4 "[4]:[ESI]:[32]:[OrigIP]", type 5 "[5]:[EthTag]:
           [IPlen]:[IP]" (or the ethTag/ipLen/ip fields). Type 5: the label from
           the detail form's "vni" (as type 2); the ESI from a path's "esi" (key
           name read from FRR's source: no capture has a non-zero one). FRR 8.4's
           JSON carries no type-5 gateway IP, even a non-zero one (a gateway
           198.18.21.1 sent by ExaBGP in proto-tests/interop-vm s4 is absent): `?`.
    GoBGP  nlri.value: esi ("single-homed", "ESI_ARBITRARY | <9 octets>",
           "ESI_LACP | system mac <mac>, port key <n>"; another form gives `?`),
           etag, ip (type 4), prefix, gateway, label (type 5).
    evpnd  esi, ethernet_tag, originator_ip (type 4), prefix, gateway_ip and
           labels[0] (type 5).
T1 lines carry no label: FRR 8.4 keeps none for a received type-1 route
(bgpd/bgp_evpn_mh.c, process_type1_route passes no label to bgp_update), so a
label would make FRR's line differ from the others' for the same route.
Other route types carry only rd, nh and rt; two such routes of one RD with the
same next hop and RTs collapse to one line.

Options:
    --exclude-nh IP[,IP]  drop routes whose next hop is one of these.
    --types N[,N]         keep only these route types.

Exit status: 0 on success; 2 with a one-line message on stderr if the input is
not JSON or not of the expected shape, or the arguments are wrong.
"""

import ipaddress
import json
import re
import sys

# PMSI tunnel types (RFC 6514 section 5; IANA "P-Multicast Service Interface
# Tunnel (PMSI Tunnel) Tunnel Types") by the names FRR 8.4 prints in
# `pmsi.tunnelType`.
FRR_PMSI_TUNNEL_TYPES = {
    "No info": 0,
    "RSVP-TE P2MP": 1,
    "mLDP P2MP": 2,
    "PIM-SSM": 3,
    "PIM-SM": 4,
    "PIM-BIDIR": 5,
    "Ingress Replication": 6,
    "mLDP MP2MP": 7,
}

UNKNOWN = "?"
ABSENT = "-"


class InputError(Exception):
    """The input is not what the named speaker prints."""


# ---------------------------------------------------------------- helpers


def norm_ip(value, what):
    """Canonical text of an IP address; ABSENT for the speakers' 'no address'."""
    if value is None or value in ("", "<nil>"):
        return ABSENT
    if not isinstance(value, str):
        raise InputError(f"{what} is not a string: {value!r}")
    try:
        return str(ipaddress.ip_address(value.split("%")[0]))
    except ValueError:
        raise InputError(f"{what} is not an IP address: {value!r}") from None


def norm_mac(value):
    if not isinstance(value, str) or not re.fullmatch(r"[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}", value):
        raise InputError(f"not a MAC address: {value!r}")
    return value.lower()


def norm_int(value, what):
    if isinstance(value, bool):
        raise InputError(f"{what} is not a number: {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    raise InputError(f"{what} is not a number: {value!r}")


def norm_admin_value(text, what):
    """An RD or RT "administrator:assigned" pair in one spelling for all three.

    The administrator is an IPv4 address, a 2-octet AS or a 4-octet AS (RFC 4364
    section 4.2 for RDs, RFC 4360 section 4 / RFC 5668 section 2 for RTs); a
    4-octet AS may be printed in asdot ("1.10") form (RFC 5396), which is turned
    into the plain number.
    """
    if not isinstance(text, str) or ":" not in text:
        raise InputError(f"{what} is not ADMIN:NUMBER: {text!r}")
    admin, _, number = text.rpartition(":")
    if not number.isdigit():
        raise InputError(f"{what} is not ADMIN:NUMBER: {text!r}")
    if admin.count(".") == 3:
        admin = norm_ip(admin, what)
    elif admin.count(".") == 1:
        high, _, low = admin.partition(".")
        if not (high.isdigit() and low.isdigit()):
            raise InputError(f"{what} is not ADMIN:NUMBER: {text!r}")
        admin = str(int(high) * 65536 + int(low))
    elif admin.isdigit():
        admin = str(int(admin))
    else:
        raise InputError(f"{what} is not ADMIN:NUMBER: {text!r}")
    return f"{admin}:{int(number)}"


ZERO_ESI = ":".join(["00"] * 10)


def norm_esi(value, what):
    """Ten colon-separated octets, lowercase (RFC 7432 section 5)."""
    if not isinstance(value, str) or not re.fullmatch(r"[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){9}", value):
        raise InputError(f"{what} is not an ESI: {value!r}")
    return value.lower()


def gobgp_esi(value, where):
    """GoBGP 3.10's ESI text (as in proto-tests/vectors) as ten octets, or UNKNOWN."""
    if value in (None, "single-homed"):
        return ZERO_ESI
    if not isinstance(value, str):
        raise InputError(f"{where}: esi is not a string: {value!r}")
    arbitrary = re.fullmatch(r"ESI_ARBITRARY \| ((?:[0-9A-Fa-f]{2}:){8}[0-9A-Fa-f]{2})", value)
    if arbitrary:
        return norm_esi("00:" + arbitrary.group(1), f"{where}: esi")
    lacp = re.fullmatch(r"ESI_LACP \| system mac ([0-9A-Fa-f:]{17}), port key (\d+)", value)
    if lacp:
        # Type 1: system MAC (6 octets), port key (2), one zero octet.
        key = int(lacp.group(2))
        if key > 0xFFFF:
            raise InputError(f"{where}: LACP port key out of range: {value!r}")
        octets = ["01", *norm_mac(lacp.group(1)).split(":"), f"{key >> 8:02x}", f"{key & 0xFF:02x}", "00"]
        return ":".join(octets)
    return UNKNOWN


def norm_prefix(address, length, what):
    """"<address>/<length>" with the address in canonical text (host bits kept)."""
    address = norm_ip(address, what)
    length = norm_int(length, what)
    if address == ABSENT or length > (32 if "." in address else 128):
        raise InputError(f"{what} is not a prefix: {address}/{length}")
    return f"{address}/{length}"


def norm_gateway(value, what):
    """A gateway IP; ABSENT for none or all zeros (RFC 9136 section 3.2)."""
    gw = norm_ip(value, what)
    if gw != ABSENT and ipaddress.ip_address(gw).is_unspecified:
        return ABSENT
    return gw


def rt_field(rts):
    return ",".join(sorted(set(rts))) if rts else ABSENT


def labels_field(labels):
    if labels is None:
        return UNKNOWN
    if not labels:
        return ABSENT
    return ",".join(str(n) for n in labels)


class Route:
    """The fields of one route that the canonical line shows."""

    def __init__(self, route_type, rd, nh, rts):
        self.route_type = route_type
        self.rd = rd
        self.nh = nh
        self.rts = rts
        self.etag = 0
        self.mac = None
        self.ip = ABSENT
        self.labels = None  # None: the speaker did not say
        self.seq = ABSENT
        self.sticky = False
        self.gw = False
        self.orig = ABSENT
        self.pmsi_label = UNKNOWN
        self.pmsi_type = UNKNOWN
        self.esi = UNKNOWN
        self.prefix = UNKNOWN
        self.gateway = ABSENT

    def line(self):
        rt = rt_field(self.rts)
        if self.route_type == 2:
            return (
                f"T2 rd={self.rd} etag={self.etag} mac={self.mac} ip={self.ip}"
                f" label={labels_field(self.labels)} nh={self.nh} rt={rt}"
                f" seq={self.seq} sticky={int(self.sticky)} gw={int(self.gw)}"
            )
        if self.route_type == 3:
            return (
                f"T3 rd={self.rd} etag={self.etag} orig={self.orig}"
                f" label={self.pmsi_label} nh={self.nh} rt={rt} pmsi={self.pmsi_type}"
            )
        if self.route_type == 1:
            return f"T1 rd={self.rd} etag={self.etag} esi={self.esi} nh={self.nh} rt={rt}"
        if self.route_type == 4:
            return f"T4 rd={self.rd} esi={self.esi} orig={self.orig} nh={self.nh} rt={rt}"
        if self.route_type == 5:
            return (
                f"T5 rd={self.rd} etag={self.etag} esi={self.esi} prefix={self.prefix}"
                f" gw={self.gateway} label={labels_field(self.labels)} nh={self.nh} rt={rt}"
            )
        return f"T{self.route_type} rd={self.rd} nh={self.nh} rt={rt}"


# ---------------------------------------------------------------- FRR 8.4

# FRR's prefix keys: "[2]:[0]:[48]:[02:0a:00:00:00:01]:[32]:[198.18.10.1]",
# "[3]:[0]:[32]:[198.19.0.1]"; brackets, because MACs and IPv6 hold colons.
FRR_KEY_PART = re.compile(r"\[([^\]]*)\]")
# ecommunity_ecom2str's display forms (bgpd/bgp_ecommunity.c): "RT:65000:10",
# "RT:198.18.0.1:10", "MM:5", "MM:5, sticky MAC", "Default Gateway".
FRR_RT = re.compile(r"(?:^|\s)RT:(\S+)")
FRR_MM = re.compile(r"(?:^|\s)MM:(\d+)(, sticky MAC)?")
FRR_DEF_GW = re.compile(r"(?:^|\s)Default Gateway(?:\s|$)")


def frr_paths(entry, where):
    paths = entry.get("paths", [])
    if not isinstance(paths, list):
        raise InputError(f"{where}: paths is not a list")
    # The detail form nests each path in a list of its own; the plain one does not.
    for item in paths:
        for path in item if isinstance(item, list) else [item]:
            if not isinstance(path, dict):
                raise InputError(f"{where}: a path is not an object")
            yield path


def frr_routes(doc):
    if not isinstance(doc, dict):
        raise InputError("top level is not an object keyed by RD")
    for rd_key, rd_table in doc.items():
        if not isinstance(rd_table, dict):
            continue  # numPrefix, numPaths, bgpLocalRouterId, ...
        rd = norm_admin_value(rd_key, f"RD {rd_key!r}")
        for prefix, entry in rd_table.items():
            if not isinstance(entry, dict):
                continue  # "rd": "198.19.0.1:2"
            where = f"{rd_key} {prefix}"
            key_parts = FRR_KEY_PART.findall(prefix)
            for path in frr_paths(entry, where):
                yield frr_route(rd, entry, path, key_parts, where)


def frr_field(entry, path, name):
    """A prefix field: on the prefix in the detail form, on each path in the plain one."""
    if name in entry:
        return entry[name]
    return path.get(name)


def frr_etag(etag, key_parts, where):
    if etag is None:
        if len(key_parts) < 2:
            raise InputError(f"{where}: no Ethernet tag")
        etag = key_parts[1]
    return norm_int(etag, f"{where}: ethTag")


def frr_route(rd, entry, path, key_parts, where):
    route_type = frr_field(entry, path, "routeType")
    if route_type is None:
        if not key_parts:
            raise InputError(f"{where}: no route type")
        route_type = key_parts[0]
    route_type = norm_int(route_type, f"{where}: route type")

    nexthops = path.get("nexthops") or []
    first_hop = nexthops[0] if isinstance(nexthops, list) and nexthops else {}
    nh = norm_ip(first_hop.get("ip") if isinstance(first_hop, dict) else None, f"{where}: next hop")

    ecom = path.get("extendedCommunity") or {}
    ecom_text = ecom.get("string", "") if isinstance(ecom, dict) else ""
    if not isinstance(ecom_text, str):
        raise InputError(f"{where}: extendedCommunity.string is not a string")
    rts = [norm_admin_value(rt, f"{where}: RT") for rt in FRR_RT.findall(ecom_text)]

    route = Route(route_type, rd, nh, rts)
    etag = frr_field(entry, path, "ethTag")
    if route_type == 2:
        mac = frr_field(entry, path, "mac")
        ip = frr_field(entry, path, "ip")
        if mac is None and len(key_parts) >= 4:
            mac = key_parts[3]
            ip = key_parts[5] if len(key_parts) >= 6 else None
        route.etag = frr_etag(etag, key_parts, where)
        route.mac = norm_mac(mac)
        route.ip = norm_ip(ip, f"{where}: ip")
        vni = path.get("vni", path.get("VNI"))
        if vni is not None:
            # bgp_evpn_label2str: "10", or "10/100" with an L3 VNI.
            route.labels = [norm_int(v, f"{where}: vni") for v in str(vni).split("/")]
        mm = FRR_MM.search(ecom_text)
        if mm:
            route.seq = mm.group(1)
            route.sticky = mm.group(2) is not None
        route.gw = FRR_DEF_GW.search(ecom_text) is not None
    elif route_type == 3:
        ip = frr_field(entry, path, "ip")
        if ip is None and len(key_parts) >= 4:
            ip = key_parts[3]
        route.etag = frr_etag(etag, key_parts, where)
        route.orig = norm_ip(ip, f"{where}: originating router ip")
        pmsi = path.get("pmsi")
        if isinstance(pmsi, dict):
            route.pmsi_label = str(norm_int(pmsi.get("label"), f"{where}: pmsi.label"))
            tunnel = pmsi.get("tunnelType")
            route.pmsi_type = str(FRR_PMSI_TUNNEL_TYPES.get(tunnel, UNKNOWN))
        elif "paths" in entry and any(isinstance(p, list) for p in entry["paths"]):
            # The detail form prints the PMSI whenever the path has one.
            route.pmsi_label = ABSENT
            route.pmsi_type = ABSENT
    elif route_type == 1:
        if len(key_parts) < 3:
            raise InputError(f"{where}: type-1 prefix is not [1]:[EthTag]:[ESI]:...")
        route.etag = frr_etag(etag, key_parts, where)
        route.esi = norm_esi(key_parts[2], f"{where}: ESI")
    elif route_type == 4:
        if len(key_parts) < 4:
            raise InputError(f"{where}: type-4 prefix is not [4]:[ESI]:[IPlen]:[OrigIP]")
        route.esi = norm_esi(key_parts[1], f"{where}: ESI")
        route.orig = norm_ip(key_parts[3], f"{where}: originating router ip")
    elif route_type == 5:
        ip = frr_field(entry, path, "ip")
        ip_len = frr_field(entry, path, "ipLen")
        if ip is None or ip_len is None:
            if len(key_parts) < 4:
                raise InputError(f"{where}: type-5 prefix is not [5]:[EthTag]:[IPlen]:[IP]")
            ip_len, ip = key_parts[2], key_parts[3]
        route.etag = frr_etag(etag, key_parts, where)
        route.prefix = norm_prefix(ip, ip_len, f"{where}: prefix")
        esi = path.get("esi")
        route.esi = ZERO_ESI if esi in (None, "", 0) else norm_esi(esi, f"{where}: esi")
        # FRR 8.4's detail JSON has no gateway IP for a received type 5, even
        # a non-zero one (seen in proto-tests/interop-vm s4): unknown, not zero.
        gateway = path.get("gatewayIP")
        route.gateway = UNKNOWN if gateway is None else norm_gateway(gateway, f"{where}: gatewayIP")
        vni = path.get("vni", path.get("VNI"))
        if vni is not None:
            route.labels = [norm_int(v, f"{where}: vni") for v in str(vni).split("/")]
    return route


# ---------------------------------------------------------------- GoBGP 3.10


def gobgp_rd(rd, where):
    """GoBGP's RD object: {type, admin, assigned} (RFC 4364 section 4.2)."""
    if not isinstance(rd, dict) or "admin" not in rd or "assigned" not in rd:
        raise InputError(f"{where}: rd is not {{admin, assigned}}")
    return norm_admin_value(f"{rd['admin']}:{rd['assigned']}", f"{where}: rd")


def gobgp_routes(doc):
    if doc is None:
        return  # an empty RIB
    if not isinstance(doc, dict):
        raise InputError("top level is not an object keyed by prefix")
    for prefix, paths in doc.items():
        if not isinstance(paths, list):
            raise InputError(f"{prefix}: paths is not a list")
        for path in paths:
            if not isinstance(path, dict):
                raise InputError(f"{prefix}: a path is not an object")
            yield gobgp_route(path, prefix)


def gobgp_route(path, where):
    nlri = path.get("nlri")
    if not isinstance(nlri, dict) or not isinstance(nlri.get("value"), dict):
        raise InputError(f"{where}: no nlri.value")
    value = nlri["value"]
    route_type = norm_int(nlri.get("type"), f"{where}: nlri.type")
    attrs = path.get("attrs") or []
    if not isinstance(attrs, list):
        raise InputError(f"{where}: attrs is not a list")

    nh = ABSENT
    rts = []
    pmsi = None
    mobility = None
    gw = False
    for attr in attrs:
        if not isinstance(attr, dict):
            raise InputError(f"{where}: an attribute is not an object")
        kind = attr.get("type")
        if kind in (3, 14) and "nexthop" in attr:  # NEXT_HOP, MP_REACH_NLRI (RFC 4760 section 3)
            nh = norm_ip(attr["nexthop"], f"{where}: next hop")
        elif kind == 16:  # EXTENDED_COMMUNITIES (RFC 4360)
            for ec in attr.get("value") or []:
                if not isinstance(ec, dict):
                    raise InputError(f"{where}: an extended community is not an object")
                ec_type, ec_subtype = ec.get("type"), ec.get("subtype")
                # Route Target: transitive 2-octet AS, IPv4, 4-octet AS types, subtype 2.
                if ec_type in (0, 1, 2) and ec_subtype == 2:
                    rts.append(norm_admin_value(str(ec.get("value")), f"{where}: RT"))
                elif ec_type == 6 and ec_subtype == 0:  # MAC Mobility, RFC 7432 section 7.7
                    mobility = ec
                elif ec_type == 3 and ec_subtype == 13:  # Default Gateway, RFC 7432 section 7.8
                    gw = True
        elif kind == 22:  # PMSI_TUNNEL (RFC 6514 section 5)
            pmsi = attr

    route = Route(route_type, gobgp_rd(value.get("rd"), where), nh, rts)
    if route_type == 2:
        route.etag = norm_int(value.get("etag", 0), f"{where}: etag")
        route.mac = norm_mac(value.get("mac"))
        route.ip = norm_ip(value.get("ip"), f"{where}: ip")
        labels = value.get("labels")
        if not isinstance(labels, list):
            raise InputError(f"{where}: labels is not a list")
        route.labels = [norm_int(n, f"{where}: label") for n in labels]
        if mobility is not None:
            route.seq = str(norm_int(mobility.get("sequence", 0), f"{where}: MAC mobility sequence"))
            route.sticky = bool(mobility.get("is_sticky"))
        route.gw = gw
    elif route_type == 3:
        route.etag = norm_int(value.get("etag", 0), f"{where}: etag")
        route.orig = norm_ip(value.get("ip"), f"{where}: originating router ip")
        if pmsi is None:
            route.pmsi_label = ABSENT
            route.pmsi_type = ABSENT
        else:
            route.pmsi_label = str(norm_int(pmsi.get("label"), f"{where}: pmsi label"))
            route.pmsi_type = str(norm_int(pmsi.get("tunnel-type"), f"{where}: pmsi tunnel-type"))
    elif route_type in (1, 4, 5):
        route.esi = gobgp_esi(value.get("esi"), where)
        if route_type == 4:
            route.orig = norm_ip(value.get("ip"), f"{where}: originating router ip")
        else:
            route.etag = norm_int(value.get("etag", 0), f"{where}: etag")
        if route_type == 5:
            address, _, length = str(value.get("prefix")).partition("/")
            route.prefix = norm_prefix(address, length, f"{where}: prefix")
            route.gateway = norm_gateway(value.get("gateway"), f"{where}: gateway")
            route.labels = [norm_int(value.get("label"), f"{where}: label")]
    return route


# ---------------------------------------------------------------- evpnd


def evpnd_pmsi_type(name, where):
    """RouteRow's Pmsi.tunnel_type: "ingress-replication" (type 6) or "type-N"."""
    if name == "ingress-replication":
        return "6"
    if isinstance(name, str) and name.startswith("type-") and name[5:].isdigit():
        return str(int(name[5:]))
    raise InputError(f"{where}: unknown pmsi tunnel_type {name!r}")


def evpnd_routes(doc):
    if not isinstance(doc, list):
        raise InputError("top level is not a list of route rows")
    for index, row in enumerate(doc):
        if not isinstance(row, dict):
            raise InputError(f"row {index} is not an object")
        yield evpnd_route(row, f"row {index}")


def evpnd_route(row, where):
    route_type = norm_int(row.get("route_type"), f"{where}: route_type")
    rd = row.get("rd")
    rd = norm_admin_value(rd, f"{where}: rd")
    nh = norm_ip(row.get("next_hop"), f"{where}: next_hop")
    rts_raw = row.get("route_targets") or []
    if not isinstance(rts_raw, list):
        raise InputError(f"{where}: route_targets is not a list")
    rts = [norm_admin_value(rt, f"{where}: RT") for rt in rts_raw]
    route = Route(route_type, rd, nh, rts)
    if route_type == 2:
        route.etag = norm_int(row.get("ethernet_tag", 0), f"{where}: ethernet_tag")
        route.mac = norm_mac(row.get("mac"))
        route.ip = norm_ip(row.get("ip"), f"{where}: ip")
        labels = row.get("labels")
        if not isinstance(labels, list):
            raise InputError(f"{where}: labels is not a list")
        route.labels = [norm_int(n, f"{where}: label") for n in labels]
        mobility = row.get("mac_mobility")
        if isinstance(mobility, dict):
            route.seq = str(norm_int(mobility.get("sequence"), f"{where}: mac_mobility.sequence"))
            route.sticky = bool(mobility.get("sticky"))
        route.gw = bool(row.get("default_gateway"))
    elif route_type == 3:
        route.etag = norm_int(row.get("ethernet_tag", 0), f"{where}: ethernet_tag")
        route.orig = norm_ip(row.get("originator_ip"), f"{where}: originator_ip")
        pmsi = row.get("pmsi")
        if isinstance(pmsi, dict):
            route.pmsi_label = str(norm_int(pmsi.get("label"), f"{where}: pmsi.label"))
            route.pmsi_type = evpnd_pmsi_type(pmsi.get("tunnel_type"), where)
        else:
            # evpnd shows no PMSI both when there is none and when its tunnel
            # type is not ingress replication (src/daemon/show.rs).
            route.pmsi_label = ABSENT
            route.pmsi_type = ABSENT
    elif route_type in (1, 4, 5):
        route.esi = norm_esi(row.get("esi"), f"{where}: esi")
        if route_type == 4:
            route.orig = norm_ip(row.get("originator_ip"), f"{where}: originator_ip")
        else:
            route.etag = norm_int(row.get("ethernet_tag", 0), f"{where}: ethernet_tag")
        if route_type == 5:
            address, _, length = str(row.get("prefix")).partition("/")
            route.prefix = norm_prefix(address, length, f"{where}: prefix")
            route.gateway = norm_gateway(row.get("gateway_ip"), f"{where}: gateway_ip")
            labels = row.get("labels")
            if not isinstance(labels, list):
                raise InputError(f"{where}: labels is not a list")
            route.labels = [norm_int(n, f"{where}: label") for n in labels]
    return route


# ---------------------------------------------------------------- driver

SPEAKERS = {"frr": frr_routes, "gobgp": gobgp_routes, "evpnd": evpnd_routes}


def canonical_lines(speaker, text, exclude_nh=(), types=None):
    """The sorted, de-duplicated canonical lines of one speaker's JSON text."""
    if not text.strip():
        raise InputError("empty input")
    try:
        doc = json.loads(text)
    except ValueError as err:
        raise InputError(f"not JSON: {err}") from None
    lines = set()
    for route in SPEAKERS[speaker](doc):
        if route.nh in exclude_nh:
            continue
        if types is not None and route.route_type not in types:
            continue
        lines.add(route.line())
    return sorted(lines)


def parse_args(argv):
    usage = "usage: evpn-routes.py frr|gobgp|evpnd [--exclude-nh IP[,IP]] [--types N[,N]] [FILE]"
    speaker = None
    path = None
    exclude_nh = set()
    types = None
    args = list(argv)
    while args:
        arg = args.pop(0)
        if arg in ("-h", "--help"):
            print(__doc__)
            sys.exit(0)
        if arg in ("--exclude-nh", "--types") or arg.startswith(("--exclude-nh=", "--types=")):
            name, _, value = arg.partition("=")
            if not value:
                if not args:
                    raise InputError(f"{name} needs a value; {usage}")
                value = args.pop(0)
            items = [v for v in value.split(",") if v]
            if name == "--exclude-nh":
                exclude_nh.update(norm_ip(v, "--exclude-nh") for v in items)
            else:
                types = {norm_int(v, "--types") for v in items}
        elif arg.startswith("-") and arg != "-":
            raise InputError(f"unknown option {arg}; {usage}")
        elif speaker is None:
            if arg not in SPEAKERS:
                raise InputError(f"unknown speaker {arg!r}; {usage}")
            speaker = arg
        elif path is None:
            path = arg
        else:
            raise InputError(f"too many arguments; {usage}")
    if speaker is None:
        raise InputError(usage)
    return speaker, path, exclude_nh, types


def main(argv):
    prog = "evpn-routes.py"
    try:
        speaker, path, exclude_nh, types = parse_args(argv)
        prog = f"evpn-routes.py {speaker}"
        if path is None or path == "-":
            text = sys.stdin.read()
        else:
            with open(path, encoding="utf-8") as handle:
                text = handle.read()
        lines = canonical_lines(speaker, text, exclude_nh, types)
    except InputError as err:
        print(f"{prog}: {err}", file=sys.stderr)
        return 2
    except (OSError, UnicodeDecodeError) as err:
        print(f"{prog}: {err}", file=sys.stderr)
        return 2
    for line in lines:
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
