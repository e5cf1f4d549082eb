#!/bin/bash
# Compiles the README's example against the built library with warnings as errors, runs it, and
# checks that it echoes: the first thing a reader copies must work.
set -euo pipefail
build=${1:-build}
work=$(mktemp -d)
trap 'kill $pid 2>/dev/null; rm -rf "$work"' EXIT
pid=
awk '/^```c/{f=1;next} /^```/{f=0} f' README.md >"$work/example.c"
cc -std=c17 -Wall -Wextra -Werror -Iinclude "$work/example.c" "$build/libkobe.a" -lpthread \
  -o "$work/example"
"$work/example" &
pid=$!
for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/6142) 2>/dev/null && break; sleep 0.05; done
reply=$(exec 3<>/dev/tcp/127.0.0.1/6142; printf 'ping' >&3; head -c 4 <&3)
[ "$reply" = ping ] || { echo "README example did not echo (got '$reply')"; exit 1; }
echo "README example: compiles with -Werror and echoes"
