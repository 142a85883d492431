#!/usr/bin/python3
"""HTTP/2 abuse against portico-proxy's TLS listener (ALPN h2), one scenario per run.

Frames are written raw (hyperframe, hpack: the packages python3-h2 brings) so a scenario can
break the rules a well-behaved client library enforces. The last line printed is a JSON object
of what the proxy did; tests/e2e/Http2AbuseTest.cpp judges it. Every wait is bounded.

  http2_abuse.py SCENARIO --port N [--seconds S] [--count N]
"""

import argparse
import json
import socket
import ssl
import sys
import threading
import time

from hpack import Decoder, Encoder
from hyperframe.frame import (ContinuationFrame, DataFrame, Frame, GoAwayFrame, HeadersFrame,
                              PingFrame, RstStreamFrame, SettingsFrame, WindowUpdateFrame)

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
REFUSED_STREAM = 0x7


class Client:
    """One h2 connection: raw frames out, every frame in recorded with its arrival time."""

    def __init__(self, port, settings=None, window_updates=True):
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        ctx.set_alpn_protocols(["h2"])
        raw = socket.create_connection(("127.0.0.1", port), timeout=5)
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock = ctx.wrap_socket(raw, server_hostname="a.test")
        if self.sock.selected_alpn_protocol() != "h2":
            raise SystemExit("h2 was not negotiated")
        self.encoder = Encoder()
        self.decoder = Decoder()
        self.window_updates = window_updates
        self.buffer = b""
        self.block = {}  # stream -> header block being received
        self.statuses = {}  # stream -> (status, when)
        self.ended = {}  # stream -> when END_STREAM arrived
        self.resets = {}  # stream -> (code, when)
        self.data = {}  # stream -> DATA bytes received
        self.goaway = None  # (code, when)
        self.closed_at = None
        self.remote_settings = None
        self.settings_acked = False
        self.send_window = {0: 65535}  # stream (0: the connection) -> bytes we may send
        self.bodies = {}  # stream -> response body
        self.send(PREFACE + SettingsFrame(0, settings or {}).serialize())

    def send(self, data):
        try:
            self.sock.sendall(data)
            return True
        except (OSError, ssl.SSLError):
            self.closed_at = self.closed_at or time.monotonic()
            return False

    def headers(self, stream, fields, end_stream=True, end_headers=True):
        frame = HeadersFrame(stream, self.encoder.encode(fields))
        frame.flags.add("END_HEADERS") if end_headers else None
        frame.flags.add("END_STREAM") if end_stream else None
        return frame.serialize()

    def request(self, stream, path, method="GET", extra=(), end_stream=True):
        fields = [(":method", method), (":scheme", "https"), (":authority", "a.test"),
                  (":path", path)] + list(extra)
        return self.headers(stream, fields, end_stream)

    def poll(self, timeout):
        """Reads and handles what arrives within `timeout`; False once the connection ended."""
        if self.closed_at:
            return False
        self.sock.settimeout(timeout)
        try:
            chunk = self.sock.recv(65536)
        except (socket.timeout, ssl.SSLWantReadError, BlockingIOError):
            return True
        except (OSError, ssl.SSLError):
            chunk = b""
        if not chunk:
            self.closed_at = time.monotonic()
            return False
        self.buffer += chunk
        while len(self.buffer) >= 9:
            frame, length = Frame.parse_frame_header(memoryview(self.buffer[:9]))
            if len(self.buffer) < 9 + length:
                break
            frame.parse_body(memoryview(self.buffer[9:9 + length]))
            self.buffer = self.buffer[9 + length:]
            self.handle(frame)
        return True

    def handle(self, frame):
        now = time.monotonic()
        if isinstance(frame, SettingsFrame):
            if "ACK" in frame.flags:
                self.settings_acked = True
            else:
                self.remote_settings = dict(frame.settings)
                initial = self.remote_settings.get(SettingsFrame.INITIAL_WINDOW_SIZE)
                if initial is not None:
                    for stream in self.send_window:
                        if stream:
                            self.send_window[stream] = initial
                self.send(SettingsFrame(0, flags=["ACK"]).serialize())
        elif isinstance(frame, PingFrame) and "ACK" not in frame.flags:
            self.send(PingFrame(0, frame.opaque_data, flags=["ACK"]).serialize())
        elif isinstance(frame, (HeadersFrame, ContinuationFrame)):
            self.block[frame.stream_id] = self.block.get(frame.stream_id, b"") + frame.data
            if "END_HEADERS" in frame.flags:
                fields = dict(self.decoder.decode(self.block.pop(frame.stream_id), raw=False))
                if ":status" in fields and frame.stream_id not in self.statuses:
                    self.statuses[frame.stream_id] = (int(fields[":status"]), now)
            if "END_STREAM" in frame.flags:
                self.ended[frame.stream_id] = now
        elif isinstance(frame, DataFrame):
            size = len(frame.data) + frame.pad_length
            self.data[frame.stream_id] = self.data.get(frame.stream_id, 0) + len(frame.data)
            self.bodies[frame.stream_id] = self.bodies.get(frame.stream_id, b"") + frame.data
            if self.window_updates and size:
                self.send(WindowUpdateFrame(0, size).serialize() +
                          WindowUpdateFrame(frame.stream_id, size).serialize())
            if "END_STREAM" in frame.flags:
                self.ended[frame.stream_id] = now
        elif isinstance(frame, WindowUpdateFrame):
            self.send_window[frame.stream_id] = (self.send_window.get(frame.stream_id, 0) +
                                                 frame.window_increment)
        elif isinstance(frame, RstStreamFrame):
            self.resets[frame.stream_id] = (frame.error_code, now)
        elif isinstance(frame, GoAwayFrame):
            self.goaway = self.goaway or (frame.error_code, now)

    def run_until(self, done, timeout):
        deadline = time.monotonic() + timeout
        while not done() and time.monotonic() < deadline:
            if not self.poll(min(0.05, max(0.001, deadline - time.monotonic()))):
                break
        return done()

    def ready(self):
        """Waits for the server's SETTINGS and the ACK of ours (their limits are in force)."""
        if not self.run_until(lambda: self.remote_settings is not None and self.settings_acked, 5):
            raise SystemExit("no SETTINGS exchange")

    def finished(self, stream):
        return stream in self.ended or stream in self.resets

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def since(start, when):
    return None if when is None else round(when - start, 3)


def probe(port, path, result):
    """A well-behaved client on another connection: milliseconds to its answer."""
    start = time.monotonic()
    c = Client(port)
    c.ready()
    asked = time.monotonic()
    c.send(c.request(1, path))
    c.run_until(lambda: c.finished(1), 5)
    result["probe_status"] = c.statuses.get(1, (0, 0))[0]
    result["probe_ms"] = round((time.monotonic() - start) * 1000, 1)
    result["probe_request_ms"] = round((time.monotonic() - asked) * 1000, 1)
    c.close()


def empty_data_flood(args):
    """CVE-2019-9518: zero-length DATA frames without END_STREAM, nonstop, on an open POST."""
    c = Client(args.port)
    c.ready()
    c.send(c.request(1, "/proxy/flood", "POST", end_stream=False))
    batch = DataFrame(1, b"").serialize() * 100
    result = {}
    prober = threading.Thread(target=probe, args=(args.port, "/proxy/probe", result))
    start = time.monotonic()
    frames = 0
    while time.monotonic() - start < args.seconds and not c.goaway and not c.closed_at:
        if not c.send(batch):
            break
        frames += 100
        if frames == 100:
            prober.start()
        c.poll(0)
    c.run_until(lambda: c.goaway or c.closed_at, 0.5)
    if frames >= 100:
        prober.join(10)
    result.update(frames=frames, goaway=c.goaway and c.goaway[0],
                  goaway_after=since(start, c.goaway and c.goaway[1]),
                  closed_after=since(start, c.closed_at))
    return result


def zero_window(args):
    """SETTINGS_INITIAL_WINDOW_SIZE=0 and big downloads, never a WINDOW_UPDATE."""
    c = Client(args.port, {SettingsFrame.INITIAL_WINDOW_SIZE: 0}, window_updates=False)
    c.ready()
    streams = [1 + 2 * i for i in range(args.count)]
    start = time.monotonic()
    c.send(b"".join(c.request(s, "/proxy/big%d?size=52428800" % s) for s in streams))
    c.run_until(lambda: all(c.finished(s) for s in streams) or c.goaway, args.seconds)
    return {"streams": len(streams), "headers": len(c.statuses),
            "reset": sum(1 for s in streams if s in c.resets),
            "ended": sum(1 for s in streams if s in c.ended),
            "last_reset_after": max((since(start, t) for _, t in c.resets.values()), default=None),
            "goaway": c.goaway and c.goaway[0]}


def stalled_body(args):
    """A POST announcing 1000 bytes of body, then nothing."""
    c = Client(args.port)
    c.ready()
    start = time.monotonic()
    c.send(c.request(1, "/proxy/upload", "POST", [("content-length", "1000")], end_stream=False))
    c.run_until(lambda: c.finished(1) or c.goaway, args.seconds)
    status = c.statuses.get(1)
    reset = c.resets.get(1)
    return {"status": status and status[0], "status_after": since(start, status and status[1]),
            "reset": reset and reset[0], "reset_after": since(start, reset and reset[1]),
            "ended_after": since(start, c.ended.get(1)), "goaway": c.goaway and c.goaway[0],
            "goaway_after": since(start, c.goaway and c.goaway[1])}


def stalled_head(args):
    """A HEADERS frame without END_HEADERS and no CONTINUATION after it."""
    c = Client(args.port)
    c.ready()
    start = time.monotonic()
    block = c.encoder.encode([(":method", "GET"), (":scheme", "https"), (":authority", "a.test"),
                              (":path", "/proxy/stalled"), ("x-first-half", "1")])
    frame = HeadersFrame(1, block)
    frame.flags.add("END_STREAM")
    c.send(frame.serialize())
    c.run_until(lambda: c.finished(1) or c.goaway or c.closed_at, args.seconds)
    status = c.statuses.get(1)
    reset = c.resets.get(1)
    return {"status": status and status[0], "status_after": since(start, status and status[1]),
            "reset": reset and reset[0], "reset_after": since(start, reset and reset[1]),
            "goaway": c.goaway and c.goaway[0],
            "goaway_after": since(start, c.goaway and c.goaway[1]),
            "closed_after": since(start, c.closed_at)}


def stream_burst(args):
    """More streams in one write than the MAX_CONCURRENT_STREAMS just acknowledged."""
    c = Client(args.port)
    c.ready()
    limit = c.remote_settings.get(SettingsFrame.MAX_CONCURRENT_STREAMS)
    streams = [1 + 2 * i for i in range(args.count)]
    c.send(b"".join(c.request(s, "/proxy/burst%d" % s) for s in streams))
    c.run_until(lambda: all(c.finished(s) for s in streams) or c.goaway, args.seconds)
    refused = sum(1 for s in streams if c.resets.get(s, (None,))[0] == REFUSED_STREAM)
    return {"advertised": limit, "streams": len(streams),
            "answered": sum(1 for s in streams if c.statuses.get(s, (0,))[0] == 200
                            and s in c.ended),
            "refused": refused, "reset": len(c.resets), "goaway": c.goaway and c.goaway[0]}


def many_headers(args):
    """A request whose decoded header list is far over SETTINGS_MAX_HEADER_LIST_SIZE."""
    c = Client(args.port)
    c.ready()
    extra = [("x-h%d" % i, "v%07d" % i) for i in range(args.count)]
    size = sum(len(n) + len(v) + 32 for n, v in extra)
    block = c.encoder.encode([(":method", "GET"), (":scheme", "https"),
                              (":authority", "a.test"), (":path", "/proxy/headers")] + extra)
    # Split into frames of at most 16384 bytes (the default SETTINGS_MAX_FRAME_SIZE).
    pieces = [block[i:i + 16384] for i in range(0, len(block), 16384)]
    out = b""
    for i, piece in enumerate(pieces):
        frame = HeadersFrame(1, piece) if i == 0 else ContinuationFrame(1, piece)
        if i == 0:
            frame.flags.add("END_STREAM")
        if i == len(pieces) - 1:
            frame.flags.add("END_HEADERS")
        out += frame.serialize()
    c.send(out)
    c.run_until(lambda: c.finished(1) or c.goaway, args.seconds)
    status = c.statuses.get(1)
    reset = c.resets.get(1)
    return {"decoded_bytes": size, "advertised": c.remote_settings.get(
        SettingsFrame.MAX_HEADER_LIST_SIZE), "status": status and status[0],
        "reset": reset and reset[0], "goaway": c.goaway and c.goaway[0]}


def rapid_reset(args):
    """CVE-2023-44487's pattern: each stream opened and reset in the same write."""
    c = Client(args.port)
    c.ready()
    stream = 1
    for _ in range(args.count // 50):
        out = b""
        for _ in range(50):
            out += c.request(stream, "/proxy/reset%d" % stream)
            out += RstStreamFrame(stream, 0x8).serialize()  # CANCEL
            stream += 2
        c.send(out)
        c.poll(0.02)
    # The connection still serves a normal request afterwards.
    c.send(c.request(stream, "/proxy/after-resets"))
    c.run_until(lambda: c.finished(stream) or c.goaway, args.seconds)
    return {"reset_streams": stream // 2, "after_status": c.statuses.get(stream, (0,))[0],
            "goaway": c.goaway and c.goaway[0]}


def fnv1a(data):
    h = 14695981039346656037
    for b in data:
        h = ((h ^ b) * 1099511628211) & 0xFFFFFFFFFFFFFFFF
    return "%016x" % h


def upload(args):
    """Not an attack: a large POST that obeys flow control, to a target that reads it late, so
    the proxy's back-pressure stops and resumes the body several times."""
    c = Client(args.port)
    c.ready()
    body = bytes((i * 7 + i // 4096) % 251 for i in range(args.count))
    c.send_window[1] = c.remote_settings.get(SettingsFrame.INITIAL_WINDOW_SIZE, 65535)
    c.send(c.request(1, "/proxy/upload?delay=300ms", "POST",
                     [("content-length", str(len(body)))], end_stream=False))
    sent = 0
    deadline = time.monotonic() + args.seconds
    while sent < len(body) and time.monotonic() < deadline and not c.finished(1):
        room = min(c.send_window[0], c.send_window[1], 16384, len(body) - sent)
        if room <= 0:
            c.poll(0.05)
            continue
        frame = DataFrame(1, body[sent:sent + room])
        if sent + room == len(body):
            frame.flags.add("END_STREAM")
        c.send(frame.serialize())
        c.send_window[0] -= room
        c.send_window[1] -= room
        sent += room
        c.poll(0)
    c.run_until(lambda: c.finished(1), max(0.1, deadline - time.monotonic()))
    echoed = json.loads(c.bodies.get(1, b"{}") or b"{}")
    return {"sent": sent, "status": c.statuses.get(1, (0,))[0],
            "body_length": echoed.get("bodyLength"), "fnv_ok": echoed.get("bodyFnv1a") == fnv1a(body),
            "reset": c.resets.get(1, (None,))[0]}


SCENARIOS = {"upload": upload, "empty-data-flood": empty_data_flood, "zero-window": zero_window,
             "stalled-body": stalled_body, "stalled-head": stalled_head,
             "stream-burst": stream_burst, "many-headers": many_headers,
             "rapid-reset": rapid_reset}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("scenario", choices=sorted(SCENARIOS))
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--count", type=int, default=0)
    args = parser.parse_args()
    print(json.dumps(SCENARIOS[args.scenario](args)), flush=True)


if __name__ == "__main__":
    sys.exit(main())
