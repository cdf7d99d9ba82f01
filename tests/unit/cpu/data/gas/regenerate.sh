#!/bin/sh
# Regenerates the objdump reference data used by disas_gas_test.cpp from
# binutils' CR16 assembler tests (gas/testsuite/gas/cr16/*.s).
#
# For every test source: assemble it with cr16-elf-as, take the raw .text
# bytes (so no symbols or relocations influence the output) and record what
# `cr16-elf-objdump -D -z -b binary -m cr16` prints for them.
#
# Usage: regenerate.sh [BINUTILS_SOURCE_DIR]
#   BINUTILS_SOURCE_DIR defaults to /work/src-ref/binutils-2.40.
#   The toolchain is taken from $CR16_PREFIX/bin (default
#   $HOME/.cache/cr16-toolchain/bin) or PATH.
# Output format (<test>.txt): "bytes <hex>" lines holding the whole section,
# then one "<hex address>\t<objdump text>" line per instruction.
set -eu
src=${1:-/work/src-ref/binutils-2.40}/gas/testsuite/gas/cr16
out=$(cd "$(dirname "$0")" && pwd)
prefix=${CR16_PREFIX:-$HOME/.cache/cr16-toolchain}
PATH=$prefix/bin:$PATH
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for s in "$src"/*.s; do
  name=$(basename "$s" .s)
  if ! cr16-elf-as -o "$work/$name.o" "$s" 2>"$work/$name.err"; then
    echo "skip $name (does not assemble)" >&2
    continue
  fi
  cr16-elf-objcopy -O binary -j .text "$work/$name.o" "$work/$name.bin"
  [ -s "$work/$name.bin" ] || { echo "skip $name (empty)" >&2; continue; }
  {
    echo "# $name.s from binutils gas/testsuite/gas/cr16, disassembled by cr16-elf-objdump"
    od -An -v -tx1 "$work/$name.bin" | tr -d ' \n' | fold -w 64 | sed 's/^/bytes /'
    echo
    cr16-elf-objdump -D -z -b binary -m cr16 "$work/$name.bin" |
      awk -F'\t' '/^ *[0-9a-f]+:\t/ && NF >= 3 {
        addr = $1; sub(/^ +/, "", addr); sub(/:$/, "", addr)
        text = $3; for (i = 4; i <= NF; ++i) text = text "\t" $i
        print addr "\t" text }'
  } > "$out/$name.txt"
done
