# Admin API of portico-sidecar: end-to-end tests against the real binary.
portico_test(sidecar_api_e2e_tests e2e e2e/SidecarApiTest.cpp TIMEOUT 120)
portico_test(sidecar_lifecycle_e2e_tests e2e e2e/SidecarLifecycleTest.cpp TIMEOUT 120)
# AdminApi without HTTP: validation details, healthCheck forms, change notifications.
portico_test(sidecar_admin_unit_tests unit unit/AdminApiTest.cpp LIBS portico_sidecar TIMEOUT 60)
# The admin API against docs/openapi.yaml: every documented answer, checked by schema.
portico_test(sidecar_openapi_e2e_tests e2e e2e/AdminApiSpecTest.cpp LIBS Poco::JSON TIMEOUT 180)
# The description itself, linted with Redocly CLI (installed from npm into build/tools).
add_test(NAME openapi_lint COMMAND ${CMAKE_SOURCE_DIR}/scripts/openapi-lint.sh)
set_tests_properties(openapi_lint PROPERTIES LABELS conformance TIMEOUT 300
  ENVIRONMENT "PORTICO_TOOLS=${CMAKE_BINARY_DIR}/tools")
# What the admin API lets in (strict JSON, printable errors, text without controls), no HTTP.
portico_test(sidecar_input_unit_tests unit unit/AdminInputTest.cpp LIBS portico_sidecar TIMEOUT 60)
# The sidecar on a store it cannot write or that another process keeps locked; raw bytes in.
portico_test(sidecar_store_e2e_tests e2e e2e/SidecarStoreTest.cpp TIMEOUT 120)
# The admin listener's HTTP layer (shared HttpServer): framing, refusals as JSON, timeouts, slow
# clients, keep-alive and 100-continue, as raw bytes on a socket.
portico_test(sidecar_http_e2e_tests e2e e2e/SidecarHttpTest.cpp TIMEOUT 180)
