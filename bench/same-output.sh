#!/bin/bash
# Whether this checkout's build writes the same reports as another build, byte for byte: every
# format, --fix --dry-run's json, -j 1 and -j 2, with and without --root, on each tree given.
# Each pair runs back to back: trees hold links to host paths, whose host-view answers change
# when the host does.
#
#   bash bench/same-output.sh OTHER_BIN TREE...
#   e.g. bash bench/same-output.sh /tmp/base/bin/linkcheck.js bench/out/30k/tree bench/out/300k/tree
set -u
if [ $# -lt 2 ]; then
  echo "usage: bash bench/same-output.sh OTHER_BIN TREE..." >&2
  exit 2
fi
other=$1; shift
here="$(cd "$(dirname "$0")/.." && pwd)/bin/linkcheck.js"
out=$(mktemp -d); trap 'rm -rf "$out"' EXIT
n=0; same=0
for tree in "$@"; do
  for fmt in json ndjson compact pretty dry-run; do
    for j in 1 2; do
      for root in yes no; do
        args=("$tree" --format "$fmt" -j "$j")
        [ "$fmt" = dry-run ] && args=("$tree" --fix --dry-run --format json -j "$j")
        [ "$root" = yes ] && args+=(--root "$tree")
        node "$other" "${args[@]}" >"$out/a" 2>"$out/ae"; ra=$?
        node "$here" "${args[@]}" >"$out/b" 2>"$out/be"; rb=$?
        n=$((n + 1))
        if [ "$ra" = "$rb" ] && cmp -s "$out/a" "$out/b" && cmp -s "$out/ae" "$out/be"; then
          same=$((same + 1))
        else
          echo "differs: ${args[*]} (exit $ra / $rb)"
        fi
      done
    done
  done
done
echo "$same of $n runs the same (stdout, stderr, exit code)"
[ "$same" = "$n" ]
