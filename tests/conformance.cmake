# The conformance suite: varnishtest scripts (tests/conformance/*.vtc) that play client and
# target byte by byte around the real portico-proxy, and client around the real
# portico-sidecar's admin listener. One CTest test per file (label conformance); run-vtc.sh picks
# loopback ports and creates the store, and reports "skipped" where varnishtest is missing.
file(GLOB PORTICO_VTC_FILES CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/conformance/*.vtc)
foreach(vtc ${PORTICO_VTC_FILES})
  get_filename_component(name ${vtc} NAME_WE)
  add_test(NAME conformance_${name}
           COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/conformance/run-vtc.sh ${vtc} ${CMAKE_BINARY_DIR}/bin)
  set_tests_properties(conformance_${name} PROPERTIES LABELS conformance TIMEOUT 120
                       SKIP_RETURN_CODE 77)
endforeach()
