# Configuration as code (issue #23): the diff and the rewind as tables (pure), the document's
# reader, and GET/PUT /endpoints/config and POST /endpoints/revert against a real sidecar
# (on SQLite, and on a PostgreSQL server of the test's own), with the revert property test.
portico_test(config_unit_tests unit unit/ConfigDiffTest.cpp unit/ConfigRewindTest.cpp
  unit/ConfigDocumentTest.cpp LIBS portico_sidecar TIMEOUT 60)
portico_test(config_e2e_tests e2e e2e/ConfigApiTest.cpp LIBS Poco::JSON TIMEOUT 300)
portico_test(config_postgres_e2e_tests e2e e2e/ConfigApiTest.cpp LIBS Poco::JSON TIMEOUT 300)
target_compile_definitions(config_postgres_e2e_tests PRIVATE PORTICO_STORE_POSTGRES)
