// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for vfc_rng with the driver bound to a fake entropy device:
 * a vfc_fake registered on the vfc bus with device id 4, whose find_vqs
 * makes a real vfc virtqueue (split or packed) served by a fake ring
 * device of vfc_test_support.ko. The device fills each request's buffer
 * with bytes no reader may see, writes its entropy into the first bytes
 * and uses the buffer with that length.
 *
 * The case reads through the driver's hwrng, alone: the hwrng core is
 * told to let go of it first (hwrng_unregister()), so that its fill
 * thread takes nothing meanwhile, and gets it back at the end.
 *
 * Spec references are to virtio v1.4, "2.7 Split Virtqueues" and "5.4
 * Entropy Device".
 */
#include <kunit/test.h>
#include <linux/device.h>
#include <linux/hw_random.h>
#include <linux/string.h>
#include <uapi/linux/virtio_ids.h>

#include "vfc_compat.h"
#include <vfc/vfc.h>
#include <vfc/vfc_config.h>
#include <vfc/vfc_ring.h>

#include "vfc_rng_internal.h"
#include "vfc_test_support.h"

/* What the device writes where its entropy is not. */
#define RD_JUNK		0xee

/**
 * struct vfc_rd - the fake entropy device
 * @test: the case
 * @row: the ring layout
 * @fake: the device on the bus; NULL once unregistered
 * @rt: the request queue's fake ring device
 * @len: the length the device uses each request with
 * @requests: requests the device used
 * @rng: the driver's hwrng, while the case holds it out of the hwrng core
 */
struct vfc_rd {
	struct kunit *test;
	const struct vfc_rt_case *row;
	struct vfc_fake *fake;
	struct vfc_rt *rt;
	u32 len;
	unsigned int requests;
	struct hwrng *rng;
};

/* The transport's callbacks know the device only: the case's fake. */
static struct vfc_rd *vfc_rd_cur;

static const struct vfc_rt_case vfc_rd_rows[] = {
	{ .name = "split", .ops = &vfc_rt_split_ops },
	{ .name = "packed", .ops = &vfc_rt_packed_ops },
};

static void vfc_rd_row_desc(const struct vfc_rt_case *c, char *desc)
{
	vfc_rt_case_desc(c, desc);
}

KUNIT_ARRAY_PARAM(vfc_rd, vfc_rd_rows, vfc_rd_row_desc);

/*
 * A kick: the device takes each request, junk in all of it, then its
 * @len bytes of entropy (vfc_rt_complete() writes VFC_RT_PATTERN), and
 * uses it with @len.
 */
static bool vfc_rd_notify(struct vfc_virtqueue *vq)
{
	struct vfc_rd *rd = vfc_rd_cur;
	struct vfc_rt *rt = vq->priv;
	struct vfc_rt_taken t;

	rt->kicks++;
	while (rt->ops->pop_avail(rt, &t)) {
		KUNIT_EXPECT_EQ(rd->test, t.nr_out, 0U);
		KUNIT_EXPECT_EQ(rd->test, t.nr_in, 1U);
		memset(phys_to_virt(t.elem[0].addr), RD_JUNK, t.elem[0].len);
		rd->requests++;
		vfc_rt_complete(rt, &t, min(rd->len, t.in_bytes));
	}
	return true;
}

static void vfc_rd_del_vqs(struct vfc_device *vdev)
{
	struct vfc_rd *rd = vfc_rd_cur;

	if (rd->rt && rd->rt->vq)
		vfc_rt_destroy(rd->rt);
}

static int vfc_rd_find_vqs(struct vfc_device *vdev, unsigned int nvqs,
			   struct vfc_virtqueue *vqs[],
			   const struct vfc_vq_info info[])
{
	struct vfc_rd *rd = vfc_rd_cur;
	struct vfc_vring_config cfg = {
		.num = VFC_RT_NUM,
		.vring_align = VFC_RT_ALIGN,
		.weak_barriers = true,
		.notify = vfc_rd_notify,
	};
	struct vfc_virtqueue *vq;

	/* "5.4.2 Virtqueues": requestq, the one queue. */
	KUNIT_ASSERT_EQ(rd->test, nvqs, 1U);
	cfg.callback = info[0].callback;
	cfg.name = info[0].name;
	if (!rd->rt)
		rd->rt = vfc_rt_new(rd->test, rd->row);
	if (!rd->rt)
		return -ENOMEM;
	vq = vfc_rt_create_on(rd->rt, vdev, &cfg);
	if (IS_ERR(vq))
		return PTR_ERR(vq);
	vqs[0] = vq;
	return 0;
}

static void vfc_rd_add(struct kunit *test, struct vfc_rd *rd)
{
	struct vfc_fake *fake;
	int err;

	fake = vfc_fake_new(test, F_V1 | rd->row->ops->features);
	fake->vdev.id.device = VIRTIO_ID_RNG;
	fake->ops.find_vqs = vfc_rd_find_vqs;
	fake->ops.del_vqs = vfc_rd_del_vqs;
	err = vfc_register_device(&fake->vdev);
	if (err)
		put_device(&fake->vdev.dev);
	KUNIT_ASSERT_EQ(test, err, 0);
	rd->fake = fake;
	KUNIT_ASSERT_NOT_NULL_MSG(test, fake->vdev.dev.driver,
				  "vfc_rng did not bind the fake entropy device");
	KUNIT_ASSERT_TRUE(test, fake->status & VIRTIO_CONFIG_S_DRIVER_OK);
}

/*
 * "The driver MUST NOT make assumptions about data in device-writable
 * buffers beyond the first len bytes": the device uses each 64-byte
 * request with 5 bytes, then with 0, then with all 64; a reader gets no
 * more than that of each, and never a byte of the rest.
 */
static void vfc_rng_dev_used_len(struct kunit *test)
{
	static const u32 lens[] = { 5, 0, 64 };
	struct vfc_rd *rd = vfc_rd_cur;
	struct hwrng *rng;
	unsigned int i, k;
	u8 buf[128];
	int n;

	rd->len = lens[0];
	vfc_rd_add(test, rd);
	rng = vfc_rng_test_hwrng(&rd->fake->vdev);
	KUNIT_ASSERT_NOT_NULL(test, rng);
	/* The case reads alone, the hwrng core's fill thread not at all. */
	hwrng_unregister(rng);
	rd->rng = rng;

	for (i = 0; i < ARRAY_SIZE(lens); i++) {
		rd->len = lens[i];
		/* What an earlier length left in the driver goes first. */
		for (k = 0; k < 4; k++) {
			memset(buf, 0, sizeof(buf));
			n = rng->read(rng, buf, sizeof(buf), true);
			KUNIT_ASSERT_GE(test, n, 0);
			KUNIT_EXPECT_LE_MSG(test, n, 64, "used with %u", lens[i]);
			KUNIT_EXPECT_FALSE_MSG(test, memchr(buf, RD_JUNK, n),
					       "a byte beyond the used length, with %u",
					       lens[i]);
			KUNIT_EXPECT_FALSE(test, memchr_inv(buf, VFC_RT_PATTERN, n));
		}
		/* A whole request of this length: no more than it. */
		n = rng->read(rng, buf, sizeof(buf), true);
		KUNIT_EXPECT_EQ_MSG(test, n, (int)lens[i], "used with %u",
				    lens[i]);
		KUNIT_EXPECT_FALSE(test, memchr_inv(buf, VFC_RT_PATTERN, n));
	}
	KUNIT_EXPECT_GT(test, rd->requests, 0U);
	KUNIT_EXPECT_FALSE(test, vfc_vq_is_broken(rd->rt->vq));

	rd->rng = NULL;
	KUNIT_ASSERT_EQ(test, hwrng_register(rng), 0);
	vfc_unregister_device(&rd->fake->vdev);
	rd->fake = NULL;
}

static int vfc_rng_dev_init(struct kunit *test)
{
	struct vfc_rd *rd;

	rd = kunit_kzalloc(test, sizeof(*rd), GFP_KERNEL);
	if (!rd)
		return -ENOMEM;
	rd->test = test;
	rd->row = test->param_value;
	vfc_rd_cur = rd;
	test->priv = rd;
	return 0;
}

/* Runs after a failed assertion too: what is left goes, then the checks. */
static void vfc_rng_dev_exit(struct kunit *test)
{
	struct vfc_rd *rd = test->priv;

	/* The driver's remove unregisters its hwrng: give it back first. */
	if (rd->rng && hwrng_register(rd->rng))
		KUNIT_FAIL(test, "hwrng_register failed: the fake stays bound");
	else if (rd->fake)
		vfc_unregister_device(&rd->fake->vdev);
	if (rd->rt)
		vfc_rt_free(rd->rt);
	vfc_rd_cur = NULL;
}

static struct kunit_case vfc_rng_dev_cases[] = {
	KUNIT_CASE_PARAM(vfc_rng_dev_used_len, vfc_rd_gen_params),
	{}
};

static struct kunit_suite vfc_rng_dev_suite = {
	.name = "vfc_rng_device",
	.init = vfc_rng_dev_init,
	.exit = vfc_rng_dev_exit,
	.test_cases = vfc_rng_dev_cases,
};

kunit_test_suite(vfc_rng_dev_suite);

MODULE_DESCRIPTION("KUnit tests for vfc_rng, bound to a fake entropy device");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(VFC_NS);
MODULE_IMPORT_NS(VFC_TEST_NS);
MODULE_IMPORT_NS(VFC_KUNIT_NS);
