#!/usr/bin/env bash
# Installs the Debian 12 packages pipecut needs to build and test. Skips what is installed.
set -euo pipefail
packages=(
  cmake make g++ clang-14 libclang-rt-14-dev   # toolchains (clang for the sanitizer runs)
  flatbuffers-compiler libflatbuffers-dev      # the .tflite format
  libdnnl-dev                                  # oneDNN: CPU kernels
  nlohmann-json3-dev libcli11-dev libssl-dev   # JSON, command line, SHA-256
  libgtest-dev libgmock-dev libbenchmark-dev   # tests and benchmarks
  libarmnntfliteparser-dev libarmnn-cpuref-backend22  # the independent TFLite reference in tests
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
