# One line per libFuzzer harness: portico_fuzzer(NAME SOURCES... [LIBS lib...]), sources relative
# to tests/fuzz/. Seeds live in tests/fuzz/NAME/, an optional dictionary in tests/fuzz/NAME.dict.
# In the fuzz build (build-fuzz/) this builds the harness; in the main build it registers the
# CTest test fuzz_NAME (label fuzz) that runs it for PORTICO_FUZZ_SECONDS.
portico_fuzzer(prefix prefix.cpp LIBS portico_shared)
portico_fuzzer(target_url target_url.cpp LIBS portico_shared)
portico_fuzzer(duration duration.cpp LIBS portico_shared)
portico_fuzzer(settings settings.cpp LIBS portico_shared)
portico_fuzzer(route_path route_path.cpp ${CMAKE_SOURCE_DIR}/proxy/routing/RoutePath.cpp LIBS portico_shared)
portico_fuzzer(json_body json_body.cpp LIBS portico_sidecar)
portico_fuzzer(admin_request admin_request.cpp LIBS portico_sidecar)
portico_fuzzer(http_message http_message.cpp LIBS portico_shared)
# The HTTP/2 connection over a socketpair on a real loop: it compiles the proxy's sources (all
# but its main), and nghttp2.
file(GLOB_RECURSE PORTICO_FUZZ_PROXY_SOURCES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/proxy/*.cpp)
list(REMOVE_ITEM PORTICO_FUZZ_PROXY_SOURCES ${CMAKE_SOURCE_DIR}/proxy/main.cpp)
portico_fuzzer(http2_frames http2_frames.cpp ${PORTICO_FUZZ_PROXY_SOURCES} LIBS portico_shared nghttp2)
