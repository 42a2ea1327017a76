#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Install, from Debian's packages, whatever vfc's build and test bed need and
# this machine lacks. Says what it installs; installs nothing when all is
# there. Needs root (or sudo) only when something is missing.
set -euo pipefail

# package -> a file or command that shows it is installed
want=(
	"qemu-system-x86:/usr/bin/qemu-system-x86_64"
	"busybox-static:/bin/busybox"
	"cpio:/usr/bin/cpio"
	"linux-source-6.1:/usr/src/linux-source-6.1.tar.xz"
	"linux-headers-amd64:"
	"linux-image-amd64:"
	# Linux 6.12, from bookworm-security: the second kernel line
	"linux-source-6.12:/usr/src/linux-source-6.12.tar.xz"
	"linux-headers-6.12-amd64:"
	"linux-image-6.12-amd64:"
	"bc:/usr/bin/bc"
	"bison:/usr/bin/bison"
	"flex:/usr/bin/flex"
	"libelf-dev:/usr/include/libelf.h"
	"libssl-dev:/usr/include/openssl/ssl.h"
	"dwarves:/usr/bin/pahole"
	"kmod:/sbin/depmod"
	"rsync:/usr/bin/rsync"
	"xz-utils:/usr/bin/xz"
	"python3:/usr/bin/python3"
	"python3-pytest:/usr/lib/python3/dist-packages/pytest"
	"sparse:/usr/bin/sparse"
	"gcc:/usr/bin/gcc"
	"make:/usr/bin/make"
)

missing=()
for entry in "${want[@]}"; do
	pkg=${entry%%:*}
	probe=${entry#*:}
	if [ -n "$probe" ] && [ -e "$probe" ]; then
		continue
	fi
	if dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed"; then
		continue
	fi
	missing+=("$pkg")
done

# Each stock guest kernel's headers must match its image exactly.
for image in linux-image-amd64 linux-image-6.12-amd64; do
	if dpkg-query -W -f='${Status}' "$image" 2>/dev/null | grep -q "ok installed"; then
		rel=$(dpkg-query -W -f='${Depends}' "$image" | sed -n 's/.*linux-image-\([^ ,]*\).*/\1/p')
		if [ -n "$rel" ] && [ ! -d "/usr/src/linux-headers-$rel" ]; then
			missing+=("linux-headers-$rel")
		fi
	fi
done

if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi

echo "[deps] installing from Debian: ${missing[*]}"
sudo=
[ "$(id -u)" = 0 ] || sudo=sudo
export DEBIAN_FRONTEND=noninteractive
if ! $sudo apt-get install -y -q --no-install-recommends "${missing[@]}" >/tmp/vfc-deps.log 2>&1; then
	echo "[deps] apt-get install failed; updating the package lists and retrying"
	$sudo apt-get update -q >>/tmp/vfc-deps.log 2>&1
	$sudo apt-get install -y -q --no-install-recommends "${missing[@]}" >>/tmp/vfc-deps.log 2>&1 ||
		{ echo "[deps] install failed; see /tmp/vfc-deps.log"; tail -n 20 /tmp/vfc-deps.log; exit 1; }
fi
echo "[deps] done"
