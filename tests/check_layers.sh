#!/bin/bash
# No file of a lower layer of src/ includes a file of a higher one. The layers, lowest first:
#   base < kernels < layers < model < io < train < data < rl < tasks < serve < cli
# (base: errors, files, numbers, the clock, random numbers, threads, processes). A file in
# src/X may include "Y/..." only when Y is X or lower. The tool (src/cli) reaches the library
# only through "tasks/private_api.h" and the server's "serve/serve.h" (docs/architecture.md).
# Prints every violation (file, line, include) and exits 1 when there is one; 0 otherwise.
# Usage: bash tests/check_layers.sh [SOURCE_ROOT]
root="${1:-$(cd "$(dirname "$0")/.." && pwd)}"
order=(base kernels layers model io train data rl tasks serve cli)
declare -A rank
for i in "${!order[@]}"; do rank[${order[$i]}]=$i; done
bad=0
files=0
while IFS= read -r f; do
  files=$((files + 1))
  dir="${f#"$root"/src/}"
  dir="${dir%%/*}"
  here="${rank[$dir]}"
  if [ -z "$here" ]; then
    echo "src/$dir: a folder of no known layer (add it to tests/check_layers.sh)"
    bad=1
    continue
  fi
  while IFS= read -r hit; do
    line="${hit%%:*}"
    inc="${hit#*\"}"
    inc="${inc%%\"*}"
    target="${inc%%/*}"
    there="${rank[$target]}"
    [ -z "$there" ] && continue   # "kernels.h" in its own folder, or a public header
    if [ "$dir" = cli ] && [ "$target" != cli ] && [ "$inc" != tasks/private_api.h ] && [ "$inc" != serve/serve.h ]; then
      echo "${f#"$root"/}:$line: includes \"$inc\" (the tool includes tasks/private_api.h, not other headers of src/)"
      bad=1
    elif [ "$there" -gt "$here" ]; then
      echo "${f#"$root"/}:$line: includes \"$inc\" ($target is above $dir)"
      bad=1
    fi
  done < <(grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"[a-z_]*/' "$f")
done < <(find "$root/src" -type f \( -name '*.c' -o -name '*.h' -o -name '*.inc' \) | sort)
if [ "$files" -eq 0 ]; then
  echo "no sources under $root/src"
  exit 1
fi
[ "$bad" -eq 0 ] && echo "layers: $files files, no include of a higher layer"
exit "$bad"
