# The registry of proxies (issue 22): the state rules (pure), the proxies table on both stores,
# `wait` and Portico-Applied-By through AdminApi, and the real binaries on SQLite and PostgreSQL.
portico_test(registry_unit_tests unit unit/ProxyStatesTest.cpp unit/ProxyRegistryApiTest.cpp
  LIBS portico_sidecar TIMEOUT 60)
portico_test(registry_store_sqlite_tests unit unit/ProxyRegistryStoreTest.cpp TIMEOUT 60)
portico_test(registry_store_postgres_tests e2e unit/ProxyRegistryStoreTest.cpp TIMEOUT 120)
target_compile_definitions(registry_store_postgres_tests PRIVATE PORTICO_STORE_POSTGRES)
portico_test(registry_e2e_tests e2e e2e/ProxyRegistryTest.cpp LIBS Poco::JSON TIMEOUT 180)
portico_test(registry_cluster_e2e_tests e2e e2e/ProxyRegistryTest.cpp LIBS Poco::JSON TIMEOUT 300)
target_compile_definitions(registry_cluster_e2e_tests PRIVATE PORTICO_STORE_POSTGRES)
