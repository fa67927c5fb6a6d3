#!/usr/bin/python3
"""Linux-side peers for the end-to-end tests (tests/e2e): Linux's own TCP
against Locus's stack. Standard library only. Every loop is bounded in count
and in time; every command prints one "result:" line of key=value pairs and
exits non-zero when its check fails.

  peer.py stream HOST PORT --bytes N        one connection to an echo server:
                                            send N bytes, read N back, SHA-256
                                            of both
  peer.py short HOST PORT --count N         N connections one after another:
                                            connect, request, response, close
  peer.py concurrent HOST PORT --count N    N connections open at once, each
                                            echoing --bytes
  peer.py server --bind IP --port P         echo server (selectors), until
                                            SIGTERM or --run_s
  peer.py synflood DST PORT --src-net NET   spoofed SYNs from a raw socket
"""

import argparse
import hashlib
import ipaddress
import os
import random
import selectors
import signal
import socket
import struct
import sys
import threading
import time


def result(ok, **fields):
    print("result: ok=%d %s" % (1 if ok else 0, " ".join("%s=%s" % kv for kv in fields.items())),
          flush=True)
    return 0 if ok else 1


def stream_chunks(seed, total, chunk=64 * 1024):
    """Deterministic pseudo-random bytes, never periodic."""
    rng = random.Random(seed)
    left = total
    while left > 0:
        n = min(chunk, left)
        yield rng.randbytes(n)
        left -= n


def cmd_stream(a):
    deadline = time.monotonic() + a.timeout
    s = socket.create_connection((a.host, a.port), timeout=10)
    s.settimeout(max(1.0, a.timeout))
    sent_hash = hashlib.sha256()
    recv_hash = hashlib.sha256()
    sent = [0]
    send_error = []

    def sender():
        try:
            for block in stream_chunks(a.seed, a.bytes):
                sent_hash.update(block)
                s.sendall(block)
                sent[0] += len(block)
                if time.monotonic() > deadline:
                    raise TimeoutError("send deadline")
            s.shutdown(socket.SHUT_WR)
        except Exception as e:  # reported below
            send_error.append(repr(e))

    start = time.monotonic()
    t = threading.Thread(target=sender, daemon=True)
    t.start()
    received = 0
    error = ""
    try:
        while received <= a.bytes:
            left = deadline - time.monotonic()
            if left <= 0:
                error = "timeout"
                break
            s.settimeout(left)
            data = s.recv(256 * 1024)
            if not data:
                break
            recv_hash.update(data)
            received += len(data)
    except Exception as e:
        error = repr(e)
    elapsed = time.monotonic() - start
    t.join(timeout=max(0.1, deadline - time.monotonic()))
    s.close()
    if send_error:
        error = error or send_error[0]
    ok = (not error and sent[0] == a.bytes and received == a.bytes
          and sent_hash.hexdigest() == recv_hash.hexdigest())
    return result(ok, bytes_sent=sent[0], bytes_received=received,
                  sha256_sent=sent_hash.hexdigest()[:16], sha256_received=recv_hash.hexdigest()[:16],
                  seconds="%.2f" % elapsed,
                  mbit_s_each_way="%.1f" % (received * 8 / elapsed / 1e6 if elapsed > 0 else 0),
                  error=error or "none")


def cmd_short(a):
    deadline = time.monotonic() + a.timeout
    start = time.monotonic()
    done = failed = 0
    first_error = ""
    worst = 0.0
    for i in range(a.count):
        if time.monotonic() > deadline:
            first_error = first_error or "timeout after %d" % i
            break
        t0 = time.monotonic()
        try:
            with socket.create_connection((a.host, a.port), timeout=a.conn_timeout) as s:
                s.settimeout(a.conn_timeout)
                request = b"request %d from linux\n" % i
                s.sendall(request)
                s.shutdown(socket.SHUT_WR)
                got = b""
                while len(got) <= len(request):
                    data = s.recv(4096)
                    if not data:
                        break
                    got += data
                if got != request:
                    raise ValueError("echo %r != %r" % (got[:40], request[:40]))
            done += 1
        except Exception as e:
            failed += 1
            first_error = first_error or "connection %d: %r" % (i, e)
        worst = max(worst, time.monotonic() - t0)
    elapsed = time.monotonic() - start
    ok = done == a.count and failed == 0
    return result(ok, completed=done, failed=failed, seconds="%.2f" % elapsed,
                  per_second="%.0f" % (done / elapsed if elapsed > 0 else 0),
                  slowest_ms="%.1f" % (worst * 1000), error=first_error or "none")


def cmd_concurrent(a):
    """N connections at once through one selector: all connect, all send
    --bytes, all read the same bytes back, all close."""
    deadline = time.monotonic() + a.timeout
    sel = selectors.DefaultSelector()
    conns = {}
    start = time.monotonic()
    failed = 0
    first_error = ""
    for i in range(a.count):
        s = socket.socket()
        s.setblocking(False)
        s.connect_ex((a.host, a.port))
        payload = random.Random(a.seed + i).randbytes(a.bytes)
        conns[s] = {"i": i, "out": payload, "sent": 0, "got": bytearray(), "done": False}
        sel.register(s, selectors.EVENT_READ | selectors.EVENT_WRITE)
    completed = 0
    while completed + failed < a.count:
        left = deadline - time.monotonic()
        if left <= 0:
            first_error = first_error or "timeout"
            break
        for key, ev in sel.select(timeout=min(left, 1.0)):
            s = key.fileobj
            c = conns[s]
            try:
                if ev & selectors.EVENT_WRITE:
                    if c["sent"] < len(c["out"]):
                        try:
                            c["sent"] += s.send(c["out"][c["sent"]:c["sent"] + 65536])
                        except BlockingIOError:
                            pass
                    if c["sent"] == len(c["out"]):
                        s.shutdown(socket.SHUT_WR)
                        sel.modify(s, selectors.EVENT_READ)
                if ev & selectors.EVENT_READ:
                    try:
                        data = s.recv(65536)
                    except BlockingIOError:
                        continue
                    if data:
                        c["got"] += data
                    else:
                        sel.unregister(s)
                        s.close()
                        if bytes(c["got"]) == c["out"]:
                            completed += 1
                        else:
                            failed += 1
                            first_error = first_error or "connection %d: %d/%d bytes back" % (
                                c["i"], len(c["got"]), len(c["out"]))
            except OSError as e:
                failed += 1
                first_error = first_error or "connection %d: %r" % (c["i"], e)
                try:
                    sel.unregister(s)
                except (KeyError, ValueError):
                    pass
                s.close()
    for s in list(sel.get_map().values()):
        s.fileobj.close()
    elapsed = time.monotonic() - start
    ok = completed == a.count and failed == 0
    return result(ok, connections=a.count, completed=completed, failed=failed,
                  seconds="%.2f" % elapsed, error=first_error or "none")


def cmd_server(a):
    stop = [False]

    def on_signal(signum, frame):
        stop[0] = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((a.bind, a.port))
    ls.listen(4096)
    ls.setblocking(False)
    sel = selectors.DefaultSelector()
    sel.register(ls, selectors.EVENT_READ)
    pending = {}  # socket -> bytearray to write back
    accepted = closed = errors = 0
    total = 0
    print("server: listening on %s:%d" % (a.bind, a.port), flush=True)
    end = time.monotonic() + a.run_s
    while not stop[0] and time.monotonic() < end:
        for key, ev in sel.select(timeout=0.5):
            s = key.fileobj
            if s is ls:
                for _ in range(256):
                    try:
                        c, _ = ls.accept()
                    except BlockingIOError:
                        break
                    c.setblocking(False)
                    pending[c] = [bytearray(), False]
                    sel.register(c, selectors.EVENT_READ)
                    accepted += 1
                continue
            buf, eof = pending[s]
            try:
                if ev & selectors.EVENT_READ and not eof and len(buf) < (4 << 20):
                    try:
                        data = s.recv(256 * 1024)
                    except BlockingIOError:
                        data = None
                    if data:
                        buf += data
                        total += len(data)
                    elif data is not None:
                        pending[s][1] = eof = True
                if buf:
                    try:
                        n = s.send(buf)
                    except BlockingIOError:  # send buffer full: wait for EVENT_WRITE
                        n = 0
                    del buf[:n]
                if eof and not buf:
                    sel.unregister(s)
                    del pending[s]
                    s.close()
                    closed += 1
                    continue
                want = selectors.EVENT_WRITE if buf else 0
                if not eof and len(buf) < (4 << 20):
                    want |= selectors.EVENT_READ
                sel.modify(s, want or selectors.EVENT_READ)
            except OSError as e:
                errors += 1
                print("server: connection error %r" % e, flush=True)
                sel.unregister(s)
                del pending[s]
                s.close()
    return result(errors == 0, accepted=accepted, closed=closed, errors=errors, bytes_echoed=total,
                  open=len(pending))


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


def syn_packet(src, dst, sport, dport, seq):
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, 0, 5 << 4, 0x02, 64240, 0, 0)
    pseudo = struct.pack("!4s4sBBH", src, dst, 0, socket.IPPROTO_TCP, len(tcp))
    tcp = tcp[:16] + struct.pack("!H", checksum(pseudo + tcp)) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), random.getrandbits(16), 0, 64,
                     socket.IPPROTO_TCP, 0, src, dst)
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    return ip + tcp


def cmd_synflood(a):
    """SYNs with random source addresses (inside --src-net) and ports, at
    --rate per second for --seconds, through a raw IP socket (the kernel
    routes them to the tap and fills in nothing: IP_HDRINCL)."""
    net = ipaddress.ip_network(a.src_net)
    hosts = [h.packed for h in net.hosts()]
    dst = socket.inet_aton(a.dst)
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_HDRINCL, 1)
    rng = random.Random(a.seed)
    start = time.monotonic()
    end = start + a.seconds
    sent = errors = 0
    limit = int(a.rate * a.seconds)
    batch = max(1, a.rate // 100)
    while sent < limit and time.monotonic() < end:
        for _ in range(batch):
            pkt = syn_packet(rng.choice(hosts), dst, rng.randint(1024, 65535), a.port,
                             rng.getrandbits(32))
            try:
                s.sendto(pkt, (a.dst, 0))
                sent += 1
            except OSError:
                errors += 1
        # Pace to the rate.
        ahead = sent / a.rate - (time.monotonic() - start)
        if ahead > 0:
            time.sleep(ahead)
    elapsed = time.monotonic() - start
    return result(sent > 0, syns_sent=sent, send_errors=errors, seconds="%.2f" % elapsed,
                  rate="%.0f" % (sent / elapsed if elapsed > 0 else 0))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    st = sub.add_parser("stream")
    st.add_argument("host")
    st.add_argument("port", type=int)
    st.add_argument("--bytes", type=int, required=True)
    st.add_argument("--seed", type=int, default=1)
    st.add_argument("--timeout", type=float, default=120)
    sh = sub.add_parser("short")
    sh.add_argument("host")
    sh.add_argument("port", type=int)
    sh.add_argument("--count", type=int, required=True)
    sh.add_argument("--timeout", type=float, default=120)
    sh.add_argument("--conn_timeout", type=float, default=5)
    cc = sub.add_parser("concurrent")
    cc.add_argument("host")
    cc.add_argument("port", type=int)
    cc.add_argument("--count", type=int, required=True)
    cc.add_argument("--bytes", type=int, default=16384)
    cc.add_argument("--seed", type=int, default=1)
    cc.add_argument("--timeout", type=float, default=120)
    sv = sub.add_parser("server")
    sv.add_argument("--bind", required=True)
    sv.add_argument("--port", type=int, required=True)
    sv.add_argument("--run_s", type=float, default=600)
    sf = sub.add_parser("synflood")
    sf.add_argument("dst")
    sf.add_argument("port", type=int)
    sf.add_argument("--src-net", required=True)
    sf.add_argument("--rate", type=int, default=5000)
    sf.add_argument("--seconds", type=float, default=10)
    sf.add_argument("--seed", type=int, default=1)
    a = p.parse_args()
    return {"stream": cmd_stream, "short": cmd_short, "concurrent": cmd_concurrent,
            "server": cmd_server, "synflood": cmd_synflood}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
