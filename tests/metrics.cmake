# Metrics library (shared/metrics/): exposition format, shards, process metrics.
portico_test(metrics_unit_tests unit unit/MetricsTest.cpp TIMEOUT 60)
