#!/usr/bin/python3
"""Raw-socket HTTP clients for what curl cannot check (standard library only).

  client.py pipeline HOST PORT PATH...   every request in one write; prints one
                                        line per response: STATUS X-Backend URI-or-body
  client.py expect100 HOST PORT PATH     Expect: 100-continue; the body is sent
                                        only after the interim 100 arrives
  client.py raw HOST PORT HEX|-          sends the bytes (hex; - reads them from stdin) in one write; prints
                                        the first response's status code, then
                                        "closed" or "open" (did the proxy close?)
  client.py loop HOST PORT PATH STOPFILE COUNT SECONDS INTERVAL_MS
                                        one GET per new connection every INTERVAL_MS
                                        until STOPFILE exists, COUNT requests or
                                        SECONDS; one line each: TIME STATUS X-Backend
                                        (TIME: Unix seconds; STATUS "ERR" on failure)
  client.py websocket HOST PORT PATH     handshake, the backend's greeting (not for
                                        /ws-quiet), text, 70000-byte binary, ping, close
Exit 0 when every check held; messages on stderr say what failed.
"""
import base64
import hashlib
import os
import socket
import struct
import sys

TIMEOUT = 10


def fail(msg):
    sys.stderr.write("client: %s\n" % msg)
    sys.exit(1)


class Reader:
    """Buffered reads of HTTP/1.1 responses from a socket."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise EOFError("connection closed by the proxy")
        self.buf += data

    def line(self):
        while b"\r\n" not in self.buf:
            self.fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line.decode("latin-1")

    def exact(self, n):
        while len(self.buf) < n:
            self.fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def head(self):
        status = self.line()
        headers = {}
        while True:
            line = self.line()
            if not line:
                break
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
        return int(status.split()[1]), headers

    def response(self, head_request=False):
        status, headers = self.head()
        if status == 100:
            return self.response(head_request)
        if head_request:
            return status, headers, b""
        if headers.get("transfer-encoding", "").lower() == "chunked":
            body = b""
            while True:
                size = int(self.line().split(";")[0], 16)
                if size == 0:
                    while self.line():
                        pass
                    break
                body += self.exact(size)
                self.exact(2)
        else:
            body = self.exact(int(headers.get("content-length", "0")))
        return status, headers, body

    def at_eof(self):
        try:
            self.sock.settimeout(3)
            return not self.buf and not self.sock.recv(1)
        except (socket.timeout, ConnectionResetError):
            return False


def connect(host, port):
    s = socket.create_connection((host, int(port)), timeout=TIMEOUT)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def pipeline(host, port, *paths):
    reqs = []
    for i, p in enumerate(paths):
        last = i == len(paths) - 1
        if p.startswith("HEAD:"):
            reqs.append(("HEAD %s HTTP/1.1\r\nHost: pipe\r\n%s\r\n" %
                         (p[5:], "Connection: close\r\n" if last else "")).encode())
        elif p.startswith("POST:"):
            p = p[5:]
            body = ("body-%d" % i).encode()
            reqs.append(("POST %s HTTP/1.1\r\nHost: pipe\r\nContent-Length: %d\r\n%s\r\n" %
                         (p, len(body), "Connection: close\r\n" if last else "")).encode() + body)
        else:
            reqs.append(("GET %s HTTP/1.1\r\nHost: pipe\r\n%s\r\n" %
                         (p, "Connection: close\r\n" if last else "")).encode())
    s = connect(host, port)
    s.sendall(b"".join(reqs))  # one write: the requests arrive together
    r = Reader(s)
    for p in paths:
        status, headers, body = r.response(head_request=p.startswith("HEAD:"))
        if p.startswith("HEAD:"):
            print(status, headers.get("x-backend", "-"),
                  "HEAD content-length=%s" % headers.get("content-length"))
            continue
        text = body.decode("latin-1").strip()
        uri = [w[4:] for w in text.split() if w.startswith("uri=")]
        if headers.get("content-type") == "application/json":
            import json
            j = json.loads(text)
            text = "%s %s length=%d" % (j["path"], j["method"], j["length"])
        print(status, headers.get("x-backend", "-"), uri[0] if uri else text[:200])
    if not r.at_eof():
        fail("the connection stayed open after the Connection: close request")
    print("EOF")


def expect100(host, port, path):
    body = os.urandom(200000)
    s = connect(host, port)
    s.sendall(("POST %s HTTP/1.1\r\nHost: e\r\nContent-Length: %d\r\n"
               "Expect: 100-continue\r\nConnection: close\r\n\r\n" % (path, len(body))).encode())
    r = Reader(s)
    s.settimeout(5)
    try:
        status, _ = r.head()
    except socket.timeout:
        fail("no interim response within 5 s of the headers")
    if status != 100:
        fail("wanted 100 Continue before sending the body, got %d" % status)
    print("got 100 Continue before the body")
    s.settimeout(TIMEOUT)
    s.sendall(body)
    status, headers, resp = r.response()
    if status != 200:
        fail("final status %d: %r" % (status, resp[:200]))
    import json
    j = json.loads(resp)
    if j["sha256"] != hashlib.sha256(body).hexdigest() or j["length"] != len(body):
        fail("the backend got a different body: %r" % j)
    print("final 200, backend got %d bytes intact, saw Expect=%r" % (j["length"], j["expect"]))


def raw(host, port, hexdata):
    s = connect(host, port)
    if hexdata == "-":
        hexdata = sys.stdin.read()
    s.sendall(bytes.fromhex(hexdata.strip()))
    r = Reader(s)
    status, headers, body = r.response()
    print(status)
    print("closed" if r.at_eof() else "open")


def loop(host, port, path, stopfile, count, seconds, interval_ms):
    import time
    end = time.time() + float(seconds)
    for i in range(int(count)):
        if time.time() >= end or os.path.exists(stopfile):
            break
        t = time.time()
        try:
            s = socket.create_connection((host, int(port)), timeout=2)
            s.settimeout(2)
            s.sendall(("GET %s/%d HTTP/1.1\r\nHost: loop\r\nConnection: close\r\n\r\n" %
                       (path, i)).encode())
            status, headers, _ = Reader(s).response()
            s.close()
            print("%.3f %d %s" % (t, status, headers.get("x-backend", "-")), flush=True)
        except (OSError, EOFError, ValueError, IndexError) as e:
            print("%.3f ERR %s" % (t, type(e).__name__), flush=True)
        time.sleep(max(0.0, float(interval_ms) / 1000.0 - (time.time() - t)))


def ws_frame(op, payload):
    mask = os.urandom(4)
    n = len(payload)
    if n < 126:
        hdr = bytes([0x80 | op, 0x80 | n])
    elif n < 65536:
        hdr = bytes([0x80 | op, 0x80 | 126]) + struct.pack("!H", n)
    else:
        hdr = bytes([0x80 | op, 0x80 | 127]) + struct.pack("!Q", n)
    return hdr + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def ws_read(r):
    b0, b1 = r.exact(2)
    n = b1 & 0x7F
    if n == 126:
        n = struct.unpack("!H", r.exact(2))[0]
    elif n == 127:
        n = struct.unpack("!Q", r.exact(8))[0]
    if b1 & 0x80:
        fail("server frames must not be masked")
    return b0 & 0x0F, r.exact(n)


def websocket(host, port, path):
    key = base64.b64encode(os.urandom(16)).decode()
    s = connect(host, port)
    s.sendall(("GET %s HTTP/1.1\r\nHost: ws\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n" % (path, key)).encode())
    r = Reader(s)
    status, headers = r.head()
    want = base64.b64encode(hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode())
                            .digest()).decode()
    if status != 101:
        fail("handshake: status %d %r" % (status, headers))
    if headers.get("sec-websocket-accept") != want or headers.get("upgrade", "").lower() != "websocket":
        fail("handshake: bad headers %r" % headers)
    print("101 Switching Protocols from %s" % headers.get("x-backend"))
    s.settimeout(5)
    if path.endswith("/ws-quiet"):
        greeting = None
    else:
        op, greeting = ws_read(r)
    if greeting is None:
        print("no greeting (the client speaks first)")
    elif op != 0x1 or not greeting.startswith(b"hello from "):
        fail("wanted the backend's greeting, got op %d %r" % (op, greeting[:100]))
    else:
        print("greeting from the backend: %s" % greeting.decode())
    for op, payload in [(0x1, b"hello through locus"), (0x2, os.urandom(70000)),
                        (0x1, b"x" * 300), (0x9, b"ping!")]:
        s.sendall(ws_frame(op, payload))
        try:
            rop, data = ws_read(r)
        except socket.timeout:
            fail("no echo of op %d (%d bytes) within 5 s" % (op, len(payload)))
        want_op = 0xA if op == 0x9 else op
        if rop != want_op or data != payload:
            fail("echo of op %d (%d bytes): got op %d, %d bytes, equal=%s" %
                 (op, len(payload), rop, len(data), data == payload))
        print("echo ok: op %d, %d bytes" % (op, len(payload)))
    s.sendall(ws_frame(0x8, struct.pack("!H", 1000)))
    rop, data = ws_read(r)
    if rop != 0x8 or data != struct.pack("!H", 1000):
        fail("close: got op %d %r" % (rop, data))
    if not r.at_eof():
        fail("the proxy kept the connection open after the close handshake")
    print("close handshake ok, connection closed")


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    try:
        {"pipeline": pipeline, "expect100": expect100, "raw": raw, "loop": loop, "websocket": websocket}[cmd](*args)
    except (EOFError, OSError) as e:
        fail("%s: %s" % (cmd, e))
