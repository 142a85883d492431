# portico-ctl (sidecar/ctl/): its pure parts without HTTP (arguments and their usage errors, exit
# codes, YAML<->JSON, tables), then every command against a real sidecar.
portico_test(ctl_unit_tests unit unit/CtlArgsTest.cpp unit/CtlOutputTest.cpp LIBS portico_ctl
  TIMEOUT 60)
portico_test(ctl_e2e_tests e2e e2e/CtlTest.cpp TIMEOUT 180)
add_dependencies(ctl_e2e_tests portico-ctl)
# The bash completion as bash calls it on <TAB>.
add_test(NAME ctl_completion COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/ctl/completion-test.sh ${CMAKE_SOURCE_DIR})
set_tests_properties(ctl_completion PROPERTIES LABELS unit TIMEOUT 30)
