#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# vfc's static checks, one at a time; prints the findings and fails on any:
#   scripts/lint.sh KERNEL            W=1 and sparse (C=2) build against that
#                                     kernel (stock, test, stock-6.12, test-6.12)
#   scripts/lint.sh checkpatch[-6.12] checkpatch.pl --strict of that line's
#                                     test kernel over the project's C files
#   scripts/lint.sh conformance       CONFORMANCE.md against spec/ and the
#                                     tests (scripts/conformance.py)
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)

case "${1:-}" in
stock | test | stock-6.12 | test-6.12)
	out=$("$top/scripts/build-modules.sh" "$1" C=2 2>&1)
	rc=$?
	echo "$out"
	if [ $rc -ne 0 ] || grep -qE "warning:|error:" <<<"$out"; then
		exit 1
	fi
	;;
checkpatch | checkpatch-6.12)
	kdir=$("$top/scripts/kernel-info.sh" "test${1#checkpatch}" kdir) || exit 1
	checkpatch=$(dirname "$kdir")/src/scripts/checkpatch.pl
	files=$(cd "$top" && git ls-files -co --exclude-standard -- '*.c' '*.h' | grep -v '^build/')
	# With -f, checkpatch prints a "total:" line per file even when it is clean.
	# vfc_compat.h is where kernel versions are compared and older kernels'
	# spellings live: checkpatch's rules against LINUX_VERSION_CODE and
	# non-const ops structs (meant for code of one kernel) are off there alone.
	out=$(cd "$top" && {
		perl "$checkpatch" --strict --no-tree --quiet --terse -f $(grep -vx vfc_compat.h <<<"$files")
		perl "$checkpatch" --strict --no-tree --quiet --terse --ignore LINUX_VERSION_CODE,CONST_STRUCT -f vfc_compat.h
	} 2>&1 | grep -v '^total: 0 errors, 0 warnings, 0 checks')
	echo "checkpatch --strict ($(basename "$(dirname "$kdir")")): $(wc -w <<<"$files") files"
	if [ -n "$out" ]; then
		echo "$out"
		exit 1
	fi
	;;
conformance)
	python3 "$top/scripts/conformance.py"
	;;
*)
	echo "usage: $0 stock|test|stock-6.12|test-6.12|checkpatch|checkpatch-6.12|conformance" >&2
	exit 2
	;;
esac
