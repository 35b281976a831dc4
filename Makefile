# Set-up contract: `make run` and `make test` work on a fresh Debian 12 machine.
BUILD      ?= build/release
ASAN_BUILD ?= build/asan
JOBS       ?= $(shell nproc)

.PHONY: run test build deps bench test-asan tidy clean

deps:
	@scripts/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

run: build
	$(BUILD)/src/app/stox demo

test: build
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

bench: build
	$(BUILD)/src/core/engine_benchmark

# clang build with AddressSanitizer + UndefinedBehaviorSanitizer.
test-asan: deps
	@CXX=clang++ cmake -S . -B $(ASAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSTOX_SANITIZE=ON >/dev/null
	@cmake --build $(ASAN_BUILD) -j $(JOBS)
	ASAN_OPTIONS=detect_leaks=1 ctest --test-dir $(ASAN_BUILD) --output-on-failure -j $(JOBS)

tidy: build
	clang-tidy -p $(BUILD) --quiet $(shell git ls-files 'src/*.cc')

clean:
	rm -rf build
