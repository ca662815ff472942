#!/usr/bin/env bash
# Installs every Debian 12 package that `make demo`, `make test`, `make bench` and `make fuzz`
# need, on a machine that has only the base system and make. Skips what is installed, so a
# second run costs nothing. scripts/fresh-machine-check.sh proves the list on a fresh root.
set -euo pipefail
# Not listed: debootstrap, which only scripts/fresh-machine-check.sh uses; it installs it itself.
packages=(
  cmake                      # the build system
  g++                        # the release build (g++ 12)
  clang-14                   # the sanitizer and fuzzing builds (clang 14)
  libclang-rt-14-dev         # clang's ASan, UBSan, TSan and libFuzzer runtimes
  flatbuffers-compiler       # flatc: generates the .tflite reader/writer from schema/tflite.fbs
  libflatbuffers-dev         # the flatbuffers runtime headers and CMake package
  libdnnl-dev                # oneDNN: the CPU convolution and matmul kernels
  ocl-icd-opencl-dev         # OpenCL headers and loader: Debian's oneDNN CMake package requires them
  nlohmann-json3-dev         # meta.json, --json output
  libcli11-dev               # the command line
  libssl-dev                 # SHA-256 of models (inspect)
  libxxhash-dev              # XXH3-128: the content hash of split trees' files in meta.json
  libgtest-dev libgmock-dev  # the tests
  libbenchmark-dev           # the benchmarks (bench/)
  libarmnntfliteparser-dev   # Arm NN's TFLite parser: the independent reference in runtime_armnn_test
  libarmnn-cpuref-backend22  # Arm NN's reference CPU backend, which that test runs on
  libonnx-dev libprotobuf-dev  # ONNX import: Debian's ONNX library and the protobuf headers it needs
  python3-torch python3-torchvision  # tests only: export torchvision models to ONNX (/usr/bin/python3)
  python3-onnx python3-numpy  # tests only: small ONNX cases and the reference evaluation
  libnats-dev                # NATS's C client with JetStream: serve/infer's work queues
  nats-server                # the NATS server: the serve/infer tests start their own on 127.0.0.1
  libstb-dev                 # stb_image: decodes PNG (the report test's screenshot; images later)
  chromium                   # headless Chromium renders pipecut report's page in its test
  fonts-dejavu-core          # a font, so the rendered page has text
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then exit 0; fi
echo "installing: ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
