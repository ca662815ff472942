# The two set-up commands of the README: `make demo` and `make test`. Both install what is missing first.
JOBS ?= $(shell nproc)
BUILD ?= build
ASAN_BUILD ?= build-asan
TSAN_BUILD ?= build-tsan
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_TARGET ?= runtime
FUZZ_MODELS = $(filter-out %_edgetpu.tflite,$(wildcard $(SHARED)/models/coral/*.tflite))
# The sanitizer builds use clang 14, so every test run covers both compilers (g++ 12 above).
SAN_CXX ?= clang++-14
SHARED ?= $(abspath ../shared)

.PHONY: deps configure tool build demo test test-fast test-sanitizers test-tsan bench fuzz format clean

deps:
	bash scripts/install-deps.sh

configure: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release -DPIPECUT_SHARED_DIR=$(SHARED) > /dev/null

# Only the command-line tool: what the demo runs.
tool: configure
	cmake --build $(BUILD) -j $(JOBS) --target pipecut_cli

# Everything: the tool, the tests and the benchmarks.
build: configure
	cmake --build $(BUILD) -j $(JOBS)

# The main job on the built-in default: the float ResNet-101 from the zoo, quantized natively
# (16 seeded calibration inputs), split at 7 MiB with greedy and optimal side by side, each split
# verified bit for bit against the whole model.
demo: tool
	mkdir -p $(BUILD)/demo
	$(BUILD)/pipecut zoo resnet101 --float -o $(BUILD)/demo/resnet101_float.tflite
	$(BUILD)/pipecut quantize $(BUILD)/demo/resnet101_float.tflite --random 16 -o $(BUILD)/demo/resnet101_int8.tflite --force
	$(BUILD)/pipecut plan $(BUILD)/demo/resnet101_int8.tflite --max-size 7MiB --min-size 2MiB --algorithms greedy,optimal,balanced
	$(BUILD)/pipecut split $(BUILD)/demo/resnet101_int8.tflite --max-size 7MiB --min-size 2MiB --algorithm greedy -o $(BUILD)/demo/resnet101_greedy --force
	$(BUILD)/pipecut verify $(BUILD)/demo/resnet101_greedy --inputs 2 > $(BUILD)/demo/verify_greedy.txt; status=$$?; tail -n 1 $(BUILD)/demo/verify_greedy.txt; exit $$status
	$(BUILD)/pipecut split $(BUILD)/demo/resnet101_int8.tflite --max-size 7MiB --min-size 2MiB --algorithm optimal -o $(BUILD)/demo/resnet101_optimal --force
	$(BUILD)/pipecut verify $(BUILD)/demo/resnet101_optimal --inputs 2 > $(BUILD)/demo/verify_optimal.txt; status=$$?; tail -n 1 $(BUILD)/demo/verify_optimal.txt; exit $$status

test-fast: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# AddressSanitizer + UndefinedBehaviorSanitizer build of the same tests (all but those labelled
# slow: the Arm NN reference runs seconds per inference even without a sanitizer).
test-sanitizers: deps
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=$(SAN_CXX) -DPIPECUT_SANITIZE=address,undefined -DPIPECUT_BENCH=OFF -DPIPECUT_SHARED_DIR=$(SHARED) > /dev/null
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ctest --output-on-failure -j $(JOBS) -LE slow

# ThreadSanitizer on the pipeline's tests, the runtime's work team and the parallel compile.
test-tsan: deps
	cmake -S . -B $(TSAN_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=$(SAN_CXX) -DPIPECUT_SANITIZE=thread -DPIPECUT_BENCH=OFF -DPIPECUT_SHARED_DIR=$(SHARED) > /dev/null
	cmake --build $(TSAN_BUILD) -j $(JOBS) --target pipeline_runner_test pipeline_wiring_test pipeline_cores_test runtime_threads_test edgetpu_tree_compile_test
	cd $(TSAN_BUILD) && ctest --output-on-failure -j $(JOBS) -R '^(Pipeline(Runner|Wiring|Queue|Cores)|RuntimeThreads\.Team|EdgeTpuTreeCompile)'

test: test-fast test-sanitizers test-tsan

bench: build
	bash bench/run.sh $(BUILD)

# libFuzzer under ASan + UBSan for FUZZ_SECONDS on any bytes as a .tflite file: FUZZ_TARGET=runtime
# (load, compile, run) or split (candidates, plans, segments), from seeds cut out of the Coral
# models, or compiler_output (any text as edgetpu_compiler's output, seeded with the real logs);
# the first finding lands in $(FUZZ_BUILD)/findings.
fuzz: deps
	cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=$(SAN_CXX) -DPIPECUT_SANITIZE=address,undefined -DPIPECUT_FUZZ=ON -DPIPECUT_TESTS=OFF -DPIPECUT_BENCH=OFF > /dev/null
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target $(FUZZ_TARGET)_fuzzer fuzz_seed_writer
	$(if $(FUZZ_MODELS),,$(error no .tflite models in $(SHARED)/models/coral to seed the fuzzer))
	$(FUZZ_BUILD)/fuzz/fuzz_seed_writer $(FUZZ_BUILD)/seeds $(FUZZ_MODELS)
	mkdir -p $(FUZZ_BUILD)/corpus-$(FUZZ_TARGET) $(FUZZ_BUILD)/findings $(FUZZ_BUILD)/log-seeds
	cp $(SHARED)/edgetpu-logs/*.txt $(FUZZ_BUILD)/log-seeds/
	$(FUZZ_BUILD)/fuzz/$(FUZZ_TARGET)_fuzzer $(FUZZ_BUILD)/corpus-$(FUZZ_TARGET) $(if $(filter compiler_output,$(FUZZ_TARGET)),$(FUZZ_BUILD)/log-seeds,$(FUZZ_BUILD)/seeds) -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=4096 -artifact_prefix=$(FUZZ_BUILD)/findings/ -print_final_stats=1

format:
	clang-format -i $$(git ls-files '*.cpp' '*.h')

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(TSAN_BUILD) $(FUZZ_BUILD)
