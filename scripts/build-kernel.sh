#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the vfc test kernel from Debian's linux-source (6.1) with the config
# fragment kernel/test.config, and cache it outside the checkout. The cache
# key is the linux-source package version plus the fragment's contents, so a
# rebuild happens only when either changes. Prints the kernel's directory.
#
# Usage: scripts/build-kernel.sh [--print-dir]
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cache=${VFC_CACHE:-/var/cache/vfc}
tarball=/usr/src/linux-source-6.1.tar.xz
fragment=$top/kernel/test.config

version=$(dpkg-query -W -f='${Version}' linux-source-6.1)
key=$( { echo "$version"; cat "$fragment"; } | sha256sum | cut -c1-12)
dir=$cache/test-kernel-$key

if [ "${1:-}" = "--print-dir" ]; then
	echo "$dir"
	exit 0
fi
if [ -f "$dir/.done" ]; then
	echo "$dir"
	exit 0
fi

log() { echo "[test-kernel] $*" >&2; }

log "building test kernel (linux-source $version, fragment key $key) in $dir"
log "this takes about 5-8 minutes on 2 cores; it is cached afterwards"
rm -rf "$dir"
mkdir -p "$dir/obj"
log "unpacking $tarball"
tar -xf "$tarball" -C "$dir"
mv "$dir/linux-source-6.1" "$dir/src"

mk() { make -C "$dir/src" O="$dir/obj" "$@"; }

mk -s allnoconfig >/dev/null
"$dir/src/scripts/kconfig/merge_config.sh" -m -O "$dir/obj" \
	"$dir/obj/.config" "$fragment" >/dev/null
mk -s olddefconfig >/dev/null

# Every option of the fragment must have survived olddefconfig.
bad=0
while IFS= read -r line; do
	case "$line" in
	CONFIG_*=n)
		opt=${line%%=*}
		if grep -q "^$opt=" "$dir/obj/.config"; then
			log "fragment wants $opt unset but .config has: $(grep "^$opt=" "$dir/obj/.config")"
			bad=1
		fi ;;
	CONFIG_*)
		if ! grep -qxF "$line" "$dir/obj/.config"; then
			log "fragment wants $line but .config has: $(grep "^${line%%=*}=" "$dir/obj/.config" || echo unset)"
			bad=1
		fi ;;
	esac
done < "$fragment"
[ "$bad" = 0 ] || { log "config fragment did not apply"; exit 1; }

# Show progress: one line per 250 compiled objects; full log kept in the cache.
log "compiling (log: $dir/build.log)"
start=$SECONDS
if ! mk -j"$(nproc)" bzImage modules 2>&1 | tee "$dir/build.log" |
	awk '/^  CC/ { n++; if (n % 250 == 0) { printf "[test-kernel] %d objects compiled\n", n > "/dev/stderr"; fflush("/dev/stderr") } }'; then
	log "build failed; last lines of $dir/build.log:"
	tail -n 30 "$dir/build.log" >&2
	exit 1
fi
grep -q "Kernel: arch/x86/boot/bzImage is ready" "$dir/build.log" ||
	{ log "bzImage missing; see $dir/build.log"; tail -n 30 "$dir/build.log" >&2; exit 1; }
mk -s INSTALL_MOD_PATH="$dir/mods" INSTALL_MOD_STRIP=1 modules_install >/dev/null
# Keep the kunit.py parser beside it (pure Python, used on the host).
rm -rf "$dir/src/Documentation"
touch "$dir/.done"
log "built in $((SECONDS - start)) s"
echo "$dir"
