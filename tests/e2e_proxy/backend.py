#!/usr/bin/python3
"""A small HTTP/1.1 backend for the proxy end-to-end tests (standard library only).

nginx-light cannot echo bodies or sleep, so this covers what it cannot:
Paths are matched by their last segment (/any/prefix/slow is /slow), so
routes need not rewrite them.
  GET  /healthz          200 "ok"
  GET  /slow?ms=N        waits N ms (at most 60000), then 200 "slow <name> N"
  *    /echo             reads the body (Content-Length or chunked) and answers
                         JSON: name, method, path, chunked, expect, length,
                         sha256, headers (lower-cased names)
  *    /echo-raw         the body itself, as application/octet-stream
  *    /echo-chunked     the body itself, as a chunked response (chunks of
                         1, 10, 100, ... 100000 bytes, repeating)
  GET  /ws               WebSocket (RFC 6455): a text greeting "hello from NAME",
                         then an echo of text and binary messages, pong for ping
  GET  /ws-quiet         the same without the greeting: the client speaks first
  *    anything else     JSON as /echo
Every response carries X-Backend: NAME and X-Conn-Request: K (the K-th
request on this backend connection), so tests can see connection reuse.
"""
import argparse
import base64
import hashlib
import json
import socket
import socketserver
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
MAX_BODY = 64 << 20


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "e2e-backend"

    def setup(self):
        super().setup()
        # Headers and body go out in separate writes: without this, Nagle
        # and the peer's delayed ACK add 40 ms to every response.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.requests_on_connection = 0

    def log_message(self, fmt, *args):
        sys.stderr.write("%s %s\n" % (self.server.name, fmt % args))

    # --- helpers
    def read_body(self):
        te = self.headers.get("Transfer-Encoding", "")
        if "chunked" in te.lower():
            chunks = []
            total = 0
            while True:
                line = self.rfile.readline(1024)
                if not line:
                    raise ConnectionError("EOF in chunk size")
                size = int(line.split(b";")[0].strip(), 16)
                if size == 0:
                    while True:  # trailers
                        t = self.rfile.readline(8192)
                        if t in (b"\r\n", b"\n", b""):
                            break
                    break
                total += size
                if total > MAX_BODY:
                    raise ValueError("body too large")
                chunks.append(self.rfile.read(size))
                self.rfile.readline(8)  # CRLF after the data
            return b"".join(chunks), True
        n = int(self.headers.get("Content-Length", "0") or 0)
        if n > MAX_BODY:
            raise ValueError("body too large")
        return (self.rfile.read(n) if n else b""), False

    def send(self, status, body, ctype="text/plain", extra=None):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Backend", self.server.name)
        self.send_header("X-Conn-Request", str(self.requests_on_connection))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.wfile.flush()

    def send_chunked(self, body):
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("X-Backend", self.server.name)
        self.send_header("X-Conn-Request", str(self.requests_on_connection))
        self.end_headers()
        if self.command != "HEAD":
            sizes = [1, 10, 100, 1000, 10000, 100000]
            i = k = 0
            while i < len(body):
                n = sizes[k % len(sizes)]
                k += 1
                piece = body[i:i + n]
                i += n
                self.wfile.write(b"%x\r\n" % len(piece) + piece + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def describe(self, body, chunked):
        u = urlsplit(self.path)
        return json.dumps({
            "name": self.server.name,
            "method": self.command,
            "path": u.path,
            "query": u.query,
            "chunked": chunked,
            "expect": self.headers.get("Expect"),
            "length": len(body),
            "sha256": hashlib.sha256(body).hexdigest(),
            "conn_request": self.requests_on_connection,
            "headers": {k.lower(): v for k, v in self.headers.items()},
        }, sort_keys=True).encode() + b"\n"

    # --- dispatch
    def handle_any(self):
        self.requests_on_connection += 1
        u = urlsplit(self.path)
        leaf = u.path.rsplit("/", 1)[-1]  # routes keep their prefix: /lc/slow is "slow"
        if leaf == "healthz":
            return self.send(200, b"ok\n")
        if leaf == "slow":
            ms = min(int(parse_qs(u.query).get("ms", ["1000"])[0]), 60000)
            time.sleep(ms / 1000.0)
            return self.send(200, ("slow %s %d\n" % (self.server.name, ms)).encode())
        if leaf in ("ws", "ws-quiet") and self.headers.get("Upgrade", "").lower() == "websocket":
            return self.websocket(greet=leaf == "ws")
        try:
            body, chunked = self.read_body()
        except (ValueError, ConnectionError) as e:
            self.close_connection = True
            return self.send(400, ("bad body: %s\n" % e).encode())
        if leaf == "echo-raw":
            return self.send(200, body, "application/octet-stream")
        if leaf == "echo-chunked":
            return self.send_chunked(body)
        return self.send(200, self.describe(body, chunked), "application/json")

    do_GET = do_POST = do_PUT = do_HEAD = do_DELETE = do_PATCH = do_OPTIONS = handle_any

    # --- WebSocket echo (RFC 6455)
    def websocket(self, greet):
        key = self.headers.get("Sec-WebSocket-Key", "")
        accept = base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()
        self.send_response(101)
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept", accept)
        self.send_header("X-Backend", self.server.name)
        self.end_headers()
        # A greeting first, so the server-to-client direction is checked on
        # its own.
        if greet:
            greeting = ("hello from %s" % self.server.name).encode()
            self.wfile.write(bytes([0x81, len(greeting)]) + greeting)
        self.wfile.flush()
        self.close_connection = True
        rf, wf = self.rfile, self.wfile
        while True:
            head = rf.read(2)
            if len(head) < 2:
                return
            fin_op, ln = head
            op = fin_op & 0x0F
            masked = ln & 0x80
            ln &= 0x7F
            if ln == 126:
                ln = struct.unpack("!H", rf.read(2))[0]
            elif ln == 127:
                ln = struct.unpack("!Q", rf.read(8))[0]
            mask = rf.read(4) if masked else b"\0\0\0\0"
            data = bytearray(rf.read(ln))
            for i in range(len(data)):
                data[i] ^= mask[i % 4]
            if op == 0x8:  # close: answer with the same code
                wf.write(bytes([0x88, len(data)]) + bytes(data))
                wf.flush()
                return
            if op == 0x9:  # ping -> pong
                op = 0xA
            if len(data) < 126:
                hdr = bytes([0x80 | op, len(data)])
            elif len(data) < 65536:
                hdr = bytes([0x80 | op, 126]) + struct.pack("!H", len(data))
            else:
                hdr = bytes([0x80 | op, 127]) + struct.pack("!Q", len(data))
            wf.write(hdr + bytes(data))
            wf.flush()


class Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 512


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--name", required=True)
    p.add_argument("--address", required=True)
    p.add_argument("--port", type=int, required=True)
    a = p.parse_args()
    srv = Server((a.address, a.port), Handler)
    srv.name = a.name
    sys.stderr.write("backend %s on %s:%d\n" % (a.name, a.address, a.port))
    sys.stderr.flush()
    srv.serve_forever()


if __name__ == "__main__":
    main()
