#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The guest's half of the runner's command channel, on the second serial
# port (the kernel's console keeps the first): one command per line in; its
# output between markers and its exit code out. Echo is off, so the host
# never reads its own commands back.
exec 0</dev/ttyS1 1>/dev/ttyS1 2>&1
stty -echo
echo "@@VFC-READY $(uname -r)"
while IFS= read -r line; do
	sh -c "$line" >/tmp/.out 2>&1 </dev/null
	rc=$?
	echo "@@VFC-BEGIN"
	cat /tmp/.out
	echo "@@VFC-END $rc"
done
