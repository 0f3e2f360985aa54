# Shared by the Raspberry Pi toolchain files; set SCOPENN_TRIPLET,
# SCOPENN_DEB_ARCH, SCOPENN_QEMU_ARCH and CMAKE_SYSTEM_PROCESSOR first.
#
# Compilers: Debian's cross compilers (${SCOPENN_TRIPLET}-gcc) by default;
# SCOPENN_CROSS_PREFIX (cache or environment) names another, e.g.
# /opt/cross/bin/aarch64-linux-gnu-.
#
# Sysroot: none by default. Debian's cross compilers then use the multiarch
# libraries installed with dpkg --add-architecture (/usr/lib/<triplet>).
# To build against a real Raspberry Pi OS root file system (an SD card's
# root partition, or a copy made with rsync), pass -DSCOPENN_SYSROOT=/path
# or set the SCOPENN_SYSROOT environment variable (CMAKE_SYSROOT works too).
set(CMAKE_SYSTEM_NAME Linux)

if(NOT DEFINED SCOPENN_CROSS_PREFIX)
  if(DEFINED ENV{SCOPENN_CROSS_PREFIX})
    set(SCOPENN_CROSS_PREFIX "$ENV{SCOPENN_CROSS_PREFIX}")
  else()
    set(SCOPENN_CROSS_PREFIX "${SCOPENN_TRIPLET}-")
  endif()
endif()
set(CMAKE_C_COMPILER "${SCOPENN_CROSS_PREFIX}gcc")
set(CMAKE_CXX_COMPILER "${SCOPENN_CROSS_PREFIX}g++")
set(CMAKE_LIBRARY_ARCHITECTURE "${SCOPENN_TRIPLET}")

if(NOT DEFINED SCOPENN_SYSROOT AND DEFINED ENV{SCOPENN_SYSROOT})
  set(SCOPENN_SYSROOT "$ENV{SCOPENN_SYSROOT}")
endif()
if(SCOPENN_SYSROOT AND NOT CMAKE_SYSROOT)
  set(CMAKE_SYSROOT "${SCOPENN_SYSROOT}")
endif()
# try_compile projects re-read this file: hand them the same choices.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES SCOPENN_SYSROOT SCOPENN_CROSS_PREFIX)

set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
if(CMAKE_SYSROOT)
  # Only the target's files: never link the build machine's libraries.
  set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
  set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
  set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
else()
  # Debian multiarch: target libraries live in /usr/lib/<triplet> on this
  # machine, and find_library searches there first.
  set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY BOTH)
  set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
  set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)
endif()

# ctest runs the target's programs under qemu-user, started through the
# target's dynamic loader (scripts/qemu-run); SCOPENN_QEMU_CPU picks the CPU.
set(_sn_emulator "${CMAKE_CURRENT_LIST_DIR}/../scripts/qemu-run" ${SCOPENN_QEMU_ARCH})
if(CMAKE_SYSROOT)
  list(APPEND _sn_emulator --sysroot "${CMAKE_SYSROOT}")
endif()
set(CMAKE_CROSSCOMPILING_EMULATOR ${_sn_emulator})
