# Installs the files whose place or content depends on the install prefix, which is known
# only now (`cmake --install --prefix`, or /usr when cpack makes the .deb). Run from the
# install(CODE) in cmake/install.cmake, which sets SLUICE_SOURCE_DIR, SLUICE_GENERATED_DIR,
# SLUICE_BINDIR and SLUICE_SYSCONFDIR.
#
# Prefix /usr: /etc/sluice/sluiced.yaml, /etc/logrotate.d/sluice and
# /usr/lib/systemd/system/sluiced.service, as Debian has them (the package's conffiles
# name the two under /etc). Any other prefix: all three under it.
if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  set(sysconfdir /etc)
else()
  set(sysconfdir ${CMAKE_INSTALL_PREFIX}/${SLUICE_SYSCONFDIR})
endif()

set(SLUICE_INSTALL_FULL_BINDIR ${CMAKE_INSTALL_PREFIX}/${SLUICE_BINDIR})
set(SLUICE_CONFIG_FILE ${sysconfdir}/sluice/sluiced.yaml)
# One directory per destination: a cpack run and a `cmake --install` may run at once.
string(MD5 destination "$ENV{DESTDIR}${CMAKE_INSTALL_PREFIX}")
set(unit ${SLUICE_GENERATED_DIR}/${destination}/sluiced.service)
configure_file(${SLUICE_SOURCE_DIR}/deploy/systemd/sluiced.service ${unit} @ONLY)

file(INSTALL DESTINATION ${CMAKE_INSTALL_PREFIX}/lib/systemd/system TYPE FILE FILES ${unit})
file(INSTALL DESTINATION ${sysconfdir}/sluice TYPE FILE
  FILES ${SLUICE_SOURCE_DIR}/deploy/debian/sluiced.yaml)
file(INSTALL DESTINATION ${sysconfdir}/logrotate.d TYPE FILE RENAME sluice
  FILES ${SLUICE_SOURCE_DIR}/deploy/logrotate/sluice)
