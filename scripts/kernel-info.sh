#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Where the guest kernels live. Usage:
#   scripts/kernel-info.sh KERNEL release|kdir|image|modules
# stock:      Debian's linux-image-amd64 (6.1) with its headers.
# stock-6.12: Debian's linux-image-6.12-amd64 with its headers.
# test:       the project's 6.1 test kernel (scripts/build-kernel.sh, cached).
# test-6.12:  the project's 6.12 test kernel (scripts/build-kernel.sh 6.12).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
usage() {
	echo "usage: $0 stock|test|stock-6.12|test-6.12 release|kdir|image|modules" >&2
	exit 2
}

case "${1:-}" in
stock | stock-6.12)
	pkg=linux-image-amd64
	[ "$1" = stock ] || pkg=linux-image-${1#stock-}-amd64
	rel=$(dpkg-query -W -f='${Depends}' "$pkg" 2>/dev/null |
		sed -n 's/.*linux-image-\([^ ,]*\).*/\1/p')
	[ -n "$rel" ] || { echo "$pkg is not installed: run 'make deps'" >&2; exit 1; }
	kdir=/usr/src/linux-headers-$rel
	image=/boot/vmlinuz-$rel
	modules=/lib/modules/$rel
	;;
test | test-6.12)
	line=6.1
	[ "$1" = test ] || line=${1#test-}
	dir=$("$top/scripts/build-kernel.sh" "$line" --print-dir)
	[ -f "$dir/.done" ] || { echo "$1 kernel not built: run 'make test-kernel'" >&2; exit 1; }
	rel=$(cat "$dir/obj/include/config/kernel.release")
	kdir=$dir/obj
	image=$dir/obj/arch/x86/boot/bzImage
	modules=$dir/mods/lib/modules/$rel
	;;
*) usage ;;
esac

case "${2:-}" in
release) echo "$rel" ;;
kdir) echo "$kdir" ;;
image) echo "$image" ;;
modules) echo "$modules" ;;
*) usage ;;
esac
