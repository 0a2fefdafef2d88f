#!/bin/sh
# bundle.sh - make gpu-bundle: what make check-gpu runs, packed to travel to a machine with a GPU
# that has the CUDA toolkit but not this project's Debian libraries (the device machines).
# Writes $BUILD/gpu-bundle.tar.gz laid out like a build directory: bin/ (the programs
# check-gpu.sh runs, and jq and zstd; mpirun is the device's own, where it has one), lib/
# (libkn_cuda.so and every shared library they load except the C library, the C++ runtime and
# CUDA's own, which the GPU machine has), tests/gpu/ (every GPU test program).
# There: tar xzf gpu-bundle.tar.gz -C /tmp/gb && BUILD=/tmp/gb LOGDIR=... sh tests/gpu/check-gpu.sh
set -eu
BUILD=${BUILD:-build}
out=$BUILD/gpu-bundle
rm -rf "$out" && mkdir -p "$out/bin" "$out/lib" "$out/tests/gpu"
progs="lm-train lm-sample lm-eval shard-pack bpe-train quality-score"
for p in $progs; do cp "$BUILD/bin/$p" "$out/bin/"; done
# every GPU test program (check-kernels, check-nccl, ...): check-gpu.sh runs them
for t in "$BUILD"/tests/gpu/*; do
	case $t in *.o | *.d) ;; *) [ -x "$t" ] && cp "$t" "$out/tests/gpu/" ;; esac
done
cp "$BUILD/lib/libkn_cuda.so" "$out/lib/"
for t in jq zstd; do cp "$(command -v $t)" "$out/bin/"; done
# the libraries they load, resolved here; glibc, libstdc++, libgcc_s and CUDA's stay behind
for f in "$out"/bin/* "$out"/tests/gpu/* "$out"/lib/libkn_cuda.so; do
	ldd "$f" 2>/dev/null | awk '$3 ~ /^\// { print $3 }'
done | sort -u | while read -r lib; do
	case $(basename "$lib") in
	libc.so* | libm.so* | libpthread.so* | libdl.so* | librt.so* | ld-linux* | libstdc++.so* | \
	libgcc_s.so* | libcuda.so* | libcudart.so* | libcublas.so* | libcublasLt.so*) ;;
	*) cp -L "$lib" "$out/lib/" ;;
	esac
done
tar czf "$BUILD/gpu-bundle.tar.gz" -C "$out" .
rm -rf "$out"
echo "gpu-bundle: $BUILD/gpu-bundle.tar.gz ($(du -h "$BUILD/gpu-bundle.tar.gz" | cut -f1))"
