# The Debian package: `cpack -G DEB` in the build directory makes sluice_<version>_<arch>.deb
# from the install rules of cmake/install.cmake (both components, prefix /usr). Its
# dependencies are derived from the shared libraries the binaries link (dpkg-shlibdeps);
# the maintainer scripts in deploy/debian/ make the `sluice` user and its directories and
# hand the unit to deb-systemd-helper, and keep working without systemd (a container).
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME sluice)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "gRPC log-ingestion server, its command and C++ client")
set(CPACK_PACKAGE_DESCRIPTION
  "sluiced takes log records over gRPC (its own LogService and OTLP), batches them and
writes them to files, the console, syslog, Kafka, ClickHouse, OTLP or another sluiced.
The package has the server with a systemd unit (Type=notify), its config in /etc/sluice,
a logrotate file, the sluice command with bash completion, and the C++ client library
with its headers, CMake package (find_package(sluice)) and pkg-config file.")
set(CPACK_PACKAGE_CONTACT "Sluice maintainers <sluice@localhost>")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)

set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# The maintainer scripts make the system user with useradd (passwd, always installed) and
# call deb-systemd-helper only when it is there.
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "logrotate")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
  ${PROJECT_SOURCE_DIR}/deploy/debian/conffiles
  ${PROJECT_SOURCE_DIR}/deploy/debian/postinst
  ${PROJECT_SOURCE_DIR}/deploy/debian/prerm
  ${PROJECT_SOURCE_DIR}/deploy/debian/postrm
  ${PROJECT_SOURCE_DIR}/deploy/debian/triggers)

include(CPack)
