# The one library users link: libsmolxdp.so and libsmolxdp.a, made of the objects of the internal
# static libraries (the stack, the AF_XDP device, the embedded steering program), so what the
# programs and tests run is what is shipped. Sources are compiled with hidden visibility; the public
# headers (smolxdp/api.h) give their declarations default visibility, so the shared library exports
# the public API and nothing else (tests/lib/test_symbols.sh). Also the install rules: headers under
# include/smolxdp/, smolxdp.pc, and the CMake package (find_package(smolxdp), smolxdp::smolxdp).
include(CMakePackageConfigHelpers)
find_package(Threads REQUIRED)

set(SMX_LIB_PARTS smolxdp_wire smolxdp_dev smolxdp_tcp smolxdp_stack smolxdp_xsk smolxdp_bpf_obj)
set(SMX_LIB_OBJECTS)
foreach(part ${SMX_LIB_PARTS})
  if(NOT TARGET ${part})
    message(FATAL_ERROR "libsmolxdp: the internal library ${part} is missing")
  endif()
  # PIC so the objects can go into the shared library too; no semantic interposition so the public
  # functions stay as inlinable inside the stack as they were before they could be exported.
  set_target_properties(${part} PROPERTIES POSITION_INDEPENDENT_CODE ON C_VISIBILITY_PRESET hidden)
  target_compile_options(${part} PRIVATE -fno-semantic-interposition)
  list(APPEND SMX_LIB_OBJECTS $<TARGET_OBJECTS:${part}>)
endforeach()

set(SMX_LIB_INCLUDES
  $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/stack/include>
  $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/xsk/include>
  $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)

add_library(smolxdp SHARED ${SMX_LIB_OBJECTS})
set_target_properties(smolxdp PROPERTIES
  LINKER_LANGUAGE C
  VERSION ${PROJECT_VERSION}
  # Before 1.0 every minor version may change the ABI (the public structs' layouts included).
  SOVERSION ${PROJECT_VERSION_MAJOR}.${PROJECT_VERSION_MINOR})
target_include_directories(smolxdp INTERFACE ${SMX_LIB_INCLUDES})
target_link_libraries(smolxdp PRIVATE PkgConfig::LIBXDP PkgConfig::LIBBPF Threads::Threads)
# Calls inside the library bind to its own functions, not through the PLT.
target_link_options(smolxdp PRIVATE -Wl,-Bsymbolic-functions)
# Every symbol resolved at link time (a missing dependency fails here, not in a user's program);
# not with sanitizers, whose runtimes come from the executable, so not in a subproject either,
# whose flags are the user's.
if(SMX_TOP_LEVEL AND NOT SMX_SANITIZE)
  target_link_options(smolxdp PRIVATE -Wl,--no-undefined)
endif()

add_library(smolxdp_static STATIC ${SMX_LIB_OBJECTS})
set_target_properties(smolxdp_static PROPERTIES LINKER_LANGUAGE C OUTPUT_NAME smolxdp)
target_include_directories(smolxdp_static INTERFACE ${SMX_LIB_INCLUDES})
target_link_libraries(smolxdp_static INTERFACE PkgConfig::LIBXDP PkgConfig::LIBBPF Threads::Threads)

# The names a user of the installed package sees, also when smolxdp is a subproject.
set_target_properties(smolxdp_static PROPERTIES EXPORT_NAME smolxdp_static)
add_library(smolxdp::smolxdp ALIAS smolxdp)
add_library(smolxdp::smolxdp_static ALIAS smolxdp_static)

# ---- install ----
install(TARGETS smolxdp smolxdp_static EXPORT smolxdpTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT lib NAMELINK_COMPONENT dev
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev)
# Public headers only: stack/include and xsk/include both hold a smolxdp/ directory; the internal
# headers (*_internal.h, xsk_pool.h, ...) live next to the sources and are never installed.
install(DIRECTORY ${PROJECT_SOURCE_DIR}/stack/include/smolxdp ${PROJECT_SOURCE_DIR}/xsk/include/smolxdp
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT dev FILES_MATCHING PATTERN "*.h")

# smolxdp.pc finds its prefix from where it lies (${pcfiledir}), so `cmake --install --prefix P`
# and DESTDIR copies work without reconfiguring.
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}" OR IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
  set(SMX_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
else()
  file(RELATIVE_PATH SMX_PC_UP "/p/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/p")
  string(REGEX REPLACE "/$" "" SMX_PC_UP "${SMX_PC_UP}")
  set(SMX_PC_PREFIX "\${pcfiledir}/${SMX_PC_UP}")
endif()
configure_file(${PROJECT_SOURCE_DIR}/cmake/smolxdp.pc.in ${PROJECT_BINARY_DIR}/smolxdp.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/smolxdp.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig COMPONENT dev)

set(SMX_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/smolxdp)
install(EXPORT smolxdpTargets NAMESPACE smolxdp:: DESTINATION ${SMX_CMAKE_DIR} COMPONENT dev)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/smolxdpConfig.cmake.in
  ${PROJECT_BINARY_DIR}/smolxdpConfig.cmake INSTALL_DESTINATION ${SMX_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/smolxdpConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/smolxdpConfig.cmake ${PROJECT_BINARY_DIR}/smolxdpConfigVersion.cmake
  DESTINATION ${SMX_CMAKE_DIR} COMPONENT dev)
install(FILES ${PROJECT_SOURCE_DIR}/docs/api.md DESTINATION ${CMAKE_INSTALL_DOCDIR} COMPONENT dev)
