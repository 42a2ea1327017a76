// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for vfc_balloon's arithmetic (vfc_balloon_internal.h): how many
 * pages the balloon moves toward a target, and how a guest page becomes
 * 4 KiB frame numbers in a request.
 *
 * The last case sends encoded requests through a real vfc split virtqueue
 * to the fake ring device of vfc_test_support.ko, which takes the request
 * from the ring and its DMA-mapped buffer the way a device would; the case
 * checks every little-endian entry. Below the ring sits the fake DMA
 * device, which records each mapping, so a case ends with none left.
 *
 * Spec references are to virtio v1.4, "5.5 Traditional Memory Balloon
 * Device".
 */
#include <kunit/test.h>
#include <linux/io.h>
#include <linux/limits.h>
#include <linux/mm.h>
#include <linux/scatterlist.h>
#include <linux/string.h>

#include "vfc_compat.h"
#include <vfc/vfc.h>
#include <vfc/vfc_ring.h>

#include "vfc_balloon_internal.h"
#include "vfc_test_support.h"

/*
 * Written out again here rather than taken from the header, so that a
 * wrong constant there shows up as a failure.
 */
#define FPP		(PAGE_SIZE >> 12)	/* 4 KiB frames per page */
#define LAST_PFN	((u64)U32_MAX / FPP)	/* the last one that fits */

/* Fills the entries a case must not touch. */
#define CANARY		0xa5a5a5a5U

#define VFC_BT_NUM	8		/* ring size */

/* The queue the requests go through: split, no ring feature. */
static const struct vfc_rt_case vfc_bt_queue = {
	.name = "split", .ops = &vfc_rt_split_ops,
};

/* ------------------------------------------------------------------------
 * Target arithmetic
 */

/**
 * struct vfc_bt_target_case - a row of the target arithmetic table
 * @name: the row's name in the results
 * @num_pages: the device's target, in 4 KiB frames
 * @actual: the balloon's size, in 4 KiB frames
 * @want: the guest pages to move: > 0 inflate, < 0 deflate
 */
struct vfc_bt_target_case {
	const char *name;
	u32 num_pages;
	u32 actual;
	s64 want;
};

static const struct vfc_bt_target_case vfc_bt_target_cases[] = {
	{ .name = "on target",
	  .num_pages = 1000 * FPP, .actual = 1000 * FPP, .want = 0 },
	{ .name = "inflate from empty",
	  .num_pages = 1000 * FPP, .actual = 0, .want = 1000 },
	{ .name = "inflate further",
	  .num_pages = 1000 * FPP, .actual = 600 * FPP, .want = 400 },
	{ .name = "deflate part",
	  .num_pages = 300 * FPP, .actual = 500 * FPP, .want = -200 },
	{ .name = "num_pages 0 deflates all",
	  .num_pages = 0, .actual = 500 * FPP, .want = -500 },
	{ .name = "num_pages 0, empty balloon",
	  .num_pages = 0, .actual = 0, .want = 0 },
	{ .name = "actual above target by one page",
	  .num_pages = 41 * FPP, .actual = 42 * FPP, .want = -1 },
	{ .name = "partial page rounds up",
	  .num_pages = 10 * FPP + 1, .actual = 10 * FPP, .want = 1 },
	{ .name = "one frame from empty",
	  .num_pages = 1, .actual = 0, .want = 1 },
	{ .name = "num_pages huge",
	  .num_pages = 0x80000000U, .actual = 0, .want = 0x80000000U / FPP },
	{ .name = "num_pages U32_MAX from empty",
	  .num_pages = U32_MAX, .actual = 0, .want = U32_MAX / FPP },
	{ .name = "num_pages U32_MAX, balloon full",
	  .num_pages = U32_MAX, .actual = U32_MAX / FPP * FPP, .want = 0 },
	{ .name = "num_pages 0, balloon full",
	  .num_pages = 0, .actual = U32_MAX / FPP * FPP,
	  .want = -(s64)(U32_MAX / FPP) },
	{ .name = "num_pages U32_MAX from one page",
	  .num_pages = U32_MAX, .actual = FPP,
	  .want = (s64)(U32_MAX / FPP) - 1 },
	/*
	 * With 4 KiB pages exactly; with larger ones rounding up to a page
	 * overshoots what actual can express, so it stops a page below.
	 */
	{ .name = "num_pages U32_MAX - 1, balloon empty",
	  .num_pages = U32_MAX - 1, .actual = 0,
	  .want = FPP == 1 ? U32_MAX - 1 : U32_MAX / FPP },
};

static void vfc_bt_target_desc(const struct vfc_bt_target_case *c,
			       char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(vfc_bt_target, vfc_bt_target_cases, vfc_bt_target_desc);

/*
 * The number of pages to move, and that moving them lands on target: the
 * new size, reported as actual, asks for nothing more, and fits 32 bits.
 */
static void vfc_balloon_target(struct kunit *test)
{
	const struct vfc_bt_target_case *c = test->param_value;
	s64 delta = vfc_balloon_pages_to_move(c->num_pages, c->actual);
	s64 pages = c->actual / FPP + delta;
	u32 actual;

	KUNIT_EXPECT_EQ(test, delta, c->want);

	KUNIT_ASSERT_GE(test, pages, 0);
	KUNIT_ASSERT_LE(test, pages, (s64)(U32_MAX / FPP));
	actual = vfc_balloon_actual((unsigned int)pages);
	KUNIT_EXPECT_EQ(test, (u64)actual, (u64)pages * FPP);
	KUNIT_EXPECT_EQ(test, vfc_balloon_pages_to_move(c->num_pages, actual),
			(s64)0);
}

/* ------------------------------------------------------------------------
 * Frame numbers of a page
 */

/**
 * struct vfc_bt_encode_case - a row of the frame-number table
 * @name: the row's name in the results
 * @pfn: the guest page frame number
 * @room_delta: entries free in the array, less a whole page's worth
 * @err: the error expected, or 0
 */
struct vfc_bt_encode_case {
	const char *name;
	u64 pfn;
	int room_delta;
	int err;
};

static const struct vfc_bt_encode_case vfc_bt_encode_cases[] = {
	{ .name = "pfn 0", .pfn = 0 },
	{ .name = "pfn 1", .pfn = 1 },
	{ .name = "bytes differ", .pfn = 0x123456 / FPP },
	{ .name = "last pfn that fits", .pfn = LAST_PFN },
	{ .name = "one below the last", .pfn = LAST_PFN - 1 },
	{ .name = "first pfn past 32 bits", .pfn = LAST_PFN + 1,
	  .err = -ERANGE },
	{ .name = "pfn 2^32", .pfn = 1ULL << 32, .err = -ERANGE },
	{ .name = "pfn U64_MAX", .pfn = U64_MAX, .err = -ERANGE },
	{ .name = "room one short", .pfn = 7, .room_delta = -1,
	  .err = -ENOSPC },
	{ .name = "room short beats range", .pfn = U64_MAX, .room_delta = -1,
	  .err = -ENOSPC },
	{ .name = "more room than needed", .pfn = 7, .room_delta = 3 },
};

static void vfc_bt_encode_desc(const struct vfc_bt_encode_case *c,
			       char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(vfc_bt_encode, vfc_bt_encode_cases, vfc_bt_encode_desc);

/*
 * "5.5.6 Device Operation": page addresses divided by 4096, as 32-bit
 * little-endian entries; a page is FPP consecutive ones. Nothing beyond
 * them is written, and nothing at all on an error.
 */
static void vfc_balloon_encode(struct kunit *test)
{
	const struct vfc_bt_encode_case *c = test->param_value;
	unsigned int room = FPP + c->room_delta, i;
	__le32 *frames;
	u64 frame;
	int ret;

	/* One spare entry past @room, to see that it stays untouched. */
	frames = kunit_kmalloc_array(test, room + 1, sizeof(*frames),
				     GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, frames);
	for (i = 0; i <= room; i++)
		frames[i] = cpu_to_le32(CANARY);

	ret = vfc_balloon_page_frames(c->pfn, frames, room);
	if (c->err) {
		KUNIT_EXPECT_EQ(test, ret, c->err);
		for (i = 0; i <= room; i++)
			KUNIT_EXPECT_EQ_MSG(test, le32_to_cpu(frames[i]), CANARY,
					    "entry %u written on error", i);
		return;
	}

	KUNIT_ASSERT_EQ(test, ret, (int)FPP);
	for (i = 0; i < FPP; i++) {
		const u8 *b = (const u8 *)&frames[i];

		frame = c->pfn * FPP + i;
		KUNIT_ASSERT_LE(test, frame, (u64)U32_MAX);
		/* Byte by byte: little-endian whatever the CPU is. */
		KUNIT_EXPECT_EQ(test, b[0], (u8)frame);
		KUNIT_EXPECT_EQ(test, b[1], (u8)(frame >> 8));
		KUNIT_EXPECT_EQ(test, b[2], (u8)(frame >> 16));
		KUNIT_EXPECT_EQ(test, b[3], (u8)(frame >> 24));
	}
	for (i = FPP; i <= room; i++)
		KUNIT_EXPECT_EQ_MSG(test, le32_to_cpu(frames[i]), CANARY,
				    "entry %u past the page written", i);
	if (c->pfn == LAST_PFN)
		KUNIT_EXPECT_EQ(test, le32_to_cpu(frames[FPP - 1]), U32_MAX);
}

/* The constants the driver sizes its requests with. */
static void vfc_balloon_constants(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, VFC_BALLOON_FRAMES_PER_PAGE, (unsigned int)FPP);
	KUNIT_EXPECT_EQ(test, VFC_BALLOON_MAX_PFN, LAST_PFN);
	KUNIT_EXPECT_EQ(test,
			VFC_BALLOON_BATCH_PAGES * VFC_BALLOON_FRAMES_PER_PAGE,
			VFC_BALLOON_ARRAY_LEN);
}

/*
 * "5.5.6.3 Memory Statistics": an entry is a 16-bit tag and a 64-bit
 * value, little-endian, 10 bytes with no padding. (The driver requirement
 * asks for a buffer "a multiple of 6 bytes", which whole 10-byte entries
 * are not in general; devices read whole entries, and so vfc sends them.)
 */
static void vfc_balloon_stats_entry(struct kunit *test)
{
	static const u8 want[10] = { 0x05, 0x00, 0x08, 0x07, 0x06, 0x05,
				     0x04, 0x03, 0x02, 0x01 };
	struct virtio_balloon_stat st[2];

	KUNIT_EXPECT_EQ(test, sizeof(st[0]), (size_t)10);
	KUNIT_EXPECT_EQ(test, sizeof(st), (size_t)20);
	memset(st, 0xa5, sizeof(st));
	vfc_balloon_stat_set(&st[0], VIRTIO_BALLOON_S_MEMTOT,
			     0x0102030405060708ULL);
	KUNIT_EXPECT_EQ(test, memcmp(&st[0], want, sizeof(want)), 0);
	KUNIT_EXPECT_EQ(test, ((u8 *)st)[10], (u8)0xa5);
}

/* ------------------------------------------------------------------------
 * Requests through a real virtqueue
 */

/**
 * struct vfc_bt_ring_case - a row of the request table
 * @name: the row's name in the results
 * @pages: guest pages in the request
 * @first_pfn: the first page's pfn, unless @real_pages
 * @stride: the distance between consecutive pages' pfns
 * @real_pages: name pages the test allocated, as the driver does
 * @ack: the device acknowledges the request; otherwise the driver takes
 *	it back with vfc_vq_detach_unused_buf(), as remove() does
 */
struct vfc_bt_ring_case {
	const char *name;
	unsigned int pages;
	u64 first_pfn;
	u64 stride;
	bool real_pages;
	bool ack;
};

static const struct vfc_bt_ring_case vfc_bt_ring_cases[] = {
	{ .name = "one page", .pages = 1, .first_pfn = 0x1234, .ack = true },
	{ .name = "full request", .pages = VFC_BALLOON_BATCH_PAGES,
	  .first_pfn = 0x40000, .stride = 3, .ack = true },
	{ .name = "top of the 32-bit range", .pages = 4,
	  .first_pfn = LAST_PFN - 3, .stride = 1, .ack = true },
	{ .name = "allocated pages", .pages = 8, .real_pages = true,
	  .ack = true },
	{ .name = "never acknowledged, detached", .pages = 16,
	  .first_pfn = 0x100, .stride = 1, .ack = false },
};

static void vfc_bt_ring_desc(const struct vfc_bt_ring_case *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(vfc_bt_ring, vfc_bt_ring_cases, vfc_bt_ring_desc);

/**
 * struct vfc_bt - the fixture of the request case
 * @rt: the queue, the fake ring device behind it and the fake DMA device
 *	below both
 * @nr_pages: pages allocated for a real_pages row
 * @pages: those pages
 * @pfns: the pfn of each page of the request
 */
struct vfc_bt {
	struct vfc_rt *rt;
	unsigned int nr_pages;
	struct page *pages[VFC_BALLOON_BATCH_PAGES];
	u64 pfns[VFC_BALLOON_BATCH_PAGES];
};

/*
 * What the driver's inflate and deflate do with the queue, and what the
 * device reads: the frames of each page, in order, as 32-bit little-endian
 * entries, then the acknowledgment, or the detach when none comes.
 */
static void vfc_balloon_ring(struct kunit *test)
{
	const struct vfc_bt_ring_case *c = test->param_value;
	struct vfc_bt *bt = test->priv;
	struct vfc_rt *rt = bt->rt;
	unsigned int i, j, n = 0, len;
	struct vfc_rt_taken *t;
	struct scatterlist sg;
	const __le32 *req;
	__le32 *frames;
	int ret;

	KUNIT_ASSERT_LE(test, c->pages, VFC_BALLOON_BATCH_PAGES);
	for (i = 0; i < c->pages; i++) {
		if (c->real_pages) {
			bt->pages[i] = alloc_page(GFP_HIGHUSER);
			KUNIT_ASSERT_NOT_NULL(test, bt->pages[i]);
			bt->nr_pages++;
			bt->pfns[i] = page_to_pfn(bt->pages[i]);
			if (bt->pfns[i] > LAST_PFN)
				kunit_skip(test, "page above 16 TiB");
		} else {
			bt->pfns[i] = c->first_pfn + i * c->stride;
		}
	}

	/* Kmalloc'd, as the driver's: the DMA API maps it. */
	frames = kunit_kmalloc_array(test, VFC_BALLOON_ARRAY_LEN,
				     sizeof(*frames), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, frames);
	for (i = 0; i < c->pages; i++) {
		ret = vfc_balloon_page_frames(bt->pfns[i], &frames[n],
					      VFC_BALLOON_ARRAY_LEN - n);
		KUNIT_ASSERT_EQ(test, ret, (int)FPP);
		n += ret;
	}

	KUNIT_ASSERT_FALSE(test, IS_ERR(vfc_rt_create(rt, VFC_BT_NUM,
						      SMP_CACHE_BYTES, false)));
	sg_init_one(&sg, frames, n * sizeof(*frames));
	KUNIT_ASSERT_EQ(test, vfc_vq_add_outbuf(rt->vq, &sg, 1, frames,
						GFP_KERNEL), 0);
	KUNIT_EXPECT_TRUE(test, vfc_vq_kick(rt->vq));
	KUNIT_EXPECT_EQ(test, rt->kicks, 1U);

	/* One device-readable entry over a live DMA_TO_DEVICE mapping. */
	t = vfc_rt_take(rt, 0);
	KUNIT_EXPECT_FALSE(test, rt->ops->pop_avail(rt, &rt->taken[1]));
	KUNIT_ASSERT_EQ(test, t->nr_out, 1U);
	KUNIT_ASSERT_EQ(test, t->nr_in, 0U);
	KUNIT_ASSERT_EQ(test, t->elem[0].len, (u32)(c->pages * FPP * 4));
	req = phys_to_virt(t->elem[0].addr);
	for (i = 0; i < c->pages; i++) {
		for (j = 0; j < FPP; j++) {
			u64 frame = le32_to_cpu(req[i * FPP + j]);

			KUNIT_EXPECT_EQ_MSG(test, frame, bt->pfns[i] * FPP + j,
					    "page %u frame %u", i, j);
			/* The frame's address is the page's. */
			if (c->real_pages)
				KUNIT_EXPECT_PTR_EQ(test,
						    pfn_to_page(frame / FPP),
						    bt->pages[i]);
		}
	}

	if (c->ack) {
		/* Returned having written nothing into it. */
		vfc_rt_push(rt, t, 0);
		len = U32_MAX;
		KUNIT_EXPECT_PTR_EQ(test, vfc_vq_get_buf(rt->vq, &len),
				    (void *)frames);
		KUNIT_EXPECT_EQ(test, len, 0U);
	} else {
		KUNIT_EXPECT_NULL(test, vfc_vq_get_buf(rt->vq, &len));
		KUNIT_EXPECT_PTR_EQ(test, vfc_vq_detach_unused_buf(rt->vq),
				    (void *)frames);
	}
	KUNIT_EXPECT_NULL(test, vfc_vq_detach_unused_buf(rt->vq));
	/* Back with the driver: the request is no longer mapped. */
	KUNIT_EXPECT_EQ(test, rt->dma->live_maps, 0U);
	KUNIT_EXPECT_FALSE(test, vfc_vq_is_broken(rt->vq));
}

/* ------------------------------------------------------------------------
 * The suite
 */

static int vfc_balloon_test_init(struct kunit *test)
{
	struct vfc_bt *bt;

	bt = kunit_kzalloc(test, sizeof(*bt), GFP_KERNEL);
	if (!bt)
		return -ENOMEM;
	test->priv = bt;
	bt->rt = vfc_rt_new(test, &vfc_bt_queue);
	return bt->rt ? 0 : -ENOMEM;
}

/*
 * Runs after a failed assertion too: free the queue and its leak check,
 * then the pages.
 */
static void vfc_balloon_test_exit(struct kunit *test)
{
	struct vfc_bt *bt = test->priv;
	unsigned int i;

	if (!bt)
		return;
	vfc_rt_free(bt->rt);
	for (i = 0; i < bt->nr_pages; i++)
		__free_page(bt->pages[i]);
}

static struct kunit_case vfc_balloon_cases[] = {
	KUNIT_CASE(vfc_balloon_constants),
	KUNIT_CASE(vfc_balloon_stats_entry),
	KUNIT_CASE_PARAM(vfc_balloon_target, vfc_bt_target_gen_params),
	KUNIT_CASE_PARAM(vfc_balloon_encode, vfc_bt_encode_gen_params),
	KUNIT_CASE_PARAM(vfc_balloon_ring, vfc_bt_ring_gen_params),
	{}
};

static struct kunit_suite vfc_balloon_suite = {
	.name = "vfc_balloon",
	.init = vfc_balloon_test_init,
	.exit = vfc_balloon_test_exit,
	.test_cases = vfc_balloon_cases,
};

kunit_test_suite(vfc_balloon_suite);

MODULE_DESCRIPTION("KUnit tests for vfc_balloon's arithmetic and requests");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(VFC_NS);
MODULE_IMPORT_NS(VFC_TEST_NS);
