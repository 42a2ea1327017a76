// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for vfc's virtqueues (virtio_ring.c, the split layout in
 * virtio_ring_split.c and the packed layout in virtio_ring_packed.c),
 * driven from both ends.
 *
 * The driver's end is the exported vfc_vq_* API. The device's end is the
 * fake ring device of vfc_test_support.ko (vfc_test_support.h): it reads
 * and writes the rings in memory as a real device would through DMA,
 * checks the driver's side of the spec as it goes, and lies when a row
 * asks it to. Below the rings sits the fake DMA device, which records
 * every mapping and coherent allocation: every case ends with none left
 * (the leak check in vfc_ring_exit()).
 *
 * Every case is a table of rows naming the layout and features: the cases
 * common to both layouts have rows for each, and the packed layout has
 * cases of its own (wrap counters on odd rings, out-of-order completion,
 * event suppression structures). The case that needs fault injection is
 * a suite of its own, vfc_ring_fault.
 */
#include <kunit/test.h>
#include <linux/bitops.h>
#include <linux/interrupt.h>
#include <linux/list.h>
#include <linux/minmax.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <uapi/linux/virtio_config.h>
#include <uapi/linux/virtio_ring.h>

#include "vfc_compat.h"
#include <vfc/vfc.h>
#include <vfc/vfc_config.h>
#include <vfc/vfc_ring.h>

#include "vfc_ring_internal.h"
#include "vfc_test_support.h"

/* Packed, odd rings: laps (wrap counter flips) each row goes through. */
#define VFC_RT_PACKED_FLIPS	10

/* ------------------------------------------------------------------------
 * Creating and freeing queues
 */

/* The layouts, with no ring feature. */
static const struct vfc_rt_case vfc_rt_basic_cases[] = {
	{ .name = "split", .ops = &vfc_rt_split_ops },
	{ .name = "packed", .ops = &vfc_rt_packed_ops },
};

static const struct vfc_rt_case vfc_rt_create_cases[] = {
	{ .name = "split-8-align-4", .ops = &vfc_rt_split_ops,
	  .num = 8, .align = 4 },
	{ .name = "split-256", .ops = &vfc_rt_split_ops, .num = 256 },
	{ .name = "split-1024-page-event-idx", .ops = &vfc_rt_split_ops,
	  .features = F_EVENT_IDX, .num = 1024, .align = PAGE_SIZE },
	{ .name = "split-32768", .ops = &vfc_rt_split_ops, .num = 32768 },
	/* "The Queue Size value does not have to be a power of 2." */
	{ .name = "packed-1", .ops = &vfc_rt_packed_ops, .num = 1 },
	/* vring_align does not apply to the packed layout. */
	{ .name = "packed-7-align-3", .ops = &vfc_rt_packed_ops,
	  .num = 7, .align = 3 },
	{ .name = "packed-100", .ops = &vfc_rt_packed_ops, .num = 100 },
	{ .name = "packed-1000-event-idx", .ops = &vfc_rt_packed_ops,
	  .features = F_EVENT_IDX, .num = 1000 },
	{ .name = "packed-32768", .ops = &vfc_rt_packed_ops, .num = 32768 },
};

/*
 * A new queue: its public fields, its place on the device's list, and its
 * parts in one coherent allocation, where and as the layout says.
 */
static void vfc_ring_create(struct kunit *test)
{
	struct vfc_rt *rt = test->priv;
	unsigned int num = rt->param->num;
	struct vfc_virtqueue *vq;

	vfc_rt_start(rt);
	vq = rt->vq;
	KUNIT_EXPECT_EQ(test, vq->index, (unsigned int)VFC_RT_INDEX);
	KUNIT_EXPECT_STREQ(test, vq->name, VFC_RT_NAME);
	KUNIT_EXPECT_PTR_EQ(test, vq->vdev, rt->vdev);
	KUNIT_EXPECT_PTR_EQ(test, vq->callback, &vfc_rt_callback);
	KUNIT_EXPECT_EQ(test, vq->num_max, num);
	KUNIT_EXPECT_EQ(test, vq->num_free, num);
	KUNIT_EXPECT_EQ(test, vfc_vq_get_vring_size(vq), num);
	KUNIT_EXPECT_EQ(test, rt->num, num);
	KUNIT_EXPECT_FALSE(test, vfc_vq_is_broken(vq));
	KUNIT_EXPECT_NULL(test, vfc_vq_broken_reason(vq));
	KUNIT_EXPECT_TRUE(test, list_is_singular(&rt->vdev->vqs));
	KUNIT_EXPECT_PTR_EQ(test, rt->vdev->vqs.next, &vq->list);

	KUNIT_ASSERT_EQ_MSG(test, rt->dma->live_allocs, 1U,
			    "the rings are one coherent allocation");
	rt->ops->expect_areas(rt);
	/* "The driver MUST initialize flags in the used ring to 0" */
	if (!rt->packed)
		KUNIT_EXPECT_EQ(test, (__force u16)rt->vr->used->flags, 0);

	vfc_rt_destroy(rt);
	KUNIT_EXPECT_TRUE(test, list_empty(&rt->vdev->vqs));
	KUNIT_EXPECT_EQ(test, rt->dma->live_allocs, 0U);
}

/* Every row names both numbers: 0 is a value under test here. */
static const struct vfc_rt_case vfc_rt_invalid_cases[] = {
	{ .name = "num-0", .ops = &vfc_rt_split_ops, .num = 0,
	  .align = VFC_RT_ALIGN, .err = -EINVAL },
	{ .name = "num-3", .ops = &vfc_rt_split_ops, .num = 3,
	  .align = VFC_RT_ALIGN, .err = -EINVAL },
	{ .name = "num-96", .ops = &vfc_rt_split_ops, .num = 96,
	  .align = VFC_RT_ALIGN, .err = -EINVAL },
	{ .name = "num-65536", .ops = &vfc_rt_split_ops, .num = 65536,
	  .align = VFC_RT_ALIGN, .err = -EINVAL },
	{ .name = "align-0", .ops = &vfc_rt_split_ops, .num = VFC_RT_NUM,
	  .align = 0, .err = -EINVAL },
	{ .name = "align-2", .ops = &vfc_rt_split_ops, .num = VFC_RT_NUM,
	  .align = 2, .err = -EINVAL },
	{ .name = "align-3", .ops = &vfc_rt_split_ops, .num = VFC_RT_NUM,
	  .align = 3, .err = -EINVAL },
	{ .name = "align-48", .ops = &vfc_rt_split_ops, .num = VFC_RT_NUM,
	  .align = 48, .err = -EINVAL },
	{ .name = "packed-num-0", .ops = &vfc_rt_packed_ops, .num = 0,
	  .align = VFC_RT_ALIGN, .err = -EINVAL },
	{ .name = "packed-num-32769", .ops = &vfc_rt_packed_ops,
	  .num = 32769, .align = VFC_RT_ALIGN, .err = -EINVAL },
	{ .name = "packed-num-65536", .ops = &vfc_rt_packed_ops,
	  .num = 65536, .align = VFC_RT_ALIGN, .err = -EINVAL },
};

/*
 * Refused arguments. Split: "Queue Size value is always a power of 2. The
 * maximum Queue Size value is 32768"; vring_align a power of two, at least
 * 4 (the used ring's alignment). Packed: "Packed virtqueues support up to
 * 2^15 entries each", and at least one. Nothing stays allocated or listed.
 */
static void vfc_ring_create_invalid(struct kunit *test)
{
	struct vfc_rt *rt = test->priv;
	const struct vfc_rt_case *p = rt->param;
	struct vfc_virtqueue *vq;

	vq = vfc_rt_create(rt, p->num, p->align, true);
	KUNIT_ASSERT_TRUE_MSG(test, IS_ERR(vq), "num %u align %u accepted",
			      p->num, p->align);
	KUNIT_EXPECT_EQ(test, PTR_ERR(vq), (long)p->err);
	KUNIT_EXPECT_EQ(test, rt->dma->live_allocs, 0U);
	KUNIT_EXPECT_TRUE(test, list_empty(&rt->vdev->vqs));
}

static const struct vfc_rt_case vfc_rt_reduce_cases[] = {
	/* .num: the size asked for; .arg: a quarter of it, where it ends */
	{ .name = "split-256", .ops = &vfc_rt_split_ops, .num = 256,
	  .arg = 64 },
	{ .name = "packed-256", .ops = &vfc_rt_packed_ops, .num = 256,
	  .arg = 64 },
	{ .name = "packed-100", .ops = &vfc_rt_packed_ops, .num = 100,
	  .arg = 25 },
};

/*
 * may_reduce_num: with allocations above the final ring's size refused, a
 * request halves twice and settles on a quarter, and the ring works. The
 * sizes come from the implementation itself, so its layout is free.
 */
static void vfc_ring_may_reduce_num(struct kunit *test)
{
	struct vfc_rt *rt = test->priv;
	unsigned int num = rt->param->num, end = rt->param->arg;
	size_t size_end, size_twice;
	struct vfc_virtqueue *vq;
	unsigned int calls;

	vq = vfc_rt_create(rt, end, VFC_RT_ALIGN, false);
	KUNIT_ASSERT_FALSE(test, IS_ERR(vq));
	size_end = rt->dma->last_alloc_size;
	vfc_rt_destroy(rt);
	vq = vfc_rt_create(rt, 2 * end, VFC_RT_ALIGN, false);
	KUNIT_ASSERT_FALSE(test, IS_ERR(vq));
	size_twice = rt->dma->last_alloc_size;
	vfc_rt_destroy(rt);
	KUNIT_ASSERT_GT(test, size_twice, size_end);

	rt->dma->fail_alloc_above = size_end;
	calls = rt->dma->alloc_calls;
	vq = vfc_rt_create(rt, num, VFC_RT_ALIGN, true);
	KUNIT_ASSERT_FALSE_MSG(test, IS_ERR(vq), "create: %ld", PTR_ERR(vq));
	KUNIT_EXPECT_EQ_MSG(test, rt->dma->alloc_calls - calls, 3U,
			    "tries %u, %u, %u", num, num / 2, end);
	KUNIT_EXPECT_EQ(test, vfc_vq_get_vring_size(vq), end);
	KUNIT_EXPECT_EQ(test, vq->num_max, end);
	KUNIT_EXPECT_EQ(test, vq->num_free, end);
	KUNIT_EXPECT_EQ(test, rt->num, end);
	KUNIT_EXPECT_EQ(test, rt->dma->live_allocs, 1U);
	vfc_rt_round_trip_one(rt, 0);
}

static const struct vfc_rt_case vfc_rt_no_memory_cases[] = {
	/* .arg: may_reduce_num; .num: allocations tried */
	{ .name = "split-no-reduce", .ops = &vfc_rt_split_ops, .arg = 0,
	  .num = 1 },
	/* 256, 128, 64, 32, 16 and VFC_VRING_MIN_NUM */
	{ .name = "split-reduce-to-min", .ops = &vfc_rt_split_ops, .arg = 1,
	  .num = 6 },
	{ .name = "packed-no-reduce", .ops = &vfc_rt_packed_ops, .arg = 0,
	  .num = 1 },
	{ .name = "packed-reduce-to-min", .ops = &vfc_rt_packed_ops,
	  .arg = 1, .num = 6 },
};

/* No allocation fits: -ENOMEM, after trying down to the minimum if allowed. */
static void vfc_ring_no_memory(struct kunit *test)
{
	struct vfc_rt *rt = test->priv;
	struct vfc_virtqueue *vq;

	rt->dma->fail_alloc_above = 1;
	vq = vfc_rt_create(rt, 256, VFC_RT_ALIGN, rt->param->arg);
	KUNIT_ASSERT_TRUE(test, IS_ERR(vq));
	KUNIT_EXPECT_EQ(test, PTR_ERR(vq), (long)-ENOMEM);
	KUNIT_EXPECT_EQ(test, rt->dma->alloc_calls, rt->param->num);
	KUNIT_EXPECT_EQ(test, rt->dma->live_allocs, 0U);
	KUNIT_EXPECT_TRUE(test, list_empty(&rt->vdev->vqs));
}

/* The ring features a transport keeps when it negotiates. */
static void vfc_ring_transport_features(struct kunit *test)
{
	u64 f = vfc_vring_transport_features();

	KUNIT_EXPECT_TRUE(test, f & F_INDIRECT);
	KUNIT_EXPECT_TRUE(test, f & F_EVENT_IDX);
	KUNIT_EXPECT_TRUE(test, f & F_PACKED);
	KUNIT_EXPECT_EQ_MSG(test, f & GENMASK_ULL(23, 0), 0ULL,
			    "bits 0 to 23 belong to the device type");
}

/* ------------------------------------------------------------------------
 * Buffers there and back
 */

/* Every combination of the ring features, for each layout. */
static const struct vfc_rt_case vfc_rt_layout_cases[] = {
	{ .name = "split", .ops = &vfc_rt_split_ops },
	{ .name = "split-indirect", .ops = &vfc_rt_split_ops,
	  .features = F_INDIRECT },
	{ .name = "split-event-idx", .ops = &vfc_rt_split_ops,
	  .features = F_EVENT_IDX },
	{ .name = "split-indirect-event-idx", .ops = &vfc_rt_split_ops,
	  .features = F_INDIRECT | F_EVENT_IDX },
	{ .name = "packed", .ops = &vfc_rt_packed_ops },
	{ .name = "packed-indirect", .ops = &vfc_rt_packed_ops,
	  .features = F_INDIRECT },
	{ .name = "packed-event-idx", .ops = &vfc_rt_packed_ops,
	  .features = F_EVENT_IDX },
	{ .name = "packed-indirect-event-idx", .ops = &vfc_rt_packed_ops,
	  .features = F_INDIRECT | F_EVENT_IDX },
};

/*
 * A mix of buffers through every add call, kicked twice before the device
 * looks, returned out of order with the lengths the device chose, one
 * interrupt decision per entry. Kicks and interrupts counted follow the
 * suppression mode: flags ask for every one, EVENT_IDX only for the first
 * after the driver caught up. A packed queue starts with events ENABLEd,
 * EVENT_IDX or not (descriptor events start with enable_cb, as in Linux),
 * so it interrupts for every one here. A second round shows both re-armed.
 */
static void vfc_ring_round_trip(struct kunit *test)
{
	static const unsigned int order[] = { 3, 1, 2, 0 };
	/* Written lengths: all, a part, all, none (an out-only buffer). */
	static const u32 len[] = { 0, 10, 96, 100 };
	struct vfc_rt *rt = test->priv;
	bool irq_each = !rt->event_idx || rt->packed;
	struct vfc_rt_buf *b[4];
	unsigned int i, descs;

	vfc_rt_start(rt);
	b[0] = vfc_rt_prep(rt, 0, 1, 0, 40);
	b[1] = vfc_rt_prep(rt, 1, 0, 1, 64);
	b[2] = vfc_rt_prep(rt, 2, 2, 2, 48);
	vfc_rt_in_per_entry(b[2]);
	b[3] = vfc_rt_prep(rt, 3, 1, 1, 100);

	KUNIT_ASSERT_EQ(test, vfc_vq_add_outbuf(rt->vq, b[0]->out, 1, b[0],
						GFP_KERNEL), 0);
	KUNIT_ASSERT_EQ(test, vfc_vq_add_inbuf(rt->vq, b[1]->in, 1, b[1],
					       GFP_KERNEL), 0);
	KUNIT_EXPECT_TRUE(test, vfc_vq_kick_prepare(rt->vq));
	KUNIT_EXPECT_TRUE(test, vfc_vq_notify(rt->vq));
	KUNIT_EXPECT_EQ(test, rt->kicks, 1U);
	KUNIT_ASSERT_EQ(test, vfc_rt_add(rt, b[2]), 0);
	KUNIT_ASSERT_EQ(test, vfc_rt_add(rt, b[3]), 0);
	descs = rt->indirect ? 4 : 1 + 1 + 4 + 2;
	KUNIT_EXPECT_EQ(test, rt->vq->num_free, rt->num - descs);
	/* The device has not looked: with EVENT_IDX it asked for one kick. */
	KUNIT_EXPECT_TRUE(test, vfc_vq_kick(rt->vq));
	KUNIT_EXPECT_EQ(test, rt->kicks, rt->event_idx ? 1U : 2U);

	for (i = 0; i < 4; i++)
		vfc_rt_expect_taken(rt, b[i], vfc_rt_take(rt, i));
	KUNIT_EXPECT_FALSE(test, rt->ops->pop_avail(rt, &rt->taken[4]));

	for (i = 0; i < 4; i++)
		vfc_rt_complete(rt, &rt->taken[order[i]], len[order[i]]);
	KUNIT_EXPECT_EQ(test, rt->irqs, irq_each ? 4U : 1U);
	KUNIT_EXPECT_EQ(test, rt->irqs_handled, rt->irqs);
	KUNIT_EXPECT_EQ(test, rt->callbacks, rt->irqs);

	for (i = 0; i < 4; i++)
		vfc_rt_expect_used(rt, b[order[i]], len[order[i]]);
	vfc_rt_expect_idle(rt);
	KUNIT_EXPECT_EQ(test, rt->vq->num_free, rt->num);
	KUNIT_EXPECT_EQ(test, rt->dma->live_maps, 0U);
	for (i = 1; i < 4; i++)
		vfc_rt_expect_written(rt, b[i], len[i]);

	/* Caught up: the next buffer is kicked and interrupts in both modes. */
	vfc_rt_round_trip_one(rt, 4);
	KUNIT_EXPECT_EQ(test, rt->kicks, rt->event_idx ? 2U : 3U);
	KUNIT_EXPECT_EQ(test, rt->irqs, irq_each ? 5U : 2U);
	KUNIT_EXPECT_FALSE(test, vfc_vq_is_broken(rt->vq));
}

/* Split: rounds of each batch size from vfc_rt_wrap_start() on. */
#define VFC_RT_WRAP_ROUNDS	4
/* Packed: the wrap counters flip once a lap; forty laps of a ring of 8. */
#define VFC_RT_PACKED_WRAP_BUFS	(40 * VFC_RT_NUM)

/*
 * Split: where vfc_ring_wrap() moves the idle queue for rounds of @k: two
 * rounds short of the 16-bit wrap, so that the third goes across it with
 * (k + 1) / 2 of its buffers on the near side, and the fourth after it.
 */
static u16 vfc_rt_wrap_start(unsigned int k)
{
	return (u16)(0 - 2 * k - (k + 1) / 2);
}

/*
 * Round @round of vfc_ring_wrap(): @k buffers added and kicked, taken,
 * returned in reverse, one interrupt for them all, then taken back; one
 * kick and one interrupt each round so far.
 */
static void vfc_rt_wrap_round(struct vfc_rt *rt, unsigned int k,
			      unsigned int round)
{
	struct kunit *test = rt->test;
	/* Indirect rows post two entries, so each buffer goes indirect. */
	unsigned int nr_out = rt->indirect ? 1 : 0;
	unsigned int i, len;
	struct vfc_rt_buf *b;

	for (i = 0; i < k; i++) {
		b = vfc_rt_prep(rt, i, nr_out, 1, 16);
		KUNIT_ASSERT_EQ(test, vfc_rt_add(rt, b), 0);
	}
	KUNIT_ASSERT_TRUE(test, vfc_vq_kick(rt->vq));
	for (i = 0; i < k; i++)
		vfc_rt_expect_taken(rt, &rt->bufs[i], vfc_rt_take(rt, i));
	for (i = k; i-- > 0;)
		vfc_rt_push(rt, &rt->taken[i], i + 1);
	vfc_rt_interrupt(rt);
	for (i = k; i-- > 0;)
		vfc_rt_expect_used(rt, &rt->bufs[i], i + 1);
	KUNIT_ASSERT_NULL(test, vfc_vq_get_buf(rt->vq, &len));
	KUNIT_ASSERT_EQ_MSG(test, rt->kicks, round,
			    "kicks after round %u, of %u buffers", round, k);
	KUNIT_ASSERT_EQ_MSG(test, rt->irqs, round,
			    "interrupts after round %u, of %u buffers", round,
			    k);
}

/*
 * Buffers through a ring of 8 in rounds, one kick and one interrupt per
 * round throughout. Split: every 16-bit index wraps ("Updating idx": it
 * "wraps naturally at 65536") in a round of each batch size, 1 to 8. The
 * idle queue, driver and device, first moves to vfc_rt_wrap_start(), as
 * 65536 buffers take minutes in a debug kernel; a queue counts buffers in
 * those indices alone, so a wrap mishandled (a 16-bit difference taken
 * wider, event indices compared without modular arithmetic) fails here as
 * after 65536 buffers. With EVENT_IDX used_event and avail_event move
 * too, and each kick and interrupt is decided on indices across the wrap.
 * Packed: batches of 1 to 8 in turn, forty laps, so both wrap counters
 * flip forty times ("Driver and Device Ring Wrap Counters").
 */
static void vfc_ring_wrap(struct kunit *test)
{
	struct vfc_rt *rt = test->priv;
	unsigned int total = 0, rounds = 0, k, r;
	u16 start;

	vfc_rt_start(rt);
	if (rt->ops->set_index) {
		for (k = 1; k <= rt->num; k++) {
			start = vfc_rt_wrap_start(k);
			rt->ops->set_index(rt, start);
			for (r = 0; r < VFC_RT_WRAP_ROUNDS; r++)
				vfc_rt_wrap_round(rt, k, ++rounds);
			/* Every buffer taken, counting past 65535 to 0. */
			KUNIT_EXPECT_EQ(test, rt->last_avail,
					(u16)(start + VFC_RT_WRAP_ROUNDS * k));
			KUNIT_EXPECT_LT(test, rt->last_avail, start);
		}
	} else {
		for (; total < VFC_RT_PACKED_WRAP_BUFS; total += k) {
			k = 1 + rounds % rt->num;
			vfc_rt_wrap_round(rt, k, ++rounds);
		}
		KUNIT_EXPECT_EQ(test, rt->last_avail, (u16)total);
	}
	KUNIT_EXPECT_FALSE(test, vfc_vq_is_broken(rt->vq));
	KUNIT_EXPECT_EQ(test, rt->irqs_handled, rounds);
	KUNIT_EXPECT_EQ(test, rt->callbacks, rounds);
	KUNIT_EXPECT_EQ(test, rt->vq->num_free, rt->num);
}

static const struct vfc_rt_case vfc_rt_indirect_cases[] = {
	{ .name = "split", .ops = &vfc_rt_split_ops },
	{ .name = "split-indirect", .ops = &vfc_rt_split_ops,
	  .features = F_INDIRECT },
	{ .name = "packed", .ops = &vfc_rt_packed_ops },
	{ .name = "packed-indirect", .ops = &vfc_rt_packed_ops,
	  .features = F_INDIRECT },
};

/*
 * A full ring refuses with -ENOSPC, mapping nothing and breaking nothing,
 * and takes buffers again once the device returns one. A two-entry buffer
 * takes two descriptors, or one when it goes indirect.
 */
static void vfc_ring_full(struct kunit *test)
{
	struct vfc_rt *rt = test->priv;
	unsigned int per = rt->indirect ? 1 : 2, fit, i, maps;

	vfc_rt_start(rt);
	fit = rt->num / per;
	for (i = 0; i < fit; i++) {
		KUNIT_ASSERT_EQ(test, vfc_rt_add(rt, vfc_rt_prep(rt, i, 1, 1,
								 32)), 0);
		KUNIT_EXPECT_EQ(test, rt->vq->num_free, rt->num - (i + 1) * per);
	}
	maps = rt->dma->live_maps;
	KUNIT_EXPECT_EQ(test, vfc_rt_add(rt, vfc_rt_prep(rt, fit, 1, 1, 32)),
			-ENOSPC);
	KUNIT_EXPECT_EQ(test, vfc_rt_add(rt, vfc_rt_prep(rt, fit, 0, 1, 32)),
			-ENOSPC);
	KUNIT_EXPECT_EQ(test, rt->dma->live_maps, maps);
	KUNIT_EXPECT_EQ(test, rt->vq->num_free, 0U);
	KUNIT_EXPECT_FALSE(test, vfc_vq_is_broken(rt->vq));

	KUNIT_EXPECT_TRUE(test, vfc_vq_kick(rt->vq));
	vfc_rt_complete(rt, vfc_rt_take(rt, 0), 32);
	vfc_rt_expect_used(rt, &rt->bufs[0], 32);
	KUNIT_EXPECT_EQ(test, rt->vq->num_free, per);
	KUNIT_ASSERT_EQ(test, vfc_rt_add(rt, vfc_rt_prep(rt, 0, 1, 1, 32)), 0);
	KUNIT_EXPECT_EQ(test, rt->vq->num_free, 0U);

	/* Drain: the rest, then the one added last. */
	KUNIT_EXPECT_TRUE(test, vfc_vq_kick(rt->vq));
	for (i = 1; i <= fit; i++)
		vfc_rt_push(rt, vfc_rt_take(rt, i % fit), 0);
	vfc_rt_interrupt(rt);
	for (i = 1; i <= fit; i++)
		vfc_rt_expect_used(rt, &rt->bufs[i % fit], 0);
	KUNIT_EXPECT_EQ(test, rt->vq->num_free, rt->num);

	/* One descriptor left: enough for three entries only when indirect. */
	for (i = 0; i < rt->num - 1; i++)
		KUNIT_ASSERT_EQ(test, vfc_rt_add(rt, vfc_rt_prep(rt, i, 0, 1,
								 16)), 0);
	KUNIT_EXPECT_EQ(test, vfc_rt_add(rt, vfc_rt_prep(rt, i, 1, 2, 16)),
			rt->indirect ? 0 : -ENOSPC);
}

static const struct vfc_rt_case vfc_rt_map_fail_cases[] = {
	/* .arg: mappings that succeed before one fails */
	{ .name = "split-first", .ops = &vfc_rt_split_ops, .arg = 0 },
	{ .name = "split-third", .ops = &vfc_rt_split_ops, .arg = 2 },
	{ .name = "split-indirect-first", .ops = &vfc_rt_split_ops,
	  .features = F_INDIRECT, .arg = 0 },
	{ .name = "split-indirect-third", .ops = &vfc_rt_split_ops,
	  .features = F_INDIRECT, .arg = 2 },
	/* The fifth mapping: the indirect table's, or the last entry's. */
	{ .name = "split-indirect-fifth", .ops = &vfc_rt_split_ops,
	  .features = F_INDIRECT, .arg = 4 },
	{ .name = "packed-first", .ops = &vfc_rt_packed_ops, .arg = 0 },
	{ .name = "packed-third", .ops = &vfc_rt_packed_ops, .arg = 2 },
	{ .name = "packed-indirect-first", .ops = &vfc_rt_packed_ops,
	  .features = F_INDIRECT, .arg = 0 },
	{ .name = "packed-indirect-third", .ops = &vfc_rt_packed_ops,
	  .features = F_INDIRECT, .arg = 2 },
	{ .name = "packed-indirect-fifth", .ops = &vfc_rt_packed_ops,
	  .features = F_INDIRECT, .arg = 4 },
};

/*
 * A mapping fails inside a four-entry buffer: -ENOMEM, everything mapped
 * for it unmapped again, no descriptor used, the queue still sound; the
 * same buffer then goes through.
 */
static void vfc_ring_map_failure(struct kunit *test)
{
	struct vfc_rt *rt = test->priv;
	struct vfc_rt_buf *first, *b;
	unsigned int maps, num_free;

	vfc_rt_start(rt);
	/* One buffer in flight: "back to before" is not just "back to 0". */
	first = vfc_rt_prep(rt, 0, 1, 0, 16);
	KUNIT_ASSERT_EQ(test, vfc_rt_add(rt, first), 0);
	maps = rt->dma->live_maps;
	num_free = rt->vq->num_free;

	b = vfc_rt_prep(rt, 1, 2, 2, 32);
	rt->dma->maps_left = rt->param->arg;
	KUNIT_EXPECT_EQ(test, vfc_rt_add(rt, b), -ENOMEM);
	KUNIT_EXPECT_GE_MSG(test, rt->dma->map_failures, 1U,
			    "the failure was not reached");
	KUNIT_EXPECT_EQ(test, rt->dma->live_maps, maps);
	KUNIT_EXPECT_EQ(test, rt->vq->num_free, num_free);
	KUNIT_EXPECT_FALSE(test, vfc_vq_is_broken(rt->vq));

	rt->dma->maps_left = -1;
	KUNIT_ASSERT_EQ(test, vfc_rt_add(rt, b), 0);
	KUNIT_EXPECT_TRUE(test, vfc_vq_kick(rt->vq));
	vfc_rt_expect_taken(rt, first, vfc_rt_take(rt, 0));
	vfc_rt_expect_taken(rt, b, vfc_rt_take(rt, 1));
	KUNIT_EXPECT_FALSE(test, rt->ops->pop_avail(rt, &rt->taken[2]));
	vfc_rt_push(rt, &rt->taken[0], 0);
	vfc_rt_push(rt, &rt->taken[1], 64);
	vfc_rt_interrupt(rt);
	vfc_rt_expect_used(rt, first, 0);
	vfc_rt_expect_used(rt, b, 64);
	vfc_rt_expect_written(rt, b, 64);
}

/* -EINVAL for a buffer of no entries or no token, touching nothing. */
static void vfc_ring_add_invalid(struct kunit *test)
{
	struct vfc_rt *rt = test->priv;
	struct vfc_rt_buf *b;
	struct scatterlist *sgs[2];

	vfc_rt_start(rt);
	b = vfc_rt_prep(rt, 0, 1, 1, 16);
	sgs[0] = b->out;
	sgs[1] = b->in;
	KUNIT_EXPECT_EQ(test, vfc_vq_add_sgs(rt->vq, sgs, 0, 0, b,
					     GFP_KERNEL), -EINVAL);
	KUNIT_EXPECT_EQ(test, vfc_vq_add_outbuf(rt->vq, b->out, 0, b,
						GFP_KERNEL), -EINVAL);
	KUNIT_EXPECT_EQ(test, vfc_vq_add_inbuf(rt->vq, b->in, 1, NULL,
					       GFP_KERNEL), -EINVAL);
	KUNIT_EXPECT_EQ(test, vfc_vq_add_sgs(rt->vq, sgs, 1, 1, NULL,
					     GFP_KERNEL), -EINVAL);
	KUNIT_EXPECT_EQ(test, rt->dma->live_maps, 0U);
	KUNIT_EXPECT_EQ(test, rt->vq->num_free, rt->num);
	KUNIT_EXPECT_FALSE(test, vfc_vq_is_broken(rt->vq));
	KUNIT_EXPECT_FALSE(test, rt->ops->pop_avail(rt, &rt->taken[0]));
}

/* Rings smaller than a buffer of four entries, with and without tables. */
static const struct vfc_rt_case vfc_rt_small_cases[] = {
	{ .name = "split-2", .ops = &vfc_rt_split_ops, .num = 2 },
	{ .name = "split-2-indirect", .ops = &vfc_rt_split_ops, .num = 2,
	  .features = F_INDIRECT },
	{ .name = "packed-3", .ops = &vfc_rt_packed_ops, .num = 3 },
	{ .name = "packed-3-indirect", .ops = &vfc_rt_packed_ops, .num = 3,
	  .features = F_INDIRECT },
};

KUNIT_ARRAY_PARAM(vfc_rt_small, vfc_rt_small_cases, vfc_rt_case_desc);

/*
 * "A driver MUST NOT create a descriptor chain longer than the Queue
 * Size of the device" (split), "... a descriptor list longer than the
 * Queue Size" (packed), an indirect table included: a buffer of four
 * entries on a ring of two or three is refused, with nothing mapped and
 * nothing made available; one of as many entries as the ring goes in.
 */
static void vfc_ring_chain_longer_than_ring(struct kunit *test)
{
	struct vfc_rt *rt = test->priv;
	struct vfc_rt_buf *b;

	vfc_rt_start(rt);
	b = vfc_rt_prep(rt, 0, 3, 1, 16);
	KUNIT_EXPECT_EQ(test, vfc_rt_add(rt, b), -EINVAL);
	KUNIT_EXPECT_EQ(test, rt->dma->live_maps, 0U);
	KUNIT_EXPECT_EQ(test, rt->vq->num_free, rt->num);
	KUNIT_EXPECT_FALSE(test, rt->ops->pop_avail(rt, &rt->taken[0]));
	KUNIT_EXPECT_FALSE(test, vfc_vq_is_broken(rt->vq));

	b = vfc_rt_prep(rt, 1, rt->num - 1, 1, 16);
	KUNIT_ASSERT_EQ(test, vfc_rt_add(rt, b), 0);
	KUNIT_EXPECT_TRUE(test, vfc_vq_kick(rt->vq));
	vfc_rt_expect_taken(rt, b, vfc_rt_take(rt, 1));
	vfc_rt_complete(rt, &rt->taken[1], 16);
	vfc_rt_expect_used(rt, b, 16);
}

/*
 * "Drivers MUST NOT add a descriptor chain longer than 2^32 bytes in
 * total": three readable entries of 2 GiB, 2 GiB and one byte are refused
 * and nothing is taken; the first two alone, exactly 2^32 bytes, go in.
 * Physical addresses, so that nothing is mapped: the device never reads
 * them.
 */
static void vfc_ring_chain_4g(struct kunit *test)
{
	struct vfc_rt *rt = test->priv;
	struct scatterlist sg[3];
	unsigned int i;

	rt->vdev->features &= ~F_AP;
	vfc_rt_start(rt);
	sg_init_table(sg, 3);
	for (i = 0; i < 3; i++)
		sg_set_buf(&sg[i], rt->mem, i < 2 ? BIT(31) : 1);
	KUNIT_EXPECT_EQ(test, vfc_vq_add_outbuf(rt->vq, sg, 3, rt, GFP_KERNEL),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, rt->vq->num_free, rt->num);
	KUNIT_EXPECT_FALSE(test, vfc_vq_is_broken(rt->vq));
	KUNIT_EXPECT_EQ(test, vfc_vq_add_outbuf(rt->vq, sg, 2, rt, GFP_KERNEL),
			0);
	KUNIT_EXPECT_PTR_EQ(test, vfc_vq_detach_unused_buf(rt->vq), (void *)rt);
	KUNIT_EXPECT_EQ(test, rt->vq->num_free, rt->num);
}

/*
 * "Reserved Feature Bits": without VIRTIO_F_ACCESS_PLATFORM the device
 * uses guest-physical addresses, so neither the ring nor a buffer goes
 * through the DMA API (the fake DMA device sees no call at all) and the
 * first descriptor holds the buffer's physical address, or, indirect, the
 * table's, whose entries hold the buffer's.
 */
static void vfc_ring_physical_addresses(struct kunit *test)
{
	struct vfc_rt *rt = test->priv;
	struct scatterlist out, in, *sgs[] = { &out, &in };
	struct vfc_vring_view view;
	const struct vring_packed_desc *d, *table;
	void *a = rt->mem, *b = rt->mem + VFC_RT_SLOT;

	rt->vdev->features &= ~F_AP;
	vfc_rt_start(rt);
	KUNIT_EXPECT_EQ(test, rt->dma->alloc_calls, 0U);
	vfc_vring_get_view(rt->vq, &view);
	KUNIT_EXPECT_PTR_EQ_MSG(test, view.desc,
				phys_to_virt(vfc_vq_get_desc_addr(rt->vq)),
				"the device's address of the ring is not its physical one");

	sg_init_one(&out, a, 64);
	sg_init_one(&in, b, 32);
	KUNIT_ASSERT_EQ(test, vfc_vq_add_sgs(rt->vq, sgs, 1, 1, rt,
					     GFP_KERNEL), 0);
	KUNIT_EXPECT_EQ(test, rt->dma->live_maps, 0U);
	KUNIT_EXPECT_EQ(test, rt->dma->map_failures, 0U);

	/* Both layouts' descriptors begin with __le64 addr, __le32 len. */
	d = view.desc;
	if (rt->indirect) {
		KUNIT_EXPECT_EQ(test, le32_to_cpu(d->len),
				2U * VFC_VRING_DESC_SIZE);
		table = phys_to_virt(le64_to_cpu(d->addr));
		KUNIT_ASSERT_TRUE(test, virt_addr_valid(table));
		d = table;
	}
	KUNIT_EXPECT_EQ(test, le64_to_cpu(d[0].addr), (u64)virt_to_phys(a));
	KUNIT_EXPECT_EQ(test, le32_to_cpu(d[0].len), 64U);
	/* The ring's first entries, in both layouts, or the table's. */
	KUNIT_EXPECT_EQ(test, le64_to_cpu(d[1].addr), (u64)virt_to_phys(b));
	KUNIT_EXPECT_EQ(test, le32_to_cpu(d[1].len), 32U);
	KUNIT_EXPECT_PTR_EQ(test, vfc_vq_detach_unused_buf(rt->vq), (void *)rt);
	KUNIT_EXPECT_EQ(test, rt->dma->alloc_calls, 0U);
}

/*
 * detach_unused_buf hands back every buffer the driver has not collected:
 * returned but not collected, taken by the device, and never taken.
 */
static void vfc_ring_detach(struct kunit *test)
{
	struct vfc_rt *rt = test->priv;

	vfc_rt_start(rt);
	KUNIT_ASSERT_EQ(test, vfc_rt_add(rt, vfc_rt_prep(rt, 0, 1, 0, 16)), 0);
	KUNIT_ASSERT_EQ(test, vfc_rt_add(rt, vfc_rt_prep(rt, 1, 0, 1, 16)), 0);
	KUNIT_ASSERT_EQ(test, vfc_rt_add(rt, vfc_rt_prep(rt, 2, 2, 2, 16)), 0);
	KUNIT_ASSERT_EQ(test, vfc_rt_add(rt, vfc_rt_prep(rt, 3, 1, 1, 16)), 0);
	KUNIT_EXPECT_TRUE(test, vfc_vq_kick(rt->vq));
	vfc_rt_complete(rt, vfc_rt_take(rt, 0), 0);
	vfc_rt_take(rt, 1);
	vfc_rt_expect_detach(rt, 0xf);
}

/* ------------------------------------------------------------------------
 * A device that does not trust the driver: scribbled descriptors
 */

/*
 * The device overwrites the descriptors (and the indirect tables) after
 * taking the buffers: split, the whole table; packed, the slots it took.
 * The driver unmaps from its own record, so every mapping goes away
 * exactly as made, each token comes back, all descriptors are free again,
 * and the ring then fills to exactly its capacity with well-formed chains.
 */
static void vfc_ring_scribbled_desc(struct kunit *test)
{
	struct vfc_rt *rt = test->priv;
	unsigned int per = rt->indirect ? 1 : 3, fit, i;
	struct vfc_rt_buf *b0, *b1;

	vfc_rt_start(rt);
	b0 = vfc_rt_prep(rt, 0, 1, 2, 48);
	b1 = vfc_rt_prep(rt, 1, 1, 2, 48);
	KUNIT_ASSERT_EQ(test, vfc_rt_add(rt, b0), 0);
	KUNIT_ASSERT_EQ(test, vfc_rt_add(rt, b1), 0);
	KUNIT_EXPECT_TRUE(test, vfc_vq_kick(rt->vq));
	vfc_rt_take(rt, 0);
	vfc_rt_take(rt, 1);
	rt->ops->scribble(rt, &rt->taken[0]);
	rt->ops->scribble(rt, &rt->taken[1]);
	vfc_rt_push(rt, &rt->taken[1], 96);
	vfc_rt_push(rt, &rt->taken[0], 10);
	vfc_rt_interrupt(rt);
	vfc_rt_expect_used(rt, b1, 96);
	vfc_rt_expect_used(rt, b0, 10);
	vfc_rt_expect_idle(rt);
	KUNIT_EXPECT_EQ(test, rt->dma->bad_unmaps, 0U);
	KUNIT_EXPECT_EQ(test, rt->dma->live_maps, 0U);
	KUNIT_EXPECT_EQ(test, rt->vq->num_free, rt->num);
	vfc_rt_expect_written(rt, b1, 96);

	fit = rt->num / per;
	for (i = 0; i < fit; i++)
		KUNIT_ASSERT_EQ(test, vfc_rt_add(rt, vfc_rt_prep(rt, i, 1, 2,
								 16)), 0);
	KUNIT_EXPECT_EQ(test, vfc_rt_add(rt, vfc_rt_prep(rt, fit, 1, 2, 16)),
			-ENOSPC);
	KUNIT_EXPECT_TRUE(test, vfc_vq_kick(rt->vq));
	for (i = 0; i < fit; i++) {
		vfc_rt_expect_taken(rt, &rt->bufs[i], vfc_rt_take(rt, i));
		vfc_rt_push(rt, &rt->taken[i], 32);
	}
	vfc_rt_interrupt(rt);
	for (i = 0; i < fit; i++)
		vfc_rt_expect_used(rt, &rt->bufs[i], 32);
	KUNIT_EXPECT_EQ(test, rt->vq->num_free, rt->num);
}

/* ------------------------------------------------------------------------
 * What the driver leaves alone, and the order it writes in
 */

/* The bytes of the ring memory that hold @t's entries, set in @mask. */
static void vfc_rt_mark_entries(struct vfc_rt *rt, const struct vfc_rt_taken *t,
				u16 avail_slot, bool *mask)
{
	struct vfc_vring *vr = to_vfc_vring(rt->vq);
	u8 *base = vr->ring_mem;
	unsigned int i;
	u16 idx;

	if (rt->packed) {
		for (i = 0; i < t->ndesc; i++) {
			u8 *d = (u8 *)&rt->desc[(t->slot + i) % rt->num];

			memset(mask + (d - base), 1, sizeof(*rt->desc));
		}
		return;
	}
	idx = t->id;
	for (i = 0; i < rt->num; i++) {
		const struct vring_desc *d = &rt->vr->desc[idx];

		memset(mask + ((u8 *)d - base), 1, sizeof(*d));
		if (!(vfc_rt_r16(&d->flags) & VRING_DESC_F_NEXT))
			break;
		idx = vfc_rt_r16(&d->next) % rt->num;
	}
	memset(mask + ((u8 *)&rt->vr->avail->ring[avail_slot] - base), 1,
	       sizeof(rt->vr->avail->ring[0]));
}

/*
 * "A driver MUST NOT alter virtqueue entries for exposed buffers": while
 * the device holds buffer 0 (three entries; indirect, a table), the driver
 * gets another buffer back and adds, kicks and detaches nothing of it;
 * buffer 0's descriptors, its available ring entry (split) and its
 * indirect table stay as the device found them, byte for byte.
 */
static void vfc_ring_exposed_unchanged(struct kunit *test)
{
	struct vfc_rt *rt = test->priv;
	struct vfc_vring *vr;
	struct vfc_rt_taken *a;
	u8 *before, *table = NULL;
	bool *mask;
	u16 avail_slot;
	size_t i;

	vfc_rt_start(rt);
	vr = to_vfc_vring(rt->vq);
	KUNIT_ASSERT_EQ(test, vfc_rt_add(rt, vfc_rt_prep(rt, 0, 1, 2, 48)), 0);
	KUNIT_ASSERT_EQ(test, vfc_rt_add(rt, vfc_rt_prep(rt, 1, 0, 1, 16)), 0);
	KUNIT_EXPECT_TRUE(test, vfc_vq_kick(rt->vq));
	avail_slot = rt->last_avail % rt->num;
	a = vfc_rt_take(rt, 0);
	vfc_rt_take(rt, 1);
	KUNIT_EXPECT_EQ(test, a->indirect, rt->indirect);
	vfc_rt_push(rt, &rt->taken[1], 16);

	/* The ring as the device left it, with buffer 0 still its own. */
	before = kunit_kmalloc(test, vr->ring_bytes, GFP_KERNEL);
	mask = kunit_kzalloc(test, vr->ring_bytes, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, before);
	KUNIT_ASSERT_NOT_NULL(test, mask);
	memcpy(before, vr->ring_mem, vr->ring_bytes);
	vfc_rt_mark_entries(rt, a, avail_slot, mask);
	if (a->indirect) {
		table = kunit_kmalloc(test, a->table_len, GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, table);
		memcpy(table, phys_to_virt(a->table_addr), a->table_len);
	}

	vfc_rt_interrupt(rt);
	vfc_rt_expect_used(rt, &rt->bufs[1], 16);
	for (i = 2; i < 5; i++)
		KUNIT_ASSERT_EQ(test, vfc_rt_add(rt, vfc_rt_prep(rt, i, 0, 1,
								 16)), 0);
	KUNIT_EXPECT_TRUE(test, vfc_vq_kick(rt->vq));
	vfc_vq_disable_cb(rt->vq);
	vfc_vq_enable_cb(rt->vq);
	KUNIT_EXPECT_NULL(test, vfc_vq_get_buf(rt->vq, &(unsigned int){ 0 }));

	for (i = 0; i < vr->ring_bytes; i++)
		if (mask[i] && ((u8 *)vr->ring_mem)[i] != before[i])
			break;
	KUNIT_EXPECT_EQ_MSG(test, i, vr->ring_bytes,
			    "byte %zu of buffer 0's ring entries changed", i);
	if (table)
		KUNIT_EXPECT_EQ_MSG(test, memcmp(phys_to_virt(a->table_addr),
						 table, a->table_len), 0,
				    "buffer 0's indirect table changed");
	for (i = 2; i < 5; i++)
		vfc_rt_complete(rt, vfc_rt_take(rt, i), 16);
	vfc_rt_complete(rt, a, 96);
	for (i = 2; i < 5; i++)
		vfc_rt_expect_used(rt, &rt->bufs[i], 16);
	vfc_rt_expect_used(rt, &rt->bufs[0], 96);
	vfc_rt_expect_idle(rt);
}

/**
 * struct vfc_rt_barrier - what a case's barrier hook saw
 * @rt: the fixture
 * @kind: the barriers it looks at ('m', 'r', 'w')
 * @calls: barriers of that kind so far
 * @at: the ring memory right after the last of them
 * @hint: 0, or what the device says about kicks at the next of them
 *	(the vfc_rt_kicks value plus one)
 */
struct vfc_rt_barrier {
	struct vfc_rt *rt;
	char kind;
	unsigned int calls;
	u8 *at;
	int hint;
};

static void vfc_rt_barrier_hook(const struct vfc_vring *vr, char kind)
{
	struct vfc_rt_barrier *b = vr->test_priv;

	if (kind != b->kind)
		return;
	b->calls++;
	memcpy(b->at, vr->ring_mem, vr->ring_bytes);
	if (b->hint) {
		b->rt->ops->kick_hint(b->rt, b->hint - 1);
		b->hint = 0;
	}
}

/* Where the store that makes the next buffer available goes. */
static size_t vfc_rt_publish_offset(struct vfc_rt *rt)
{
	struct vfc_vring *vr = to_vfc_vring(rt->vq);
	u8 *field = rt->packed ? (u8 *)&rt->desc[rt->avail_pos].flags :
				 (u8 *)&rt->vr->avail->idx;

	return field - (u8 *)vr->ring_mem;
}

/*
 * The barriers of "2.7.13 Supplying Buffers to The Device" and "2.8.21
 * Driver Notifications", seen where they are: at the write barrier of an
 * add, everything the add writes into the ring is written except the one
 * store that makes the buffer available (split: the idx update, "a
 * suitable memory barrier before the idx update"; packed: the first
 * descriptor's flags, "before the flags update", made available after
 * the rest). At the full barrier of kick_prepare, the device changes its
 * mind about kicks: the driver must decide on what it says then, not on
 * what it said before ("before reading flags or avail_event"). Without
 * a barrier, or with one in another place, the hook sees another ring.
 * Across a wrap of the ring, with three-entry buffers.
 */
static void vfc_ring_barriers(struct kunit *test)
{
	struct vfc_rt *rt = test->priv;
	struct vfc_rt_barrier b = { .rt = rt, .kind = 'w' };
	struct vfc_vring *vr;
	u8 *before, *after;
	size_t pub, i;
	unsigned int k, calls;
	bool wanted;

	vfc_rt_start(rt);
	vr = to_vfc_vring(rt->vq);
	b.at = kunit_kmalloc(test, vr->ring_bytes, GFP_KERNEL);
	before = kunit_kmalloc(test, vr->ring_bytes, GFP_KERNEL);
	after = kunit_kmalloc(test, vr->ring_bytes, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, b.at);
	KUNIT_ASSERT_NOT_NULL(test, before);
	KUNIT_ASSERT_NOT_NULL(test, after);
	vr->test_priv = &b;
	vr->test_barrier = vfc_rt_barrier_hook;

	for (k = 0; k < 6; k++) {
		pub = vfc_rt_publish_offset(rt);
		KUNIT_ASSERT_LT(test, pub + 2, vr->ring_bytes);
		memcpy(before, vr->ring_mem, vr->ring_bytes);
		b.kind = 'w';
		calls = b.calls;
		KUNIT_ASSERT_EQ(test, vfc_rt_add(rt, vfc_rt_prep(rt, k, 1, 2,
								 32)), 0);
		memcpy(after, vr->ring_mem, vr->ring_bytes);
		KUNIT_ASSERT_EQ_MSG(test, b.calls, calls + 1,
				    "add %u: one write barrier", k);
		/* Not available yet at the barrier, available after add. */
		KUNIT_EXPECT_EQ(test, memcmp(b.at + pub, before + pub, 2), 0);
		KUNIT_EXPECT_NE(test, memcmp(after + pub, before + pub, 2), 0);
		for (i = 0; i < vr->ring_bytes; i++)
			if ((i < pub || i >= pub + 2) && b.at[i] != after[i])
				break;
		KUNIT_EXPECT_EQ_MSG(test, i, vr->ring_bytes,
				    "add %u: byte %zu written after the barrier",
				    k, i);
		KUNIT_EXPECT_NE_MSG(test, memcmp(b.at, before, vr->ring_bytes),
				    0, "add %u: nothing written before it", k);

		/* The device's word at the barrier decides the kick. */
		b.kind = 'm';
		calls = b.calls;
		rt->ops->kick_hint(rt, k & 1 ? VFC_RT_KICKS_WANTED :
				   VFC_RT_KICKS_SUPPRESSED);
		b.hint = 1 + (k & 1 ? VFC_RT_KICKS_SUPPRESSED :
			      VFC_RT_KICKS_WANTED);
		wanted = vfc_vq_kick_prepare(rt->vq);
		KUNIT_EXPECT_EQ_MSG(test, b.calls, calls + 1,
				    "kick_prepare %u: one full barrier", k);
		KUNIT_EXPECT_EQ_MSG(test, wanted, !(k & 1),
				    "kick_prepare %u: decided on the word before the barrier",
				    k);
		/* The avail idx (or the head's flags) out before it. */
		KUNIT_EXPECT_EQ(test, memcmp(b.at + pub, after + pub, 2), 0);
		if (wanted)
			KUNIT_EXPECT_TRUE(test, vfc_vq_notify(rt->vq));

		b.kind = 0;
		vfc_rt_complete(rt, vfc_rt_take(rt, k), 32);
		vfc_rt_expect_used(rt, &rt->bufs[k], 32);
		rt->ops->kick_hint(rt, VFC_RT_KICKS_WANTED);
	}
	vr->test_barrier = NULL;
	vfc_rt_expect_idle(rt);
}

/*
 * The queue's counters (debugfs vfc/<device>/queues) against what the
 * fake device saw: buffers added and used, kicks sent and declined,
 * interrupts (claimed or not), callbacks, the most in flight. Buffers of
 * two entries; the device declines every other kick and, once, raises an
 * interrupt with nothing used.
 */
static void vfc_ring_stats(struct kunit *test)
{
	struct vfc_rt *rt = test->priv;
	const struct vfc_vring_stats *st;
	unsigned int i, declined = 0;

	vfc_rt_start(rt);
	st = &to_vfc_vring(rt->vq)->stats;
	for (i = 0; i < 6; i++) {
		rt->ops->kick_hint(rt, i & 1 ? VFC_RT_KICKS_SUPPRESSED :
				   VFC_RT_KICKS_WANTED);
		KUNIT_ASSERT_EQ(test, vfc_rt_add(rt, vfc_rt_prep(rt, 2 * i, 1,
								 1, 16)), 0);
		KUNIT_ASSERT_EQ(test, vfc_rt_add(rt, vfc_rt_prep(rt, 2 * i + 1,
								 1, 1, 16)), 0);
		if (vfc_vq_kick_prepare(rt->vq))
			KUNIT_EXPECT_TRUE(test, vfc_vq_notify(rt->vq));
		else
			declined++;
		vfc_rt_complete(rt, vfc_rt_take(rt, 2 * i), 8);
		vfc_rt_complete(rt, vfc_rt_take(rt, 2 * i + 1), 8);
		vfc_rt_expect_used(rt, &rt->bufs[2 * i], 8);
		vfc_rt_expect_used(rt, &rt->bufs[2 * i + 1], 8);
	}
	/* Nothing used: not claimed. */
	KUNIT_EXPECT_EQ(test, vfc_vring_interrupt(0, rt->vq), IRQ_NONE);
	rt->irqs++;

	KUNIT_EXPECT_EQ(test, st->added, 12ULL);
	KUNIT_EXPECT_EQ(test, st->used, 12ULL);
	KUNIT_EXPECT_EQ(test, st->kicks, (u64)rt->kicks);
	KUNIT_EXPECT_EQ(test, st->kicks, 3ULL);
	KUNIT_EXPECT_EQ(test, st->kicks_suppressed, (u64)declined);
	KUNIT_EXPECT_EQ(test, st->interrupts, (u64)rt->irqs);
	KUNIT_EXPECT_EQ(test, st->spurious, (u64)(rt->irqs - rt->irqs_handled));
	KUNIT_EXPECT_EQ(test, st->callbacks, (u64)rt->callbacks);
	KUNIT_EXPECT_EQ(test, st->indirect, 0ULL);
	KUNIT_EXPECT_EQ(test, st->max_in_flight, 2U);
}

/* ------------------------------------------------------------------------
 * A hostile device: broken queues
 */

static const struct vfc_rt_case vfc_rt_hostile_cases[] = {
	{ .name = "id-out-of-range", .ops = &vfc_rt_split_ops,
	  .hostile = VFC_RT_ID_OUT_OF_RANGE,
	  .reason = "used id out of range" },
	{ .name = "id-huge", .ops = &vfc_rt_split_ops,
	  .hostile = VFC_RT_ID_HUGE, .reason = "used id out of range" },
	{ .name = "id-not-head", .ops = &vfc_rt_split_ops,
	  .hostile = VFC_RT_ID_NOT_HEAD, .reason = "used id not in flight" },
	{ .name = "id-twice", .ops = &vfc_rt_split_ops,
	  .hostile = VFC_RT_ID_TWICE, .reason = "used id not in flight" },
	{ .name = "len-too-long", .ops = &vfc_rt_split_ops,
	  .hostile = VFC_RT_LEN_TOO_LONG,
	  .reason = "used length exceeds buffer" },
	{ .name = "len-indirect", .ops = &vfc_rt_split_ops,
	  .features = F_INDIRECT, .hostile = VFC_RT_LEN_TOO_LONG,
	  .reason = "used length exceeds buffer" },
	{ .name = "len-out-only", .ops = &vfc_rt_split_ops,
	  .hostile = VFC_RT_LEN_OUT_ONLY,
	  .reason = "used length exceeds buffer" },
	{ .name = "idx-jump", .ops = &vfc_rt_split_ops,
	  .hostile = VFC_RT_IDX_JUMP,
	  .reason = "used index beyond outstanding buffers" },
	{ .name = "idx-back", .ops = &vfc_rt_split_ops,
	  .hostile = VFC_RT_IDX_BACK, .arg = 1,
	  .reason = "used index moved backwards" },
	{ .name = "notify-fails", .ops = &vfc_rt_split_ops,
	  .hostile = VFC_RT_NOTIFY_FAILS, .reason = "notify failed" },
	/* .arg: buffers there and back first (two descriptors each) */
	{ .name = "packed-id-out-of-range", .ops = &vfc_rt_packed_ops,
	  .hostile = VFC_RT_ID_OUT_OF_RANGE,
	  .reason = "used id out of range" },
	{ .name = "packed-id-huge", .ops = &vfc_rt_packed_ops,
	  .hostile = VFC_RT_ID_HUGE, .reason = "used id out of range" },
	{ .name = "packed-id-not-head", .ops = &vfc_rt_packed_ops,
	  .hostile = VFC_RT_ID_NOT_HEAD, .reason = "used id not in flight" },
	{ .name = "packed-id-twice", .ops = &vfc_rt_packed_ops,
	  .hostile = VFC_RT_ID_TWICE, .reason = "used id not in flight" },
	{ .name = "packed-id-twice-lap-2", .ops = &vfc_rt_packed_ops,
	  .hostile = VFC_RT_ID_TWICE, .reason = "used id not in flight",
	  .arg = 3 },
	{ .name = "packed-len-too-long", .ops = &vfc_rt_packed_ops,
	  .hostile = VFC_RT_LEN_TOO_LONG,
	  .reason = "used length exceeds buffer" },
	{ .name = "packed-len-indirect", .ops = &vfc_rt_packed_ops,
	  .features = F_INDIRECT, .hostile = VFC_RT_LEN_TOO_LONG,
	  .reason = "used length exceeds buffer" },
	{ .name = "packed-len-out-only", .ops = &vfc_rt_packed_ops,
	  .hostile = VFC_RT_LEN_OUT_ONLY,
	  .reason = "used length exceeds buffer" },
	{ .name = "packed-notify-fails", .ops = &vfc_rt_packed_ops,
	  .hostile = VFC_RT_NOTIFY_FAILS, .reason = "notify failed" },
	{ .name = "packed-flags-mixed", .ops = &vfc_rt_packed_ops,
	  .hostile = VFC_RT_FLAGS_MIXED,
	  .reason = "used flags disagree with the wrap counter" },
	/* In the second lap: USED clear (the wrap counter), AVAIL set. */
	{ .name = "packed-flags-mixed-lap-2", .ops = &vfc_rt_packed_ops,
	  .hostile = VFC_RT_FLAGS_MIXED, .arg = VFC_RT_NUM / 2,
	  .reason = "used flags disagree with the wrap counter" },
};

/* An in-range id that heads no buffer in flight. */
static u32 vfc_rt_not_a_head(const struct vfc_rt_taken *a,
			     const struct vfc_rt_taken *b)
{
	u32 id = 0;

	while (id == a->id || id == b->id)
		id++;
	return id;
}

/*
 * Two buffers in flight, A (64 bytes out, 64 in) and B (32 bytes out);
 * then the device breaks the protocol as the row says. The queue is
 * broken with the row's reason, and the message logged names the queue
 * and the violation (the device's name leads it: dev_err()); it returns
 * nothing more (not even a valid entry after the bad one), refuses new
 * buffers with -EIO, and still detaches every outstanding buffer,
 * unmapping all.
 */
/* The spec section whose rule a hostile row breaks, by its title. */
static const char *vfc_rt_section(const struct vfc_rt *rt,
				  enum vfc_rt_hostile how)
{
	switch (how) {
	case VFC_RT_NOTIFY_FAILS:
		return "Notifying The Device";
	case VFC_RT_FLAGS_MIXED:
		return "Packed Virtqueues / Driver and Device Ring Wrap Counters";
	case VFC_RT_IDX_JUMP:
	case VFC_RT_IDX_BACK:
		return VFC_SPLIT_USED_RING;
	default:
		return rt->packed ? VFC_PACKED_DESC_TABLE : VFC_SPLIT_USED_RING;
	}
}

static void vfc_ring_hostile(struct kunit *test)
{
	struct vfc_rt *rt = test->priv;
	enum vfc_rt_hostile how = rt->param->hostile;
	unsigned long outstanding = BIT(0) | BIT(1);
	struct vfc_rt_taken *ta = NULL, *tb = NULL;
	struct vfc_rt_buf *a, *b;
	struct vfc_report_entry e;
	const char *reason, *msg;
	char queue[32];
	unsigned int maps;
	long i;

	vfc_rt_start(rt);
	for (i = 0; i < rt->param->arg; i++)
		vfc_rt_round_trip_one(rt, 3);
	a = vfc_rt_prep(rt, 0, 1, 1, 64);
	b = vfc_rt_prep(rt, 1, 1, 0, 32);
	KUNIT_ASSERT_EQ(test, vfc_rt_add(rt, a), 0);
	KUNIT_ASSERT_EQ(test, vfc_rt_add(rt, b), 0);

	if (how == VFC_RT_NOTIFY_FAILS) {
		rt->notify_fails = true;
		KUNIT_EXPECT_FALSE(test, vfc_vq_kick(rt->vq));
		KUNIT_EXPECT_EQ(test, rt->kicks, 1U);
	} else {
		KUNIT_ASSERT_TRUE(test, vfc_vq_kick(rt->vq));
		ta = vfc_rt_take(rt, 0);
		tb = vfc_rt_take(rt, 1);
		KUNIT_ASSERT_EQ(test, ta->in_bytes, 64U);
	}

	switch (how) {
	case VFC_RT_ID_OUT_OF_RANGE:
		rt->ops->push_used(rt, rt->num, 0);
		break;
	case VFC_RT_ID_HUGE:
		/* Packed ids are 16 bits: the top one set. */
		rt->ops->push_used(rt, 0xffff8000U | ta->id, 0);
		break;
	case VFC_RT_ID_NOT_HEAD:
		rt->ops->push_used(rt, vfc_rt_not_a_head(ta, tb), 0);
		break;
	case VFC_RT_ID_TWICE:
		vfc_rt_complete(rt, ta, 64);
		vfc_rt_expect_used(rt, a, 64);
		outstanding = BIT(1);
		rt->ops->push_used(rt, ta->id, 0);
		break;
	case VFC_RT_LEN_TOO_LONG:
		rt->ops->push_used(rt, ta->id, 65);
		break;
	case VFC_RT_LEN_OUT_ONLY:
		rt->ops->push_used(rt, tb->id, 1);
		break;
	case VFC_RT_IDX_JUMP:
		/* Two outstanding, three "used". */
		rt->ops->jump_used(rt, 3);
		break;
	case VFC_RT_IDX_BACK:
		/* Back behind the round trip's entry, which the driver took. */
		rt->ops->jump_used(rt, U16_MAX);
		break;
	case VFC_RT_NOTIFY_FAILS:
		break;
	case VFC_RT_FLAGS_MIXED:
		/* USED at the wrap counter, AVAIL not. */
		rt->used_flags_xor = VFC_RT_F_AVAIL;
		rt->ops->push_used(rt, ta->id, 0);
		break;
	}
	if (how != VFC_RT_NOTIFY_FAILS) {
		vfc_rt_interrupt(rt);
		vfc_rt_expect_none(rt);
	}

	KUNIT_EXPECT_TRUE(test, vfc_vq_is_broken(rt->vq));
	reason = vfc_vq_broken_reason(rt->vq);
	KUNIT_ASSERT_NOT_NULL(test, reason);
	KUNIT_EXPECT_STREQ(test, reason, rt->param->reason);
	msg = vfc_vq_broken_message(rt->vq);
	KUNIT_ASSERT_NOT_NULL(test, msg);
	snprintf(queue, sizeof(queue), "vq %u (%s): ", rt->vq->index,
		 rt->vq->name);
	KUNIT_EXPECT_TRUE_MSG(test, str_has_prefix(msg, queue) &&
			      strstr(msg, reason), "message: %s", msg);

	/* The device's conformance report: the rule it broke, once. */
	KUNIT_ASSERT_TRUE_MSG(test, vfc_report_get(rt->vdev, reason, &e),
			      "no report entry for %s", reason);
	KUNIT_EXPECT_TRUE(test, e.violation);
	KUNIT_EXPECT_EQ(test, e.count, 1UL);
	KUNIT_EXPECT_STREQ(test, e.section, vfc_rt_section(rt, how));
	KUNIT_EXPECT_STREQ(test, e.example, msg);

	/* Broken stays broken: a valid entry now is not returned either. */
	if (tb && how != VFC_RT_LEN_OUT_ONLY) {
		vfc_rt_complete(rt, tb, 0);
		vfc_rt_expect_none(rt);
	}
	maps = rt->dma->live_maps;
	KUNIT_EXPECT_EQ(test, vfc_rt_add(rt, vfc_rt_prep(rt, 2, 1, 0, 16)),
			-EIO);
	KUNIT_EXPECT_EQ(test, rt->dma->live_maps, maps);
	vfc_rt_expect_detach(rt, outstanding);
}

/* Interrupts with nothing used, in a row: the storm of a broken device. */
#define VFC_RT_STORM	10000

/*
 * An interrupt storm: interrupts with nothing used are not claimed
 * (IRQ_NONE, so the kernel's spurious interrupt detection can shut the
 * line), call nothing back and break nothing; the buffer the device then
 * uses comes back as usual.
 */
static void vfc_ring_interrupt_storm(struct kunit *test)
{
	struct vfc_rt *rt = test->priv;
	unsigned int i, handled = 0;
	unsigned long flags;

	vfc_rt_start(rt);
	KUNIT_ASSERT_EQ(test, vfc_rt_add(rt, vfc_rt_prep(rt, 0, 0, 1, 16)), 0);
	KUNIT_ASSERT_TRUE(test, vfc_vq_kick(rt->vq));
	vfc_rt_take(rt, 0);
	for (i = 0; i < VFC_RT_STORM; i++) {
		local_irq_save(flags);
		handled += vfc_vring_interrupt(0, rt->vq) == IRQ_HANDLED;
		local_irq_restore(flags);
	}
	KUNIT_EXPECT_EQ(test, handled, 0U);
	KUNIT_EXPECT_EQ(test, rt->callbacks, 0U);
	KUNIT_EXPECT_FALSE(test, vfc_vq_is_broken(rt->vq));
	vfc_rt_complete(rt, &rt->taken[0], 16);
	KUNIT_EXPECT_EQ(test, rt->irqs_handled, 1U);
	KUNIT_EXPECT_EQ(test, rt->callbacks, 1U);
	vfc_rt_expect_used(rt, &rt->bufs[0], 16);
	vfc_rt_expect_idle(rt);
}

/* vfc_break_device() breaks the device's queues; they detach cleanly. */
static void vfc_ring_break_device(struct kunit *test)
{
	struct vfc_rt *rt = test->priv;
	struct vfc_rt_buf *a;

	vfc_rt_start(rt);
	a = vfc_rt_prep(rt, 0, 1, 1, 32);
	KUNIT_ASSERT_EQ(test, vfc_rt_add(rt, a), 0);
	KUNIT_ASSERT_TRUE(test, vfc_vq_kick(rt->vq));
	vfc_rt_take(rt, 0);

	vfc_break_device(rt->vdev);
	KUNIT_EXPECT_TRUE(test, vfc_vq_is_broken(rt->vq));
	/* Once, so that a driver waiting for the buffer stops waiting. */
	KUNIT_EXPECT_EQ(test, rt->callbacks, 1U);
	KUNIT_EXPECT_EQ(test, vfc_rt_add(rt, vfc_rt_prep(rt, 1, 1, 0, 16)),
			-EIO);
	vfc_rt_complete(rt, &rt->taken[0], 32);
	/* Not claimed: a device that keeps signalling is a storm to stop. */
	KUNIT_EXPECT_EQ(test, rt->irqs_handled, 0U);
	KUNIT_EXPECT_EQ(test, rt->callbacks, 1U);
	vfc_rt_expect_none(rt);
	vfc_rt_expect_detach(rt, BIT(0));
}

/*
 * "Device Initialization" and "Device Reset": the device may use its queues
 * only from DRIVER_OK until the driver resets it. An interrupt outside that
 * window (a hostile device, or another device's on a shared line) calls
 * nothing back and is not claimed.
 */
static void vfc_ring_callback_window(struct kunit *test)
{
	struct vfc_rt *rt = test->priv;
	unsigned int i;

	vfc_rt_start(rt);
	for (i = 0; i < 3; i++) {
		KUNIT_ASSERT_EQ(test, vfc_rt_add(rt, vfc_rt_prep(rt, i, 0, 1,
								 16)), 0);
		vfc_rt_take(rt, i);
	}

	/* Before DRIVER_OK, or after the reset began. */
	vfc_vring_set_cbs_live(rt->vdev, false);
	vfc_rt_complete(rt, &rt->taken[0], 16);
	KUNIT_EXPECT_EQ(test, rt->irqs, 1U);
	KUNIT_EXPECT_EQ(test, rt->irqs_handled, 0U);
	KUNIT_EXPECT_EQ(test, rt->callbacks, 0U);

	/* DRIVER_OK: the next interrupt is taken, and the driver sees both. */
	vfc_vring_set_cbs_live(rt->vdev, true);
	vfc_rt_complete(rt, &rt->taken[1], 16);
	KUNIT_EXPECT_EQ(test, rt->irqs_handled, 1U);
	KUNIT_EXPECT_EQ(test, rt->callbacks, 1U);
	vfc_rt_expect_used(rt, &rt->bufs[0], 16);
	vfc_rt_expect_used(rt, &rt->bufs[1], 16);

	vfc_vring_set_cbs_live(rt->vdev, false);
	vfc_rt_complete(rt, &rt->taken[2], 16);
	KUNIT_EXPECT_EQ(test, rt->irqs_handled, 1U);
	KUNIT_EXPECT_EQ(test, rt->callbacks, 1U);
	KUNIT_EXPECT_FALSE(test, vfc_vq_is_broken(rt->vq));
}

/* ------------------------------------------------------------------------
 * Notification suppression, both directions
 */

static const struct vfc_rt_case vfc_rt_event_cases[] = {
	{ .name = "split", .ops = &vfc_rt_split_ops },
	{ .name = "split-event-idx", .ops = &vfc_rt_split_ops,
	  .features = F_EVENT_IDX },
	{ .name = "packed", .ops = &vfc_rt_packed_ops },
	{ .name = "packed-event-idx", .ops = &vfc_rt_packed_ops,
	  .features = F_EVENT_IDX },
};

/*
 * Add one buffer of @nr_in writable entries, kick it, let the device take
 * and return it; return the kick.
 */
static bool vfc_rt_kick_one(struct vfc_rt *rt, unsigned int i,
			    unsigned int nr_in)
{
	bool wanted;

	KUNIT_ASSERT_EQ(rt->test, vfc_rt_add(rt, vfc_rt_prep(rt, i, 0, nr_in,
							     16)), 0);
	wanted = vfc_vq_kick_prepare(rt->vq);
	if (wanted)
		KUNIT_EXPECT_TRUE(rt->test, vfc_vq_notify(rt->vq));
	vfc_rt_complete(rt, vfc_rt_take(rt, i), 16);
	vfc_rt_expect_used(rt, &rt->bufs[i], 16);
	return wanted;
}

/*
 * "Available Buffer Notification Suppression" (split) and "Driver and
 * Device Event Suppression" (packed), the driver's side: it kicks when the
 * device asks and not when it declines, through the mechanism the features
 * select, ignoring what they leave out of use.
 */
static void vfc_ring_kick_suppression(struct kunit *test)
{
	struct vfc_rt *rt = test->priv;

	vfc_rt_start(rt);
	KUNIT_EXPECT_TRUE(test, vfc_rt_kick_one(rt, 0, 1));
	rt->ops->kick_hint(rt, VFC_RT_KICKS_SUPPRESSED);
	KUNIT_EXPECT_FALSE(test, vfc_rt_kick_one(rt, 1, 1));
	KUNIT_EXPECT_FALSE(test, vfc_rt_kick_one(rt, 2, 1));
	rt->ops->kick_hint(rt, VFC_RT_KICKS_DECOY);
	KUNIT_EXPECT_TRUE(test, vfc_rt_kick_one(rt, 3, 1));
	KUNIT_EXPECT_TRUE(test, vfc_rt_kick_one(rt, 4, 1));
	rt->ops->kick_hint(rt, VFC_RT_KICKS_WANTED);
	KUNIT_EXPECT_TRUE(test, vfc_rt_kick_one(rt, 5, 1));
	KUNIT_EXPECT_EQ(test, rt->kicks, 4U);
	/* A suppressed kick() is no failure. */
	rt->ops->kick_hint(rt, VFC_RT_KICKS_SUPPRESSED);
	KUNIT_ASSERT_EQ(test, vfc_rt_add(rt, vfc_rt_prep(rt, 6, 0, 1, 16)), 0);
	KUNIT_EXPECT_TRUE(test, vfc_vq_kick(rt->vq));
	KUNIT_EXPECT_EQ(test, rt->kicks, 4U);
}

/*
 * Used buffer notification suppression, the driver's side: disable_cb
 * holds across get_buf, enable_cb reports buffers that arrived meanwhile,
 * enable_cb_prepare/poll see a buffer arriving after them, and an
 * interrupt with nothing used is not claimed.
 */
static void vfc_ring_callbacks(struct kunit *test)
{
	struct vfc_rt *rt = test->priv;
	unsigned int i, last;

	vfc_rt_start(rt);
	for (i = 0; i < 5; i++)
		KUNIT_ASSERT_EQ(test, vfc_rt_add(rt, vfc_rt_prep(rt, i, 0, 1,
								 16)), 0);
	KUNIT_ASSERT_TRUE(test, vfc_vq_kick(rt->vq));
	for (i = 0; i < 5; i++)
		vfc_rt_take(rt, i);

	vfc_vq_disable_cb(rt->vq);
	vfc_rt_complete(rt, &rt->taken[0], 16);
	vfc_rt_expect_used(rt, &rt->bufs[0], 16);
	vfc_rt_complete(rt, &rt->taken[1], 16);
	KUNIT_EXPECT_EQ_MSG(test, rt->irqs, 0U, "interrupt while disabled");

	KUNIT_EXPECT_FALSE_MSG(test, vfc_vq_enable_cb(rt->vq),
			       "a buffer arrived while disabled");
	vfc_rt_expect_used(rt, &rt->bufs[1], 16);
	KUNIT_EXPECT_TRUE(test, vfc_vq_enable_cb(rt->vq));
	vfc_rt_complete(rt, &rt->taken[2], 16);
	KUNIT_EXPECT_EQ(test, rt->irqs, 1U);
	KUNIT_EXPECT_EQ(test, rt->irqs_handled, 1U);
	KUNIT_EXPECT_EQ(test, rt->callbacks, 1U);
	vfc_rt_expect_used(rt, &rt->bufs[2], 16);

	vfc_vq_disable_cb(rt->vq);
	last = vfc_vq_enable_cb_prepare(rt->vq);
	KUNIT_EXPECT_FALSE(test, vfc_vq_poll(rt->vq, last));
	vfc_rt_complete(rt, &rt->taken[3], 16);
	KUNIT_EXPECT_EQ(test, rt->irqs, 2U);
	KUNIT_EXPECT_TRUE(test, vfc_vq_poll(rt->vq, last));
	vfc_rt_expect_used(rt, &rt->bufs[3], 16);

	KUNIT_EXPECT_EQ(test, vfc_vring_interrupt(0, rt->vq), IRQ_NONE);
	KUNIT_EXPECT_EQ(test, rt->callbacks, 2U);

	vfc_rt_complete(rt, &rt->taken[4], 16);
	KUNIT_EXPECT_EQ(test, rt->irqs, 3U);
	KUNIT_EXPECT_EQ(test, rt->callbacks, 3U);
	vfc_rt_expect_used(rt, &rt->bufs[4], 16);
	vfc_rt_expect_idle(rt);
}

/* Fill the ring with in-buffers and let the device take them all. */
static void vfc_rt_fill_ring(struct vfc_rt *rt)
{
	unsigned int i;

	for (i = 0; i < rt->num; i++)
		KUNIT_ASSERT_EQ(rt->test, vfc_rt_add(rt, vfc_rt_prep(rt, i, 0,
								     1, 16)),
				0);
	KUNIT_ASSERT_TRUE(rt->test, vfc_vq_kick(rt->vq));
	for (i = 0; i < rt->num; i++)
		vfc_rt_take(rt, i);
}

static void vfc_rt_collect_ring(struct vfc_rt *rt)
{
	unsigned int i;

	for (i = 0; i < rt->num; i++)
		vfc_rt_expect_used(rt, &rt->bufs[i], 16);
}

/*
 * enable_cb_delayed asks for an interrupt once 3/4 of the outstanding
 * buffers are used: of 8, the interrupt comes with the 7th (used_event
 * 6, or the descriptor 6 on, is the 7th entry) with EVENT_IDX, with the
 * first without. It returns false when more than that many were already
 * used. With fewer used it may return true; the packed layout cannot
 * count used buffers without walking the ring, and (as Linux's) returns
 * false once any is; either way an interrupt must follow a true.
 */
static void vfc_ring_enable_cb_delayed(struct kunit *test)
{
	struct vfc_rt *rt = test->priv;
	unsigned int i, irqs;
	bool waits;

	vfc_rt_start(rt);
	KUNIT_ASSERT_EQ(test, rt->num, 8U);
	vfc_rt_fill_ring(rt);
	vfc_vq_disable_cb(rt->vq);
	KUNIT_EXPECT_TRUE(test, vfc_vq_enable_cb_delayed(rt->vq));
	for (i = 0; i < 8; i++) {
		vfc_rt_complete(rt, &rt->taken[i], 16);
		KUNIT_EXPECT_EQ_MSG(test, rt->irqs,
				    rt->event_idx ? (i >= 6 ? 1U : 0U) : i + 1,
				    "interrupts after %u used", i + 1);
	}
	vfc_rt_collect_ring(rt);

	/* Two of eight used: still ahead of the 3/4 mark. */
	vfc_rt_fill_ring(rt);
	vfc_vq_disable_cb(rt->vq);
	for (i = 0; i < 2; i++)
		vfc_rt_complete(rt, &rt->taken[i], 16);
	irqs = rt->irqs;
	waits = vfc_vq_enable_cb_delayed(rt->vq);
	if (!rt->packed)
		KUNIT_EXPECT_TRUE(test, waits);
	for (i = 2; i < 8; i++)
		vfc_rt_complete(rt, &rt->taken[i], 16);
	if (waits)
		KUNIT_EXPECT_GT(test, rt->irqs, irqs);
	vfc_rt_collect_ring(rt);

	/* Seven of eight used: past it, so the caller must poll. */
	vfc_rt_fill_ring(rt);
	vfc_vq_disable_cb(rt->vq);
	for (i = 0; i < 7; i++)
		vfc_rt_complete(rt, &rt->taken[i], 16);
	KUNIT_EXPECT_FALSE(test, vfc_vq_enable_cb_delayed(rt->vq));
	vfc_rt_complete(rt, &rt->taken[7], 16);
	vfc_rt_collect_ring(rt);
	vfc_rt_expect_idle(rt);
}

/* ------------------------------------------------------------------------
 * The packed layout's own cases
 */

/* A small deterministic generator (xorshift32): rows replay exactly. */
static u32 vfc_rt_rand(u32 *state)
{
	u32 x = *state;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	*state = x;
	return x;
}

/*
 * Post buffer @i with @n entries: half of them (rounded down) readable,
 * the rest writable. Return the ring descriptors it takes.
 */
static unsigned int vfc_rt_post(struct vfc_rt *rt, unsigned int i,
				unsigned int n)
{
	struct vfc_rt_buf *b = vfc_rt_prep(rt, i, n / 2, n - n / 2, 16);

	KUNIT_ASSERT_EQ(rt->test, vfc_rt_add(rt, b), 0);
	return rt->indirect && n > 1 ? 1 : n;
}

/* The length the device writes into buffer @i, some of what it may. */
static u32 vfc_rt_len(const struct vfc_rt *rt, unsigned int i,
		      unsigned int salt)
{
	return (i * 7 + salt) % (rt->taken[i].in_bytes + 1);
}

static const struct vfc_rt_case vfc_rt_packed_wrap_cases[] = {
	{ .name = "packed-7", .ops = &vfc_rt_packed_ops, .num = 7 },
	{ .name = "packed-13", .ops = &vfc_rt_packed_ops, .num = 13 },
	{ .name = "packed-7-event-idx", .ops = &vfc_rt_packed_ops,
	  .features = F_EVENT_IDX, .num = 7 },
	{ .name = "packed-13-indirect-event-idx", .ops = &vfc_rt_packed_ops,
	  .features = F_INDIRECT | F_EVENT_IDX, .num = 13 },
};

/*
 * "Driver and Device Ring Wrap Counters" on odd rings: batches of 1 to 4
 * buffers of 1 to 3 entries (chains, which straddle the end of the ring;
 * indirect ones on the INDIRECT row), returned in reverse, until the
 * counters flipped VFC_RT_PACKED_FLIPS times: more than twice the ring's
 * size in buffers. After each batch both ends are at one place in one lap
 * ("the Driver Ring Wrap Counter in the driver matches the Device Ring
 * Wrap Counter in the device ... when all available descriptors have been
 * used"), and looking for more finds nothing and breaks nothing. With
 * EVENT_IDX the driver asks for descriptor events at its last used
 * position and the device for kicks at its next available one: one kick
 * and one interrupt per batch, in either lap.
 */
static void vfc_ring_packed_wrap(struct kunit *test)
{
	struct vfc_rt *rt = test->priv;
	unsigned int seq = 0, rounds = 0, flips = 0, k, i;
	bool wrap;

	vfc_rt_start(rt);
	KUNIT_EXPECT_TRUE(test, vfc_vq_enable_cb(rt->vq));
	wrap = rt->used_wrap;
	while (flips < VFC_RT_PACKED_FLIPS) {
		for (k = 0; k < 1 + rounds % 4; k++, seq++) {
			unsigned int n = 1 + seq % 3;

			if ((rt->indirect && n > 1 ? 1 : n) > rt->vq->num_free)
				break;
			vfc_rt_post(rt, k, n);
		}
		KUNIT_ASSERT_GT(test, k, 0U);
		KUNIT_ASSERT_TRUE(test, vfc_vq_kick(rt->vq));
		for (i = 0; i < k; i++)
			vfc_rt_expect_taken(rt, &rt->bufs[i],
					    vfc_rt_take(rt, i));
		KUNIT_EXPECT_FALSE(test, rt->ops->pop_avail(rt, &rt->taken[k]));
		for (i = k; i-- > 0;)
			vfc_rt_push(rt, &rt->taken[i], vfc_rt_len(rt, i, rounds));
		vfc_rt_interrupt(rt);
		for (i = k; i-- > 0;) {
			vfc_rt_expect_used(rt, &rt->bufs[i],
					   vfc_rt_len(rt, i, rounds));
			vfc_rt_expect_written(rt, &rt->bufs[i],
					      vfc_rt_len(rt, i, rounds));
		}
		vfc_rt_expect_idle(rt);
		rounds++;
		KUNIT_ASSERT_FALSE_MSG(test, vfc_vq_is_broken(rt->vq),
				       "broken in round %u: %s", rounds,
				       vfc_vq_broken_reason(rt->vq));
		KUNIT_ASSERT_EQ(test, rt->vq->num_free, rt->num);
		KUNIT_ASSERT_EQ(test, rt->avail_pos, rt->used_pos);
		KUNIT_ASSERT_EQ(test, rt->avail_wrap, rt->used_wrap);
		KUNIT_ASSERT_EQ_MSG(test, rt->kicks, rounds, "kicks, round %u",
				    rounds);
		KUNIT_ASSERT_EQ_MSG(test, rt->irqs, rounds,
				    "interrupts, round %u", rounds);
		if (rt->event_idx)
			KUNIT_ASSERT_EQ(test, vfc_rt_le16(&rt->drv->off_wrap),
					rt->used_idx);
		if (rt->used_wrap != wrap) {
			wrap = rt->used_wrap;
			flips++;
		}
	}
	KUNIT_EXPECT_GT(test, seq, 2 * rt->num);
	KUNIT_EXPECT_EQ(test, rt->irqs_handled, rounds);
	KUNIT_EXPECT_EQ(test, rt->dma->live_maps, 0U);
}

static const struct vfc_rt_case vfc_rt_packed_order_cases[] = {
	{ .name = "packed", .ops = &vfc_rt_packed_ops },
	{ .name = "packed-indirect", .ops = &vfc_rt_packed_ops,
	  .features = F_INDIRECT },
	{ .name = "packed-13", .ops = &vfc_rt_packed_ops, .num = 13 },
	{ .name = "packed-7-event-idx", .ops = &vfc_rt_packed_ops,
	  .features = F_EVENT_IDX, .num = 7 },
};

/*
 * Fill the ring with buffers of 1 to 3 entries (from @seq on), kick, let
 * the device take them all. Return how many.
 */
static unsigned int vfc_rt_fill_mixed(struct vfc_rt *rt, unsigned int seq)
{
	unsigned int k, n;

	for (k = 0; k < VFC_RT_NBUFS; k++) {
		n = 1 + (seq + k) % 3;
		if ((rt->indirect && n > 1 ? 1 : n) > rt->vq->num_free)
			break;
		vfc_rt_post(rt, k, n);
	}
	KUNIT_ASSERT_TRUE(rt->test, vfc_vq_kick(rt->vq));
	for (n = 0; n < k; n++)
		vfc_rt_expect_taken(rt, &rt->bufs[n], vfc_rt_take(rt, n));
	return k;
}

/*
 * The device returns buffers @order[0..@m) in that order, one interrupt
 * decision; the driver gets them in that order, with their lengths.
 */
static void vfc_rt_return(struct vfc_rt *rt, const unsigned int *order,
			  unsigned int m, unsigned int salt)
{
	unsigned int j;

	for (j = 0; j < m; j++)
		vfc_rt_push(rt, &rt->taken[order[j]],
			    vfc_rt_len(rt, order[j], salt));
	vfc_rt_interrupt(rt);
	for (j = 0; j < m; j++) {
		vfc_rt_expect_used(rt, &rt->bufs[order[j]],
				   vfc_rt_len(rt, order[j], salt));
		vfc_rt_expect_written(rt, &rt->bufs[order[j]],
				      vfc_rt_len(rt, order[j], salt));
	}
}

/*
 * Out-of-order completion ("the device might complete their processing
 * out of order. Used device descriptors are written in the order in which
 * their processing is complete"): a full ring of mixed chains returned in
 * reverse, then shuffled; then a churn in which the device returns a
 * random part of what it holds in random order while the driver refills,
 * so buffer ids and ring slots are reused while older buffers are still
 * out. Tokens and lengths match throughout; nothing leaks or breaks.
 */
static void vfc_ring_packed_out_of_order(struct kunit *test)
{
	unsigned int order[VFC_RT_NBUFS], held[VFC_RT_NBUFS];
	unsigned int k, i, j, m, nheld = 0, step, seq = 0;
	struct vfc_rt *rt = test->priv;
	unsigned long free_bufs;
	u32 rnd = 0x9e3779b9;

	vfc_rt_start(rt);
	k = vfc_rt_fill_mixed(rt, 0);
	for (i = 0; i < k; i++)
		order[i] = k - 1 - i;
	vfc_rt_return(rt, order, k, 1);
	vfc_rt_expect_idle(rt);

	k = vfc_rt_fill_mixed(rt, 1);
	for (i = 0; i < k; i++)
		order[i] = i;
	for (i = k; i > 1; i--) {
		j = vfc_rt_rand(&rnd) % i;
		swap(order[i - 1], order[j]);
	}
	vfc_rt_return(rt, order, k, 2);
	vfc_rt_expect_idle(rt);
	KUNIT_ASSERT_EQ(test, rt->vq->num_free, rt->num);

	free_bufs = GENMASK(VFC_RT_NBUFS - 1, 0);
	for (step = 0; step < 64; step++) {
		/* Refill as far as it goes, at most 3 buffers a step. */
		for (k = 0; k < 3 && free_bufs; k++, seq++) {
			unsigned int n = 1 + seq % 3;

			if ((rt->indirect && n > 1 ? 1 : n) > rt->vq->num_free)
				break;
			i = __ffs(free_bufs);
			free_bufs &= ~BIT(i);
			vfc_rt_post(rt, i, n);
			held[nheld + k] = i;
		}
		if (k)
			KUNIT_ASSERT_TRUE(test, vfc_vq_kick(rt->vq));
		for (j = 0; j < k; j++)
			vfc_rt_expect_taken(rt, &rt->bufs[held[nheld + j]],
					    vfc_rt_take(rt, held[nheld + j]));
		nheld += k;
		KUNIT_ASSERT_GT(test, nheld, 0U);

		/* Return a random part of what the device holds. */
		m = 1 + vfc_rt_rand(&rnd) % nheld;
		for (j = 0; j < m; j++) {
			i = vfc_rt_rand(&rnd) % nheld;
			order[j] = held[i];
			held[i] = held[--nheld];
		}
		vfc_rt_return(rt, order, m, step);
		for (j = 0; j < m; j++)
			free_bufs |= BIT(order[j]);
		if (nheld)
			vfc_rt_expect_none(rt);
		else
			vfc_rt_expect_idle(rt);
		KUNIT_ASSERT_FALSE_MSG(test, vfc_vq_is_broken(rt->vq),
				       "broken in step %u: %s", step,
				       vfc_vq_broken_reason(rt->vq));
	}
	/* Drain what is left, newest first. */
	for (j = 0; j < nheld; j++)
		order[j] = held[nheld - 1 - j];
	vfc_rt_return(rt, order, nheld, 0);
	vfc_rt_expect_idle(rt);
	KUNIT_EXPECT_EQ(test, rt->vq->num_free, rt->num);
	KUNIT_EXPECT_EQ(test, rt->dma->live_maps, 0U);
	KUNIT_EXPECT_EQ(test, rt->avail_pos, rt->used_pos);
	KUNIT_EXPECT_EQ(test, rt->avail_wrap, rt->used_wrap);
}

static const struct vfc_rt_case vfc_rt_packed_event_cases[] = {
	{ .name = "packed", .ops = &vfc_rt_packed_ops },
	{ .name = "packed-event-idx", .ops = &vfc_rt_packed_ops,
	  .features = F_EVENT_IDX },
	{ .name = "packed-7-event-idx", .ops = &vfc_rt_packed_ops,
	  .features = F_EVENT_IDX, .num = 7 },
};

/* The driver event suppression structure is @flags (and, for DESC, @pos). */
static void vfc_rt_expect_drv_event(struct vfc_rt *rt, u16 flags, u16 pos,
				    bool wrap)
{
	KUNIT_EXPECT_EQ(rt->test, vfc_rt_le16(&rt->drv->flags), flags);
	if (flags == VRING_PACKED_EVENT_FLAG_DESC)
		KUNIT_EXPECT_EQ(rt->test, vfc_rt_le16(&rt->drv->off_wrap),
				vfc_rt_off_wrap(pos, wrap));
}

/*
 * "Driver and Device Event Suppression", the driver event suppression
 * structure as the driver writes it: ENABLE at first, DISABLE after
 * disable_cb; after enable_cb ENABLE without EVENT_IDX and DESC at its
 * last used position with it, which get_buf moves along (not while
 * disabled), across the wrap; after enable_cb_delayed DESC at 3/4 of the
 * outstanding descriptors on, in the next lap here, and the device
 * interrupts exactly when it uses that one. A queue without a callback
 * asks for no events at all.
 */
static void vfc_ring_packed_driver_events(struct kunit *test)
{
	struct vfc_rt *rt = test->priv;
	u16 desc = rt->event_idx ? VRING_PACKED_EVENT_FLAG_DESC :
				   VRING_PACKED_EVENT_FLAG_ENABLE;
	const struct vfc_vring_config nobody = {
		.index = VFC_RT_INDEX + 1,
		.num = VFC_RT_NUM,
		.vring_align = VFC_RT_ALIGN,
		.weak_barriers = true,
		.notify = vfc_rt_notify,
		.name = VFC_RT_NAME,
		.dma_dev = &rt->dma->dev,
	};
	struct vring_packed_desc_event *drv;
	struct vfc_vring_view view;
	struct vfc_virtqueue *vq;
	unsigned int i, ahead, irqs;
	bool wrap;
	u16 pos;

	vfc_rt_start(rt);
	vfc_rt_expect_drv_event(rt, VRING_PACKED_EVENT_FLAG_ENABLE, 0, 0);
	vfc_vq_disable_cb(rt->vq);
	vfc_rt_expect_drv_event(rt, VRING_PACKED_EVENT_FLAG_DISABLE, 0, 0);
	KUNIT_EXPECT_TRUE(test, vfc_vq_enable_cb(rt->vq));
	vfc_rt_expect_drv_event(rt, desc, 0, true);

	/* One buffer at a time, one and a half laps: each interrupts. */
	for (i = 0; i < rt->num + rt->num / 2; i++) {
		vfc_rt_kick_one(rt, i % VFC_RT_NBUFS, 1);
		KUNIT_EXPECT_EQ(test, rt->irqs, i + 1);
		vfc_rt_expect_drv_event(rt, desc, rt->used_pos, rt->used_wrap);
	}

	/* Disabled: no interrupt, and get_buf leaves the event alone. */
	vfc_vq_disable_cb(rt->vq);
	pos = rt->used_pos;
	wrap = rt->used_wrap;
	irqs = rt->irqs;
	vfc_rt_kick_one(rt, 0, 1);
	KUNIT_EXPECT_EQ(test, rt->irqs, irqs);
	KUNIT_EXPECT_EQ(test, vfc_rt_le16(&rt->drv->flags),
			VRING_PACKED_EVENT_FLAG_DISABLE);
	if (rt->event_idx)
		KUNIT_EXPECT_EQ(test, vfc_rt_le16(&rt->drv->off_wrap),
				vfc_rt_off_wrap(pos, wrap));

	/* A full ring outstanding: the event 3/4 of it on, past the wrap. */
	vfc_rt_fill_ring(rt);
	ahead = rt->num * 3 / 4;
	pos = rt->used_pos + ahead;
	wrap = rt->used_wrap;
	if (pos >= rt->num) {
		pos -= rt->num;
		wrap = !wrap;
	}
	irqs = rt->irqs;
	KUNIT_EXPECT_TRUE(test, vfc_vq_enable_cb_delayed(rt->vq));
	vfc_rt_expect_drv_event(rt, desc, pos, wrap);
	for (i = 0; i < rt->num; i++) {
		vfc_rt_complete(rt, &rt->taken[i], 16);
		KUNIT_EXPECT_EQ_MSG(test, rt->irqs - irqs,
				    rt->event_idx ? (i >= ahead ? 1U : 0U) :
						    i + 1,
				    "interrupts after %u used", i + 1);
	}
	vfc_rt_collect_ring(rt);
	vfc_rt_expect_idle(rt);
	vfc_rt_expect_drv_event(rt, desc, rt->used_pos, rt->used_wrap);

	/* Nobody to call: DISABLE from the start. */
	vq = vfc_vring_create_virtqueue(rt->vdev, &nobody);
	KUNIT_ASSERT_FALSE(test, IS_ERR_OR_NULL(vq));
	vfc_vring_get_view(vq, &view);
	KUNIT_EXPECT_EQ(test, view.layout, VFC_VRING_PACKED);
	KUNIT_EXPECT_EQ(test, view.num, (unsigned int)VFC_RT_NUM);
	drv = view.driver;
	KUNIT_EXPECT_EQ(test, vfc_rt_le16(&drv->flags),
			VRING_PACKED_EVENT_FLAG_DISABLE);
	vfc_vring_del_virtqueue(vq);
}

/*
 * "Element Length is reserved for used descriptors without the
 * VIRTQ_DESC_F_WRITE flag, and is ignored by drivers": whatever it holds,
 * the buffer comes back with length 0, for a device-readable buffer and a
 * device-writable one alike, and the queue stays whole. With the flag, the
 * length counts and is checked.
 */
static void vfc_ring_packed_len_reserved(struct kunit *test)
{
	struct vfc_rt *rt = test->priv;
	struct vfc_rt_buf *a, *b, *c;

	vfc_rt_start(rt);
	a = vfc_rt_prep(rt, 0, 1, 0, 16);
	b = vfc_rt_prep(rt, 1, 0, 1, 16);
	c = vfc_rt_prep(rt, 2, 1, 0, 16);
	KUNIT_ASSERT_EQ(test, vfc_rt_add(rt, a), 0);
	KUNIT_ASSERT_EQ(test, vfc_rt_add(rt, b), 0);
	KUNIT_ASSERT_EQ(test, vfc_rt_add(rt, c), 0);
	vfc_rt_take(rt, 0);
	vfc_rt_take(rt, 1);
	vfc_rt_take(rt, 2);

	/* The fake device sets WRITE for any length; clear it. */
	rt->used_flags_xor = VRING_DESC_F_WRITE;
	rt->ops->push_used(rt, rt->taken[0].id, 0xffffffff);
	rt->used_flags_xor = VRING_DESC_F_WRITE;
	rt->ops->push_used(rt, rt->taken[1].id, 8);
	vfc_rt_expect_used(rt, a, 0);
	vfc_rt_expect_used(rt, b, 0);
	vfc_rt_expect_idle(rt);

	/* WRITE set on a buffer the device could not write: a violation. */
	rt->ops->push_used(rt, rt->taken[2].id, 1);
	vfc_rt_expect_none(rt);
	KUNIT_EXPECT_STREQ(test, vfc_vq_broken_reason(rt->vq),
			   "used length exceeds buffer");
}

static const struct vfc_rt_case vfc_rt_packed_kick_cases[] = {
	{ .name = "packed", .ops = &vfc_rt_packed_ops },
	{ .name = "packed-event-idx", .ops = &vfc_rt_packed_ops,
	  .features = F_EVENT_IDX },
};

/*
 * "Driver and Device Event Suppression", the device event suppression
 * structure as the driver reads it: kicks under ENABLE, none under
 * DISABLE, and under DESC (with EVENT_IDX) exactly when the driver makes
 * the named descriptor available in the named lap: not for an event a lap
 * ahead, nor for one it passed; for one inside a chain, also across the
 * end of the ring. Without EVENT_IDX, DESC is not valid and must not
 * silence the driver.
 */
static void vfc_ring_packed_kicks(struct kunit *test)
{
	struct vfc_rt *rt = test->priv;
	bool desc = rt->event_idx;
	unsigned int i = 0;

	vfc_rt_start(rt);
	KUNIT_ASSERT_EQ(test, rt->num, 8U);
	rt->rearm_kicks = false;
	vfc_rt_packed_set_kicks(rt, VRING_PACKED_EVENT_FLAG_ENABLE, 5, false);
	KUNIT_EXPECT_TRUE(test, vfc_rt_kick_one(rt, i++, 1));
	KUNIT_EXPECT_TRUE(test, vfc_rt_kick_one(rt, i++, 1));
	vfc_rt_packed_set_kicks(rt, VRING_PACKED_EVENT_FLAG_DISABLE, 2, true);
	KUNIT_EXPECT_FALSE(test, vfc_rt_kick_one(rt, i++, 1));
	KUNIT_EXPECT_FALSE(test, vfc_rt_kick_one(rt, i++, 1));

	/* Slots 4 to 7 in the first lap, then 0 and 1 in the second. */
	vfc_rt_packed_set_kicks(rt, VRING_PACKED_EVENT_FLAG_DESC, 1, false);
	KUNIT_EXPECT_EQ(test, vfc_rt_kick_one(rt, i++, 2), !desc);
	KUNIT_EXPECT_EQ(test, vfc_rt_kick_one(rt, i++, 2), !desc);
	KUNIT_EXPECT_TRUE(test, vfc_rt_kick_one(rt, i++, 2));
	/* Slot 2: the event is behind. */
	KUNIT_EXPECT_EQ(test, vfc_rt_kick_one(rt, i++, 1), !desc);
	/* The next slot (3), in a chain of three. */
	vfc_rt_packed_set_kicks(rt, VRING_PACKED_EVENT_FLAG_DESC, 3, false);
	KUNIT_EXPECT_TRUE(test, vfc_rt_kick_one(rt, i++, 3));
	/* Slot 7 in the middle of a chain over 6, 7 and 0 of the third lap. */
	vfc_rt_packed_set_kicks(rt, VRING_PACKED_EVENT_FLAG_DESC, 7, false);
	KUNIT_EXPECT_TRUE(test, vfc_rt_kick_one(rt, i++, 3));
	KUNIT_EXPECT_EQ(test, rt->avail_pos, 1);
	KUNIT_EXPECT_TRUE(test, rt->avail_wrap);
	KUNIT_EXPECT_EQ(test, rt->kicks, desc ? 5U : 8U);
	vfc_rt_expect_idle(rt);
}

/* ------------------------------------------------------------------------
 * The suite
 */

KUNIT_ARRAY_PARAM(vfc_rt_basic, vfc_rt_basic_cases, vfc_rt_case_desc);
KUNIT_ARRAY_PARAM(vfc_rt_create, vfc_rt_create_cases, vfc_rt_case_desc);
KUNIT_ARRAY_PARAM(vfc_rt_invalid, vfc_rt_invalid_cases, vfc_rt_case_desc);
KUNIT_ARRAY_PARAM(vfc_rt_reduce, vfc_rt_reduce_cases, vfc_rt_case_desc);
KUNIT_ARRAY_PARAM(vfc_rt_no_memory, vfc_rt_no_memory_cases,
		  vfc_rt_case_desc);
KUNIT_ARRAY_PARAM(vfc_rt_layout, vfc_rt_layout_cases, vfc_rt_case_desc);
KUNIT_ARRAY_PARAM(vfc_rt_indirect, vfc_rt_indirect_cases, vfc_rt_case_desc);
KUNIT_ARRAY_PARAM(vfc_rt_map_fail, vfc_rt_map_fail_cases, vfc_rt_case_desc);
KUNIT_ARRAY_PARAM(vfc_rt_hostile, vfc_rt_hostile_cases, vfc_rt_case_desc);
KUNIT_ARRAY_PARAM(vfc_rt_event, vfc_rt_event_cases, vfc_rt_case_desc);
KUNIT_ARRAY_PARAM(vfc_rt_packed_wrap, vfc_rt_packed_wrap_cases,
		  vfc_rt_case_desc);
KUNIT_ARRAY_PARAM(vfc_rt_packed_order, vfc_rt_packed_order_cases,
		  vfc_rt_case_desc);
KUNIT_ARRAY_PARAM(vfc_rt_packed_event, vfc_rt_packed_event_cases,
		  vfc_rt_case_desc);
KUNIT_ARRAY_PARAM(vfc_rt_packed_kick, vfc_rt_packed_kick_cases,
		  vfc_rt_case_desc);

static int vfc_ring_init(struct kunit *test)
{
	const struct vfc_rt_case *p = test->param_value;

	/* Unparameterised cases run on the first row of the basic table. */
	test->priv = vfc_rt_new(test, p ?: &vfc_rt_basic_cases[0]);
	return test->priv ? 0 : -ENOMEM;
}

/* Runs after a failed assertion too: free what is left, then the leak check. */
static void vfc_ring_exit(struct kunit *test)
{
	vfc_rt_free(test->priv);
}

static struct kunit_case vfc_ring_cases[] = {
	KUNIT_CASE_PARAM(vfc_ring_create, vfc_rt_create_gen_params),
	KUNIT_CASE_PARAM(vfc_ring_create_invalid, vfc_rt_invalid_gen_params),
	KUNIT_CASE_PARAM(vfc_ring_may_reduce_num, vfc_rt_reduce_gen_params),
	KUNIT_CASE_PARAM(vfc_ring_no_memory, vfc_rt_no_memory_gen_params),
	KUNIT_CASE(vfc_ring_transport_features),
	KUNIT_CASE_PARAM(vfc_ring_round_trip, vfc_rt_layout_gen_params),
	KUNIT_CASE_PARAM(vfc_ring_wrap, vfc_rt_layout_gen_params),
	KUNIT_CASE_PARAM(vfc_ring_full, vfc_rt_indirect_gen_params),
	KUNIT_CASE_PARAM(vfc_ring_map_failure, vfc_rt_map_fail_gen_params),
	KUNIT_CASE_PARAM(vfc_ring_add_invalid, vfc_rt_basic_gen_params),
	KUNIT_CASE_PARAM(vfc_ring_chain_4g, vfc_rt_basic_gen_params),
	KUNIT_CASE_PARAM(vfc_ring_chain_longer_than_ring,
			 vfc_rt_small_gen_params),
	KUNIT_CASE_PARAM(vfc_ring_detach, vfc_rt_indirect_gen_params),
	KUNIT_CASE_PARAM(vfc_ring_physical_addresses,
			 vfc_rt_indirect_gen_params),
	KUNIT_CASE_PARAM(vfc_ring_scribbled_desc, vfc_rt_indirect_gen_params),
	KUNIT_CASE_PARAM(vfc_ring_exposed_unchanged,
			 vfc_rt_indirect_gen_params),
	KUNIT_CASE_PARAM(vfc_ring_barriers, vfc_rt_event_gen_params),
	KUNIT_CASE_PARAM(vfc_ring_stats, vfc_rt_event_gen_params),
	KUNIT_CASE_PARAM(vfc_ring_hostile, vfc_rt_hostile_gen_params),
	KUNIT_CASE_PARAM(vfc_ring_interrupt_storm, vfc_rt_basic_gen_params),
	KUNIT_CASE_PARAM(vfc_ring_break_device, vfc_rt_basic_gen_params),
	KUNIT_CASE_PARAM(vfc_ring_callback_window, vfc_rt_basic_gen_params),
	KUNIT_CASE_PARAM(vfc_ring_kick_suppression, vfc_rt_event_gen_params),
	KUNIT_CASE_PARAM(vfc_ring_callbacks, vfc_rt_event_gen_params),
	KUNIT_CASE_PARAM(vfc_ring_enable_cb_delayed, vfc_rt_event_gen_params),
	KUNIT_CASE_PARAM(vfc_ring_packed_wrap, vfc_rt_packed_wrap_gen_params),
	KUNIT_CASE_PARAM(vfc_ring_packed_out_of_order,
			 vfc_rt_packed_order_gen_params),
	KUNIT_CASE_PARAM(vfc_ring_packed_driver_events,
			 vfc_rt_packed_event_gen_params),
	KUNIT_CASE_PARAM(vfc_ring_packed_kicks, vfc_rt_packed_kick_gen_params),
	KUNIT_CASE_PARAM(vfc_ring_packed_len_reserved,
			 vfc_rt_packed_kick_gen_params),
	{}
};

static struct kunit_suite vfc_ring_suite = {
	.name = "vfc_ring",
	.init = vfc_ring_init,
	.exit = vfc_ring_exit,
	.test_cases = vfc_ring_cases,
};

kunit_test_suite(vfc_ring_suite);

MODULE_DESCRIPTION("KUnit tests for vfc's virtqueues, split and packed");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(VFC_NS);
MODULE_IMPORT_NS(VFC_TEST_NS);
MODULE_IMPORT_NS(VFC_KUNIT_NS);
