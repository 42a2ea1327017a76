#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# vfc's static checks, one at a time; prints the findings and fails on any:
#   scripts/lint.sh stock|test   W=1 and sparse (C=2) build against that kernel
#   scripts/lint.sh checkpatch   the kernel's checkpatch.pl --strict over the
#                                project's C files
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)

case "${1:-}" in
stock | test)
	out=$("$top/scripts/build-modules.sh" "$1" C=2 2>&1)
	rc=$?
	echo "$out"
	if [ $rc -ne 0 ] || grep -qE "warning:|error:" <<<"$out"; then
		exit 1
	fi
	;;
checkpatch)
	kdir=$("$top/scripts/kernel-info.sh" test kdir) || exit 1
	checkpatch=$(dirname "$kdir")/src/scripts/checkpatch.pl
	files=$(cd "$top" && git ls-files -co --exclude-standard -- '*.c' '*.h' | grep -v '^build/')
	# With -f, checkpatch prints a "total:" line per file even when it is clean.
	out=$(cd "$top" && perl "$checkpatch" --strict --no-tree --quiet --terse -f $files 2>&1 |
		grep -v '^total: 0 errors, 0 warnings, 0 checks')
	echo "checkpatch --strict: $(wc -w <<<"$files") files"
	if [ -n "$out" ]; then
		echo "$out"
		exit 1
	fi
	;;
*)
	echo "usage: $0 stock|test|checkpatch" >&2
	exit 2
	;;
esac
