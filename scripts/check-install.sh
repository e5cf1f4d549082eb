#!/bin/bash
# Installs kobe into a scratch prefix and builds a small consumer against it twice: through
# pkg-config and through CMake's find_package. Run from the repository root after a build.
set -euo pipefail
build=${1:-build}
prefix=$(mktemp -d)
work=$(mktemp -d)
trap 'rm -rf "$prefix" "$work"' EXIT
cmake --install "$build" --prefix "$prefix" >/dev/null
cat >"$work/hello.c" <<'C'
#include <kobe.h>
#include <stdio.h>
static void *hello(void *arg) {
    (void)arg;
    kobe_sleep_ms(1);
    printf("hello from task %llu\n", (unsigned long long)kobe_task_id());
    return NULL;
}
int main(void) { return kobe_run(NULL, hello, NULL, NULL) == 0 ? 0 : 1; }
C
pc=$(dirname "$(find "$prefix" -name kobe.pc | head -1)")
export PKG_CONFIG_PATH=$pc
cc -o "$work/hello_pc" "$work/hello.c" $(pkg-config --cflags kobe) $(pkg-config --libs kobe)
LD_LIBRARY_PATH=$(pkg-config --variable=libdir kobe) "$work/hello_pc" | grep -q "hello from task"
cat >"$work/CMakeLists.txt" <<'CM'
cmake_minimum_required(VERSION 3.16)
project(hello C)
find_package(kobe 0.1 REQUIRED)
add_executable(hello hello.c)
target_link_libraries(hello PRIVATE kobe::kobe_static)
CM
cmake -S "$work" -B "$work/b" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$work/b" >/dev/null
"$work/b/hello" | grep -q "hello from task"
echo "install: pkg-config and find_package consumers built and ran"
