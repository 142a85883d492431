# Weights, serving states, If-Match and the change history (issue 11) end to end.
portico_test(traffic_proxy_e2e_tests e2e e2e/TrafficProxyTest.cpp TIMEOUT 180)
portico_test(traffic_sidecar_e2e_tests e2e e2e/TrafficSidecarTest.cpp LIBS Poco::JSON TIMEOUT 180)
