# install_etc.cmake - runs at install time (install(CODE) in AvsinkInstall.cmake): installs the files
# whose paths depend on the prefix actually used: the configuration, logrotate rule and systemd unit.
if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  set(_etc "/etc")
else()
  set(_etc "${CMAKE_INSTALL_PREFIX}/etc")
endif()
if(NOT EXISTS "$ENV{DESTDIR}${_etc}/avsink/avsink.toml")
  file(INSTALL "${AVSINK_SOURCE_DIR}/docs/avsink.toml" DESTINATION "${_etc}/avsink"
    PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
else()
  message(STATUS "Keeping: $ENV{DESTDIR}${_etc}/avsink/avsink.toml")
endif()
file(INSTALL "${AVSINK_SOURCE_DIR}/packaging/avsink.logrotate" DESTINATION "${_etc}/logrotate.d"
  RENAME avsink)

# The unit, with ExecStart= and -c naming the installed files (systemd also reads
# /usr/local/lib/systemd/system, so a /usr/local install is found too).
if(EXISTS "${AVSINK_SOURCE_DIR}/plugins/milter/avsink-milter.service.in"
   AND EXISTS "${AVSINK_BINARY_DIR}/plugins/milter/avsink-milter")
  set(AVSINK_SBINDIR "${CMAKE_INSTALL_PREFIX}/${AVSINK_INSTALL_SBINDIR}")
  set(AVSINK_DOCDIR "${CMAKE_INSTALL_PREFIX}/${AVSINK_INSTALL_DOCDIR}")
  set(AVSINK_SYSCONFDIR "${_etc}")
  configure_file("${AVSINK_SOURCE_DIR}/plugins/milter/avsink-milter.service.in"
    "${AVSINK_BINARY_DIR}/install-unit/avsink-milter.service" @ONLY)
  file(INSTALL "${AVSINK_BINARY_DIR}/install-unit/avsink-milter.service"
    DESTINATION "${CMAKE_INSTALL_PREFIX}/lib/systemd/system")
endif()
