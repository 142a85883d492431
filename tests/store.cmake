# The store conformance suite, once per implementation: SQLite needs nothing but a temp file;
# PostgreSQL starts a server of its own (initdb in a temp dir), hence e2e.
portico_test(store_conformance_sqlite_tests unit unit/StoreConformanceTest.cpp)
portico_test(store_conformance_postgres_tests e2e unit/StoreConformanceTest.cpp)
target_compile_definitions(store_conformance_postgres_tests PRIVATE PORTICO_STORE_POSTGRES)
# Three proxies and two sidecars on one PostgreSQL store (issue: several proxies).
portico_test(several_proxies_e2e_tests e2e e2e/SeveralProxiesTest.cpp TIMEOUT 600)
# Pure store logic: what the change feeds share (store/FeedWake, on a pipe), how their followers
# pace the reads of a burst (store/FeedPacing), a lease renewal's slices and fair share
# (store/LeaseSlices), how an SQLite connection waits for another's lock (SqliteBusyWait).
portico_test(store_unit_tests unit unit/FeedWakeTest.cpp unit/FeedPacingTest.cpp
             unit/LeaseSlicesTest.cpp unit/SqliteBusyWaitTest.cpp)
