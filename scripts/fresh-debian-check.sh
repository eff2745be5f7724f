#!/usr/bin/env bash
# Prove the README on a bare Debian 12: debootstrap a minimal bookworm, install only what a user's
# bare machine has (python3 python3-venv make git ca-certificates), clone this repository's HEAD
# into it and run .ci/run there as root, without stdin, with CI=true. Needs root and debootstrap.
#   scripts/fresh-debian-check.sh [DIR]      (default /tmp/incubator-fresh; reused when present)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
[ "$(id -u)" -eq 0 ] || die "run as root (debootstrap and chroot)"
command -v debootstrap >/dev/null || die "apt-get install -y debootstrap"
DIR="${1:-/tmp/incubator-fresh}"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"

if [ ! -x "$DIR/usr/bin/apt-get" ]; then
  say "debootstrap bookworm into $DIR"
  debootstrap --variant=minbase bookworm "$DIR" "$MIRROR" >/dev/null
fi
cp /etc/resolv.conf "$DIR/etc/resolv.conf"
printf 'deb %s bookworm main\ndeb %s bookworm-updates main\ndeb http://deb.debian.org/debian-security bookworm-security main\n' \
  "$MIRROR" "$MIRROR" >"$DIR/etc/apt/sources.list"
# Services must not start inside the chroot while packages install (a real machine starts them).
printf '#!/bin/sh\nexit 101\n' >"$DIR/usr/sbin/policy-rc.d"
chmod +x "$DIR/usr/sbin/policy-rc.d"
# A network that inspects TLS needs its certificate authority on the "fresh" machine too.
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
  mkdir -p "$DIR/usr/local/share/ca-certificates"
  cp /usr/local/share/ca-certificates/*.crt "$DIR/usr/local/share/ca-certificates/"
fi
mountpoint -q "$DIR/proc" || mount -t proc proc "$DIR/proc"
trap 'umount "$DIR/proc" 2>/dev/null || true' EXIT

IN_CHROOT=(chroot "$DIR" /usr/bin/env -i HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive
  PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin)
say "a user's bare machine: python3 python3-venv make git ca-certificates"
"${IN_CHROOT[@]}" bash -c 'apt-get update -qq && apt-get install -y -qq python3 python3-venv make git ca-certificates >/dev/null && update-ca-certificates >/dev/null'

rm -rf "$DIR/root/incubator"
git clone -q "$ROOT" "$DIR/root/incubator"
say "in the chroot: .ci/run on $(git -C "$DIR/root/incubator" log --oneline -1)"
"${IN_CHROOT[@]}" CI=true bash -c 'cd /root/incubator && time .ci/run' </dev/null
