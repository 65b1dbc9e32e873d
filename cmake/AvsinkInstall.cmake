# AvsinkInstall.cmake - what `cmake --install` puts where (components libs, dev, avsink) and the
# Debian packages CPack makes from the same rules (cmake/AvsinkPackage.cmake).
# Paths that name other installed files (unit, config) are filled in at install time from the
# prefix actually used, so `cmake --install build --prefix X` and the .debs (prefix /usr) agree.

# The library: libavsink1 gets libavsink.so.1 and its soname link, libavsink-dev the .so link.
install(TARGETS avsink EXPORT avsinkTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT libs NAMELINK_COMPONENT dev
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES include/avsink/avsink.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/avsink COMPONENT dev)

# avsink.pc: prefix relative to the .pc file, so it is right under any prefix.
file(RELATIVE_PATH AVSINK_PC_TO_PREFIX /p/${CMAKE_INSTALL_LIBDIR}/pkgconfig /p)
string(REGEX REPLACE "/$" "" AVSINK_PC_TO_PREFIX "${AVSINK_PC_TO_PREFIX}")
configure_file(${PROJECT_SOURCE_DIR}/cmake/avsink.pc.in ${PROJECT_BINARY_DIR}/avsink.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/avsink.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig
  COMPONENT dev)

# find_package(avsink): avsinkConfig.cmake + version file + the exported target avsink::avsink.
include(CMakePackageConfigHelpers)
set(AVSINK_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/avsink)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/avsinkConfig.cmake.in
  ${PROJECT_BINARY_DIR}/avsinkConfig.cmake INSTALL_DESTINATION ${AVSINK_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/avsinkConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMajorVersion)
install(EXPORT avsinkTargets NAMESPACE avsink:: DESTINATION ${AVSINK_CMAKE_DIR} COMPONENT dev)
install(FILES ${PROJECT_BINARY_DIR}/avsinkConfig.cmake ${PROJECT_BINARY_DIR}/avsinkConfigVersion.cmake
  DESTINATION ${AVSINK_CMAKE_DIR} COMPONENT dev)

# The command, the shipped data (src/core/data_dir.cpp finds it relative to the binaries) and docs.
install(TARGETS avsink_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT avsink)
install(DIRECTORY signatures/ DESTINATION ${CMAKE_INSTALL_DATADIR}/avsink/signatures COMPONENT avsink)
install(DIRECTORY rules/ DESTINATION ${CMAKE_INSTALL_DATADIR}/avsink/rules COMPONENT avsink)
install(DIRECTORY docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR} COMPONENT avsink)

# Man pages: avsink(1) and avsink-milter(8) are written by hand (tests/package/check_man_flags.py
# keeps them equal to --help); avsink.toml(5) is printed from the parser's own key table
# (config_key_docs() in src/core/config.cpp) at build time.
add_executable(avsink_gen_man man/gen_avsink_toml_man.cpp)
target_link_libraries(avsink_gen_man PRIVATE avsink_static)
set(AVSINK_MAN5 ${PROJECT_BINARY_DIR}/man/avsink.toml.5)
add_custom_command(OUTPUT ${AVSINK_MAN5}
  COMMAND ${CMAKE_COMMAND} -E make_directory ${PROJECT_BINARY_DIR}/man
  COMMAND avsink_gen_man > ${AVSINK_MAN5}
  DEPENDS avsink_gen_man VERBATIM)
add_custom_target(avsink_man ALL DEPENDS ${AVSINK_MAN5})
install(FILES man/avsink.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1 COMPONENT avsink)
install(FILES man/avsink-milter.8 DESTINATION ${CMAKE_INSTALL_MANDIR}/man8 COMPONENT avsink)
install(FILES ${AVSINK_MAN5} DESTINATION ${CMAKE_INSTALL_MANDIR}/man5 COMPONENT avsink)

# Files under the system configuration directory: the example configuration (kept when one is
# already there: an install never overwrites an operator's edits) and the logrotate rule. The
# directory follows GNUInstallDirs: /etc for prefix /usr, PREFIX/etc otherwise.
install(CODE "
  set(AVSINK_SOURCE_DIR \"${PROJECT_SOURCE_DIR}\")
  set(AVSINK_BINARY_DIR \"${PROJECT_BINARY_DIR}\")
  set(AVSINK_INSTALL_SBINDIR \"${CMAKE_INSTALL_SBINDIR}\")
  set(AVSINK_INSTALL_DOCDIR \"${CMAKE_INSTALL_DOCDIR}\")
  include(\"${PROJECT_SOURCE_DIR}/cmake/install_etc.cmake\")
" COMPONENT avsink)

include(${PROJECT_SOURCE_DIR}/cmake/AvsinkPackage.cmake)
