# Configuration at scale: thousands of routes end to end (the figures at 25,000 come from
# scripts/scale-bench.sh, a benchmark, not a test).
portico_test(scale_e2e_tests e2e e2e/ScaleE2ETest.cpp LIBS Poco::JSON Poco::Net TIMEOUT 300)
