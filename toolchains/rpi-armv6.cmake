# Raspberry Pi 1 and Zero (ARM1176, armv6 + VFPv2), and the 32-bit Raspberry
# Pi OS, which is built for them and also runs on every later Pi. The library
# is armv6; the NEON kernel files alone are built for armv7-a with
# -mfpu=neon-vfpv4 and are picked at run time, so one package runs NEON on a
# Pi 2 or later and scalar on a Pi Zero.
#
# Debian's armhf C library is armv7, so programs built here without a
# sysroot do not run on a Pi 1 or Zero: pass SCOPENN_SYSROOT=<Raspberry Pi OS
# root> for binaries that do (qemu then runs them as an arm1176).
#   cmake -B build/armv6 -DCMAKE_TOOLCHAIN_FILE=toolchains/rpi-armv6.cmake
set(CMAKE_SYSTEM_PROCESSOR armv6l)
set(SCOPENN_TRIPLET arm-linux-gnueabihf)
set(SCOPENN_DEB_ARCH armhf)
set(SCOPENN_QEMU_ARCH armv6)
include("${CMAKE_CURRENT_LIST_DIR}/rpi-common.cmake")
set(CMAKE_C_FLAGS_INIT "-march=armv6 -mfpu=vfp -mfloat-abi=hard -marm")
set(CMAKE_CXX_FLAGS_INIT "${CMAKE_C_FLAGS_INIT}")
set(SCOPENN_NEON_FLAGS "-march=armv7-a;-mfpu=neon-vfpv4" CACHE STRING "Compile flags for the NEON kernels")
