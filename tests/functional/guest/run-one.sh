#!/bin/sh
# run-one.sh RUNNER PROGRAM STDOUT STDERR EXITFILE: runs PROGRAM under RUNNER
# (e.g. cr16-elf-run) in a scratch directory, storing stdout, stderr and the
# exit status (one decimal line) in the three given files.
set -u
runner=$1 prog=$(realpath "$2")
out=$(realpath "$3") err=$(realpath "$4") code=$(realpath "$5")
scratch=$(mktemp -d)
(cd "$scratch" && timeout 60 $runner "$prog" >"$out" 2>"$err")
echo $? >"$code"
rm -rf "$scratch"
