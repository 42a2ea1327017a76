#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Where the two guest kernels live. Usage:
#   scripts/kernel-info.sh stock|test release|kdir|image|modules
# stock: Debian's linux-image-amd64 with its linux-headers-amd64.
# test:  the project's test kernel (scripts/build-kernel.sh, cached).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)

case "${1:-}" in
stock)
	rel=$(dpkg-query -W -f='${Depends}' linux-image-amd64 |
		sed -n 's/.*linux-image-\([^ ,]*\).*/\1/p')
	[ -n "$rel" ] || { echo "linux-image-amd64 is not installed" >&2; exit 1; }
	kdir=/usr/src/linux-headers-$rel
	image=/boot/vmlinuz-$rel
	modules=/lib/modules/$rel
	;;
test)
	dir=$("$top/scripts/build-kernel.sh" --print-dir)
	[ -f "$dir/.done" ] || { echo "test kernel not built: run 'make test-kernel'" >&2; exit 1; }
	rel=$(cat "$dir/obj/include/config/kernel.release")
	kdir=$dir/obj
	image=$dir/obj/arch/x86/boot/bzImage
	modules=$dir/mods/lib/modules/$rel
	;;
*)
	echo "usage: $0 stock|test release|kdir|image|modules" >&2
	exit 2
	;;
esac

case "${2:-}" in
release) echo "$rel" ;;
kdir) echo "$kdir" ;;
image) echo "$image" ;;
modules) echo "$modules" ;;
*) echo "usage: $0 stock|test release|kdir|image|modules" >&2; exit 2 ;;
esac
