# SPDX-License-Identifier: GPL-2.0
#
# vfc: virtio front-end core, as out-of-tree modules.
#
#   make                 build against KDIR (default: the running kernel)
#   make check           lint, KUnit (modules and kunit.py run), every scenario
#   make demo            the balloon demo: inflate/deflate from the monitor
#   make guest           boot a guest with the balloon bound; the terminal is yours
#   make kunit           the KUnit suites as modules (test-kernel guest)
#   make kunit-run       the KUnit suites built in, with the kernel's kunit.py run
#   make e2e             end-to-end scenarios; KERNEL= DRIVER=vfc|kernel
#                        SCENARIO= DEVICE_PROPS= QEMU_ARGS= KERNEL_ARGS=
#   make bench           balloon steps and the ring microbenchmark, the
#                        kernel's virtio vs vfc in the same boot
#   make soak            targets, driver moves, load and unplug cycles (long)
#   make lint            W=1 + sparse against every kernel, checkpatch --strict
#   make modules-K       build for guest kernel K (build/K/)
#   make test-kernel     build (or find cached) both test kernels
#   make deps            install missing Debian packages
#
# The guest kernels (KERNEL=, comma-separated where a list makes sense):
#   stock       Debian's 6.1 (linux-image-amd64)
#   stock-6.12  Debian's 6.12 (linux-image-6.12-amd64, from bookworm-security)
#   test        the project's 6.1 kernel with the kernel's checkers
#   test-6.12   the project's 6.12 kernel with the kernel's checkers
#
# The test targets take pytest's own options too: make e2e PYTEST_ARGS='-k small'.

KDIR ?= /lib/modules/$(shell uname -r)/build
# Debian's python3, whose python3-pytest the test bed uses.
RUN := /usr/bin/python3 testbed/run.py

export KERNEL DRIVER SCENARIO DEVICE_PROPS QEMU_ARGS KERNEL_ARGS ROUNDS SOAK SOAK_SEED

.PHONY: all modules clean deps test-kernel modules-stock modules-test \
	modules-stock-6.12 modules-test-6.12 \
	lint kunit kunit-run e2e check demo bench soak guest

all: modules

modules:
	@if [ ! -f "$(KDIR)/Makefile" ]; then \
		echo "vfc: no kernel build tree at KDIR=$(KDIR)" >&2; \
		echo "  build against one with 'make KDIR=/path/to/kernel/build', or use" >&2; \
		echo "  'make modules-stock' (Debian's linux-headers-amd64, installed by 'make deps') or" >&2; \
		echo "  'make modules-test' (the project's test kernel, built by 'make test-kernel')" >&2; \
		exit 1; \
	fi
	$(MAKE) -C $(KDIR) M=$(CURDIR) W=1 modules

deps:
	@scripts/deps.sh

test-kernel: deps
	@scripts/build-kernel.sh 6.1 >/dev/null
	@scripts/build-kernel.sh 6.12 >/dev/null

modules-stock modules-stock-6.12: deps
	scripts/build-modules.sh $(@:modules-%=%)

modules-test modules-test-6.12: test-kernel
	scripts/build-modules.sh $(@:modules-%=%)

lint kunit kunit-run check soak: deps test-kernel
	$(RUN) $@ $(PYTEST_ARGS)

e2e demo bench: deps
	$(RUN) $@ $(PYTEST_ARGS)

guest: deps
	@$(RUN) guest

clean:
	rm -rf build
	@if [ -f "$(KDIR)/Makefile" ]; then $(MAKE) -C $(KDIR) M=$(CURDIR) clean; fi
