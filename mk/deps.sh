#!/bin/sh
# deps.sh - check the Debian packages the build and the tests need; install missing ones
# when run as root (apt-get update once, then apt-get install -y), else print the command.
# Usage: mk/deps.sh [build|check|slow|fuzz]
set -u
what=${1:-build}

pkgs="gcc g++ make libc6-dev pkg-config zlib1g-dev libzstd-dev libisal-dev libdeflate-dev libsimdjson-dev
libuchardet-dev libbrotli-dev libxml2-dev libxxhash-dev nettle-dev libcld2-dev libutf8proc-dev libmimalloc-dev libpcre2-dev libjansson-dev libopenblas-openmp-dev liblbfgs-dev
libmicrohttpd-dev libcurl4-openssl-dev libpsl-dev ca-certificates libopenmpi-dev openmpi-bin"
case $what in
check) pkgs="$pkgs libjansson-dev perl gzip zstd jq time groff-base curl gnuplot-nox" ;;
# make check-slow: check's, and a Slurm cluster for tests/slow/9002 (pipelines/slurm)
slow) pkgs="$pkgs libjansson-dev perl gzip zstd jq time groff-base curl gnuplot-nox slurm-wlm munge slurmdbd mariadb-server" ;;
demo) pkgs="$pkgs jq gnuplot-nox" ;;
plot) pkgs="$pkgs jq gnuplot-nox" ;;
fuzz) pkgs="$pkgs libjansson-dev clang libclang-rt-14-dev" ;;
esac

missing=
for p in $pkgs; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)
	case $st in
	*"install ok installed"*) ;;
	*) missing="$missing $p" ;;
	esac
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "crawl2lm: missing Debian packages:$missing" >&2
	echo "crawl2lm: install them with: sudo apt-get update && sudo apt-get install -y$missing" >&2
	exit 1
fi
echo "crawl2lm: installing Debian packages:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >&2 || exit 1
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing >&2 || exit 1
