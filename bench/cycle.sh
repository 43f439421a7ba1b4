#!/usr/bin/env bash
# One container lifecycle for the benchmark: create, start, wait for exit, delete.
# usage: cycle.sh RUNTIME ROOT BUNDLE [RUNTIME-FLAGS...]
set -eu
rt=$1 root=$2 bundle=$3
shift 3
id=bench-$$
"$rt" --root "$root" "$@" create --bundle "$bundle" --pid-file "$root/$id.pid" "$id"
"$rt" --root "$root" "$@" start "$id"
pid=$(<"$root/$id.pid")
while [ -e "/proc/$pid/stat" ] && [ "$(cut -d' ' -f3 "/proc/$pid/stat" 2>/dev/null)" != Z ]; do sleep 0.001; done
"$rt" --root "$root" "$@" delete "$id"
rm -f "$root/$id.pid"
