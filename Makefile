# Thin wrapper over CMake: the README's commands. Every target first makes sure the Debian packages it
# needs are installed (scripts/install-deps.sh), so a fresh machine needs nothing else.
BUILD ?= build
ASAN_BUILD ?= build-asan
JOBS ?= $(shell nproc)

.PHONY: all build deps test test-asan demo bench fuzz format clean

all: build

deps:
	@scripts/install-deps.sh build

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

# The whole suite: unit tests, end-to-end CLI tests, the differential test against evtxexport and the
# fuzz corpus replay. Prints "N passed, N failed".
test: build
	@scripts/install-deps.sh test
	@tests/run.sh $(BUILD)

# The same suite built with AddressSanitizer and UndefinedBehaviorSanitizer.
test-asan: deps
	@scripts/install-deps.sh test
	@cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DKZ_SANITIZE=ON >/dev/null
	@cmake --build $(ASAN_BUILD) -j $(JOBS)
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 tests/run.sh $(ASAN_BUILD)

demo: build
	@scripts/demo.sh $(BUILD)

bench: build
	@bench/run.sh
	@bench/sigma.sh
	@bench/stages.sh
	@bench/inputs.sh
	@bench/store.sh

fuzz:
	@tests/fuzz/build.sh

format:
	@clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) build-fuzz
