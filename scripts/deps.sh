#!/bin/bash
# Installs what kobe's build and tests need, on Debian, when run as root; elsewhere it only says
# what is missing. `deps.sh ci` adds what CI uses: clang (sanitizers), the aarch64 cross compiler
# and qemu-user.
set -u
need=()
command -v cmake >/dev/null 2>&1 || need+=(cmake)
command -v cc >/dev/null 2>&1 || need+=(gcc)
command -v make >/dev/null 2>&1 || need+=(make)
[ -e /usr/include/stdio.h ] || need+=(libc6-dev)
if [ "${1:-}" = ci ]; then
  command -v clang >/dev/null 2>&1 || need+=(clang)
  # The sanitizer runtimes are a separate package on Debian 12: prove TSan links, or get them.
  if ! echo 'int main(void){return 0;}' | clang -x c -fsanitize=thread -o /dev/null - >/dev/null 2>&1; then
    need+=(libclang-rt-dev)
  fi
  command -v aarch64-linux-gnu-gcc >/dev/null 2>&1 || need+=(gcc-aarch64-linux-gnu libc6-dev-arm64-cross)
  command -v qemu-aarch64 >/dev/null 2>&1 || need+=(qemu-user)
  command -v clang-format >/dev/null 2>&1 || need+=(clang-format)
  command -v pkg-config >/dev/null 2>&1 || need+=(pkg-config)
fi
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq "${need[@]}" >/dev/null || exit 1
else
  echo "missing: ${need[*]} (install them, or run as root on Debian)" >&2
  exit 1
fi
