#!/usr/bin/python3
"""exabgp-evpn.py - ExaBGP 4.2 with API commands to announce/withdraw EVPN routes.

ExaBGP 4.2 can decode all EVPN route types and has classes that encode them, but its
configuration and API text syntax have no way to announce one. This wrapper registers
two API text commands and then runs ExaBGP unchanged (same arguments as `exabgp`):

  announce evpn <route> -- <attributes>
  withdraw evpn <route> -- <attributes>

<route> is one of (key value pairs, any order; rd is "IP:N" or "ASN:N"; esi is 10 bytes
as colon-separated hex or 0; label-mode vni (default: the 24-bit VNI fills the label
field, RFC 8365 section 5.1.3) or mpls (20-bit label << 4 | bottom-of-stack, RFC 7432)):
  mac              rd R [esi E] [etag T] mac M [ip I] label L [label2 L2] [label-mode vni|mpls]
  multicast        rd R [etag T] ip I
  ethernet-ad      rd R esi E [etag T] label L [label-mode ...]
  ethernet-segment rd R esi E ip I
  ip-prefix        rd R [esi E] [etag T] prefix P/LEN [gw G] label L [label-mode ...]
<attributes> is anything ExaBGP accepts after "route <prefix>" in a static route
(next-hop is required; origin, local-preference, extended-community [ ... ],
attribute [ code flags value ] ...). The NLRI, MP_REACH/MP_UNREACH and every attribute
are encoded by ExaBGP's own classes; only the parsing of <route> is ours.
"""
import sys

from exabgp.bgp.message import OUT
from exabgp.bgp.message.update.nlri.evpn.ethernetad import EthernetAD
from exabgp.bgp.message.update.nlri.evpn.mac import MAC
from exabgp.bgp.message.update.nlri.evpn.multicast import Multicast
from exabgp.bgp.message.update.nlri.evpn.prefix import Prefix
from exabgp.bgp.message.update.nlri.evpn.segment import EthernetSegment
from exabgp.bgp.message.update.nlri.qualifier import ESI, EthernetTag, Labels, RouteDistinguisher
from exabgp.bgp.message.update.nlri.qualifier import MAC as MACQUAL
from exabgp.protocol.ip import IP
from exabgp.reactor.api.command.command import Command
from exabgp.reactor.api.command.limit import extract_neighbors, match_neighbors
from exabgp.rib.change import Change


def _labels(kv):
    values = [int(kv["label"])] + ([int(kv["label2"])] if "label2" in kv else [])
    if kv.get("label-mode", "vni") == "mpls":
        return Labels(values)
    return Labels([], raw_labels=values)


def _esi(text):
    if text in ("0", "-"):
        return ESI()
    raw = bytes(int(x, 16) for x in text.split(":"))
    return ESI(raw)


def _rd(text):
    prefix, suffix = text.rsplit(":", 1)
    return RouteDistinguisher.fromElements(prefix, int(suffix))


def parse_evpn(words):
    kind, rest = words[0], words[1:]
    if len(rest) % 2:
        raise ValueError("odd number of key/value words in %r" % " ".join(words))
    kv = dict(zip(rest[0::2], rest[1::2]))
    rd = _rd(kv["rd"])
    esi = _esi(kv.get("esi", "0"))
    etag = EthernetTag(int(kv.get("etag", "0")))
    if kind == "mac":
        ip = IP.create(kv["ip"]) if "ip" in kv else None
        return MAC(rd, esi, etag, MACQUAL(kv["mac"]), 48, _labels(kv), ip)
    if kind == "multicast":
        return Multicast(rd, etag, IP.create(kv["ip"]))
    if kind == "ethernet-ad":
        return EthernetAD(rd, esi, etag, _labels(kv))
    if kind == "ethernet-segment":
        return EthernetSegment(rd, esi, IP.create(kv["ip"]))
    if kind == "ip-prefix":
        addr, plen = kv["prefix"].split("/")
        # the gateway IP has the prefix's family (RFC 9136 section 3.1): 0.0.0.0 or ::
        gw = IP.create(kv.get("gw", "::" if ":" in addr else "0.0.0.0"))
        return Prefix(rd, esi, etag, _labels(kv), IP.create(addr), int(plen), gw)
    raise ValueError("unknown EVPN route type %r" % kind)


def _evpn_command(action):
    def handler(self, reactor, service, line):
        def callback():
            try:
                descriptions, command = extract_neighbors(line)
                peers = match_neighbors(reactor.peers(service), descriptions)
                if not peers:
                    self.log_failure("no neighbor matching the command : %s" % command)
                    reactor.processes.answer_error(service)
                    yield True
                    return
                verb, _evpn, rest = command.split(" ", 2)
                route_text, attr_text = rest.split(" -- ", 1)
                # borrow ExaBGP's static-route parser for the attributes (and next-hop)
                changes = self.api_route("announce route 198.18.255.255/32 " + attr_text)
                if len(changes) != 1:
                    raise ValueError("could not parse attributes: %s" % attr_text)
                nlri = parse_evpn(route_text.split())
                nlri.nexthop = changes[0].nlri.nexthop
                nlri.action = action
                change = Change(nlri, changes[0].attributes)
                reactor.configuration.inject_change(peers, change)
                self.log_message(
                    "evpn %s %s : %s"
                    % ("added to" if action == OUT.ANNOUNCE else "removed from", ", ".join(peers), change.extensive())
                )
                yield False
                reactor.processes.answer_done(service)
            except (ValueError, KeyError, IndexError) as exc:
                self.log_failure("issue parsing the evpn route: %r in %s" % (exc, line))
                reactor.processes.answer_error(service)
                yield True

        reactor.asynchronous.schedule(service, line, callback())
        return True

    return handler


Command.register("text", "announce evpn")(_evpn_command(OUT.ANNOUNCE))
Command.register("text", "withdraw evpn")(_evpn_command(OUT.WITHDRAW))

if __name__ == "__main__":
    from exabgp.application.bgp import main

    sys.argv[0] = "exabgp"
    main()
