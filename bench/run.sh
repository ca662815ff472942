#!/usr/bin/env bash
# Runs the benchmarks on this machine, each measured side by side in one run of its program, and
# prints the figures and ratios that matter. Usage: bench/run.sh [BUILD_DIR]
set -euo pipefail
build=${1:-build}
scratch=$(mktemp -d "$build/bench-scratch.XXXXXX")
trap 'rm -rf "$scratch"' EXIT

run() {  # run NAME PROGRAM ARGS... -> CSV in $scratch/NAME.csv
  local name=$1 program=$2; shift 2
  PIPECUT_BENCH_DIR="$scratch" "$build/bench/$program" --benchmark_format=csv "$@" \
    > "$scratch/$name.csv" 2> "$scratch/$name.log" || { cat "$scratch/$name.log" >&2; exit 1; }
}

# Prints name, time and the counters of each row (the median row when repeated).
table() {
  awk -F, '
    /^name,/ { for (i = 1; i <= NF; ++i) { gsub(/"/, "", $i); col[$i] = i }; next }
    /^"/ {
      name = $1; gsub(/"/, "", name)
      if (name ~ /_(mean|stddev|cv)$/) next
      sub(/_median$/, "", name); sub(/\/real_time$/, "", name); sub(/\/iterations:[0-9]+/, "", name)
      line = sprintf("%-44s %10.3f %s", name, $col["real_time"], $col["time_unit"])
      n = split("GOPS GOPS_per_thread fps steady_fps ideal_fps ratio files us_per_hop_here us_per_hop_server", names, " ")
      for (k = 1; k <= n; ++k) if ((names[k] in col) && $col[names[k]] != "") line = line sprintf("  %s=%.3f", names[k], $col[names[k]])
      print line
      t[name] = $col["real_time"]
    }
    END {
      if (("BM_SplitResNet101WholeTree" in t) && ("BM_CopySameBytes" in t))
        printf "\nsplit ResNet-101 + write the whole tree / copy the same bytes: %.2fx\n", t["BM_SplitResNet101WholeTree"] / t["BM_CopySameBytes"]
    }' "$1"
}

echo "== splitting (median of 3) =="
run split bench_split --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
table "$scratch/split.csv"
echo
echo "== CPU interpreter: single inference, 1 and 2 threads =="
run inference bench_runtime --benchmark_filter=BM_Inference
table "$scratch/inference.csv"
echo
echo "== ResNet-101, 7 segments as a pipeline (median of 5) =="
run pipeline bench_runtime --benchmark_filter=BM_Pipeline  # its own run: CSV needs one set of counters
table "$scratch/pipeline.csv"
run streams bench_runtime --benchmark_filter=BM_CascadeStreams
table "$scratch/streams.csv"
median_of() {  # median_of COUNTER CSV
  awk -F, -v want="$1" '/^name,/ { for (i = 1; i <= NF; ++i) { gsub(/"/, "", $i); if ($i == want) c = i }; next }
                        /_median"/ { print $c }' "$2"
}
awk -v p="$(median_of steady_fps "$scratch/pipeline.csv")" -v i="$(median_of ideal_fps "$scratch/pipeline.csv")" \
    -v s="$(median_of fps "$scratch/streams.csv")" 'BEGIN {
  if (s > 0 && i > 0) {
    printf "\none cascade per core / ideal (what two busy cores give): %.3f\n", s / i
    printf "pipeline / one cascade per core (the pipeline'"'"'s own cost):  %.3f\n", p / s
  }
}'
echo
echo "== ResNet-50 on a shared host: 1 and N threads, idle and with a busy process per core =="
run contention bench_contention
awk -F, '
  /^name,/ { for (i = 1; i <= NF; ++i) { gsub(/"/, "", $i); col[$i] = i }; next }
  /^"/ {
    name = $1; gsub(/"/, "", name)
    key = (name ~ /threads:1\//) ? "one" : "many"
    key = key ((name ~ /busy:1/) ? "_busy" : "_idle")
    med[key] = $col["median_ms"]; p90[key] = $col["p90_ms"]; n = $col["threads"]
    if (key ~ /^many/) threads = n
    printf "%-10s threads=%d  median %8.2f ms  p90 %8.2f ms  p90/median %.2f\n", key, n, med[key], p90[key], p90[key] / med[key]
  }
  END {
    printf "idle:   1 thread / %d threads = %.2fx faster  (goal >= 1.6)\n", threads, med["one_idle"] / med["many_idle"]
    printf "loaded: %d threads / 1 thread = %.2fx the time (goal <= 1.1)\n", threads, med["many_busy"] / med["one_busy"]
  }' "$scratch/contention.csv"
echo
echo "== ONNX import and float ResNet-18 against PyTorch (same seeded model, same threads) =="
# The models come from PyTorch itself (Debian's python3-torch, as the tests use them).
if /usr/bin/python3 -c "import torch, torchvision" 2> /dev/null; then
  /usr/bin/python3 tests/support/torch_models.py export "$scratch/onnx" --models resnet18,resnet50,resnet101 \
    --opsets 13 > "$scratch/export.log" 2>&1 || { cat "$scratch/export.log" >&2; exit 1; }
  # Two runs: a CSV holds one set of counters.
  PIPECUT_ONNX_DIR="$scratch/onnx" run import bench_import --benchmark_filter=BM_ImportResNet50
  PIPECUT_ONNX_DIR="$scratch/onnx" run resnet18 bench_import --benchmark_filter=BM_ResNet18Float
  awk -F, -v out="$scratch/pipecut_ms" '
    /^name,/ { for (i = 1; i <= NF; ++i) { gsub(/"/, "", $i); col[$i] = i }; next }
    /^"BM_ImportResNet50/ { printf "import resnet50: %.0f ms (goal < 1000)\n", $col["real_time"] }
    /^"BM_ResNet18Float/ { printf "pipecut resnet18 float, %d thread(s): median %.2f ms  p90 %.2f ms\n", $col["threads"], $col["median_ms"], $col["p90_ms"]
                           pc[$col["threads"]] = $col["median_ms"] }
    END { for (t in pc) print t, pc[t] > out }' "$scratch/import.csv" "$scratch/resnet18.csv"
  PIPECUT_ONNX_DIR="$scratch/onnx" run quantize bench_quantize
  awk -F, '/^name,/ { for (i = 1; i <= NF; ++i) { gsub(/"/, "", $i); col[$i] = i }; next }
           /^"BM_QuantizeFloat/ { n = $1; gsub(/"|BM_QuantizeFloat\/|\/iterations.*/, "", n)
                                  printf "quantize float %s, 16 calibration inputs: %.1f s (goal: a few seconds)\n", n, $col["real_time"] / 1000 }' "$scratch/quantize.csv"
  for threads in 1 2; do
    torch_ms=$(/usr/bin/python3 tests/support/torch_models.py time resnet18 --threads $threads --iterations 30 |
      /usr/bin/python3 -c "import json, sys; print(json.load(sys.stdin)['median_ms'])")
    pipecut_ms=$(awk -v t=$threads '$1 == t { print $2 }' "$scratch/pipecut_ms")
    [ -n "$pipecut_ms" ] || { echo "no pipecut figure for $threads thread(s)" >&2; exit 1; }
    awk -v t=$threads -v p="$pipecut_ms" -v q="$torch_ms" 'BEGIN {
      printf "PyTorch resnet18, %d thread(s): median %.2f ms; pipecut / PyTorch = %.2f\n", t, q, p / q }'
  done
else
  echo "(skipped: Debian's python3-torch is not installed)"
fi
echo
echo "== NATS JetStream against the in-process pipeline: 3 relay stages, 200 frames =="
run remote bench_remote
awk -F, '
  /^name,/ { for (i = 1; i <= NF; ++i) { gsub(/"/, "", $i); col[$i] = i }; next }
  /^"BM_/ {
    name = $1; gsub(/"/, "", name); split(name, p, "/")
    kib = p[2]; window = p[3]; kind = (p[1] == "BM_InProcess") ? "local" : (p[4] == 1 ? "memory" : "file")
    ms[kind, kib, window] = $col["real_time"] / 200; fps[kind, kib, window] = $col["fps"]
  }
  END {
    printf "%-8s %-8s %14s %14s %22s\n", "KiB", "streams", "frames/s", "local frames/s", "added ms per hop (4)"
    for (k = 1; k <= 3; ++k) {
      kib = (k == 1) ? 50 : (k == 2) ? 200 : 800
      for (m = 1; m <= 2; ++m) {
        kind = (m == 1) ? "memory" : "file"
        printf "%-8d %-8s %14.0f %14.0f %22.2f\n", kib, kind, fps[kind, kib, 8], fps["local", kib, 8],
               (ms[kind, kib, 1] - ms["local", kib, 1]) / 4
      }
    }
  }' "$scratch/remote.csv"
echo
echo "(targets: >= 500 GOPS per thread on ResNet-50; pipeline ratio >= 0.95; split / copy <= 1.0; import resnet50 < 1 s)"
