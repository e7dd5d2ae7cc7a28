#!/usr/bin/env python3
"""Writes the seeds of the fsm, control_request and pcap_decode fuzz targets
into fuzz/seeds/<target>/ from the project's captures (proto-tests/vectors:
FRR 8.4, GoBGP and ExaBGP sessions) and the request lines the control-socket
tests use. Run from the repository root: python3 fuzz/make_seeds.py
The seeds are committed; this script says where they came from and can
write them again if a target's input layout changes."""

import os
import struct

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VECTORS = os.path.join(ROOT, "proto-tests", "vectors")


def write(target, name, data):
    d = os.path.join(ROOT, "fuzz", "seeds", target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def read(*path):
    with open(os.path.join(VECTORS, *path), "rb") as f:
        return f.read()


def packets(pcap):
    """(ts_sec, ts_usec, frame) of a little-endian classic pcap."""
    out, o = [], 24
    while o + 16 <= len(pcap):
        ts, tu, cl, _ = struct.unpack("<IIII", pcap[o:o + 16])
        out.append((ts, tu, pcap[o + 16:o + 16 + cl]))
        o += 16 + cl
    return out


def classic(pkts, linktype=1, big_endian=False, nanos=False):
    e = ">" if big_endian else "<"
    magic = 0xA1B23C4D if nanos else 0xA1B2C3D4
    out = struct.pack(e + "IHHiIII", magic, 2, 4, 0, 0, 262144, linktype)
    for ts, tu, frame in pkts:
        sub = tu * 1000 if nanos else tu
        out += struct.pack(e + "IIII", ts, sub, len(frame), len(frame)) + frame
    return out


def pcapng(pkts, linktype=1):
    def block(btype, body):
        body += b"\0" * (-len(body) % 4)
        n = len(body) + 12
        return struct.pack("<II", btype, n) + body + struct.pack("<I", n)

    out = block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
    out += block(1, struct.pack("<HHI", linktype, 0, 262144))
    for ts, tu, frame in pkts:
        t = ts * 1_000_000 + tu
        out += block(6, struct.pack("<IIIII", 0, t >> 32, t & 0xFFFFFFFF, len(frame), len(frame)) + frame)
    return out


def sll(frame):
    """Ethernet II to Linux cooked (SLL, linktype 113): incoming, Ethernet, the source MAC."""
    return struct.pack(">HHH", 0, 1, 6) + frame[6:12] + b"\0\0" + frame[12:]


def hex_messages(path):
    """The messages of a messages.txt vector: (comment, bytes)."""
    out, comment = [], ""
    for line in read(*path).decode().splitlines():
        if line.startswith("#"):
            comment = line
        elif line.strip():
            out.append((comment, bytes.fromhex(line.strip())))
    return out


def pcap_seeds():
    frr = packets(read("frr", "bgp-evpn.pcap"))
    for name in ("exabgp", "gobgp"):
        raw = read(name, "capture.pcap")
        pk = packets(raw)
        write("pcap_decode", f"{name}.pcap", raw)
        write("pcap_decode", f"{name}.pcapng", pcapng(pk))
    gobgp = packets(read("gobgp", "capture.pcap"))
    write("pcap_decode", "gobgp-big-endian.pcap", classic(gobgp, big_endian=True))
    write("pcap_decode", "gobgp-nanoseconds.pcap", classic(gobgp, nanos=True))
    write("pcap_decode", "gobgp-sll.pcap", classic([(a, b, sll(f)) for a, b, f in gobgp], 113))
    # Raw IP (linktype 101): the frames without their Ethernet header.
    write("pcap_decode", "gobgp-raw-ip.pcapng", pcapng([(a, b, f[14:]) for a, b, f in gobgp], 101))
    # FRR's 412 packets in captures of 40, small enough to mutate quickly.
    for i in range(0, len(frr), 40):
        write("pcap_decode", f"frr-{i // 40:02}.pcap", classic(frr[i:i + 40]))
    # `evpnd decode F` also reads hex text and raw messages.
    text = read("gobgp", "messages.txt").decode().splitlines()[:24]
    write("pcap_decode", "gobgp-messages.txt", "\n".join(text) + "\n")
    write("pcap_decode", "exabgp-messages.raw", b"".join(m for _, m in hex_messages(("exabgp", "messages.txt"))[:12]))


def control_request_seeds():
    # What the client sends for each command (src/cli.rs), and the request
    # lines of the protocol tests.
    lines = [
        '{"request":"show_routes","vni":10,"route_type":2,"rd":null}',
        '{"request":"show_routes","vni":null,"route_type":null,"rd":"198.19.0.1:2"}',
        '{"request":"show_routes","vni":10,"route_type":2}',
        '{"request":"show_neighbors"}',
        '{"request":"show_vnis"}',
        '{"request":"show_fdb","vni":null}',
        '{"request":"show_fdb","vni":10}',
        '{"request":"show_config"}',
        '{"request":"clear_neighbors","address":null}',
        '{"request":"clear_neighbors","address":"198.19.0.1"}',
        '{"request":"clear_neighbors","address":"2001:db8::1"}',
        '{"request":"reload"}',
        '{"request":"upgrade"}',
        '{"request":"reboot"}',
        '{"request":"show_fdb","vnii":1}',
        '  {"request":"show_vnis"}\r\n',
    ]
    for i, line in enumerate(lines):
        write("control_request", f"request-{i:02}", line)


# fsm opcodes (fuzz/fuzz_targets/fsm.rs): 0 ManualStart, 1 ManualStop,
# 5 AutomaticStop, 6 ManualReset, 7 prefix limit, 8-12 timers (ConnectRetry,
# Hold, Keepalive, IdleHold, Stability), 13 incoming connection, 14 our
# connection completes, 17 connection fails, 18 collision dump, 19 OPEN,
# 20 KEEPALIVE, 21 NOTIFICATION, 22 End-of-RIB, 23 raw bytes.
def fsm_header(passive=False, ext=False, addpath=False, peer=0, hold0=False, keepalive=30, seed=7):
    flags = passive | ext << 1 | addpath << 2 | peer << 3 | (0 if hold0 else 1) << 5
    # local hold choice 2 -> 90 s (HOLD_TIMES[3..] = 3, 9, 90, ...)
    return bytes([flags, 2, keepalive, 0]) + struct.pack(">I", seed)


OPEN_OK = bytes([19, 0, 5, 0, 0, 0])  # peer AS, hold 90, default caps, intact
KEEPALIVE = bytes([20, 0, 0])


def raw(data):
    return bytes([23]) + struct.pack(">H", len(data)) + data


def fsm_seeds():
    up = bytes([0, 14]) + OPEN_OK + KEEPALIVE
    write("fsm", "establish", fsm_header() + up + bytes([22, 0, 0, 0, 10, 12, 9]))
    write("fsm", "establish-passive", fsm_header(passive=True) + bytes([0, 13]) + OPEN_OK + KEEPALIVE + bytes([1]))
    write("fsm", "establish-ebgp-4-octet", fsm_header(peer=2, ext=True) + bytes([0, 14, 19, 4, 6, 0, 0, 0]) + KEEPALIVE)
    write("fsm", "hold-time-0", fsm_header(hold0=True) + bytes([0, 14, 19, 0, 0, 0, 0, 0]) + KEEPALIVE + bytes([9, 10]))
    write("fsm", "collision-reset", fsm_header() + up + bytes([13, 18, 11, 6, 14]) + OPEN_OK + KEEPALIVE + bytes([7, 0, 0]))
    write("fsm", "retry-and-fail", fsm_header(seed=99) + bytes([0, 8, 14, 17, 8, 8, 14, 9, 11, 0, 1, 11]))
    write("fsm", "notification", fsm_header() + up + bytes([21, 6, 4, 0, 0, 0, 11, 0, 14, 21, 2, 2, 2, 0, 1, 0, 0]))
    write("fsm", "corrupt-open", fsm_header() + bytes([0, 14, 19, 0, 5, 0, 18, 0xFF]) + bytes([11, 14, 19, 0, 5, 0, 28, 1]))
    # GoBGP's side of a real session: its OPEN, KEEPALIVE and UPDATEs, in
    # one read and in pieces that split messages.
    for name, peer_port in (("gobgp", "198.18.0.1:179"), ("exabgp", None)):
        msgs = hex_messages((name, "messages.txt"))
        first = msgs[0][0].split()[4] if peer_port is None else peer_port
        theirs = b"".join(m for c, m in msgs if c.split()[4] == first)[:6000]
        write("fsm", f"{name}-session", fsm_header(ext=True) + bytes([0, 14]) + raw(theirs) + bytes([10, 9]))
        write("fsm", f"{name}-split", fsm_header() + bytes([0, 14]) + raw(theirs[:50]) + raw(theirs[50:400]) + bytes([1]))


if __name__ == "__main__":
    pcap_seeds()
    control_request_seeds()
    fsm_seeds()
