# AvsinkPackage.cmake - the Debian packages libavsink1, libavsink-dev and avsink, made by CPack's DEB
# generator from the install rules and the build that ctest already ran (`cpack -G DEB` in build/).
set(CPACK_GENERATOR DEB)
# cpack (and `make install`) package what is built and never start a build of their own: the
# packages are made from the build that ctest just tested (`cmake --build` first).
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)
set(CPACK_PACKAGE_NAME avsink)
set(CPACK_PACKAGE_VENDOR avsink)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "avsink maintainers <root@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "SMTP-gateway anti-virus scanning")
set(CPACK_PACKAGE_DIRECTORY ${PROJECT_BINARY_DIR}/packages)
# Install to DESTDIR with CMAKE_INSTALL_PREFIX=/usr, so install_etc.cmake puts the configuration
# in /etc and writes /usr paths into the unit.
set(CPACK_SET_DESTDIR ON)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_INSTALL_PREFIX /usr)

# Stripped binaries, as Debian ships them (the build tree keeps its debug information).
set(CPACK_STRIP_FILES ON)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL libs dev avsink)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# libavsink.so.1 is found in the build tree while dpkg-shlibdeps reads avsink-milter.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS_PRIVATE_DIRS ${PROJECT_BINARY_DIR})
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(_avsink_exact "(= ${PROJECT_VERSION})")

set(CPACK_DEBIAN_LIBS_PACKAGE_NAME libavsink1)
set(CPACK_DEBIAN_LIBS_PACKAGE_SECTION libs)
set(CPACK_COMPONENT_LIBS_DESCRIPTION "avsink anti-virus library (shared library)
 libavsink scans mail messages (MIME, archives, attachments, rules, ClamAV) for an SMTP gateway.")
# The library's own shlibs entry, so packages built against it depend on libavsink1; ldconfig runs
# after install and removal.
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
set(CPACK_DEBIAN_LIBS_PACKAGE_CONTROL_EXTRA ${PROJECT_SOURCE_DIR}/packaging/debian/libavsink1/triggers)

set(CPACK_DEBIAN_DEV_PACKAGE_NAME libavsink-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS "libavsink1 ${_avsink_exact}")
set(CPACK_COMPONENT_DEV_DESCRIPTION "avsink anti-virus library (development files)
 The C header <avsink/avsink.h>, avsink.pc for pkg-config and a CMake package (avsink::avsink).")

set(CPACK_DEBIAN_AVSINK_PACKAGE_NAME avsink)
set(CPACK_DEBIAN_AVSINK_PACKAGE_SECTION mail)
set(CPACK_DEBIAN_AVSINK_PACKAGE_DEPENDS "libavsink1 ${_avsink_exact}, adduser")
set(CPACK_DEBIAN_AVSINK_PACKAGE_RECOMMENDS "clamav-freshclam")
set(CPACK_DEBIAN_AVSINK_PACKAGE_SUGGESTS "postfix")
set(CPACK_COMPONENT_AVSINK_DESCRIPTION "avsink anti-virus milter and command-line scanner
 avsink-milter scans mail for Postfix and Sendmail before it is queued; avsink scans files, checks
 configurations and rules and manages the quarantine.")
set(CPACK_DEBIAN_AVSINK_PACKAGE_CONTROL_EXTRA
  ${PROJECT_SOURCE_DIR}/packaging/debian/conffiles ${PROJECT_SOURCE_DIR}/packaging/debian/postinst
  ${PROJECT_SOURCE_DIR}/packaging/debian/prerm ${PROJECT_SOURCE_DIR}/packaging/debian/postrm)

include(CPack)
