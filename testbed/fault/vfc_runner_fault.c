// SPDX-License-Identifier: GPL-2.0
/*
 * A planted fault for the vfc test bed's own self-test: loading this module
 * makes the kernel report something, and the runner must fail the run that
 * loaded it. It proves the runner reads guest logs, not that vfc works.
 *
 *   modprobe vfc_runner_fault fault=warn	a WARN with a backtrace
 *   modprobe vfc_runner_fault fault=leak	a kmalloc nobody frees (kmemleak)
 */
#include <linux/bug.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/string.h>

static char *fault = "warn";
module_param(fault, charp, 0444);
MODULE_PARM_DESC(fault, "what to plant: warn or leak");

static int __init vfc_runner_fault_init(void)
{
	void *lost;

	if (!strcmp(fault, "warn")) {
		WARN(1, "vfc_runner_fault: planted warning\n");
		return 0;
	}
	if (!strcmp(fault, "leak")) {
		/* Dropped on purpose: kmemleak must find it. */
		lost = kmalloc(128, GFP_KERNEL);
		pr_info("vfc_runner_fault: planted leak at %p\n", lost);
		return lost ? 0 : -ENOMEM;
	}
	pr_err("vfc_runner_fault: unknown fault '%s' (warn or leak)\n", fault);
	return -EINVAL;
}

static void __exit vfc_runner_fault_exit(void)
{
}

module_init(vfc_runner_fault_init);
module_exit(vfc_runner_fault_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("vfc test bed: a planted kernel report");
