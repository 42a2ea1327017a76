#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Build a vfc test kernel from Debian's linux-source-<line> with the config
# fragment kernel/test.config, plus kernel/test-<line>.config where the line
# needs options of its own, and cache it outside the checkout. The cache key
# is the linux-source package version plus the fragments' contents, so a
# rebuild happens only when either changes. Prints the kernel's directory.
#
# Usage: scripts/build-kernel.sh [6.1|6.12] [--print-dir]
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cache=${VFC_CACHE:-/var/cache/vfc}
line=6.1
case "${1:-}" in
6.1 | 6.12) line=$1; shift ;;
"" | --print-dir) ;;
*) echo "usage: $0 [6.1|6.12] [--print-dir]" >&2; exit 2 ;;
esac
tarball=/usr/src/linux-source-$line.tar.xz
fragments=("$top/kernel/test.config")
[ -f "$top/kernel/test-$line.config" ] && fragments+=("$top/kernel/test-$line.config")

version=$(dpkg-query -W -f='${Version}' "linux-source-$line" 2>/dev/null) ||
	{ echo "linux-source-$line is not installed: run 'make deps'" >&2; exit 1; }
key=$( { echo "$version"; cat "${fragments[@]}"; } | sha256sum | cut -c1-12)
# 6.1 keeps the directory name it had before there were two lines.
if [ "$line" = 6.1 ]; then
	dir=$cache/test-kernel-$key
else
	dir=$cache/test-kernel-$line-$key
fi

if [ "${1:-}" = "--print-dir" ]; then
	echo "$dir"
	exit 0
fi
if [ -f "$dir/.done" ]; then
	echo "$dir"
	exit 0
fi

log() { echo "[test-kernel] $*" >&2; }

log "building test kernel $line (linux-source $version, fragment key $key) in $dir"
log "this takes about 5-8 minutes on 2 cores; it is cached afterwards"
rm -rf "$dir"
mkdir -p "$dir/obj"
log "unpacking $tarball"
tar -xf "$tarball" -C "$dir"
mv "$dir/linux-source-$line" "$dir/src"

mk() { make -C "$dir/src" O="$dir/obj" "$@"; }

mk -s allnoconfig >/dev/null
"$dir/src/scripts/kconfig/merge_config.sh" -m -O "$dir/obj" \
	"$dir/obj/.config" "${fragments[@]}" >/dev/null
mk -s olddefconfig >/dev/null

# Every option of the fragment must have survived olddefconfig.
bad=0
while IFS= read -r opt_line; do
	case "$opt_line" in
	CONFIG_*=n)
		opt=${opt_line%%=*}
		if grep -q "^$opt=" "$dir/obj/.config"; then
			log "fragment wants $opt unset but .config has: $(grep "^$opt=" "$dir/obj/.config")"
			bad=1
		fi ;;
	CONFIG_*)
		if ! grep -qxF "$opt_line" "$dir/obj/.config"; then
			log "fragment wants $opt_line but .config has: $(grep "^${opt_line%%=*}=" "$dir/obj/.config" || echo unset)"
			bad=1
		fi ;;
	esac
done < <(cat "${fragments[@]}")
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
# The same line's kernels of older keys (~2 GB each) are of no more use.
if [ "$line" = 6.1 ]; then
	old=("$cache"/test-kernel-????????????)
else
	old=("$cache/test-kernel-$line-"????????????)
fi
for d in "${old[@]}"; do
	if [ -d "$d" ] && [ "$d" != "$dir" ]; then
		log "removing $d (an older key)"
		rm -rf "$d"
	fi
done
echo "$dir"
