# Balancer unit tests (round_robin, least_conn, ip_hash behind proxy/balance/Balancer.h).
portico_test(balancer_unit_tests unit
  unit/RoundRobinBalancerTest.cpp unit/LeastConnBalancerTest.cpp unit/IpHashBalancerTest.cpp
  LIBS portico_proxy TIMEOUT 120)
