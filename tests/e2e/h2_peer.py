#!/usr/bin/python3
"""A minimal HTTP/2 server (prior knowledge, RFC 9113) for the end-to-end tests of the proxy's
HTTP/2 upstream (issue #21), on the standard library alone: it behaves badly on purpose, in ways
a real server rarely does on demand. It never decodes the request's fields (every stream gets
the same treatment); its response head is the one HPACK byte 0x88 (":status: 200").

  h2_peer.py --port=N --mode=MODE [--size=BYTES] [--every=N]
      at-end      each stream: head and "ok" once the request ended (END_STREAM on its
                  DATA or on its trailers); prints "trailers on stream N" for a HEADERS frame
                  after the request's first (its trailer section)
      reset       each stream: RST_STREAM(INTERNAL_ERROR) at once, before any head
      reset-body  each stream: head, 5 bytes of body, then RST_STREAM(INTERNAL_ERROR)
      stall       each stream: head, 1 byte of body, then nothing (the stream stays open)
      big         each stream: head and --size bytes of body, as the peer's windows allow
      goaway      each stream: head and "ok", answered in batches (up to 10 streams wait); at
                  the --every-th stream of a connection, GOAWAY with that stream as the last
                  one processed while earlier ones still wait (later streams are refused, never
                  processed); the accepted ones are answered all the same, then the close
  Prints "ready PORT" once listening; "stream N reset by peer" when a peer resets a stream.
"""
import argparse
import select
import socket
import struct
import sys
import threading

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
DATA, HEADERS, RST, SETTINGS, PING, GOAWAY, WINDOW = 0, 1, 3, 4, 6, 7, 8
END_STREAM, END_HEADERS, ACK = 0x1, 0x4, 0x1
MAX_FRAME = 16384


def frame(kind, flags, stream, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + struct.pack(
        ">I", stream) + payload


class Connection:
    def __init__(self, sock, args):
        self.sock, self.args = sock, args
        self.window = 65535  # the connection's send window
        self.initial = 65535  # each new stream's, from the peer's SETTINGS
        self.streams = {}  # stream id -> [window, body bytes left to send]
        self.accepted = 0
        self.last = None  # GOAWAY's last stream id once sent
        self.inbox = b""
        self.pending = []  # goaway mode: accepted streams not answered yet
        self.seen = set()  # streams whose request head arrived

    def send(self, data):
        self.sock.sendall(data)

    def run(self):
        self.send(frame(SETTINGS, 0, 0))
        while True:
            self.pump()
            if self.last is not None and not self.streams and not self.pending:
                self.sock.shutdown(socket.SHUT_WR)  # GOAWAY sent and every accepted stream done
                return
            wait = 0 if self.sendable() else 0.05 if self.pending else 1.0
            ready = select.select([self.sock], [], [], wait)[0]
            if self.pending and (len(self.pending) >= 10 or not ready):
                for stream in self.pending:
                    self.send(frame(HEADERS, END_HEADERS, stream, b"\x88"))
                    self.send(frame(DATA, END_STREAM, stream, b"ok"))
                self.pending = []
            if not ready:
                continue
            chunk = self.sock.recv(65536)
            if not chunk:
                return
            self.inbox += chunk
            self.frames()

    def frames(self):
        if self.inbox.startswith(PREFACE):
            self.inbox = self.inbox[len(PREFACE):]
        while len(self.inbox) >= 9:
            length = struct.unpack(">I", b"\0" + self.inbox[:3])[0]
            if len(self.inbox) < 9 + length:
                return
            kind, flags = self.inbox[3], self.inbox[4]
            stream = struct.unpack(">I", self.inbox[5:9])[0] & 0x7FFFFFFF
            payload = self.inbox[9:9 + length]
            self.inbox = self.inbox[9 + length:]
            self.handle(kind, flags, stream, payload)

    def handle(self, kind, flags, stream, payload):
        if kind == SETTINGS and not flags & ACK:
            for i in range(0, len(payload), 6):
                key, value = struct.unpack(">HI", payload[i:i + 6])
                if key == 4:  # SETTINGS_INITIAL_WINDOW_SIZE
                    for s in self.streams.values():
                        s[0] += value - self.initial
                    self.initial = value
            self.send(frame(SETTINGS, ACK, 0))
        elif kind == PING and not flags & ACK:
            self.send(frame(PING, ACK, 0, payload))
        elif kind == WINDOW:
            increment = struct.unpack(">I", payload)[0] & 0x7FFFFFFF
            if stream == 0:
                self.window += increment
            elif stream in self.streams:
                self.streams[stream][0] += increment
        elif kind == DATA:
            # Request bodies are taken as they come.
            if payload:
                self.send(frame(WINDOW, 0, 0, struct.pack(">I", len(payload))))
            if flags & END_STREAM and self.args.mode == "at-end":
                self.answer(stream)
        elif kind == RST:
            print("stream %d reset by peer" % stream, flush=True)
            self.streams.pop(stream, None)
        elif kind == HEADERS and stream in self.seen:
            print("trailers on stream %d" % stream, flush=True)
            if flags & END_STREAM and self.args.mode == "at-end":
                self.answer(stream)
        elif kind == HEADERS:
            self.seen.add(stream)
            if self.args.mode != "at-end":
                self.begin(stream)
            elif flags & END_STREAM:
                self.answer(stream)

    def answer(self, stream):
        self.send(frame(HEADERS, END_HEADERS, stream, b"\x88"))
        self.send(frame(DATA, END_STREAM, stream, b"ok"))

    def begin(self, stream):
        mode = self.args.mode
        if self.last is not None and stream > self.last:
            self.send(frame(RST, 0, stream, struct.pack(">I", 7)))  # REFUSED_STREAM
            return
        if mode == "reset":
            self.send(frame(RST, 0, stream, struct.pack(">I", 2)))
            return
        if mode == "goaway":
            self.pending.append(stream)
            self.accepted += 1
            if self.last is None and self.accepted % self.args.every == 0:
                self.last = stream
                self.send(frame(GOAWAY, 0, 0, struct.pack(">II", stream, 0)))
            return
        self.send(frame(HEADERS, END_HEADERS, stream, b"\x88"))
        if mode == "reset-body":
            self.send(frame(DATA, 0, stream, b"hello"))
            self.send(frame(RST, 0, stream, struct.pack(">I", 2)))
        elif mode == "stall":
            self.send(frame(DATA, 0, stream, b"x"))
            self.streams[stream] = [self.initial - 1, 0]
        else:  # big
            self.streams[stream] = [self.initial, self.args.size]

    def sendable(self):
        return self.window > 0 and any(s[0] > 0 and s[1] > 0 for s in self.streams.values())

    def pump(self):
        for stream, s in list(self.streams.items()):
            while s[1] > 0 and s[0] > 0 and self.window > 0:
                n = min(MAX_FRAME, s[0], s[1], self.window)
                s[0] -= n
                s[1] -= n
                self.window -= n
                self.send(frame(DATA, END_STREAM if s[1] == 0 else 0, stream, b"b" * n))
            if s[1] == 0 and self.args.mode == "big":
                del self.streams[stream]


def serve(conn, args):
    try:
        Connection(conn, args).run()
    except OSError:
        pass
    finally:
        conn.close()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--mode", required=True,
                   choices=["at-end", "reset", "reset-body", "stall", "big", "goaway"])
    p.add_argument("--size", type=int, default=1 << 20)
    p.add_argument("--every", type=int, default=50)
    args = p.parse_args()
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", args.port))
    listener.listen(64)
    print("ready %d" % args.port, flush=True)
    while True:
        conn, _ = listener.accept()
        threading.Thread(target=serve, args=(conn, args), daemon=True).start()


if __name__ == "__main__":
    sys.exit(main())
