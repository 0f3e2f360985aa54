# cmake --install: the header, libscopenn.so.MAJOR and libscopenn.a, the
# scopenn tool, scopennConfig.cmake (targets scopenn::scopenn, the shared
# library, and scopenn::scopenn_static) with its version file, and
# scopenn.pc for pkg-config.
include(CMakePackageConfigHelpers)

install(FILES "${PROJECT_SOURCE_DIR}/include/scopenn.h" "${PROJECT_SOURCE_DIR}/models/scopenn_models.h"
        DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}")
install(TARGETS scopenn scopenn_shared EXPORT scopennTargets
  ARCHIVE DESTINATION "${CMAKE_INSTALL_LIBDIR}"
  LIBRARY DESTINATION "${CMAKE_INSTALL_LIBDIR}"
  RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}")
install(TARGETS scopenn_tool RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}")

set(_sn_cmake_dir "${CMAKE_INSTALL_LIBDIR}/cmake/scopenn")
install(EXPORT scopennTargets NAMESPACE scopenn:: DESTINATION "${_sn_cmake_dir}")
configure_package_config_file("${PROJECT_SOURCE_DIR}/cmake/scopennConfig.cmake.in"
  "${PROJECT_BINARY_DIR}/scopennConfig.cmake" INSTALL_DESTINATION "${_sn_cmake_dir}")
# 0.x: minor versions may break the API, so only the same minor is compatible
write_basic_package_version_file("${PROJECT_BINARY_DIR}/scopennConfigVersion.cmake"
  COMPATIBILITY SameMinorVersion)
install(FILES "${PROJECT_BINARY_DIR}/scopennConfig.cmake" "${PROJECT_BINARY_DIR}/scopennConfigVersion.cmake"
  DESTINATION "${_sn_cmake_dir}")

file(RELATIVE_PATH SN_PC_TO_PREFIX "/p/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/p")
configure_file("${PROJECT_SOURCE_DIR}/cmake/scopenn.pc.in" "${PROJECT_BINARY_DIR}/scopenn.pc" @ONLY)
install(FILES "${PROJECT_BINARY_DIR}/scopenn.pc" DESTINATION "${CMAKE_INSTALL_LIBDIR}/pkgconfig")
