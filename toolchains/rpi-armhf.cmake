# Raspberry Pi 2, 3 and 4 running a 32-bit armv7 OS (Debian armhf): armv7-a
# with VFPv3-D16 as the baseline; only the NEON kernel files are built with
# -mfpu=neon-vfpv4, and they run only where the CPU reports NEON and VFPv4.
#   cmake -B build/armhf -DCMAKE_TOOLCHAIN_FILE=toolchains/rpi-armhf.cmake
set(CMAKE_SYSTEM_PROCESSOR armv7l)
set(SCOPENN_TRIPLET arm-linux-gnueabihf)
set(SCOPENN_DEB_ARCH armhf)
set(SCOPENN_QEMU_ARCH armhf)
include("${CMAKE_CURRENT_LIST_DIR}/rpi-common.cmake")
set(CMAKE_C_FLAGS_INIT "-march=armv7-a -mfpu=vfpv3-d16 -mfloat-abi=hard")
set(CMAKE_CXX_FLAGS_INIT "${CMAKE_C_FLAGS_INIT}")
