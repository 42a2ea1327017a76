#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# vfc's static checks, one PASS/FAIL line each, findings printed below a
# failing line: W=1 and sparse (C=2) builds against both guest kernels, and
# the kernel's checkpatch.pl --strict over the project's C files.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
status=0

for kernel in stock test; do
	out=$("$top/scripts/build-modules.sh" "$kernel" C=2 2>&1)
	rc=$?
	findings=$(grep -E "warning:|error:" <<<"$out")
	if [ $rc -ne 0 ] || [ -n "$findings" ]; then
		echo "FAIL W=1 + sparse build ($kernel kernel)"
		echo "$out" | sed 's/^/    /'
		status=1
	else
		echo "PASS W=1 + sparse build ($kernel kernel)"
	fi
done

kdir=$("$top/scripts/kernel-info.sh" test kdir)
checkpatch=$(dirname "$kdir")/src/scripts/checkpatch.pl
files=$(cd "$top" && git ls-files -co --exclude-standard -- '*.c' '*.h' | grep -v '^build/')
# With -f, checkpatch prints a "total:" line per file even when it is clean.
out=$(cd "$top" && perl "$checkpatch" --strict --no-tree --quiet --terse -f $files 2>&1 |
	grep -v '^total: 0 errors, 0 warnings, 0 checks')
if [ -n "$out" ]; then
	echo "FAIL checkpatch --strict ($(wc -w <<<"$files") files)"
	echo "$out" | sed 's/^/    /'
	status=1
else
	echo "PASS checkpatch --strict ($(wc -w <<<"$files") files)"
fi
exit $status
