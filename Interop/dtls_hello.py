#!/usr/bin/env python3
"""Reads a pcap file (tcpdump -w) and says what the DTLS handshake's hellos carried.

    dtls_hello.py CAPTURE.pcap [--client ADDR] [--json OUT]

Takes the UDP datagrams of the capture (Ethernet, Linux cooked v1/v2 or raw IP link types; IPv4
and IPv6), keeps those that start a DTLS record (first byte 20-63, RFC 7983: STUN and the rest
are skipped), walks their plaintext records (epoch 0) and reassembles the handshake messages
from their fragments (message_seq, fragment_offset, fragment_length), retransmissions counted
once. For each ClientHello: the datagrams and records its fragments came in, its legacy
version, supported_versions (does it offer DTLS 1.3, 0xFEFC?), supported_groups, key_share
groups with their key sizes (X25519MLKEM768 is 0x11EC), cipher suites and the other extensions.
For each ServerHello (and HelloVerifyRequest): the version and cipher suite chosen, and its
supported_versions extension if any (DTLS 1.3 would say 0xFEFC there; DTLS 1.2 has none).

--client ADDR names the ClientHello's sender (default: whoever sent the first ClientHello).
Prints a readable report; --json OUT also writes the facts as JSON. Exit status 0 when a
complete ClientHello and a ServerHello were found, 1 otherwise. Standard library only.
"""

import argparse
import ipaddress
import json
import struct
import sys

VERSIONS = {0xFEFC: "DTLS 1.3", 0xFEFD: "DTLS 1.2", 0xFEFF: "DTLS 1.0", 0x0304: "TLS 1.3", 0x0303: "TLS 1.2"}
GROUPS = {
    0x0017: "secp256r1", 0x0018: "secp384r1", 0x0019: "secp521r1", 0x001D: "x25519", 0x001E: "x448",
    0x0100: "ffdhe2048", 0x0101: "ffdhe3072", 0x0102: "ffdhe4096",
    0x0200: "MLKEM512", 0x0201: "MLKEM768", 0x0202: "MLKEM1024",
    0x11EB: "SecP256r1MLKEM768", 0x11EC: "X25519MLKEM768", 0x11ED: "SecP384r1MLKEM1024",
    0x6399: "X25519Kyber768Draft00", 0x639A: "SecP256r1Kyber768Draft00",
}
CIPHERS = {
    0x1301: "TLS_AES_128_GCM_SHA256", 0x1302: "TLS_AES_256_GCM_SHA384", 0x1303: "TLS_CHACHA20_POLY1305_SHA256",
    0xC02B: "ECDHE-ECDSA-AES128-GCM-SHA256", 0xC02F: "ECDHE-RSA-AES128-GCM-SHA256",
    0xC02C: "ECDHE-ECDSA-AES256-GCM-SHA384", 0xC030: "ECDHE-RSA-AES256-GCM-SHA384",
    0xCCA9: "ECDHE-ECDSA-CHACHA20-POLY1305", 0xCCA8: "ECDHE-RSA-CHACHA20-POLY1305",
    0xC009: "ECDHE-ECDSA-AES128-SHA", 0xC00A: "ECDHE-ECDSA-AES256-SHA",
    0xC013: "ECDHE-RSA-AES128-SHA", 0xC014: "ECDHE-RSA-AES256-SHA",
    0x009C: "AES128-GCM-SHA256", 0x009D: "AES256-GCM-SHA384", 0x002F: "AES128-SHA", 0x0035: "AES256-SHA",
    0x000A: "DES-CBC3-SHA", 0x00FF: "TLS_EMPTY_RENEGOTIATION_INFO_SCSV",
}
EXTENSIONS = {
    0: "server_name", 1: "max_fragment_length", 5: "status_request", 10: "supported_groups",
    11: "ec_point_formats", 13: "signature_algorithms", 14: "use_srtp", 16: "alpn",
    18: "signed_certificate_timestamp", 21: "padding", 22: "encrypt_then_mac",
    23: "extended_master_secret", 27: "compress_certificate", 28: "record_size_limit",
    34: "delegated_credentials", 35: "session_ticket", 41: "pre_shared_key", 42: "early_data",
    43: "supported_versions", 44: "cookie", 45: "psk_key_exchange_modes", 49: "post_handshake_auth",
    50: "signature_algorithms_cert", 51: "key_share", 54: "connection_id", 0xFF01: "renegotiation_info",
    0xFE0D: "encrypted_client_hello",
}
HS_TYPES = {0: "hello_request", 1: "client_hello", 2: "server_hello", 3: "hello_verify_request",
            4: "new_session_ticket", 11: "certificate", 12: "server_key_exchange", 13: "certificate_request",
            14: "server_hello_done", 15: "certificate_verify", 16: "client_key_exchange", 20: "finished"}


def name(table, v):
    return f"{table[v]} (0x{v:04X})" if v in table else f"0x{v:04X}"


def read_pcap(path):
    """Yields (time, src, sport, dst, dport, payload) for each UDP datagram."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        return
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        e = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        e = ">"
    else:
        raise SystemExit(f"{path}: not a pcap file (pcapng? write it with tcpdump -w)")
    nano = magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
    linktype = struct.unpack(e + "I", data[20:24])[0] & 0x0FFFFFFF
    off = 24
    while off + 16 <= len(data):
        sec, frac, incl, _orig = struct.unpack(e + "IIII", data[off:off + 16])
        pkt = data[off + 16:off + 16 + incl]
        off += 16 + incl
        t = sec + frac / (1e9 if nano else 1e6)
        if linktype == 1:  # Ethernet
            if len(pkt) < 14:
                continue
            etype, p = struct.unpack("!H", pkt[12:14])[0], 14
            while etype in (0x8100, 0x88A8) and len(pkt) >= p + 4:
                etype, p = struct.unpack("!H", pkt[p + 2:p + 4])[0], p + 4
        elif linktype == 113:  # Linux cooked v1
            etype, p = struct.unpack("!H", pkt[14:16])[0], 16
        elif linktype == 276:  # Linux cooked v2
            etype, p = struct.unpack("!H", pkt[0:2])[0], 20
        elif linktype in (101, 12, 228, 229):  # raw IP
            etype, p = (0x0800 if pkt[0] >> 4 == 4 else 0x86DD), 0
        else:
            raise SystemExit(f"{path}: link type {linktype} not handled")
        ip = pkt[p:]
        if etype == 0x0800 and len(ip) >= 20:
            ihl = (ip[0] & 15) * 4
            if ip[9] != 17 or struct.unpack("!H", ip[6:8])[0] & 0x3FFF:  # UDP, not a fragment
                continue
            src, dst, udp = ipaddress.ip_address(ip[12:16]), ipaddress.ip_address(ip[16:20]), ip[ihl:]
        elif etype == 0x86DD and len(ip) >= 40:
            if ip[6] != 17:
                continue
            src, dst, udp = ipaddress.ip_address(ip[8:24]), ipaddress.ip_address(ip[24:40]), ip[40:]
        else:
            continue
        if len(udp) < 8:
            continue
        sport, dport, ulen = struct.unpack("!HHH", udp[:6])
        yield t, str(src), sport, str(dst), dport, udp[8:ulen]


class Message:
    def __init__(self, mtype, length, seq, sender):
        self.type, self.length, self.seq, self.sender = mtype, length, seq, sender
        self.body = bytearray(length)
        self.have = set()           # (offset, length) fragments seen
        self.covered = bytearray(length)
        self.datagrams = []         # datagram indexes (first sightings)
        self.records = []           # (datagram index, record length, fragment offset, fragment length)
        self.retransmitted = 0
        self.first_time = None

    def add(self, dgi, t, reclen, foff, flen, frag):
        if (foff, flen) in self.have:
            self.retransmitted += 1
            return
        self.have.add((foff, flen))
        self.body[foff:foff + flen] = frag
        self.covered[foff:foff + flen] = b"\x01" * flen
        if dgi not in self.datagrams:
            self.datagrams.append(dgi)
        self.records.append((dgi, reclen, foff, flen))
        if self.first_time is None:
            self.first_time = t

    @property
    def complete(self):
        return self.length == 0 or all(self.covered)


def parse_extensions(b):
    out = []
    p = 0
    while p + 4 <= len(b):
        et, el = struct.unpack("!HH", b[p:p + 4])
        out.append((et, bytes(b[p + 4:p + 4 + el])))
        p += 4 + el
    return out


def client_hello(body):
    b = bytes(body)
    p = 0
    legacy = struct.unpack("!H", b[p:p + 2])[0]
    p += 2 + 32
    sid = b[p]
    p += 1 + sid
    cookie_len = b[p]
    cookie = b[p + 1:p + 1 + cookie_len]
    p += 1 + cookie_len
    cl = struct.unpack("!H", b[p:p + 2])[0]
    suites = [struct.unpack("!H", b[p + 2 + i:p + 4 + i])[0] for i in range(0, cl, 2)]
    p += 2 + cl
    p += 1 + b[p]  # compression
    exts = parse_extensions(b[p + 2:p + 2 + struct.unpack("!H", b[p:p + 2])[0]]) if p + 2 <= len(b) else []
    info = {"legacy_version": legacy, "cookie_length": cookie_len, "cipher_suites": suites,
            "extensions": [e for e, _ in exts], "supported_versions": None, "supported_groups": None,
            "key_share": None, "srtp_profiles": None}
    for et, ev in exts:
        if et == 43:
            info["supported_versions"] = [struct.unpack("!H", ev[1 + i:3 + i])[0] for i in range(0, ev[0], 2)]
        elif et == 10:
            n = struct.unpack("!H", ev[:2])[0]
            info["supported_groups"] = [struct.unpack("!H", ev[2 + i:4 + i])[0] for i in range(0, n, 2)]
        elif et == 51:
            n, q, shares = struct.unpack("!H", ev[:2])[0], 2, []
            while q + 4 <= 2 + n:
                g, kl = struct.unpack("!HH", ev[q:q + 4])
                shares.append([g, kl])
                q += 4 + kl
            info["key_share"] = shares
        elif et == 14:
            n = struct.unpack("!H", ev[:2])[0]
            info["srtp_profiles"] = [struct.unpack("!H", ev[2 + i:4 + i])[0] for i in range(0, n, 2)]
    return info


def server_hello(body, hvr=False):
    b = bytes(body)
    version = struct.unpack("!H", b[:2])[0]
    if hvr:
        return {"version": version, "cookie_length": b[2]}
    p = 2 + 32
    p += 1 + b[p]
    suite = struct.unpack("!H", b[p:p + 2])[0]
    p += 3
    exts = parse_extensions(b[p + 2:p + 2 + struct.unpack("!H", b[p:p + 2])[0]]) if p + 2 <= len(b) else []
    info = {"version": version, "cipher_suite": suite, "extensions": [e for e, _ in exts],
            "supported_versions": None, "key_share": None}
    for et, ev in exts:
        if et == 43 and len(ev) == 2:
            info["supported_versions"] = struct.unpack("!H", ev)[0]
        elif et == 51 and len(ev) >= 2:
            info["key_share"] = struct.unpack("!H", ev[:2])[0]
    return info


def analyse(path, client=None):
    messages = {}     # (sender, type, seq) -> Message, in order of first sighting
    datagrams = []    # (time, src:port, dst:port, size, records)
    for t, src, sport, dst, dport, payload in read_pcap(path):
        if not payload or not 20 <= payload[0] <= 63:
            continue
        dgi = len(datagrams)
        sender = f"{src}:{sport}"
        records = []
        p = 0
        while p + 13 <= len(payload):
            ctype, ver, epoch = payload[p], struct.unpack("!H", payload[p + 1:p + 3])[0], struct.unpack("!H", payload[p + 3:p + 5])[0]
            rlen = struct.unpack("!H", payload[p + 11:p + 13])[0]
            frag = payload[p + 13:p + 13 + rlen]
            records.append({"type": ctype, "version": ver, "epoch": epoch, "length": rlen})
            if ctype == 22 and epoch == 0:
                q = 0
                while q + 12 <= len(frag):
                    mtype = frag[q]
                    mlen = int.from_bytes(frag[q + 1:q + 4], "big")
                    mseq = struct.unpack("!H", frag[q + 4:q + 6])[0]
                    foff = int.from_bytes(frag[q + 6:q + 9], "big")
                    flen = int.from_bytes(frag[q + 9:q + 12], "big")
                    body = frag[q + 12:q + 12 + flen]
                    key = (sender, mtype, mseq)
                    if key not in messages:
                        messages[key] = Message(mtype, mlen, mseq, sender)
                    messages[key].add(dgi, t, rlen, foff, flen, body)
                    q += 12 + flen
            if ctype < 20 or ctype > 25:  # DTLS 1.3 unified header or garbage: stop walking
                break
            p += 13 + rlen
        datagrams.append({"time": t, "from": sender, "to": f"{dst}:{dport}", "size": len(payload), "records": records})

    hellos = [m for m in messages.values() if m.type == 1]
    if client is None and hellos:
        client = hellos[0].sender.rsplit(":", 1)[0]
    report = {"capture": path, "client": client, "dtls_datagrams": len(datagrams), "client_hellos": [],
              "server_hellos": [], "hello_verify_requests": [], "messages": []}
    for m in messages.values():
        report["messages"].append({"from": m.sender, "type": HS_TYPES.get(m.type, m.type), "seq": m.seq,
                                   "length": m.length, "complete": m.complete, "datagrams": len(m.datagrams),
                                   "records": len(m.records), "retransmitted_fragments": m.retransmitted})
    for m in hellos:
        if client and m.sender.rsplit(":", 1)[0] != client:
            continue
        h = {"from": m.sender, "message_seq": m.seq, "length": m.length, "complete": m.complete,
             "datagrams": len(m.datagrams), "records": len(m.records),
             "fragments": [{"datagram": d, "datagram_size": datagrams[d]["size"], "record_length": rl,
                            "offset": fo, "length": fl} for d, rl, fo, fl in m.records],
             "retransmitted_fragments": m.retransmitted,
             "record_versions": sorted({r["version"] for d in m.datagrams for r in datagrams[d]["records"]})}
        if m.complete:
            h.update(client_hello(m.body))
        report["client_hellos"].append(h)
    for m in messages.values():
        if m.type in (2, 3) and m.complete and (not client or m.sender.rsplit(":", 1)[0] != client):
            target = report["server_hellos"] if m.type == 2 else report["hello_verify_requests"]
            target.append({"from": m.sender, "message_seq": m.seq, "length": m.length, "datagrams": len(m.datagrams),
                           **server_hello(m.body, hvr=m.type == 3)})
    return report


def text(r):
    out = [f"capture {r['capture']}: {r['dtls_datagrams']} DTLS datagrams; client (ClientHello sender) {r['client']}"]
    for h in r["client_hellos"]:
        frags = ", ".join(f"[{f['offset']}+{f['length']} in a {f['record_length']} B record, datagram #{f['datagram']} "
                          f"({f['datagram_size']} B)]" for f in h["fragments"])
        out.append(f"ClientHello (message_seq {h['message_seq']}) from {h['from']}: {h['length']} B body, "
                   f"{'complete' if h['complete'] else 'INCOMPLETE'}, {h['records']} record(s) in {h['datagrams']} datagram(s)"
                   f"{' -> FRAGMENTED' if h['records'] > 1 else ''}: {frags}; "
                   f"{h['retransmitted_fragments']} retransmitted fragment(s)")
        if not h["complete"]:
            continue
        sv = h["supported_versions"]
        out.append(f"  legacy_version {name(VERSIONS, h['legacy_version'])}; record versions "
                   f"{', '.join(name(VERSIONS, v) for v in h['record_versions'])}; cookie {h['cookie_length']} B")
        out.append("  supported_versions: " + ("(none: DTLS 1.2 or older only)" if sv is None else ", ".join(name(VERSIONS, v) for v in sv))
                   + f"  -> offers DTLS 1.3: {'YES' if sv and 0xFEFC in sv else 'no'}")
        ks = h["key_share"]
        out.append("  key_share: " + ("(none)" if ks is None else ", ".join(f"{name(GROUPS, g)} [{kl} B]" for g, kl in ks))
                   + f"  -> X25519MLKEM768 share: {'YES' if ks and any(g == 0x11EC for g, _ in ks) else 'no'}")
        sg = h["supported_groups"]
        out.append("  supported_groups: " + ("(none)" if sg is None else ", ".join(name(GROUPS, g) for g in sg)))
        out.append("  cipher_suites: " + ", ".join(name(CIPHERS, c) for c in h["cipher_suites"]))
        out.append("  extensions: " + ", ".join(EXTENSIONS.get(e, str(e)) for e in h["extensions"]))
    for v in r["hello_verify_requests"]:
        out.append(f"HelloVerifyRequest from {v['from']}: version {name(VERSIONS, v['version'])}, cookie {v['cookie_length']} B")
    for s in r["server_hellos"]:
        out.append(f"ServerHello from {s['from']}: version {name(VERSIONS, s['version'])}, cipher {name(CIPHERS, s['cipher_suite'])}, "
                   f"supported_versions {'(none)' if s['supported_versions'] is None else name(VERSIONS, s['supported_versions'])}, "
                   f"extensions {', '.join(EXTENSIONS.get(e, str(e)) for e in s['extensions'])}")
        negotiated = s["supported_versions"] if s["supported_versions"] is not None else s["version"]
        out.append(f"  -> negotiated {name(VERSIONS, negotiated)}")
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("capture")
    ap.add_argument("--client", help="the ClientHello sender's address (default: the first ClientHello's)")
    ap.add_argument("--json", help="also write the facts here as JSON")
    a = ap.parse_args()
    r = analyse(a.capture, a.client)
    print(text(r))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(r, f, indent=1)
    ok = any(h["complete"] for h in r["client_hellos"]) and r["server_hellos"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
