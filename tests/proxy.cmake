# Data-plane tests (proxy/): pure logic as unit tests, the real binaries end to end.
portico_test(proxy_unit_tests unit
  unit/RoutePathTest.cpp unit/RouteTableTest.cpp unit/HeaderFilterTest.cpp unit/HeaderForwardedTest.cpp
  unit/ProxyBodyReaderTest.cpp unit/MessageFramingTest.cpp unit/ClientPhaseTest.cpp
  unit/Http2RequestHeadTest.cpp unit/DeferredWritesTest.cpp unit/Http2FieldListTest.cpp
  unit/AccessLogTest.cpp unit/RequestIdTest.cpp unit/ProxyMetricsTest.cpp unit/ForwardingPolicyTest.cpp
  unit/RouteTablePatchTest.cpp unit/StoreChangesTest.cpp unit/RequestContextTest.cpp
  unit/ErrorReplyTest.cpp unit/Http1ResponseWriterTest.cpp unit/TraceContextTest.cpp
  unit/GrpcStatusTest.cpp unit/GrpcTimeoutTest.cpp
  unit/HostRoutingTest.cpp unit/RouteTableMemoryTest.cpp
  LIBS portico_proxy TIMEOUT 120)
portico_test(proxy_e2e_routing_tests e2e e2e/ProxyRoutingTest.cpp TIMEOUT 180)
portico_test(proxy_e2e_streaming_tests e2e e2e/ProxyStreamingTest.cpp TIMEOUT 180)
portico_test(proxy_e2e_changes_tests e2e e2e/ProxyChangesTest.cpp TIMEOUT 180)
portico_test(proxy_e2e_module_tests e2e e2e/ProxyModuleTest.cpp LIBS portico_proxy TIMEOUT 180)
# The shared HTTP layer (shared/http): the llhttp adaptor and framing rules.
portico_test(http_unit_tests unit unit/HttpParserTest.cpp unit/Http2PrefaceTest.cpp TIMEOUT 60)
portico_test(proxy_e2e_eventloop_tests e2e e2e/ProxyEventLoopTest.cpp TIMEOUT 240)
# What an operator runs it with: status listener and sidecar /metrics (promtool), --check,
# access-log formats and request ids, log level and format.
portico_test(operations_e2e_tests e2e e2e/OperationsTest.cpp LIBS Poco::JSON TIMEOUT 240)
# TLS listener and HTTP/2 (certificates made by the openssl command at run time).
portico_test(proxy_e2e_tls_tests e2e e2e/ProxyTlsTest.cpp TIMEOUT 240)
# https targets: TLS to targets, pooled and resumed, verification failures as 502s.
portico_test(proxy_e2e_https_target_tests e2e e2e/ProxyHttpsTargetTest.cpp TIMEOUT 180)
# HTTP/2 under attack (floods, zero windows, stalled streams, stream and header limits, rapid
# reset), played by tests/e2e/http2_abuse.py with python3-h2's frame and HPACK modules.
portico_test(proxy_e2e_http2_abuse_tests e2e e2e/Http2AbuseTest.cpp TIMEOUT 240)
# Binary upgrades (kill -USR2) under wrk, a new binary that fails, socket activation of both
# programs (systemd-socket-activate).
portico_test(upgrade_e2e_tests e2e e2e/UpgradeTest.cpp TIMEOUT 180)
# The TLS certificates' expiry as a metric (for the certificate alert of docs/monitoring).
portico_test(certificate_metrics_e2e_tests e2e e2e/CertificateMetricsTest.cpp TIMEOUT 60)
# W3C traceparent/tracestate end to end (forwarded, started, replaced; in the access log).
portico_test(trace_context_e2e_tests e2e e2e/TraceContextE2ETest.cpp LIBS portico_proxy TIMEOUT 60)
# h2c with prior knowledge on the plain listener (curl --http2-prior-knowledge, h2load).
portico_test(proxy_e2e_h2c_tests e2e e2e/H2cTest.cpp TIMEOUT 180)
# gRPC through the proxy (python3-grpcio server and client, tests/e2e/grpc_peer.py), HTTP/2 to
# the target (upstreamProtocol h2).
portico_test(proxy_e2e_grpc_tests e2e e2e/GrpcTest.cpp LIBS Poco::JSON TIMEOUT 300)
portico_test(proxy_e2e_h2upstream_tests e2e e2e/Http2UpstreamTest.cpp TIMEOUT 300)
