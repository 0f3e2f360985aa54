# Third-party libraries, as imported targets scopenn::dep::<name>.
#
# Native builds and Debian cross builds find them in the usual multiarch
# places (/usr/lib/<triplet>). Libraries Debian cannot co-install for another
# architecture (pthreadpool: installing libpthreadpool-dev:arm64 would remove
# the native one) are unpacked from the target's .deb into a sysroot inside
# the build tree, ${CMAKE_BINARY_DIR}/deps-sysroot. With a real target
# sysroot (SCOPENN_SYSROOT) everything must come from it: Debian's armhf
# libraries are armv7 and would not run on an armv6 Raspberry Pi OS.
find_package(Threads REQUIRED)

set(SCOPENN_DEPS_SYSROOT "")

# scopenn_find_dep(<name> <header> <library> <packages...>)
function(scopenn_find_dep name header library)
  set(_inc SCOPENN_${name}_INCLUDE_DIR)
  set(_lib SCOPENN_${name}_LIBRARY)
  find_path(${_inc} ${header})
  find_library(${_lib} ${library})
  list(JOIN ARGN " " _pkgs)
  if((NOT ${_inc} OR NOT ${_lib}) AND CMAKE_CROSSCOMPILING AND SCOPENN_DEB_ARCH AND NOT CMAKE_SYSROOT)
    set(_root "${CMAKE_BINARY_DIR}/deps-sysroot")
    message(STATUS "scopenn: ${name} for ${SCOPENN_DEB_ARCH}: unpacking ${_pkgs} into ${_root}")
    execute_process(
      COMMAND "${PROJECT_SOURCE_DIR}/scripts/cross-sysroot.sh" ${SCOPENN_DEB_ARCH} "${_root}" ${ARGN}
      RESULT_VARIABLE _rc)
    if(NOT _rc EQUAL 0)
      message(FATAL_ERROR "scopenn: could not unpack ${_pkgs} for ${SCOPENN_DEB_ARCH} (see above)")
    endif()
    unset(${_inc} CACHE)
    unset(${_lib} CACHE)
    # some headers (sleef.h) are multiarch: usr/include/<triplet>
    find_path(${_inc} ${header}
      HINTS "${_root}/usr/include" "${_root}/usr/include/${CMAKE_LIBRARY_ARCHITECTURE}"
      NO_CMAKE_FIND_ROOT_PATH)
    find_library(${_lib} ${library}
      HINTS "${_root}/usr/lib/${CMAKE_LIBRARY_ARCHITECTURE}" NO_CMAKE_FIND_ROOT_PATH)
    set(SCOPENN_DEPS_SYSROOT "${_root}" PARENT_SCOPE)
  endif()
  if(NOT ${_inc} OR NOT ${_lib})
    if(CMAKE_SYSROOT)
      message(FATAL_ERROR "scopenn: ${name} not found in the sysroot ${CMAKE_SYSROOT} "
                          "(${header}, lib${library}): install ${_pkgs} on the target, then copy its root again.")
    endif()
    message(FATAL_ERROR "scopenn: ${name} not found (${header}, lib${library}). "
                        "Debian package(s): ${_pkgs}; scripts/install-deps.sh installs them.")
  endif()
  add_library(scopenn::dep::${name} UNKNOWN IMPORTED)
  set_target_properties(scopenn::dep::${name} PROPERTIES
    IMPORTED_LOCATION "${${_lib}}"
    INTERFACE_INCLUDE_DIRECTORIES "${${_inc}}")
  message(STATUS "scopenn: ${name}: ${${_lib}}")
endfunction()

scopenn_find_dep(cjson cjson/cJSON.h cjson libcjson-dev)
# XNNPACK's thread pool, for bench/peers only: the library has its own
# (src/runtime/pool.h)
if(SCOPENN_BENCH_PEERS)
  scopenn_find_dep(pthreadpool pthreadpool.h pthreadpool libpthreadpool0 libpthreadpool-dev)
endif()
# vector exp and tanh for the SIMD kernels (src/kernels/<isa>/)
scopenn_find_dep(sleef sleef.h sleef libsleef3 libsleef-dev)
if(SCOPENN_BUILD_TESTS)
  scopenn_find_dep(cmocka cmocka.h cmocka libcmocka-dev)
endif()

# Under qemu, programs must also find the unpacked libraries at run time.
if(CMAKE_CROSSCOMPILING_EMULATOR AND SCOPENN_DEPS_SYSROOT)
  list(APPEND CMAKE_CROSSCOMPILING_EMULATOR
       --libdir "${SCOPENN_DEPS_SYSROOT}/usr/lib/${CMAKE_LIBRARY_ARCHITECTURE}")
endif()
