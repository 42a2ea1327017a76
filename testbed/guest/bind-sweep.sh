#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# bind-sweep.sh DRIVER DEVICE [MAX]: the allocation-failure sweep of a
# driver's probe, in the guest. DRIVER is the driver's directory in sysfs
# (/sys/bus/vfc/drivers/vfc_balloon), DEVICE a device on its bus. For
# N = 1, 2, ...: unbind DEVICE, make this shell's Nth allocation from now
# fail (the kernel's fail-nth, Documentation/fault-injection/), and bind
# DEVICE to DRIVER: writing to the bind file probes in this task. Until a
# bind runs through without reaching its Nth allocation, or MAX (default
# 5000). The fds of fail-nth are opened before arming, so only open(bind),
# the bind and close() count.
#
# Prints "points P bound B": P failure points, B of them a bind that
# coped (the device bound all the same); exit 1 if MAX was reached.
d=$1 addr=$2 max=${3:-5000}

# fail-nth counts only what failslab and fail_page_alloc look at: by
# default neither looks at allocations that may sleep, nor fail_page_alloc
# at order 0 or highmem. With probability 0 nothing fails but fail-nth.
cd /sys/kernel/debug/failslab || exit 1
echo N > ignore-gfp-wait && echo 0 > verbose || exit 1
cd /sys/kernel/debug/fail_page_alloc || exit 1
echo N > ignore-gfp-wait && echo N > ignore-gfp-highmem &&
	echo 0 > min-order && echo 0 > verbose || exit 1
cd /
n=0 bound=0
while [ "$n" -lt "$max" ]; do
	n=$((n + 1))
	if [ -e "$d/$addr" ]; then
		echo "$addr" > "$d/unbind"
	fi
	exec 3< /proc/thread-self/fail-nth 4> /proc/thread-self/fail-nth
	echo "$n" >&4
	echo "$addr" > "$d/bind" 2>/dev/null
	read -r left <&3
	echo 0 >&4
	exec 3<&- 4>&-
	if [ "$left" != 0 ]; then
		echo "points $((n - 1)) bound $bound"
		exit 0
	fi
	if [ -e "$d/$addr" ]; then
		bound=$((bound + 1))
	fi
done
echo "points $n bound $bound: still allocating"
exit 1
