# Per-route request policies (issue #19 point 4): the model and its configuration keys, the
# rules the proxy precomputes from them, and the policies end to end over HTTP/1.1 and HTTP/2.
portico_test(policies_unit_tests unit unit/RequestPolicyTest.cpp unit/RequestRulesTest.cpp
  LIBS portico_proxy Poco::JSON TIMEOUT 60)
portico_test(policies_e2e_tests e2e e2e/RoutePoliciesTest.cpp TIMEOUT 240)
