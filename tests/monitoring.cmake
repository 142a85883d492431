# docs/monitoring: promtool check/test rules on the alerts, the dashboard's queries parsed by
# promtool, and every metric they name exported by the programs (skipped without promtool).
find_package(Python3 REQUIRED COMPONENTS Interpreter)
add_test(NAME monitoring_rules
         COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/monitoring/check-monitoring.py ${CMAKE_SOURCE_DIR})
set_tests_properties(monitoring_rules PROPERTIES LABELS unit TIMEOUT 60 SKIP_RETURN_CODE 77)
