#!/usr/bin/python3
"""A gRPC server with the standard health service, grpc.health.v1.Health (issue #21 point 5),
for the health checker's end-to-end tests, on Debian's python3-grpcio with grpc's generic API
(grpc_health is not packaged: the two protobuf messages are encoded by hand).

  grpc_health_peer.py --port=N [--tls=CERT:KEY] [--state=FILE]
      Serves Check: the service "" and "portico.test.Echo" are known; any other service is
      answered with NOT_FOUND "unknown service" (as grpc's own health servicer does). Their
      status is SERVING, or what FILE says (SERVING / NOT_SERVING), read at every call so a
      test flips it by rewriting the file. Prints "ready PORT" once listening.
"""
import argparse
import sys
from concurrent import futures

import grpc

KNOWN = ("", "portico.test.Echo")
STATUS = {"UNKNOWN": 0, "SERVING": 1, "NOT_SERVING": 2, "SERVICE_UNKNOWN": 3}


def service_of(request):
    """HealthCheckRequest {string service = 1;}"""
    at, service = 0, ""
    while at < len(request):
        tag = request[at]
        at += 1
        length, shift = 0, 0
        while True:
            b = request[at]
            at += 1
            length |= (b & 0x7F) << shift
            shift += 7
            if b < 0x80:
                break
        if tag == 0x0A:
            service = request[at:at + length].decode()
        at += length
    return service


def handler(state_file):
    def check(request, context):
        service = service_of(request)
        if service not in KNOWN:
            context.abort(grpc.StatusCode.NOT_FOUND, "unknown service")
        state = "SERVING"
        if state_file:
            try:
                with open(state_file) as f:
                    state = f.read().strip() or "SERVING"
            except OSError:
                pass
        return bytes([0x08, STATUS[state]])  # HealthCheckResponse {status = 1}

    methods = {"Check": grpc.unary_unary_rpc_method_handler(check)}
    return grpc.method_handlers_generic_handler("grpc.health.v1.Health", methods)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--tls", default="")
    p.add_argument("--state", default="")
    args = p.parse_args()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    server.add_generic_rpc_handlers((handler(args.state),))
    address = "127.0.0.1:%d" % args.port
    if args.tls:
        cert, key = args.tls.split(":")
        with open(cert, "rb") as c, open(key, "rb") as k:
            credentials = grpc.ssl_server_credentials(((k.read(), c.read()),))
        port = server.add_secure_port(address, credentials)
    else:
        port = server.add_insecure_port(address)
    server.start()
    print("ready %d" % port, flush=True)
    server.wait_for_termination()


if __name__ == "__main__":
    sys.exit(main())
