# Active health checks (sidecar/health/).
portico_test(health_unit_tests unit
  unit/HealthStateTest.cpp unit/HealthScheduleTest.cpp unit/HealthProbeTest.cpp
  unit/HealthCheckerTest.cpp unit/HealthProbeBudgetTest.cpp unit/HealthKeepAliveTest.cpp
  unit/HealthGrpcTest.cpp unit/HealthTcpShareTest.cpp
  LIBS portico_sidecar Poco::Net TIMEOUT 60)
# 1,000 real sockets on a 200 ms schedule: timing on a real loop, so labelled e2e (not unit).
portico_test(health_scale_tests e2e unit/HealthScaleTest.cpp
  LIBS portico_sidecar Poco::Net TIMEOUT 180)
portico_test(health_e2e_tests e2e e2e/HealthE2ETest.cpp LIBS Poco::JSON Poco::Net TIMEOUT 120)
# Verdicts as the proxy honours them (kept apart: it also depends on the data plane).
portico_test(health_proxy_e2e_tests e2e e2e/HealthProxyE2ETest.cpp LIBS Poco::Net TIMEOUT 120)
# gRPC health checks against a real gRPC server (python3-grpcio).
portico_test(health_grpc_e2e_tests e2e e2e/HealthGrpcE2ETest.cpp LIBS Poco::JSON Poco::Net
  TIMEOUT 120)
