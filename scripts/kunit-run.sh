#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# vfc's KUnit suites built into a kernel, run by the kernel's own
# tools/testing/kunit/kunit.py run: the project is linked into the test
# kernel's source tree as drivers/vfc (its Kbuild and Kconfig work there),
# and kunit.py builds, boots (QEMU, x86_64) and parses with tests/.kunitconfig.
# Its build directory is kept beside the test kernel in the cache, so a warm
# run recompiles only what changed.
#
# Usage: scripts/kunit-run.sh JSON-OUT [kunit.py run options]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
json=$(realpath -m "$1")
shift

dir=$("$top/scripts/build-kernel.sh")
src=$dir/src
build=$dir/kunit-build

# The top-level Kconfig sources Documentation/Kconfig, which older caches
# of the test kernel dropped with the rest of Documentation/.
if [ ! -f "$src/Documentation/Kconfig" ]; then
	tar -xf /usr/src/linux-source-6.1.tar.xz -C "$src" --strip-components=1 \
		linux-source-6.1/Documentation/Kconfig
fi

# The project as drivers/vfc; the link follows whichever checkout runs this.
ln -sfn "$top" "$src/drivers/vfc"
if ! grep -q '^source "drivers/vfc/Kconfig"' "$src/drivers/Kconfig"; then
	# Inside the "Device Drivers" menu, which the file's last line closes.
	sed -i '$ i source "drivers/vfc/Kconfig"' "$src/drivers/Kconfig"
fi
if ! grep -q '^obj-$(CONFIG_VFC)' "$src/drivers/Makefile"; then
	echo 'obj-$(CONFIG_VFC) += vfc/' >>"$src/drivers/Makefile"
fi

mkdir -p "$build" "$(dirname "$json")"
cd "$src"
exec python3 tools/testing/kunit/kunit.py run --arch=x86_64 \
	--build_dir="$build" --kunitconfig="$top/tests/.kunitconfig" \
	--jobs="$(nproc)" --timeout=1200 --json="$json" \
	--kernel_args=init_on_free=1 "$@"
