# The quick start, on a fresh Debian 12 machine (as root, or with sudo):
#   make run    install what is missing, build, run the demo (scopenn demo)
#   make test   install what is missing, then the whole test matrix
# A thin wrapper over the CMake presets in CMakePresets.json.
.PHONY: run test build deps deps-native format clean

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

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build
