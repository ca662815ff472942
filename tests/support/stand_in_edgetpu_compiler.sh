#!/bin/sh
# A STAND-IN for Coral's edgetpu_compiler, used only by pipecut's tests. It is not the real
# compiler and compiles nothing: it takes the real compiler's arguments (-s, -o DIR, models...),
# prints a real compiler's output (the file STAND_IN_LOG, e.g.
# ../shared/edgetpu-logs/v16-resnet50-segment1.stdout.txt) with each model's names put in, and
# writes DIR/<stem>_edgetpu.tflite (a copy of the input) and DIR/<stem>_edgetpu.log, as the real
# compiler does. STAND_IN_MODE makes it misbehave the ways a real one can:
#   ok (default) | hang | crash | garbage (prints bytes, writes nothing) | nofile |
#   fail-on=TEXT (models whose name holds TEXT fail as the real compiler reports it, exit 1) |
#   binary (fails with a reason that is not UTF-8, exit 1)
set -u
out=.
models=""
while [ $# -gt 0 ]; do
  case "$1" in
    -o|--out_dir) shift; out="$1" ;;
    -*) ;;
    *) models="$models $1" ;;
  esac
  shift
done
mode="${STAND_IN_MODE:-ok}"
log="${STAND_IN_LOG:?STAND_IN_LOG names the real log to print}"
case "$mode" in
  hang) exec sleep 600 ;;
  crash) kill -SEGV $$ ;;
  garbage) head -c 3000 /dev/urandom; exit 0 ;;
  binary) printf 'Edge TPU Compiler version 16.0.384591198\nCompilation failed: \377\376\n'; exit 1 ;;
esac
# The log in three parts: before the first model block, the block (to the end of its operator
# table), and what follows it.
part() { awk -v want="$1" '/^Input model:/ { p = 1 } /^Compilation child/ { p = 2 }
  (want == "header" && !p) || (want == "block" && p == 1) || (want == "footer" && p == 2)' "$log"; }
part header
status=0
for m in $models; do
  stem=$(basename "$m" .tflite)
  case "$mode" in
    fail-on=*)
      case "$stem" in
        *"${mode#fail-on=}"*)
          echo "ERROR: Restored original execution plan after delegate application failure."
          echo "Compilation failed: Compilation failed due to large activation tensors in model."
          status=1
          continue ;;
      esac ;;
  esac
  part block | sed -e "s|^Input model: .*|Input model: $m|" \
    -e "s|^Output model: .*|Output model: $out/${stem}_edgetpu.tflite|" \
    -e "s|^Operation log: .*|Operation log: $out/${stem}_edgetpu.log|"
  [ "$mode" = nofile ] && continue
  cp "$m" "$out/${stem}_edgetpu.tflite"
  { head -n 1 "$log"; echo "Input: $m"; echo "Output: $out/${stem}_edgetpu.tflite"; echo
    part block | sed -n '/^Operator /,$p'; } > "$out/${stem}_edgetpu.log"
done
part footer
exit $status
