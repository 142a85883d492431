#!/usr/bin/python3
"""A gRPC server and client for the end-to-end tests (issue #21), on Debian's python3-grpcio with
grpc's generic API (raw bytes, no generated stubs).

  grpc_peer.py serve --port=N [--name=NAME] [--tls-cert=PEM --tls-key=PEM]
      Serves portico.test.Echo: Unary (echoes the request, trailing metadata x-served-by),
      Stream (server streaming: COUNT messages for a request "COUNT"), Collect (client
      streaming: the messages joined by ','), Chat (bidirectional: each message back upper-cased),
      Slow (unary: answers after the request's number of milliseconds; a cancel is printed as
      "cancelled"), Fail (unary: aborts with status RESOURCE_EXHAUSTED and message "no more"),
      Drip (server streaming: for a request "COUNT,MS", COUNT messages MS milliseconds apart,
      trailing metadata x-served-by).
      Prints "ready PORT" once listening. With --tls-cert/--tls-key it serves over TLS (ALPN h2).
  grpc_peer.py call --target=HOST:PORT --method=M [--payload=TEXT] [--timeout=S] [--service=S]
                    [--cancel-after=S]
      One call; prints one JSON line: code, details, the answer(s), trailing metadata.
      --cancel-after: a unary call the client cancels itself after S seconds (no deadline).
"""
import argparse
import json
import sys
import threading
import time
from concurrent import futures

import grpc

SERVICE = "portico.test.Echo"


def handlers(name):
    def unary(request, context):
        context.set_trailing_metadata((("x-served-by", name),))
        return request

    def stream(request, context):
        for i in range(int(request.decode())):
            yield b"m%d" % i

    def collect(requests, context):
        return b",".join(requests)

    def chat(requests, context):
        for r in requests:
            yield r.upper()

    def slow(request, context):
        done = threading.Event()
        context.add_callback(lambda: (print("cancelled", flush=True), done.set()))
        if done.wait(int(request.decode()) / 1000.0):
            return b""
        return b"late"

    def fail(request, context):
        context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, "no more")

    def drip(request, context):
        count, ms = (int(x) for x in request.decode().split(","))
        context.set_trailing_metadata((("x-served-by", name),))
        for i in range(count):
            if i:
                time.sleep(ms / 1000.0)
            yield b"d%d" % i

    methods = {
        "Unary": grpc.unary_unary_rpc_method_handler(unary),
        "Stream": grpc.unary_stream_rpc_method_handler(stream),
        "Collect": grpc.stream_unary_rpc_method_handler(collect),
        "Chat": grpc.stream_stream_rpc_method_handler(chat),
        "Slow": grpc.unary_unary_rpc_method_handler(slow),
        "Fail": grpc.unary_unary_rpc_method_handler(fail),
        "Drip": grpc.unary_stream_rpc_method_handler(drip),
    }
    return grpc.method_handlers_generic_handler(SERVICE, methods)


def serve(args):
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=32))
    server.add_generic_rpc_handlers((handlers(args.name),))
    if args.tls_cert:
        with open(args.tls_key, "rb") as k, open(args.tls_cert, "rb") as c:
            credentials = grpc.ssl_server_credentials(((k.read(), c.read()),))
        port = server.add_secure_port("127.0.0.1:%d" % args.port, credentials)
    else:
        port = server.add_insecure_port("127.0.0.1:%d" % args.port)
    server.start()
    print("ready %d" % port, flush=True)
    server.wait_for_termination()


def call(args):
    channel = grpc.insecure_channel(args.target)
    path = "/%s/%s" % (args.service, args.method)
    payload = args.payload.encode()
    out = {"method": args.method}
    try:
        if args.cancel_after > 0:
            future = channel.unary_unary(path).future(payload)
            time.sleep(args.cancel_after)
            out["cancelled"] = future.cancel()
            print(json.dumps(out), flush=True)
            return
        if args.method in ("Unary", "Slow", "Fail"):
            answer, c = channel.unary_unary(path).with_call(payload, timeout=args.timeout)
            out["answer"] = answer.decode()
        elif args.method in ("Stream", "Drip"):
            it = channel.unary_stream(path)(payload, timeout=args.timeout)
            answers = [m.decode() for m in it]
            out["count"] = len(answers)
            out["last"] = answers[-1] if answers else ""
            c = it
        elif args.method == "Collect":
            parts = payload.split(b",")
            answer, c = channel.stream_unary(path).with_call(iter(parts), timeout=args.timeout)
            out["answer"] = answer.decode()
        else:  # Chat
            parts = payload.split(b",")
            it = channel.stream_stream(path)(iter(parts), timeout=args.timeout)
            out["answers"] = [m.decode() for m in it]
            c = it
        out["code"] = c.code().name
        out["details"] = c.details() or ""
        out["trailers"] = dict(c.trailing_metadata() or ())
    except grpc.RpcError as e:
        out["code"] = e.code().name
        out["details"] = e.details() or ""
        out["trailers"] = dict(e.trailing_metadata() or ())
    print(json.dumps(out), flush=True)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["serve", "call"])
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--name", default="grpc-peer")
    p.add_argument("--target", default="")
    p.add_argument("--method", default="Unary")
    p.add_argument("--payload", default="hello")
    p.add_argument("--timeout", type=float, default=10.0)
    p.add_argument("--service", default=SERVICE)
    p.add_argument("--cancel-after", type=float, default=0.0)
    p.add_argument("--tls-cert", default="")
    p.add_argument("--tls-key", default="")
    args = p.parse_args()
    serve(args) if args.mode == "serve" else call(args)


if __name__ == "__main__":
    sys.exit(main())
