# Run by `cmake --install` (install(SCRIPT)): writes the systemd units with the prefix the
# installation really uses (--prefix may differ from the one configured).
set(prefix "${CMAKE_INSTALL_PREFIX}")
set(dest "$ENV{DESTDIR}${CMAKE_INSTALL_PREFIX}/lib/systemd/system")
file(MAKE_DIRECTORY "${dest}")
foreach(unit portico-sidecar.service portico-proxy.service)
  file(READ "${PORTICO_PACKAGING_DIR}/${unit}.in" text)
  string(REPLACE "@PREFIX@" "${prefix}" text "${text}")
  message(STATUS "Installing: ${dest}/${unit}")
  file(WRITE "${dest}/${unit}" "${text}")
endforeach()
