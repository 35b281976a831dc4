# Set-up contract: `make run` and `make test` work on a fresh Debian 12 machine.
#
#   make run        install what is missing, build Release, start the exchange with demo data
#   make test       install, build (-Wall -Wextra -Wpedantic -Werror), run every test with ctest
#   make bench      build Release, run the engine, recovery, projections, snapshot-pause/restart
#                   and server benchmarks (docs/benchmarks.md)
#   make test-asan  clang build with AddressSanitizer + UndefinedBehaviorSanitizer, run every test
#   make tidy       clang-tidy over every source file (config: .clang-tidy); any finding fails
BUILD      ?= build/release
ASAN_BUILD ?= build/asan
FUZZ_BUILD ?= build/fuzz
FUZZ_SECONDS ?= 60
JOBS       ?= $(shell nproc)

.PHONY: run test build configure deps bench test-asan fuzz tidy clean

deps:
	@scripts/install-deps.sh

configure: deps
	@cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null

build: configure
	@cmake --build $(BUILD) -j $(JOBS)

run: build
	$(BUILD)/src/app/stox serve --demo

test: build
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)
	$(MAKE) fuzz-request

bench: build
	$(BUILD)/src/core/engine_benchmark
	$(BUILD)/src/store/recovery_benchmark --runs 3
	$(BUILD)/src/marketdata/projections_benchmark
	$(BUILD)/src/server/snapshot_pause_benchmark --orders 1000000 --extra 9000000 --restarts 3
	BUILD=$(BUILD) scripts/bench-server.sh

# The compiler is fixed at configure time: CMAKE_CXX_COMPILER on the command
# line (not CXX in the environment, which an existing cache would ignore).
test-asan: deps
	@cmake -S . -B $(ASAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DCMAKE_CXX_COMPILER=clang++ -DSTOX_SANITIZE=ON >/dev/null
	@cmake --build $(ASAN_BUILD) -j $(JOBS)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest --test-dir $(ASAN_BUILD) --output-on-failure -j $(JOBS)

# Needs only compile_commands.json (written at configure time), not a build.
# libFuzzer (clang 14) with ASan + UBSan: arbitrary bytes as engine commands,
# for FUZZ_SECONDS; the corpus is kept in $(FUZZ_BUILD)/corpus.
fuzz: deps
	@cmake -S . -B $(FUZZ_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DCMAKE_CXX_COMPILER=clang++ -DSTOX_SANITIZE=ON -DSTOX_FUZZ=ON >/dev/null
	@cmake --build $(FUZZ_BUILD) -j $(JOBS) --target engine_fuzz
	@mkdir -p $(FUZZ_BUILD)/corpus
	$(FUZZ_BUILD)/src/core/engine_fuzz -max_total_time=$(FUZZ_SECONDS) -max_len=4096 \
	  $(FUZZ_BUILD)/corpus

# libFuzzer over the request parsers (src/server/request_fuzz.cc) for
# REQUEST_FUZZ_SECONDS, from the seed corpus in src/server/fuzz_corpus/request/
# (copied into $(FUZZ_BUILD)/request-corpus, which keeps what it finds).
REQUEST_FUZZ_SECONDS ?= 20
.PHONY: fuzz-request
fuzz-request: deps
	@cmake -S . -B $(FUZZ_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DCMAKE_CXX_COMPILER=clang++ -DSTOX_SANITIZE=ON -DSTOX_FUZZ=ON >/dev/null
	@cmake --build $(FUZZ_BUILD) -j $(JOBS) --target request_fuzz
	@mkdir -p $(FUZZ_BUILD)/request-corpus
	@cp src/server/fuzz_corpus/request/* $(FUZZ_BUILD)/request-corpus/
	$(FUZZ_BUILD)/src/server/request_fuzz -max_total_time=$(REQUEST_FUZZ_SECONDS) -max_len=4096 \
	  $(FUZZ_BUILD)/request-corpus

tidy: configure
	run-clang-tidy -p $(BUILD) -quiet -j $(JOBS) '^$(CURDIR)/src/'

clean:
	rm -rf build
