#!/usr/bin/env bash
# Writes a `tags` file (ctags format) for src/, include/, tests/ and bench/, so that an editor
# jumps to every definition, including the numerics written once through the precision macro
# FN(name) (src/kernels/precision.h) and compiled twice: `void FN(aaren_linear_forward)(...)`
# is found under aaren_linear_forward and under its float64 twin aaren_linear_forward_f64.
# Needs universal-ctags (Debian: universal-ctags). Usage: bash scripts/tags.sh [OUTPUT]
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-tags}"
command -v ctags >/dev/null || { echo "tags.sh: ctags not found (apt-get install universal-ctags)" >&2; exit 1; }
tmp="$out.tmp.$$"
trap 'rm -f "$tmp"' EXIT
ctags -f "$tmp" --languages=C --langmap=C:+.inc --kinds-C=+p \
  --regex-C='/^[A-Za-z_][A-Za-z0-9_ \*]*[ \*]FN\(([A-Za-z0-9_]+)\)[ ]*\(/\1/f,function/' \
  --regex-C='/^[A-Za-z_][A-Za-z0-9_ \*]*[ \*]FN\(([A-Za-z0-9_]+)\)[ ]*\(/\1_f64/f,function/' \
  --regex-C='/^typedef struct FN\(([A-Za-z0-9_]+)\)/\1/t,typedef/' \
  -R src include tests bench
mv "$tmp" "$out"
trap - EXIT
echo "wrote $out: $(grep -vc '^!' "$out") tags"
