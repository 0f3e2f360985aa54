# Which architecture we build for, and the flags each ISA's sources get.
# Only the files of one ISA get that ISA's flags; everything else is built for
# the baseline (x86-64, armv6/armv7 without NEON, armv8-a), so one binary runs
# on an old CPU and picks the scalar kernels there.
string(TOLOWER "${CMAKE_SYSTEM_PROCESSOR}" _sn_proc)
if(_sn_proc MATCHES "^(x86_64|amd64)$")
  set(SCOPENN_ARCH x86_64)
elseif(_sn_proc MATCHES "^(aarch64|arm64)$")
  set(SCOPENN_ARCH aarch64)
elseif(_sn_proc MATCHES "^arm")
  set(SCOPENN_ARCH arm)
else()
  set(SCOPENN_ARCH other)
  message(WARNING "scopenn: no SIMD kernels for processor '${CMAKE_SYSTEM_PROCESSOR}'; building scalar only")
endif()

set(SCOPENN_AVX2_FLAGS -mavx2 -mfma)
set(SCOPENN_AVX512_FLAGS -mavx512f -mavx2 -mfma)
if(SCOPENN_ARCH STREQUAL "arm")
  # 32-bit ARM: NEON with VFPv4 (vfma). The armv6 toolchain also raises
  # -march for these files only; the dispatcher runs them only on CPUs
  # reporting NEON and VFPv4.
  set(SCOPENN_NEON_FLAGS "-mfpu=neon-vfpv4" CACHE STRING "Compile flags for the NEON kernels (armv7)")
else()
  set(SCOPENN_NEON_FLAGS "" CACHE STRING "Compile flags for the NEON kernels")
endif()
message(STATUS "scopenn: architecture ${SCOPENN_ARCH}")
