#!/usr/bin/env python3
"""Writes the seed corpora in this directory from the captured packets in
stack/wire/testdata/golden_packets.h (one source of truth for real traffic),
plus a few hand-made TCP option lists. Run from the repository root:
    python3 tests/fuzz/corpus/make_seeds.py
"""
import os
import re
import struct

ROOT = os.path.dirname(os.path.abspath(__file__))
GOLDEN = os.path.join(ROOT, "..", "..", "..", "stack", "wire", "testdata", "golden_packets.h")

text = open(GOLDEN).read()
frames = {}
for name, body in re.findall(r"inline const std::vector<uint8_t> (k\w+) = \{(.*?)\};", text, re.S):
    frames[name] = bytes(int(b, 16) for b in re.findall(r"0x([0-9a-f]{2})", body))


def snake(name):
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name[1:]).lower().replace("_frame", "")


def write(target, name, data):
    d = os.path.join(ROOT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


for name, frame in sorted(frames.items()):
    s = snake(name)
    write("ethernet", s, frame)
    ether_type = struct.unpack(">H", frame[12:14])[0]
    if ether_type == 0x0806:
        write("arp", s, frame[14:])
        continue
    ip = frame[14:]
    write("ipv4", s, ip)
    ihl = (ip[0] & 0xF) * 4
    frag = struct.unpack(">H", ip[6:8])[0] & 0x3FFF
    if frag:
        continue
    proto, l4 = ip[9], ip[ihl:struct.unpack(">H", ip[2:4])[0]]
    if proto == 1:
        write("icmp", s, l4)
    elif proto == 6:
        write("tcp", s, l4)
        doff = (l4[12] >> 4) * 4
        if doff > 20:
            write("tcp_options", s, l4[20:doff])

def tcp_checksum(src, dst, segment):
    data = src + dst + struct.pack(">BBH", 0, 6, len(segment)) + segment[:16] + b"\0\0" + segment[18:]
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(">%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return segment[:16] + struct.pack(">H", ~total & 0xFFFF) + segment[18:]


# tcp_fuzz.cc checks segments as sent from 127.0.0.1 to 127.0.0.1. Most
# captures carry only the offload seed in their checksum field; these copies
# carry the full checksum, so that the verified path starts from real input.
LOOPBACK = bytes([127, 0, 0, 1])
for name in sorted(os.listdir(os.path.join(ROOT, "tcp"))):
    if name.endswith("_checksummed"):
        continue
    seg = open(os.path.join(ROOT, "tcp", name), "rb").read()
    fixed = tcp_checksum(LOOPBACK, LOOPBACK, seg)
    if fixed != seg:  # the RST was checksummed by Linux already
        write("tcp", name + "_checksummed", fixed)

# Option lists the captures lack: four SACK blocks, an unknown kind, EOL.
four_sacks = bytes([1, 1, 5, 34]) + b"".join(struct.pack(">II", 1000 * i, 1000 * i + 500) for i in range(1, 5))
write("tcp_options", "four_sack_blocks", four_sacks)
write("tcp_options", "unknown_kind_and_eol", bytes([30, 6, 0xDE, 0xAD, 0xBE, 0xEF, 2, 4, 5, 0xB4, 0, 0]))
write("tcp_options", "mss_wscale_sackperm", bytes([2, 4, 5, 0xB4, 1, 3, 3, 7, 1, 1, 4, 2]))
