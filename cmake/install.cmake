# What `cmake --install` lays out, and the Debian package CPack makes of it (`cpack -G DEB`
# in the build directory). Included by the top-level CMakeLists.txt after every target
# exists; not in sanitizer builds, whose binaries are for the tests only.
#
# Two components, so the container image takes the server alone:
#   server  sluiced, sluice, the config, the systemd unit, the logrotate file, the bash
#           completion and the man pages
#   client  libsluice-client (shared and static), its headers and the generated logs.proto
#           headers, sluiceConfig.cmake (target sluice::client) and sluice-client.pc
include(CMakePackageConfigHelpers)

install(TARGETS sluiced sluice RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT server)

# The bash completion and the man pages come from the binaries themselves, so they cannot
# drift from the commands they describe.
set(generated_dir ${PROJECT_BINARY_DIR}/install)
add_custom_command(
  OUTPUT ${generated_dir}/completion/sluice
  COMMAND ${CMAKE_COMMAND} -E make_directory ${generated_dir}/completion
  COMMAND sh -c "\"$1\" completion bash > \"$2\"" sh $<TARGET_FILE:sluice>
          ${generated_dir}/completion/sluice
  DEPENDS sluice
  COMMENT "bash completion of sluice"
  VERBATIM)
add_custom_target(sluice_bash_completion ALL DEPENDS ${generated_dir}/completion/sluice)
install(FILES ${generated_dir}/completion/sluice
  DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions COMPONENT server)

find_program(HELP2MAN help2man REQUIRED)
set(man_pages)
foreach(binary sluiced sluice)
  set(page ${generated_dir}/man/${binary}.1)
  add_custom_command(
    OUTPUT ${page}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${generated_dir}/man
    COMMAND ${HELP2MAN} --no-info --no-discard-stderr --section=1
            --version-string=${PROJECT_VERSION}
            --include=${PROJECT_SOURCE_DIR}/docs/man/${binary}.h2m
            --output=${page} $<TARGET_FILE:${binary}>
    DEPENDS ${binary} ${PROJECT_SOURCE_DIR}/docs/man/${binary}.h2m
    COMMENT "man page of ${binary}"
    VERBATIM)
  list(APPEND man_pages ${page})
endforeach()
add_custom_target(sluice_man_pages ALL DEPENDS ${man_pages})
install(FILES ${man_pages} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1 COMPONENT server)

# The config, the unit and the logrotate file depend on the prefix, which is only known
# when installing (`--prefix`, and cpack installs to /usr): with /usr (the .deb) the
# config goes to /etc/sluice as Debian has it, otherwise under the prefix. GNUInstallDirs
# decides /etc at configure time from CMAKE_INSTALL_PREFIX, too early for both.
install(CODE "
  set(SLUICE_SOURCE_DIR \"${PROJECT_SOURCE_DIR}\")
  set(SLUICE_GENERATED_DIR \"${generated_dir}\")
  set(SLUICE_BINDIR \"${CMAKE_INSTALL_BINDIR}\")
  set(SLUICE_SYSCONFDIR \"${CMAKE_INSTALL_SYSCONFDIR}\")
  include(\"${PROJECT_SOURCE_DIR}/cmake/install_system_files.cmake\")
" COMPONENT server)

# find_package(sluice CONFIG): sluice::client_shared and sluice::client_static, and
# sluice::client, which sluiceConfig.cmake points at one of them.
set(cmake_dir ${CMAKE_INSTALL_LIBDIR}/cmake/sluice)
install(EXPORT sluiceTargets NAMESPACE sluice:: DESTINATION ${cmake_dir} COMPONENT client)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/sluiceConfig.cmake.in
  ${generated_dir}/sluiceConfig.cmake INSTALL_DESTINATION ${cmake_dir})
write_basic_package_version_file(${generated_dir}/sluiceConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${generated_dir}/sluiceConfig.cmake ${generated_dir}/sluiceConfigVersion.cmake
  DESTINATION ${cmake_dir} COMPONENT client)

# pkg-config, relocatable: the prefix is found from where the .pc file lies, so it is right
# for any --prefix. The Requires are named as Debian's .pc files name them.
set(pc_dir ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
file(RELATIVE_PATH SLUICE_PC_PREFIX_FROM_PCFILEDIR /root/${pc_dir} /root)
string(REGEX REPLACE "/$" "" SLUICE_PC_PREFIX_FROM_PCFILEDIR ${SLUICE_PC_PREFIX_FROM_PCFILEDIR})
configure_file(${PROJECT_SOURCE_DIR}/cmake/sluice-client.pc.in ${generated_dir}/sluice-client.pc
  @ONLY)
install(FILES ${generated_dir}/sluice-client.pc DESTINATION ${pc_dir} COMPONENT client)

include(${PROJECT_SOURCE_DIR}/cmake/package.cmake)
