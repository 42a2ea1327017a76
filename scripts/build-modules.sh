#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Build vfc's modules for one of the guest kernels, in a copy of the tree
# under build/<kernel>/ so that both kernels' modules exist side by side,
# and the test bed's planted-fault module (testbed/fault/) beside them: a
# user's `make` never builds that one.
# Usage: scripts/build-modules.sh stock|test [extra make arguments]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
kernel=$1
shift
kdir=$("$top/scripts/kernel-info.sh" "$kernel" kdir)
out=$top/build/$kernel/src
mkdir -p "$out"
rsync -a --delete --exclude .git --exclude build --exclude '*.o' --exclude '*.ko' \
	--exclude '.*.cmd' --exclude '*.mod*' --exclude Module.symvers --exclude modules.order \
	"$top/" "$out/" --filter='protect *.o' --filter='protect *.ko' --filter='protect .*.cmd' \
	--filter='protect *.mod*' --filter='protect Module.symvers' --filter='protect modules.order'
# Debian's headers have no vmlinux for BTF; the build says so for every
# module, which is noise, not a finding.
for m in "$out" "$out/testbed/fault"; do
	make -s -C "$kdir" M="$m" W=1 "$@" modules 2>&1 | { grep -v '^Skipping BTF generation' || true; }
done
