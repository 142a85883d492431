# The libFuzzer harnesses of tests/fuzz/ as CTest tests (label fuzz). They are built by clang in
# their own tree (scripts/fuzz.sh and scripts/test.sh build it); each test replays the harness's
# seeds, then fuzzes for PORTICO_FUZZ_SECONDS. A harness that was not built is reported skipped.
set(PORTICO_FUZZ_DIR "${CMAKE_SOURCE_DIR}/build-fuzz" CACHE PATH "the fuzz build tree")
set(PORTICO_FUZZ_SECONDS 4 CACHE STRING "how long each fuzz test fuzzes after its seeds")

function(portico_fuzzer name)
  add_test(NAME fuzz_${name}
           COMMAND ${CMAKE_SOURCE_DIR}/tests/fuzz/run.sh ${PORTICO_FUZZ_DIR}/fuzz/${name}
                   ${CMAKE_SOURCE_DIR}/tests/fuzz ${CMAKE_BINARY_DIR}/fuzz-work ${PORTICO_FUZZ_SECONDS})
  set_tests_properties(fuzz_${name} PROPERTIES LABELS fuzz SKIP_RETURN_CODE 77
                                               TIMEOUT 300)
endfunction()

include(${CMAKE_CURRENT_LIST_DIR}/fuzz/harnesses.cmake)
