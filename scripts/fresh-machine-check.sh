#!/usr/bin/env bash
# Proves the README's set-up commands on a fresh Debian 12: bootstraps a minimal root
# (debootstrap --variant=minbase bookworm), copies the committed tree (git archive HEAD) and
# ../shared into it, installs only make there, and runs COMMAND (default: make demo) inside it
# with chroot. Whatever the command needs beyond the base system must come from the repository
# (scripts/install-deps.sh), so a package installed by hand on this machine cannot hide a gap.
#
# Usage: scripts/fresh-machine-check.sh [COMMAND]      (as root; e.g. "make test")
# The bootstrapped base is cached as a tarball under /var/tmp (delete it to bootstrap anew),
# so a second run takes seconds to set up. The root is unmounted and deleted on exit, also on
# failure or interrupt. The last line says passed or failed, with the time.
set -euo pipefail

command=${1:-make demo}
repo=$(git -C "$(dirname "$0")/.." rev-parse --show-toplevel)
shared=$(cd "$repo/../shared" 2>/dev/null && pwd) || {
  echo "fresh-machine-check: $repo/../shared is missing (the tests read models from it)" >&2
  exit 2
}
[ "$(id -u)" -eq 0 ] || { echo "fresh-machine-check: needs root (debootstrap, chroot, mount)" >&2; exit 2; }
cache=${FRESH_CACHE:-/var/tmp/pipecut-bookworm-minbase.tar}
start=$(date +%s)

elapsed() {
  local s=$(($(date +%s) - start))
  printf '%dm%02ds' $((s / 60)) $((s % 60))
}

if ! command -v debootstrap > /dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq --no-install-recommends debootstrap > /dev/null
fi

root=$(mktemp -d /var/tmp/pipecut-fresh.XXXXXX)
chmod 755 "$root"  # it becomes the chroot's /, which apt's _apt user must be able to read
mounts_under_root() { findmnt -rn -o TARGET | grep -E "^$root(/|$)" | sort -r; }
cleanup() {
  local status=$?
  set +e
  # Everything mounted under the root, deepest first (ours, and any debootstrap left behind).
  for m in $(mounts_under_root); do umount "$m" 2> /dev/null || umount -l "$m"; done
  # Never delete through a mount that is still there (it would reach the host's /dev).
  if [ -n "$(mounts_under_root)" ]; then
    echo "fresh-machine-check: could not unmount under $root; left it in place" >&2
  else
    rm -rf --one-file-system "$root" "$root.debootstrap.log"
  fi
  if [ "$status" -eq 0 ]; then
    echo "fresh-machine-check: passed: '$command' on a fresh Debian 12 in $(elapsed)"
  else
    echo "fresh-machine-check: FAILED (exit $status): '$command' on a fresh Debian 12 after $(elapsed)"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ ! -s "$cache" ]; then
  echo "fresh-machine-check: bootstrapping Debian 12 (minbase) into $root, cached as $cache"
  debootstrap --variant=minbase bookworm "$root" > "$root.debootstrap.log" 2>&1 || {
    tail -n 20 "$root.debootstrap.log" >&2
    rm -f "$root.debootstrap.log"
    exit 1
  }
  rm -f "$root.debootstrap.log"
  tar -C "$root" -cf "$cache.tmp" . && mv "$cache.tmp" "$cache"
else
  tar -C "$root" -xf "$cache"
fi

mkdir -p "$root/work/main" "$root/work/shared"
git -C "$repo" archive HEAD | tar -x -C "$root/work/main"
cp -a "$shared/." "$root/work/shared/"
cp /etc/resolv.conf "$root/etc/resolv.conf"
mount -t proc proc "$root/proc"
mount --bind /dev "$root/dev"

in_root() {
  chroot "$root" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM=dumb \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin bash -c "$1"
}
echo "fresh-machine-check: installing make, then running '$command' in /work/main"
in_root "export DEBIAN_FRONTEND=noninteractive; apt-get update -qq && apt-get install -y -qq --no-install-recommends make > /dev/null"
in_root "cd /work/main && $command"
