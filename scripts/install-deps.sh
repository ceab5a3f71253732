#!/usr/bin/env bash
# Installs, from Debian packages, whatever kizuki needs to build, test and benchmark, when it is missing.
# Called by every make target, so a fresh Debian machine needs nothing but `make demo` or `make test`.
# Usage: scripts/install-deps.sh [build|test|bench|all]   (default: all)
set -euo pipefail
want=${1:-all}
build_pkgs=(gcc make cmake pkg-config zlib1g-dev libyaml-dev libvectorscan-dev libpcre2-dev
    libsqlite3-dev libssl-dev libzstd-dev libmaxminddb-dev)
# python3-maxminddb: an independent reader of the geoip.mmdb kizuki simulate writes (tests/e2e/geoip.sh).
test_pkgs=(python3 python3-maxminddb libevtx-utils clang libclang-rt-14-dev)
# bench/run.sh: /usr/bin/time for CPU% and peak RSS, evtxexport as the peer, python3 for a synthetic file.
bench_pkgs=(time libevtx-utils python3)
pkgs=("${build_pkgs[@]}")
case $want in
    build) ;;
    test) pkgs+=("${test_pkgs[@]}") ;;
    bench) pkgs+=("${bench_pkgs[@]}") ;;
    all) pkgs+=("${test_pkgs[@]}" "${bench_pkgs[@]}") ;;
    *) echo "usage: scripts/install-deps.sh [build|test|bench|all]" >&2; exit 2 ;;
esac
missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "install-deps: installing ${missing[*]}" >&2
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
stamp=/var/lib/apt/periodic/kizuki-update-stamp
if [ ! -f "$stamp" ] || [ -n "$(find "$stamp" -mmin +360 2>/dev/null)" ]; then
    $SUDO apt-get update -qq && $SUDO mkdir -p "$(dirname "$stamp")" && $SUDO touch "$stamp"
fi
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
