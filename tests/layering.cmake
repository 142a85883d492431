# The layout's rules as tests (label unit, no build products needed): every include names its
# folder and follows the layering of docs/ARCHITECTURE.md; every source is clang-formatted.
find_package(Python3 REQUIRED COMPONENTS Interpreter)
add_test(NAME layering_check
         COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/layering/check_layers.py ${CMAKE_SOURCE_DIR})
add_test(NAME format_check COMMAND ${CMAKE_SOURCE_DIR}/scripts/format.sh --check)
set_tests_properties(layering_check format_check PROPERTIES LABELS unit TIMEOUT 120)
