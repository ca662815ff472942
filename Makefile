# The two set-up commands of the README: `make demo` and `make test`. Both install what is missing first.
JOBS ?= $(shell nproc)
BUILD ?= build
ASAN_BUILD ?= build-asan
SHARED ?= $(abspath ../shared)

.PHONY: deps build demo test test-fast test-sanitizers bench format clean

deps:
	bash scripts/install-deps.sh

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release -DPIPECUT_SHARED_DIR=$(SHARED) > /dev/null
	cmake --build $(BUILD) -j $(JOBS)

# The main job on the built-in default: a ResNet-101 from the zoo, split at 7 MiB, algorithms side by side.
demo: build
	mkdir -p $(BUILD)/demo
	$(BUILD)/pipecut zoo resnet101 -o $(BUILD)/demo/resnet101_int8.tflite
	$(BUILD)/pipecut plan $(BUILD)/demo/resnet101_int8.tflite --max-size 7MiB --min-size 2MiB --algorithms greedy,optimal,balanced
	$(BUILD)/pipecut split $(BUILD)/demo/resnet101_int8.tflite --max-size 7MiB --min-size 2MiB --algorithm optimal -o $(BUILD)/demo/resnet101_split --force
	@echo "segments written to $(BUILD)/demo/resnet101_split"

test-fast: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# AddressSanitizer + UndefinedBehaviorSanitizer build of the same tests.
test-sanitizers: deps
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DPIPECUT_SANITIZE=address,undefined -DPIPECUT_BENCH=OFF -DPIPECUT_SHARED_DIR=$(SHARED) > /dev/null
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ctest --output-on-failure -j $(JOBS) -LE slow

test: test-fast test-sanitizers

bench: build
	bash bench/run.sh $(BUILD)

format:
	clang-format -i $$(git ls-files '*.cpp' '*.h')

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
