# The quick start, on a fresh Debian 12 machine (as root, or with sudo):
#   make run    install what is missing, build, run the demo (scopenn demo)
#   make test   install what is missing, then the whole test matrix
#   make bench-peers  scopenn against XNNPACK, oneDNN (layers) and PyTorch (whole
#                     models): two tables and a chart, 1 and 2 threads
#   make bench-arm    ARM instruction counts under qemu, scopenn against XNNPACK
# A thin wrapper over the CMake presets in CMakePresets.json.
.PHONY: run test build deps deps-native bench-peers bench-arm format clean

JOBS ?= $(shell nproc 2>/dev/null || echo 2)

run: build
	build/native/tools/scopenn demo

test: deps
	scripts/test-matrix.sh

build: deps-native
	cmake --preset native
	cmake --build --preset native -j $(JOBS)

# What a native build needs; `deps` adds the test matrix's tools (cross
# toolchains and libraries, qemu, clang, python3-torch).
deps-native:
	scripts/install-deps.sh --run

deps:
	scripts/install-deps.sh

# The named workloads of `scopenn bench` through scopenn, XNNPACK and oneDNN
# (bench/peers), each checked against scopenn first; a build of its own.
bench-peers:
	scripts/install-deps.sh --peers
	cmake -B build/peers -DCMAKE_BUILD_TYPE=Release -DSCOPENN_BENCH_PEERS=ON \
	      -DSCOPENN_BUILD_TESTS=OFF -DSCOPENN_BUILD_BENCH=OFF
	cmake --build build/peers -j $(JOBS) --target scopenn_tool peers
	bench/peers/compare.sh build/peers

# Executed instructions per inference on aarch64 and armhf, counted under
# qemu-user (bench/qemu-icount), scopenn against Debian's XNNPACK for those
# architectures (bench/arm/bench-arm.sh); builds build/barm-*. Not in `make test`.
bench-arm: deps
	bench/arm/bench-arm.sh

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build
