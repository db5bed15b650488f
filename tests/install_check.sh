#!/usr/bin/env bash
# The library as users get it: `cmake --install` into a temporary prefix, the prefix moved
# elsewhere (nothing may point back into it), then examples/stream_tokens.c built against it
# with pkg-config and with find_package (shared and static), each run on a model made by the
# installed tool. Also: libaaren.so has its SONAME and exports the public API only.
# usage: install_check.sh BUILD_DIR SOURCE_DIR [extra C flags, e.g. sanitizers]
set -uo pipefail
build=$(cd "$1" && pwd) src=$(cd "$2" && pwd) cflags=${3:-}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fails=0
check() {   # check WHAT COMMAND...: runs it, prints a verdict line
  local what=$1; shift
  if out=$("$@" 2>&1); then echo "ok   $what"; else echo "FAIL $what"; echo "$out" | tail -20; fails=$((fails + 1)); fi
}
check "cmake --install into a temporary prefix" cmake --install "$build" --prefix "$work/first"
check "the installed tree moves" mv "$work/first" "$work/prefix"
p=$work/prefix
libdir=$(dirname "$(find "$p" -name 'libaaren.so' | head -1)")
check "headers, both libraries, aaren.pc, the CMake package and the tool are installed" \
  test -f "$p/include/aaren.h" -a -f "$p/include/aaren_io.h" -a -f "$p/include/aaren_tasks.h" \
       -a -f "$p/include/aaren_export.h" -a -f "$libdir/libaaren.a" -a -f "$libdir/libaaren.so" \
       -a -f "$libdir/pkgconfig/aaren.pc" -a -f "$libdir/cmake/aaren/aarenConfig.cmake" -a -x "$p/bin/aaren"
check "the helpers the tool runs are under share/aaren/python" \
  test -f "$p/share/aaren/python/plot_forecast.py" -a -f "$p/share/aaren/python/atomic_save.py"
check "libaaren.so carries the SONAME libaaren.so.0" sh -c "objdump -p '$libdir/libaaren.so' | grep -q 'SONAME *libaaren.so.0\$'"
# Exports: the public API (aaren_* functions declared in include/) and nothing else.
exported=$(nm -D --defined-only "$libdir/libaaren.so" | awk '$2 == "T" {print $3}')
check "libaaren.so exports aaren_model_load, aaren_stream_step and aaren_fit" \
  sh -c "printf '%s\n' '$exported' | grep -qx aaren_model_load && printf '%s\n' '$exported' | grep -qx aaren_stream_step \
         && printf '%s\n' '$exported' | grep -qx aaren_fit"
check "libaaren.so keeps internals hidden (aaren_parse_long, aaren_model_f64_new, aaren_uea_load)" \
  sh -c "! printf '%s\n' '$exported' | grep -qxE 'aaren_parse_long|aaren_model_f64_new|aaren_uea_load'"
declared=$(cat "$src"/include/*.h | grep -oE '^AAREN_API [^(]*\(' | grep -oE '[a-z_0-9]+\($' | tr -d '(' | sort -u)
extra=$(comm -13 <(printf '%s\n' "$declared") <(printf '%s\n' "$exported" | sort -u))
missing=$(comm -23 <(printf '%s\n' "$declared") <(printf '%s\n' "$exported" | sort -u))
check "every exported function is declared AAREN_API in include/ (extra: ${extra:-none})" test -z "$extra"
check "every AAREN_API function is exported (missing: ${missing:-none})" test -z "$missing"

check "the installed tool makes a model" "$p/bin/aaren" init --arch aaren --d-model 16 --n-heads 2 --n-layers 2 --d-ff 32 \
  --output "$work/m.safetensors"
export PKG_CONFIG_PATH=$libdir/pkgconfig
# shellcheck disable=SC2046,SC2086
check "stream_tokens.c builds with pkg-config" \
  cc $cflags "$src/examples/stream_tokens.c" -o "$work/st_pc" $(pkg-config --cflags --libs aaren) -Wl,-rpath,"$libdir"
check "aaren.pc names no absolute library path" sh -c "! pkg-config --libs --static aaren | grep -qE '(^| )/'"
check "the pkg-config build runs" sh -c "'$work/st_pc' '$work/m.safetensors' 300 | grep -q '300 tokens, state 160 bytes'"
check "find_package(aaren) configures" cmake -S "$src/tests/install" -B "$work/consumer" -DCMAKE_PREFIX_PATH="$p" \
  -DEXAMPLE="$src/examples/stream_tokens.c" -DCMAKE_C_FLAGS="$cflags" -DCMAKE_EXE_LINKER_FLAGS="$cflags"
check "find_package(aaren) builds against aaren::aaren and aaren::aaren_static" cmake --build "$work/consumer"
check "the find_package build (shared) runs" \
  sh -c "'$work/consumer/stream_shared' '$work/m.safetensors' 300 | grep -q '300 tokens, state 160 bytes'"
check "the find_package build links libaaren.so" sh -c "ldd '$work/consumer/stream_shared' | grep -q 'libaaren.so.0 => $libdir'"
check "the find_package build (static) runs" \
  sh -c "'$work/consumer/stream_static' '$work/m.safetensors' 300 | grep -q '300 tokens, state 160 bytes'"
check "the static build needs no libaaren.so" sh -c "! ldd '$work/consumer/stream_static' | grep -q libaaren"
if [ "$fails" -eq 0 ]; then echo "install_check: passed"; else echo "install_check: FAILED ($fails)"; exit 1; fi
