#!/usr/bin/env bash
# Lays out the data sets the way ../shared/data holds them, each file checked against the
# SHA-256 recorded in scripts/data_manifest.txt. For each file, in this order:
#   1. already in DEST with the recorded hash: kept;
#   2. in the mirror folder (--mirror DIR or $AAREN_DATA_MIRROR): copied;
#   3. made from files already in place (events/MIMIC/mimic_events.csv from the THP pickles,
#      by python/convert_events.py);
#   4. downloaded from its original public source (pinned commits), unless --offline;
# and a file is written only once its hash matches (a temporary file renamed into place).
# Files with no stable public address come from a mirror only; the data's documentation
# (README.md, SOURCE.md) too, and its absence is reported but is no failure. Data files missing
# or wrong are listed at the end and the exit status is 1.
#
#   scripts/fetch_data.sh [--dest DIR] [--mirror DIR] [--offline] [--only SUBSTRING]... [--check] [--list]
#                         [--manifest FILE]
#
#   --dest DIR     where to lay the files out [../shared/data from the repository's root]
#   --mirror DIR   a folder laid out the same way to copy from first
#   --offline      never download (fail for what neither DEST nor the mirror holds)
#   --only S       only the files whose path contains S (repeatable)
#   --check        change nothing: report which files of DEST are present and correct
#   --list         print the manifest's paths, sources and hashes, and exit
#   --manifest F   another manifest in the same format [scripts/data_manifest.txt]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
manifest="$root/scripts/data_manifest.txt"
dest="$root/../shared/data"
mirror="${AAREN_DATA_MIRROR:-}"
offline=0 check=0 list=0
only=()
usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case "$1" in
    --dest) dest="${2:?--dest needs a folder}"; shift 2 ;;
    --mirror) mirror="${2:?--mirror needs a folder}"; shift 2 ;;
    --offline) offline=1; shift ;;
    --only) only+=("${2:?--only needs a substring}"); shift 2 ;;
    --check) check=1; shift ;;
    --list) list=1; shift ;;
    --manifest) manifest="${2:?--manifest needs a file}"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "fetch_data: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[ -r "$manifest" ] || { echo "fetch_data: $manifest: cannot read the manifest" >&2; exit 2; }
if [ -n "$mirror" ] && [ ! -d "$mirror" ]; then
  echo "fetch_data: mirror folder '$mirror' does not exist" >&2; exit 2
fi
python=/usr/bin/python3
[ -x "$python" ] || python=python3

selected() {   # path: 0 when it passes the --only filters
  [ ${#only[@]} -eq 0 ] && return 0
  local s; for s in "${only[@]}"; do [[ "$1" == *"$s"* ]] && return 0; done
  return 1
}
hash_of() { sha256sum "$1" | cut -d' ' -f1; }

# Puts tmp at dest/path when its hash is the recorded one; else removes tmp and says why.
install_checked() {   # tmp path sha what
  local got; got=$(hash_of "$1")
  if [ "$got" != "$3" ]; then
    rm -f "$1"
    echo "fetch_data: $2: the $4 has SHA-256 $got, expected $3" >&2
    return 1
  fi
  mv -f "$1" "$dest/$2"
}

# A temporary file beside the target (same file system, so the rename is atomic).
tmp_for() { mkdir -p "$(dirname "$dest/$1")" && mktemp "$dest/$1.part-XXXXXX"; }

download() {   # kind url path tmp
  local kind=$1 url=$2 path=$3 tmp=$4 raw
  if ! command -v curl >/dev/null; then echo "fetch_data: $path: curl is not installed" >&2; return 1; fi
  raw=$(mktemp)
  if ! curl -fsSL --retry 2 -o "$raw" -- "${url%%#*}"; then
    rm -f "$raw"; echo "fetch_data: $path: download of ${url%%#*} failed" >&2; return 1
  fi
  case "$kind" in
    raw) mv -f "$raw" "$tmp" ;;
    gz) gzip -dc <"$raw" >"$tmp" || { rm -f "$raw"; echo "fetch_data: $path: not a gzip file" >&2; return 1; }; rm -f "$raw" ;;
    zip) "$python" - "$raw" "${url#*#}" "$tmp" <<'EOF' || { rm -f "$raw"; echo "fetch_data: $path: cannot extract ${url#*#}" >&2; return 1; }
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z, z.open(sys.argv[2]) as src, open(sys.argv[3], "wb") as out:
    shutil.copyfileobj(src, out)
EOF
      rm -f "$raw" ;;
  esac
}

if [ $list -eq 1 ]; then
  grep -v '^#' "$manifest" | while read -r sha path kind src; do
    selected "$path" && printf '%-60s %-12s %s\n  sha256 %s\n' "$path" "$kind" "$src" "$sha"
  done
  exit 0
fi

[ $check -eq 1 ] || mkdir -p "$dest"
n_ok=0 n_new=0
failed=() skipped=()
# Two passes: files made from others (convert-thp) after everything else.
for pass in 1 2; do
  while read -r sha path kind src; do
    case "$sha" in ''|'#'*) continue ;; esac
    selected "$path" || continue
    if [ "$kind" = convert-thp ]; then [ $pass -eq 2 ] || continue; else [ $pass -eq 1 ] || continue; fi
    if [ -f "$dest/$path" ] && [ "$(hash_of "$dest/$path")" = "$sha" ]; then
      n_ok=$((n_ok + 1)); continue
    fi
    if [ $check -eq 1 ]; then
      if [ "$kind" = doc ] && [ ! -e "$dest/$path" ]; then skipped+=("$path"); continue; fi
      if [ -e "$dest/$path" ]; then failed+=("$path (its SHA-256 differs from the manifest's)")
      else failed+=("$path (absent)"); fi
      continue
    fi
    tmp=$(tmp_for "$path")
    done_it=0 mirror_bad=0
    if [ -n "$mirror" ] && [ -f "$mirror/$path" ]; then
      cp -- "$mirror/$path" "$tmp" && install_checked "$tmp" "$path" "$sha" "mirror's copy" && done_it=1
      [ $done_it -eq 1 ] || mirror_bad=1
      [ $done_it -eq 1 ] && echo "copied   $path (mirror)"
    fi
    if [ $done_it -eq 0 ] && [ "$kind" = convert-thp ]; then
      d="$dest/$(dirname "$path")"
      if [ -f "$d/train.pkl" ] && [ -f "$d/dev.pkl" ] && [ -f "$d/test.pkl" ]; then
        rm -f "$tmp"; tmp="$tmp.csv"
        if "$python" "$root/python/convert_events.py" --train "$d/train.pkl" --dev "$d/dev.pkl" --test "$d/test.pkl" \
             --output "$tmp" >/dev/null && install_checked "$tmp" "$path" "$sha" "converted file"; then
          done_it=1; echo "made     $path (python/convert_events.py)"
        fi
      fi
    fi
    if [ $done_it -eq 0 ] && [ "$kind" != mirror ] && [ "$kind" != convert-thp ] && [ $offline -eq 0 ]; then
      if download "$kind" "$src" "$path" "$tmp" && install_checked "$tmp" "$path" "$sha" "download"; then
        done_it=1; echo "fetched  $path (${src%%#*})"
      fi
    fi
    rm -f "$tmp"
    if [ $done_it -eq 1 ]; then
      n_new=$((n_new + 1))
    elif [ "$kind" = doc ]; then
      skipped+=("$path")
    else
      why="not in the mirror"
      [ -n "$mirror" ] || why="no mirror given"
      [ $mirror_bad -eq 0 ] || why="the mirror's copy is wrong"
      case "$kind" in
        mirror) why="$why; it has no stable public address (mirror only)" ;;
        convert-thp) why="$why; made from train/dev/test.pkl, which are not all in place" ;;
        *) [ $offline -eq 1 ] && why="$why; --offline" || why="$why; the download failed" ;;
      esac
      failed+=("$path ($why)")
    fi
  done <"$manifest"
done

[ ${#skipped[@]} -eq 0 ] || echo "fetch_data: documentation not available without a mirror: ${skipped[*]}"
echo "fetch_data: $dest: $n_ok present and correct, $n_new added, ${#failed[@]} missing or wrong"
if [ ${#failed[@]} -gt 0 ]; then
  printf '  %s\n' "${failed[@]}" >&2
  exit 1
fi
