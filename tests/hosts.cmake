# Routing by host (issue #19): HTTP/1.1, HTTP/2 (421 on a coalesced connection), the admin API.
portico_test(proxy_e2e_host_tests e2e e2e/HostRoutingE2ETest.cpp LIBS Poco::JSON TIMEOUT 240)
