// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for vfc's virtqueues that need the kernel's fault injection:
 * an allocation made to fail on purpose, beside the vfc_ring suite, and
 * the allocation-failure sweeps of making a queue and adding to it.
 *
 * Needs fault injection armed by the runner, which only the test bed does:
 * it loads this module in its test-kernel guest (CONFIG_FAILSLAB,
 * CONFIG_FAIL_PAGE_ALLOC) after
 *
 *	cd /sys/kernel/debug/failslab
 *	echo 100 > probability; echo -1 > times; echo 0 > verbose
 *	echo Y > task-filter; echo N > ignore-gfp-wait
 *	cd /sys/kernel/debug/fail_page_alloc
 *	echo 0 > verbose; echo N > ignore-gfp-wait
 *	echo N > ignore-gfp-highmem; echo 0 > min-order
 *
 * (testbed/test_kunit.py): every slab allocation fails in a task that sets
 * current->make_it_fail, which vfc_ring_indirect_fallback does around the
 * one call it breaks; and a task's fail-nth (vfc_sweep()) counts every slab
 * allocation and page. So tests/Kbuild builds the suite only as an
 * external module, for the test bed, never into a kernel for kunit.py run,
 * which arms nothing. A kernel or a run without fault injection fails the
 * cases rather than skipping them.
 */
#include <kunit/test.h>
#include <linux/sched.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>

#include "vfc_compat.h"
#include <vfc/vfc_ring.h>

#include "vfc_test_support.h"

/* Every row has INDIRECT_DESC: the table is what fails. */
static const struct vfc_rt_case vfc_rt_indirect_only_cases[] = {
	{ .name = "split-indirect", .ops = &vfc_rt_split_ops,
	  .features = F_INDIRECT },
	{ .name = "packed-indirect", .ops = &vfc_rt_packed_ops,
	  .features = F_INDIRECT },
};

/*
 * "Indirect Descriptors" are an optimisation: when the table cannot be
 * allocated the buffer goes direct, one descriptor per entry. With
 * failslab armed as the runner arms it, this task's slab allocations fail
 * while it asks for it, and nothing else does: the table's allocation
 * fails, the mappings (which do not go through slab) do not.
 */
static void vfc_ring_indirect_fallback(struct kunit *test)
{
	struct vfc_rt *rt = test->priv;
	struct scatterlist *sgs[2];
	unsigned int num_free;
	struct vfc_rt_buf *b;
	void *probe;
	int err;

	/*
	 * No kunit_skip(): 6.1 reports a skipped parameter as "ok". Every
	 * row has INDIRECT_DESC, and a kernel or run without failslab fails.
	 */
	KUNIT_ASSERT_TRUE(test, rt->indirect);
	KUNIT_ASSERT_TRUE_MSG(test, IS_ENABLED(CONFIG_FAILSLAB),
			      "needs CONFIG_FAILSLAB");
	vfc_rt_start(rt);
	b = vfc_rt_prep(rt, 0, 2, 1, 32);
	num_free = rt->vq->num_free;

#ifdef CONFIG_FAULT_INJECTION
	current->make_it_fail = true;
#endif
	probe = kmalloc(16, GFP_ATOMIC | __GFP_NOWARN);
	if (probe) {
#ifdef CONFIG_FAULT_INJECTION
		current->make_it_fail = false;
#endif
		kfree(probe);
		KUNIT_FAIL(test, "failslab not armed for this task (%s arms it)",
			   "testbed/test_kunit.py");
		return;
	}
	sgs[0] = b->out;
	sgs[1] = b->in;
	err = vfc_vq_add_sgs(rt->vq, sgs, 1, 1, b, GFP_ATOMIC);
#ifdef CONFIG_FAULT_INJECTION
	current->make_it_fail = false;
#endif
	KUNIT_ASSERT_EQ(test, err, 0);
	/* Three ring descriptors, not one: it went direct. */
	KUNIT_EXPECT_EQ(test, rt->vq->num_free, num_free - 3);
	KUNIT_EXPECT_TRUE(test, vfc_vq_kick(rt->vq));
	KUNIT_EXPECT_FALSE(test, vfc_rt_take(rt, 0)->indirect);
	KUNIT_EXPECT_EQ(test, rt->taken[0].nr_out, 2U);
	KUNIT_EXPECT_EQ(test, rt->taken[0].nr_in, 1U);
	vfc_rt_push(rt, &rt->taken[0], 32);
	vfc_rt_interrupt(rt);
	vfc_rt_expect_used(rt, b, 32);
	KUNIT_EXPECT_EQ(test, rt->vq->num_free, num_free);
}

/*
 * Making a queue, the ring part of every find_vqs: the state, the ring
 * memory, the descriptor state. A creation that fails says -ENOMEM and
 * leaves nothing allocated or mapped; one that succeeds carries a buffer.
 */
static bool vfc_ring_sweep_create(struct kunit *test, void *ctx,
				  unsigned int nth)
{
	struct vfc_rt *rt = test->priv;
	struct vfc_virtqueue *vq;
	bool hit;

	vfc_fail_nth_arm(nth);
	vq = vfc_rt_create(rt, VFC_RT_NUM, VFC_RT_ALIGN, false);
	hit = vfc_fail_nth_disarm();
	if (IS_ERR(vq)) {
		KUNIT_EXPECT_EQ(test, PTR_ERR(vq), -ENOMEM);
		KUNIT_EXPECT_NULL(test, rt->vq);
	} else {
		vfc_rt_round_trip_one(rt, 0);
		vfc_rt_destroy(rt);
	}
	vfc_fake_dma_expect_clean(test, rt->dma);
	return hit;
}

/*
 * Adding a buffer of three entries, with GFP_KERNEL: where the indirect
 * table cannot be had the buffer goes direct, so every add succeeds and
 * the device sees the buffer as posted.
 */
static bool vfc_ring_sweep_add(struct kunit *test, void *ctx,
			       unsigned int nth)
{
	struct vfc_rt *rt = test->priv;
	unsigned int num_free = rt->vq->num_free;
	struct vfc_rt_buf *b = vfc_rt_prep(rt, 0, 2, 1, 32);
	struct vfc_rt_taken *t;
	bool hit;
	int err;

	vfc_fail_nth_arm(nth);
	err = vfc_rt_add(rt, b);
	hit = vfc_fail_nth_disarm();
	KUNIT_ASSERT_EQ(test, err, 0);
	KUNIT_EXPECT_TRUE(test, vfc_vq_kick(rt->vq));
	t = vfc_rt_take(rt, 0);
	KUNIT_EXPECT_EQ(test, t->nr_out, 2U);
	KUNIT_EXPECT_EQ(test, t->nr_in, 1U);
	/* Direct only where the table could not be had. */
	if (!hit)
		KUNIT_EXPECT_TRUE(test, t->indirect);
	vfc_rt_complete(rt, t, 20);
	vfc_rt_expect_used(rt, b, 20);
	KUNIT_EXPECT_EQ(test, rt->vq->num_free, num_free);
	return hit;
}

/* Each with its 1st, 2nd, ... allocation failing (vfc_sweep()). */
static void vfc_ring_alloc_failures(struct kunit *test)
{
	struct vfc_rt *rt = test->priv;
	const char *row = rt->param->name;

	KUNIT_EXPECT_GT(test, vfc_sweep(test, row, "create",
					vfc_ring_sweep_create, NULL), 0U);
	vfc_rt_start(rt);
	KUNIT_EXPECT_GT(test, vfc_sweep(test, row, "add", vfc_ring_sweep_add,
					NULL), 0U);
}

KUNIT_ARRAY_PARAM(vfc_rt_indirect_only, vfc_rt_indirect_only_cases,
		  vfc_rt_case_desc);

static int vfc_ring_fault_init(struct kunit *test)
{
	test->priv = vfc_rt_new(test, test->param_value);
	return test->priv ? 0 : -ENOMEM;
}

/* Runs after a failed assertion too: free what is left, then the leak check. */
static void vfc_ring_fault_exit(struct kunit *test)
{
	vfc_rt_free(test->priv);
}

static struct kunit_case vfc_ring_fault_cases[] = {
	KUNIT_CASE_PARAM(vfc_ring_indirect_fallback,
			 vfc_rt_indirect_only_gen_params),
	KUNIT_CASE_PARAM(vfc_ring_alloc_failures,
			 vfc_rt_indirect_only_gen_params),
	{}
};

static struct kunit_suite vfc_ring_fault_suite = {
	.name = "vfc_ring_fault",
	.init = vfc_ring_fault_init,
	.exit = vfc_ring_fault_exit,
	.test_cases = vfc_ring_fault_cases,
};

kunit_test_suite(vfc_ring_fault_suite);

MODULE_DESCRIPTION("KUnit tests for vfc's virtqueues under fault injection");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(VFC_NS);
MODULE_IMPORT_NS(VFC_TEST_NS);
