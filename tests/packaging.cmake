# cmake --install, the production configuration and the systemd units (systemd-analyze verify).
add_test(NAME install_units COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/packaging/install-test.sh ${CMAKE_BINARY_DIR})
set_tests_properties(install_units PROPERTIES LABELS conformance TIMEOUT 120 SKIP_RETURN_CODE 77)
# The Debian package (scripts/package.sh): its contents, lintian, dpkg -i into a scratch root.
add_test(NAME debian_package COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/packaging/package-test.sh ${CMAKE_BINARY_DIR})
set_tests_properties(debian_package PROPERTIES LABELS conformance TIMEOUT 180 SKIP_RETURN_CODE 77)
