# Debian packages, one per install component (cpack -G DEB in the build
# tree; deploy/package-test.sh installs and removes them with apt):
#   libachilles-model0       the shared model library the server, the CLI,
#                            the harness and every plugin link (runtime)
#   achilles-protocol-plugins  the four bundled protocol plugins (plugins)
#   achilles-server          server, plugin worker, the hardened systemd
#                            unit, the `achilles` user (server)
#   achillesctl              the command-line client (cli)
#   achilles-plugin-sdk-dev  headers, .proto files, CMake package and the
#                            scenario harness for plugin authors (sdk)
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME achilles)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "achilles-cds maintainers <maintainers@achilles-cds.invalid>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
  "decision support for Achilles tendinopathy rehabilitation")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION science)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# Our own model library is found in the build tree; the packages depend on
# libachilles-model0 through their components.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS_PRIVATE_DIRS ${CMAKE_BINARY_DIR}/proto)
set(CPACK_DEBIAN_ENABLE_COMPONENT_DEPENDS ON)
set(CPACK_COMPONENTS_ALL runtime plugins server cli sdk)

set(CPACK_DEBIAN_RUNTIME_PACKAGE_NAME libachilles-model0)
set(CPACK_COMPONENT_RUNTIME_DESCRIPTION
  "achilles-cds shared model library (protobuf messages)")

set(CPACK_DEBIAN_PLUGINS_PACKAGE_NAME achilles-protocol-plugins)
set(CPACK_COMPONENT_PLUGINS_DEPENDS runtime)
set(CPACK_COMPONENT_PLUGINS_DESCRIPTION
  "achilles-cds bundled protocol plugins (HSR, insertional, isometric, return to run)")

set(CPACK_DEBIAN_SERVER_PACKAGE_NAME achilles-server)
set(CPACK_COMPONENT_SERVER_DEPENDS runtime plugins)
set(CPACK_COMPONENT_SERVER_DESCRIPTION
  "achilles-cds decision-support server, bundled protocol plugins, systemd unit")
set(CPACK_DEBIAN_SERVER_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_SERVER_PACKAGE_CONTROL_EXTRA
  ${PROJECT_SOURCE_DIR}/deploy/debian/postinst
  ${PROJECT_SOURCE_DIR}/deploy/debian/prerm
  ${PROJECT_SOURCE_DIR}/deploy/debian/postrm)
set(CPACK_DEBIAN_SERVER_PACKAGE_CONTROL_STRICT_PERMISSION ON)

set(CPACK_DEBIAN_CLI_PACKAGE_NAME achillesctl)
set(CPACK_COMPONENT_CLI_DEPENDS runtime)
set(CPACK_COMPONENT_CLI_DESCRIPTION "achilles-cds command-line client")

set(CPACK_DEBIAN_SDK_PACKAGE_NAME achilles-plugin-sdk-dev)
set(CPACK_COMPONENT_SDK_DEPENDS runtime plugins)
set(CPACK_DEBIAN_SDK_PACKAGE_DEPENDS "libprotobuf-dev, cmake, g++")
set(CPACK_COMPONENT_SDK_DESCRIPTION
  "achilles-cds plugin SDK: headers, protos, CMake package, scenario harness")

include(CPack)
