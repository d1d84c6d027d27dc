# Installs what is missing, builds, tests, benchmarks and formats nabla; CI runs `make test`.

# Debian packages the build needs (DESIGN.md, "Build").
PACKAGES := build-essential cmake libopenblas-openmp-dev doctest-dev libstb-dev zlib1g-dev \
            nlohmann-json3-dev libsqlite3-dev libcli11-dev libbenchmark-dev \
            dataset-fashion-mnist curl postgresql libpq-dev

BUILD := build
ASAN_BUILD := build-asan
FUZZ_BUILD := build-fuzz
TRAIN := $(BUILD)/examples/nabla-train
# The default recipe (docs/training.md); flags after it override its values, as in
# `make train TRAIN_ARGS="--config examples/recipes/cifar10-fast.json --epochs 20"`.
TRAIN_ARGS ?= --config examples/recipes/cifar10-fast.json
JOBS := $(shell nproc)
SOURCE_DIRS := core autograd nn optim data quant hpo cuda examples tests bench tools

# apt-get needs root; sudo when it is there, else try as we are and let apt-get explain.
SUDO := $(if $(filter 0,$(shell id -u)),,$(shell command -v sudo))

# UBSan only reports and carries on unless told to halt.
SANITIZER_ENV := ASAN_OPTIONS=detect_leaks=1:detect_stack_use_after_return=1 \
                 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1

# make fuzz: clang with libFuzzer and its sanitizer runtimes (and LLVM's OpenMP, which clang links).
FUZZ_PACKAGES := clang libclang-rt-14-dev libomp-14-dev
FUZZ_SECONDS ?= 60
FUZZ_TARGETS = $(patsubst tests/fuzz/%_fuzz.cpp,%,$(wildcard tests/fuzz/*_fuzz.cpp))

# cmake --build runs make underneath; its Entering/Leaving lines are noise here.
MAKEFLAGS += --no-print-directory

# A failed configure must not leave behind a CMakeCache.txt that looks up to date.
.DELETE_ON_ERROR:
.PHONY: deps fuzz-deps build test train test-asan fuzz bench data format format-check clean

# Asks dpkg first, so that apt-get (and its network) runs only when something is missing.
deps:
	@missing=""; \
	for p in $(PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" \
	    || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing:$$missing"; \
	  $(SUDO) apt-get update \
	  && $(SUDO) env DEBIAN_FRONTEND=noninteractive \
	       apt-get install -y --no-install-recommends $$missing; \
	fi

# Configure once; cmake --build re-runs CMake by itself when a CMakeLists.txt changes. A newer
# Makefile may carry new options, so it configures again.
$(BUILD)/CMakeCache.txt: Makefile | deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release -DNABLA_WERROR=ON

$(ASAN_BUILD)/CMakeCache.txt: Makefile | deps
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DNABLA_SANITIZE=ON \
	  -DNABLA_BUILD_BENCH=OFF

build: $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j$(JOBS)

test: build
	ctest --test-dir $(BUILD) --output-on-failure -j$(JOBS)

train: build
	$(TRAIN) $(TRAIN_ARGS)

# The suite's discovery step runs test programs at build time, so the build sees the same
# sanitizer settings as ctest.
test-asan: $(ASAN_BUILD)/CMakeCache.txt
	$(SANITIZER_ENV) cmake --build $(ASAN_BUILD) -j$(JOBS)
	$(SANITIZER_ENV) ctest --test-dir $(ASAN_BUILD) --output-on-failure -j$(JOBS)

fuzz-deps:
	@$(MAKE) deps PACKAGES="$(PACKAGES) $(FUZZ_PACKAGES)"

$(FUZZ_BUILD)/CMakeCache.txt: Makefile | fuzz-deps
	cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ \
	  -DNABLA_FUZZ=ON -DNABLA_BUILD_BENCH=OFF -DNABLA_BUILD_EXAMPLES=OFF

# Runs each tests/fuzz/<name>_fuzz target for FUZZ_SECONDS under ASan/UBSan, starting from its
# seeds in tests/fuzz/corpus/<name>/; what it learns goes to $(FUZZ_BUILD)/corpus/<name>/. A crash
# stops the run and fails the target, leaving the input in $(FUZZ_BUILD)/crashes/<name>/. Once
# the bug is fixed, copy that input into tests/fuzz/corpus/<name>/: from then on it is a
# regression input that every `make test` replays (ctest fuzz_replay_<name>).
fuzz: $(FUZZ_BUILD)/CMakeCache.txt
	cmake --build $(FUZZ_BUILD) -j$(JOBS) --target fuzzers
	@for name in $(FUZZ_TARGETS); do \
	  mkdir -p $(FUZZ_BUILD)/corpus/$$name $(FUZZ_BUILD)/crashes/$$name; \
	  echo "== fuzzing $$name for $(FUZZ_SECONDS) s"; \
	  $(SANITIZER_ENV) $(FUZZ_BUILD)/tests/fuzz/$${name}_fuzz -max_total_time=$(FUZZ_SECONDS) \
	    -timeout=30 -print_final_stats=1 -artifact_prefix=$(FUZZ_BUILD)/crashes/$$name/ \
	    $(FUZZ_BUILD)/corpus/$$name tests/fuzz/corpus/$$name \
	  || { echo "$$name: the fuzzer found a crash; its input is in $(FUZZ_BUILD)/crashes/$$name/"; \
	       exit 1; }; \
	done

bench: build
	@found=0; \
	for b in $(BUILD)/bench/bench_*; do \
	  if [ -f "$$b" ] && [ -x "$$b" ]; then \
	    found=1; echo "== $$b"; "$$b" || exit 1; \
	  fi; \
	done; \
	[ $$found = 1 ] || { echo "no benchmark programs in $(BUILD)/bench"; exit 1; }

# CIFAR-10's official binary archive, fetched into ./data/ (where programs look after --data and
# $NABLA_DATA) and extracted there as cifar-10-batches-bin/; what is already there is kept.
CIFAR10_URL := https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz
CIFAR10_MD5 := c32a1d4ab5d03f1284b67883e8d87530
CIFAR10_TAR := data/cifar-10-binary.tar.gz
CIFAR10_DIR := data/cifar-10-batches-bin
CIFAR10_FILES := data_batch_1.bin data_batch_2.bin data_batch_3.bin data_batch_4.bin \
                 data_batch_5.bin test_batch.bin batches.meta.txt

data:
	@set -e; \
	missing=""; \
	for f in $(CIFAR10_FILES); do [ -f $(CIFAR10_DIR)/$$f ] || missing="$$missing $$f"; done; \
	if [ -z "$$missing" ]; then echo "data: $(CIFAR10_DIR)/ is already there"; exit 0; fi; \
	if [ -f $(CIFAR10_TAR) ] && echo "$(CIFAR10_MD5)  $(CIFAR10_TAR)" | md5sum -c --status; then \
	  echo "data: $(CIFAR10_TAR) is already downloaded"; \
	else \
	  echo "data: downloading $(CIFAR10_URL)"; \
	  if ! curl -fL --retry 2 --connect-timeout 20 -o $(CIFAR10_TAR).part $(CIFAR10_URL); then \
	    rm -f $(CIFAR10_TAR).part; \
	    echo "data: cannot download $(CIFAR10_URL) (no network?)." >&2; \
	    echo "data: fetch it where there is network, copy it to $(CIFAR10_TAR) and run make data again." >&2; \
	    exit 1; \
	  fi; \
	  if ! echo "$(CIFAR10_MD5)  $(CIFAR10_TAR).part" | md5sum -c --status; then \
	    echo "data: the download's md5 is $$(md5sum < $(CIFAR10_TAR).part | cut -d' ' -f1), expected $(CIFAR10_MD5); removed it." >&2; \
	    rm -f $(CIFAR10_TAR).part; \
	    exit 1; \
	  fi; \
	  mv $(CIFAR10_TAR).part $(CIFAR10_TAR); \
	fi; \
	tar -xzf $(CIFAR10_TAR) -C data cifar-10-batches-bin; \
	echo "data: CIFAR-10 is in $(CIFAR10_DIR)/"

FORMAT_FILES = $(shell find $(wildcard $(SOURCE_DIRS)) -name '*.h' -o -name '*.cpp')

format:
	clang-format -i $(FORMAT_FILES)

format-check:
	clang-format --dry-run --Werror $(FORMAT_FILES)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
