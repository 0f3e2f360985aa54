# Raspberry Pi 3, 4 and 5 running a 64-bit OS: armv8-a baseline, NEON
# (ASIMD) everywhere. See rpi-common.cmake for compilers and sysroots.
#   cmake -B build/aarch64 -DCMAKE_TOOLCHAIN_FILE=toolchains/rpi-aarch64.cmake
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(SCOPENN_TRIPLET aarch64-linux-gnu)
set(SCOPENN_DEB_ARCH arm64)
set(SCOPENN_QEMU_ARCH aarch64)
include("${CMAKE_CURRENT_LIST_DIR}/rpi-common.cmake")
set(CMAKE_C_FLAGS_INIT "-march=armv8-a")
set(CMAKE_CXX_FLAGS_INIT "-march=armv8-a")
