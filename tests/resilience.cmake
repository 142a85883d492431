# Resilience per route (issue #20): retries, outlier ejection, limits, rate limits and the
# shared round-robin rotation. Pure logic as unit tests; the real binaries end to end.
portico_test(resilience_unit_tests unit
  unit/ResilienceLogicTest.cpp unit/ResiliencePolicyTest.cpp
  LIBS portico_proxy TIMEOUT 120)
portico_test(resilience_e2e_tests e2e e2e/ResilienceProxyTest.cpp TIMEOUT 240)
