// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for vfc_balloon's state machines, with the driver bound to a
 * fake balloon device: a vfc_fake registered on the vfc bus with device id
 * 5, whose find_vqs makes real vfc virtqueues (split or packed) served by
 * the fake ring devices of vfc_test_support.ko. The fake device answers
 * the driver's requests the way "5.5.6 Device Operation" describes: it
 * reads each inflate and deflate request's page numbers, keeps the set
 * of pages it holds, and acknowledges by using the buffer, at once or
 * when the case says so; it keeps the statistics buffer until the case
 * asks for a fresh report.
 *
 * What the cases check: the balloon follows num_pages both ways and
 * reports `actual`; a deflate names only pages the device holds; a target
 * that changes while a request is in flight is followed once it is
 * acknowledged; a request never acknowledged resets the device and gives
 * every page back (no page lost: the guest's managed page count is whole
 * again); statistics go out at probe and again each time the device uses
 * the buffer; a statistics buffer used with a length (it is read-only to
 * the device) breaks that queue and nothing else. Every case ends with the
 * device unregistered and the guest's memory as it was.
 *
 * Spec references are to virtio v1.4, "5.5 Traditional Memory Balloon
 * Device".
 */
#include <kunit/test.h>
#include <linux/bitmap.h>
#include <linux/delay.h>
#include <linux/device.h>
#include <linux/iopoll.h>
#include <linux/jiffies.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/page_reporting.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <uapi/linux/virtio_balloon.h>
#include <uapi/linux/virtio_ids.h>

#include "vfc_compat.h"
#include <vfc/vfc.h>
#include <vfc/vfc_config.h>
#include <vfc/vfc_ring.h>

#include "vfc_balloon_internal.h"
#include "vfc_test_support.h"

/* The queues a balloon may ask for, by name (the driver's names). */
enum vfc_bd_q {
	BD_INFLATE, BD_DEFLATE, BD_STATS, BD_HINT, BD_REPORT, BD_NR_Q
};

static const char *const vfc_bd_q_name[BD_NR_Q] = {
	"inflate", "deflate", "stats", "free_page", "reporting",
};

#define BD_MAX_HELD	1024	/* frames the device can hold */
#define BD_WAIT_MS	10000	/* how long a case waits for the driver */
#define BD_WAIT_US	(BD_WAIT_MS * USEC_PER_MSEC)
#define BD_POLL_US	5000	/* and how often it looks */
#define BD_MAX_HINTS	64	/* hinting queue buffers the device logs */
#define BD_HINT_BLOCKS	4	/* blocks per hinting round, as bounded */
#define BD_HINT_MANY	16	/* more than the ring holds */
#define BD_CHURN_BLOCKS	64	/* blocks freed to make the guest report */

/* A buffer on the hinting queue: a command (its id) or a block. */
struct vfc_bd_hint {
	bool cmd;
	u32 id;
	u64 addr;
	u32 len;
};

/* struct virtio_balloon_config, as the device keeps it (little-endian). */
#define BD_NUM_PAGES	0
#define BD_ACTUAL	4
#define BD_CMD_ID	8
#define BD_POISON	12

/**
 * struct vfc_bd - the fake balloon device
 * @test: the case
 * @fake: the device on the bus; NULL once unregistered
 * @row: the ring layout
 * @rt: each queue's fake ring device (NULL: the queue was not asked for)
 * @auto_ack: acknowledge each request on that queue as it is kicked
 * @dev_lock: the device's side of the rings: the driver's kicks and the
 *	case both take and use buffers
 * @lock: guards what the driver's context and the case both touch
 * @held: the frames the device holds, in no order
 * @nr_held: how many
 * @inflated: frames inflate requests named, in all
 * @deflated: frames deflate requests named, in all
 * @bad_deflates: deflated frames the device did not hold
 * @reports: statistics buffers the device took
 * @stats: the last report's entries
 * @nr_stats: how many
 * @stats_t: the statistics buffer the device holds
 * @hints: the hinting queue's buffers, in the order the device took them
 * @nr_hints: how many
 * @hint_max: vfc_balloon_hint_max_blocks before the case
 * @ack_timeout: vfc_balloon_ack_timeout before the case
 * @reports_done: free page reports the device took and used
 * @report_min: the shortest entry of those reports, in bytes
 * @reported: the blocks they named
 * @early_kicks: notifications while the device was not DRIVER_OK
 * @stats_tags: the tags of the first statistics report, in order
 * @stats_changed: reports whose tags were not those
 * @get: the fake's own config get, which vfc_bd_get() wraps
 * @set: the fake's own config set, which vfc_bd_set() wraps
 * @bad_config: config accesses the spec forbids (vfc_bd_set())
 * @poison_set: poison_val was written
 */
struct vfc_bd {
	struct kunit *test;
	struct vfc_fake *fake;
	const struct vfc_rt_case *row;
	struct vfc_rt *rt[BD_NR_Q];
	bool auto_ack[BD_NR_Q];
	/* The device's side of the rings: kicks and the case take buffers. */
	struct mutex dev_lock;
	/* The device's records: the driver's context and the case share them. */
	spinlock_t lock;
	u32 held[BD_MAX_HELD];
	unsigned int nr_held;
	unsigned int inflated;
	unsigned int deflated;
	unsigned int bad_deflates;
	unsigned int reports;
	struct virtio_balloon_stat stats[VIRTIO_BALLOON_S_NR];
	unsigned int nr_stats;
	struct vfc_rt_taken stats_t;
	unsigned int reports_done;
	u32 report_min;
	unsigned int reported;
	struct vfc_bd_hint hints[BD_MAX_HINTS];
	unsigned int nr_hints;
	unsigned long hint_max;
	unsigned long ack_timeout;
	unsigned int early_kicks;
	u16 stats_tags[VIRTIO_BALLOON_S_NR];
	unsigned int stats_changed;
	void (*get)(struct vfc_device *vdev, unsigned int offset, void *buf,
		    unsigned int len);
	void (*set)(struct vfc_device *vdev, unsigned int offset,
		    const void *buf, unsigned int len);
	unsigned int bad_config;
	bool poison_set;
};

/* The one fake balloon device (cases run one at a time). */
static struct vfc_bd *vfc_bd_cur;

static const struct vfc_rt_case vfc_bd_rows[] = {
	{ .name = "split", .ops = &vfc_rt_split_ops },
	{ .name = "packed", .ops = &vfc_rt_packed_ops },
};

static void vfc_bd_row_desc(const struct vfc_rt_case *c, char *desc)
{
	vfc_rt_case_desc(c, desc);
}

KUNIT_ARRAY_PARAM(vfc_bd, vfc_bd_rows, vfc_bd_row_desc);

/* ------------------------------------------------------------------------
 * The device's side
 */

static enum vfc_bd_q vfc_bd_which(struct vfc_bd *bd, struct vfc_rt *rt)
{
	enum vfc_bd_q q;

	for (q = 0; q < BD_NR_Q; q++)
		if (bd->rt[q] == rt)
			break;
	return q;
}

/* Take in the page numbers of an inflate or deflate request. */
static void vfc_bd_record(struct vfc_bd *bd, enum vfc_bd_q q,
			  const struct vfc_rt_taken *t)
{
	const __le32 *frames;
	unsigned int i, j, n;

	if (t->nr_out != 1 || t->nr_in) {
		KUNIT_FAIL(bd->test,
			   "%s request: %u readable, %u writable entries, not one readable",
			   vfc_bd_q_name[q], t->nr_out, t->nr_in);
		return;
	}
	if (t->elem[0].len % sizeof(*frames) || !t->elem[0].len) {
		KUNIT_FAIL(bd->test, "%s request of %u bytes",
			   vfc_bd_q_name[q], t->elem[0].len);
		return;
	}
	frames = phys_to_virt(t->elem[0].addr);
	n = t->elem[0].len / sizeof(*frames);
	spin_lock(&bd->lock);
	for (i = 0; i < n; i++) {
		u32 pfn = le32_to_cpu(frames[i]);

		if (q == BD_INFLATE) {
			bd->inflated++;
			if (bd->nr_held < BD_MAX_HELD)
				bd->held[bd->nr_held++] = pfn;
			continue;
		}
		bd->deflated++;
		for (j = 0; j < bd->nr_held; j++)
			if (bd->held[j] == pfn)
				break;
		if (j == bd->nr_held) {
			bd->bad_deflates++;
			continue;
		}
		bd->held[j] = bd->held[--bd->nr_held];
	}
	spin_unlock(&bd->lock);
}

static void vfc_bd_record_stats(struct vfc_bd *bd, const struct vfc_rt_taken *t)
{
	unsigned int n = min_t(unsigned int, t->elem[0].len / sizeof(bd->stats[0]),
			       ARRAY_SIZE(bd->stats));
	unsigned int i;
	u16 tag;

	spin_lock(&bd->lock);
	memcpy(bd->stats, phys_to_virt(t->elem[0].addr), n * sizeof(bd->stats[0]));
	/*
	 * "5.5.6.3.1 Driver Requirements: Memory Statistics": the same subset
	 * of statistics in every buffer.
	 */
	for (i = 0; i < n; i++) {
		tag = __virtio16_to_cpu(true, bd->stats[i].tag);
		if (!bd->reports)
			bd->stats_tags[i] = tag;
		else if (n != bd->nr_stats || tag != bd->stats_tags[i])
			bd->stats_changed++;
	}
	bd->nr_stats = n;
	bd->stats_t = *t;
	bd->reports++;
	spin_unlock(&bd->lock);
}

/* Log a buffer of the hinting queue. */
static void vfc_bd_record_hint(struct vfc_bd *bd, const struct vfc_rt_taken *t)
{
	struct vfc_bd_hint h = {
		.cmd = t->nr_out,
		.addr = t->elem[0].addr,
		.len = t->elem[0].len,
	};

	if (h.cmd && h.len == sizeof(__le32))
		h.id = le32_to_cpu(*(__le32 *)phys_to_virt(h.addr));
	spin_lock(&bd->lock);
	if (bd->nr_hints < BD_MAX_HINTS)
		bd->hints[bd->nr_hints++] = h;
	spin_unlock(&bd->lock);
}

/* "Free Page Reporting": a report is device-writable blocks. */
static void vfc_bd_record_report(struct vfc_bd *bd,
				 const struct vfc_rt_taken *t)
{
	unsigned int i;

	if (t->nr_out || !t->nr_in)
		KUNIT_FAIL(bd->test, "report of %u readable, %u writable entries",
			   t->nr_out, t->nr_in);
	spin_lock(&bd->lock);
	bd->reports_done++;
	bd->reported += t->nr_in;
	for (i = 0; i < min_t(unsigned int, t->nr_in, VFC_RT_MAX_SG); i++)
		bd->report_min = min(bd->report_min ?: U32_MAX, t->elem[i].len);
	spin_unlock(&bd->lock);
}

/* Bytes of each reported block the device marks (vfc_bd_mark_report()). */
#define BD_MARK_LEN	64
#define BD_MARK		0x3c

/*
 * Whether the memory at @phys still starts with the device's mark. Read
 * past KASAN (__memcpy): the page may be free by now, or someone's again.
 */
static bool vfc_bd_marked(u64 phys)
{
	u8 buf[BD_MARK_LEN];

	__memcpy(buf, phys_to_virt(phys), sizeof(buf));
	return !memchr_inv(buf, BD_MARK, sizeof(buf));
}

/*
 * The device marks the start of each block of @t, keeping what was there
 * in @saved, as a device that discards the blocks may change them. The
 * blocks are free pages the guest lent for the report: past KASAN.
 */
static void vfc_bd_mark_report(const struct vfc_rt_taken *t, u8 *saved)
{
	unsigned int i;

	for (i = 0; i < min_t(unsigned int, t->nr_in, VFC_RT_MAX_SG); i++) {
		__memcpy(saved + i * BD_MARK_LEN, phys_to_virt(t->elem[i].addr),
			 BD_MARK_LEN);
		__memset(phys_to_virt(t->elem[i].addr), BD_MARK, BD_MARK_LEN);
	}
}

/*
 * Before acknowledging @t: the driver wrote nothing into its blocks while
 * the device held them ("SHOULD avoid reading/writing reported pages");
 * put back what was there (the guest's init_on_free zeroes).
 */
static void vfc_bd_unmark_report(struct kunit *test,
				 const struct vfc_rt_taken *t, const u8 *saved)
{
	unsigned int i;

	for (i = 0; i < min_t(unsigned int, t->nr_in, VFC_RT_MAX_SG); i++) {
		KUNIT_EXPECT_TRUE_MSG(test, vfc_bd_marked(t->elem[i].addr),
				      "reported block %u written by the driver",
				      i);
		__memcpy(phys_to_virt(t->elem[i].addr), saved + i * BD_MARK_LEN,
			 BD_MARK_LEN);
	}
}

/*
 * The transport's notify: the device takes what the driver made
 * available on the queue, and with auto_ack uses it at once (in the
 * driver's context, as a quick device would before the kick returns).
 */
static bool vfc_bd_notify(struct vfc_virtqueue *vq)
{
	struct vfc_rt *rt = vq->priv;
	struct vfc_bd *bd = vfc_bd_cur;
	struct vfc_rt_taken t;
	enum vfc_bd_q q;

	rt->kicks++;
	/*
	 * "3.1.1 Driver Requirements: Device Initialization": no buffer
	 * available notification before DRIVER_OK.
	 */
	if (!(READ_ONCE(to_vfc_fake(vq->vdev)->status) &
	      VIRTIO_CONFIG_S_DRIVER_OK))
		bd->early_kicks++;
	q = vfc_bd_which(bd, rt);
	if (q == BD_NR_Q)
		return true;
	mutex_lock(&bd->dev_lock);
	while (READ_ONCE(bd->auto_ack[q]) && rt->ops->pop_avail(rt, &t)) {
		if (q == BD_STATS) {
			vfc_bd_record_stats(bd, &t);
			continue;
		}
		if (q == BD_REPORT)
			vfc_bd_record_report(bd, &t);
		else if (q == BD_HINT)
			vfc_bd_record_hint(bd, &t);
		else
			vfc_bd_record(bd, q, &t);
		vfc_rt_complete(rt, &t, 0);
	}
	mutex_unlock(&bd->dev_lock);
	return true;
}

static void vfc_bd_del_vqs(struct vfc_device *vdev);

static int vfc_bd_find_vqs(struct vfc_device *vdev, unsigned int nvqs,
			   struct vfc_virtqueue *vqs[],
			   const struct vfc_vq_info info[])
{
	struct vfc_bd *bd = vfc_bd_cur;
	struct vfc_virtqueue *vq;
	unsigned int i;
	enum vfc_bd_q q;

	for (i = 0; i < nvqs; i++) {
		struct vfc_vring_config cfg = {
			.index = i,
			.num = VFC_RT_NUM,
			.vring_align = VFC_RT_ALIGN,
			.weak_barriers = true,
			.notify = vfc_bd_notify,
			.callback = info[i].callback,
			.name = info[i].name,
		};

		vqs[i] = NULL;
		if (!info[i].name)
			continue;
		for (q = 0; q < BD_NR_Q; q++)
			if (!strcmp(info[i].name, vfc_bd_q_name[q]))
				break;
		if (q == BD_NR_Q || (bd->rt[q] && bd->rt[q]->vq)) {
			KUNIT_FAIL(bd->test, "queue %u: unexpected %s",
				   i, info[i].name);
			return -EINVAL;
		}
		/* A queue set up again (restore) keeps its fake ring. */
		if (!bd->rt[q])
			bd->rt[q] = vfc_rt_new(bd->test, bd->row);
		if (!bd->rt[q]) {
			vfc_bd_del_vqs(vdev);
			return -ENOMEM;
		}
		/* A report is up to 32 entries, and never indirect. */
		if (q == BD_REPORT) {
			cfg.num = PAGE_REPORTING_CAPACITY;
			bd->rt[q]->long_bufs = true;
		}
		vq = vfc_rt_create_on(bd->rt[q], vdev, &cfg);
		if (IS_ERR(vq)) {
			/* As a transport does: none of the queues stays. */
			vfc_bd_del_vqs(vdev);
			return PTR_ERR(vq);
		}
		vqs[i] = vq;
	}
	return 0;
}

static void vfc_bd_del_vqs(struct vfc_device *vdev)
{
	struct vfc_bd *bd = vfc_bd_cur;
	enum vfc_bd_q q;

	for (q = 0; q < BD_NR_Q; q++)
		if (bd->rt[q] && bd->rt[q]->vq)
			vfc_rt_destroy(bd->rt[q]);
}

/* Whether [offset, offset + len) overlaps the 4-byte field at @field. */
static bool vfc_bd_touches(unsigned int offset, unsigned int len,
			   unsigned int field)
{
	return offset < field + 4 && offset + len > field;
}

/*
 * "2.5.1 Driver Requirements: Device Configuration Space": an optional
 * field is accessed only if its feature is offered: free_page_hint_cmd_id
 * with FREE_PAGE_HINT, poison_val with PAGE_POISON.
 */
static bool vfc_bd_field_offered(struct vfc_fake *fake, unsigned int offset,
				 unsigned int len)
{
	u64 f = fake->device_features;

	if (vfc_bd_touches(offset, len, BD_CMD_ID) &&
	    !(f & BIT_ULL(VIRTIO_BALLOON_F_FREE_PAGE_HINT)))
		return false;
	return !vfc_bd_touches(offset, len, BD_POISON) ||
	       (f & BIT_ULL(VIRTIO_BALLOON_F_PAGE_POISON));
}

static void vfc_bd_get(struct vfc_device *vdev, unsigned int offset,
		       void *buf, unsigned int len)
{
	struct vfc_bd *bd = vfc_bd_cur;

	if (!vfc_bd_field_offered(to_vfc_fake(vdev), offset, len))
		bd->bad_config++;
	bd->get(vdev, offset, buf, len);
}

/*
 * As vfc_bd_get(), and: "3.1.1 Driver Requirements: Device
 * Initialization", no device config written before FEATURES_OK; "5.5.6.4
 * Page Poison", poison_val not modified while DRIVER_OK is set.
 */
static void vfc_bd_set(struct vfc_device *vdev, unsigned int offset,
		       const void *buf, unsigned int len)
{
	struct vfc_fake *fake = to_vfc_fake(vdev);
	struct vfc_bd *bd = vfc_bd_cur;
	u8 status = READ_ONCE(fake->status);

	if (!vfc_bd_field_offered(fake, offset, len) ||
	    !(status & VIRTIO_CONFIG_S_FEATURES_OK) ||
	    (vfc_bd_touches(offset, len, BD_POISON) &&
	     (status & VIRTIO_CONFIG_S_DRIVER_OK)))
		bd->bad_config++;
	if (vfc_bd_touches(offset, len, BD_POISON))
		bd->poison_set = true;
	bd->set(vdev, offset, buf, len);
}

/* Bind the balloon driver to a new fake balloon device. */
static void vfc_bd_add(struct kunit *test, u64 features)
{
	struct vfc_bd *bd = vfc_bd_cur;
	struct vfc_fake *fake;
	int err;

	fake = vfc_fake_new(test, F_V1 | bd->row->ops->features | features);
	fake->vdev.id.device = VIRTIO_ID_BALLOON;
	fake->ops.find_vqs = vfc_bd_find_vqs;
	fake->ops.del_vqs = vfc_bd_del_vqs;
	bd->get = fake->ops.get;
	bd->set = fake->ops.set;
	fake->ops.get = vfc_bd_get;
	fake->ops.set = vfc_bd_set;
	memset(fake->config, 0, sizeof(fake->config));
	err = vfc_register_device(&fake->vdev);
	if (err)
		put_device(&fake->vdev.dev);
	KUNIT_ASSERT_EQ(test, err, 0);
	bd->fake = fake;
	KUNIT_ASSERT_NOT_NULL_MSG(test, fake->vdev.dev.driver,
				  "vfc_balloon did not bind the fake balloon");
	KUNIT_ASSERT_TRUE(test, fake->status & VIRTIO_CONFIG_S_DRIVER_OK);
	KUNIT_ASSERT_NOT_NULL(test, bd->rt[BD_INFLATE]);
	KUNIT_ASSERT_NOT_NULL(test, bd->rt[BD_DEFLATE]);
}

static void vfc_bd_remove(struct vfc_bd *bd)
{
	if (!bd->fake)
		return;
	vfc_unregister_device(&bd->fake->vdev);
	bd->fake = NULL;
}

static u32 vfc_bd_config(struct vfc_bd *bd, unsigned int offset)
{
	__le32 v;

	memcpy(&v, bd->fake->config + offset, sizeof(v));
	return le32_to_cpu(v);
}

/* The device changes a config field, with a config change interrupt. */
static void vfc_bd_set_config(struct vfc_bd *bd, unsigned int offset, u32 val)
{
	__le32 v = cpu_to_le32(val);

	memcpy(bd->fake->config + offset, &v, sizeof(v));
	bd->fake->generation++;
	vfc_config_changed(&bd->fake->vdev);
}

/* The device's new target. */
static void vfc_bd_target(struct vfc_bd *bd, u32 num_pages)
{
	vfc_bd_set_config(bd, BD_NUM_PAGES, num_pages);
}

/* The device's free page hint command id. */
static void vfc_bd_hint_id(struct vfc_bd *bd, u32 id)
{
	vfc_bd_set_config(bd, BD_CMD_ID, id);
}

/* Wait until the device logged @n hinting buffers; false on timeout. */
static bool vfc_bd_wait_hints(struct vfc_bd *bd, unsigned int n)
{
	unsigned int seen;

	return !read_poll_timeout(READ_ONCE, seen, seen >= n, BD_POLL_US,
				  BD_WAIT_US, false, bd->nr_hints);
}

/* Wait until the driver reports @actual frames; false on timeout. */
static bool vfc_bd_wait_actual(struct vfc_bd *bd, u32 actual)
{
	u32 seen;

	return !read_poll_timeout(vfc_bd_config, seen, seen == actual,
				  BD_POLL_US, BD_WAIT_US, false, bd, BD_ACTUAL);
}

/* The device takes the next buffer available on queue @q, if any. */
static bool vfc_bd_take(struct vfc_bd *bd, enum vfc_bd_q q,
			struct vfc_rt_taken *t)
{
	bool taken;

	mutex_lock(&bd->dev_lock);
	taken = bd->rt[q]->ops->pop_avail(bd->rt[q], t);
	mutex_unlock(&bd->dev_lock);
	return taken;
}

/* Wait until queue @q has a buffer available and take it. */
static bool vfc_bd_wait_take(struct vfc_bd *bd, enum vfc_bd_q q,
			     struct vfc_rt_taken *t)
{
	bool taken;

	return !read_poll_timeout(vfc_bd_take, taken, taken, BD_POLL_US,
				  BD_WAIT_US, false, bd, q, t);
}

/* The case uses a buffer it took, with @len bytes written. */
static void vfc_bd_complete(struct vfc_bd *bd, enum vfc_bd_q q,
			    const struct vfc_rt_taken *t, u32 len)
{
	mutex_lock(&bd->dev_lock);
	vfc_rt_complete(bd->rt[q], t, len);
	mutex_unlock(&bd->dev_lock);
}

/* The device uses the statistics buffer it holds, with @len written. */
static void vfc_bd_use_stats(struct vfc_bd *bd, u32 len)
{
	struct vfc_rt_taken t;

	spin_lock(&bd->lock);
	t = bd->stats_t;
	spin_unlock(&bd->lock);
	vfc_bd_complete(bd, BD_STATS, &t, len);
}

static unsigned int vfc_bd_nr_held(struct vfc_bd *bd)
{
	unsigned int n;

	spin_lock(&bd->lock);
	n = bd->nr_held;
	spin_unlock(&bd->lock);
	return n;
}

/* Wait until the device holds @n frames; false on timeout. */
static bool vfc_bd_wait_held(struct vfc_bd *bd, unsigned int n)
{
	unsigned int seen;

	return !read_poll_timeout(vfc_bd_nr_held, seen, seen == n, BD_POLL_US,
				  BD_WAIT_US, false, bd);
}

/* Statistics buffers the device took so far. */
static unsigned int vfc_bd_reports(struct vfc_bd *bd)
{
	unsigned int n;

	spin_lock(&bd->lock);
	n = bd->reports;
	spin_unlock(&bd->lock);
	return n;
}

/* Wait until @vq is broken; false on timeout. */
static bool vfc_bd_wait_broken(struct vfc_virtqueue *vq)
{
	bool broken;

	return !read_poll_timeout(vfc_vq_is_broken, broken, broken, BD_POLL_US,
				  BD_WAIT_US, false, vq);
}

/* Wait until the guest's managed memory is @total pages; false on timeout. */
static bool vfc_bd_wait_totalram(unsigned long total)
{
	unsigned long seen;

	return !read_poll_timeout(totalram_pages, seen, seen == total,
				  BD_POLL_US, BD_WAIT_US, false);
}

/* ------------------------------------------------------------------------
 * The cases
 */

/* Move the balloon to @pages: actual, the device and totalram follow. */
static void vfc_bd_expect_size(struct kunit *test, struct vfc_bd *bd,
			       unsigned int pages, unsigned long total)
{
	const u32 frames = pages * VFC_BALLOON_FRAMES_PER_PAGE;

	vfc_bd_target(bd, frames);
	KUNIT_ASSERT_TRUE_MSG(test, vfc_bd_wait_actual(bd, frames),
			      "actual %u, not %u pages",
			      vfc_bd_config(bd, BD_ACTUAL), pages);
	KUNIT_EXPECT_EQ(test, vfc_bd_nr_held(bd), frames);
	KUNIT_EXPECT_EQ(test, totalram_pages(), total - pages);
}

/*
 * "5.5.6 Device Operation": the driver inflates to num_pages and deflates
 * to it, naming each page once; `actual` follows; while the device holds
 * pages they are gone from the guest's managed memory (no
 * DEFLATE_ON_OOM); remove() gives them all back through the deflate
 * queue.
 */
static void vfc_balloon_dev_inflate_deflate(struct kunit *test)
{
	struct vfc_bd *bd = vfc_bd_cur;
	unsigned long total = totalram_pages();

	vfc_bd_add(test, BIT_ULL(VIRTIO_BALLOON_F_MUST_TELL_HOST));
	/* "The driver SHOULD accept the VIRTIO_BALLOON_F_MUST_TELL_HOST" */
	KUNIT_EXPECT_TRUE(test, vfc_has_feature(&bd->fake->vdev,
						VIRTIO_BALLOON_F_MUST_TELL_HOST));
	KUNIT_EXPECT_EQ(test, vfc_bd_config(bd, BD_ACTUAL), 0U);
	vfc_bd_expect_size(test, bd, 64, total);
	vfc_bd_expect_size(test, bd, 16, total);

	vfc_bd_remove(bd);
	KUNIT_EXPECT_EQ(test, vfc_bd_nr_held(bd), 0U);
	KUNIT_EXPECT_EQ(test, bd->bad_deflates, 0U);
	KUNIT_EXPECT_EQ(test, bd->inflated, bd->deflated);
	KUNIT_EXPECT_EQ(test, totalram_pages(), total);
}

/*
 * VIRTIO_BALLOON_F_PAGE_POISON: "The driver MUST initialize the deflated
 * pages with poison_val when they are reused by the driver". The device
 * marks the pages it holds (as one that drops their contents may change
 * them); once deflated, none keeps the mark: the guest frees them, and
 * its kernel writes poison_val into what it frees (init_on_free zeroes,
 * and poison_val is then 0).
 */
static void vfc_balloon_dev_deflate_poisoned(struct kunit *test)
{
	struct vfc_bd *bd = vfc_bd_cur;
	unsigned long total = totalram_pages();
	unsigned int i, j, n, gone = 0;
	u32 *before;

	vfc_bd_add(test, BIT_ULL(VIRTIO_BALLOON_F_MUST_TELL_HOST) |
		   BIT_ULL(VIRTIO_BALLOON_F_PAGE_POISON));
	KUNIT_ASSERT_TRUE_MSG(test, vfc_has_feature(&bd->fake->vdev,
						    VIRTIO_BALLOON_F_PAGE_POISON),
			      "PAGE_POISON not negotiated: does the guest kernel zero or poison freed pages (init_on_free=1)?");
	vfc_bd_expect_size(test, bd, 64, total);
	before = kunit_kcalloc(test, BD_MAX_HELD, sizeof(*before), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, before);
	spin_lock(&bd->lock);
	n = bd->nr_held;
	memcpy(before, bd->held, n * sizeof(*before));
	spin_unlock(&bd->lock);
	for (i = 0; i < n; i++)
		memset(phys_to_virt((u64)before[i] << VIRTIO_BALLOON_PFN_SHIFT),
		       BD_MARK, BD_MARK_LEN);

	vfc_bd_expect_size(test, bd, 16, total);
	msleep(20);
	for (i = 0; i < n; i++) {
		spin_lock(&bd->lock);
		for (j = 0; j < bd->nr_held && bd->held[j] != before[i]; j++)
			;
		j = j < bd->nr_held;
		spin_unlock(&bd->lock);
		if (j)
			continue;
		gone++;
		KUNIT_EXPECT_FALSE_MSG(test, vfc_bd_marked((u64)before[i] <<
							   VIRTIO_BALLOON_PFN_SHIFT),
				       "frame %#x deflated with the device's mark",
				       before[i]);
	}
	KUNIT_EXPECT_EQ(test, gone, 48U * VFC_BALLOON_FRAMES_PER_PAGE);
	vfc_bd_remove(bd);
	KUNIT_EXPECT_EQ(test, totalram_pages(), total);
}

/*
 * "Device Status Field": the device sets DEVICE_NEEDS_RESET (and says so
 * with a config change) with 32 pages in the balloon. The core resets it
 * and restores the driver (freeze, restore): the balloon keeps its pages
 * (actual, the device's count and totalram unchanged), sends a fresh
 * statistics report on the new stats queue, and follows the next target
 * down to 0, naming only pages the device holds.
 */
static void vfc_balloon_dev_needs_reset(struct kunit *test)
{
	const u32 frames = 32 * VFC_BALLOON_FRAMES_PER_PAGE;
	struct vfc_bd *bd = vfc_bd_cur;
	unsigned long total = totalram_pages();
	unsigned int resets, reports, seen;

	vfc_bd_add(test, BIT_ULL(VIRTIO_BALLOON_F_MUST_TELL_HOST) |
		   BIT_ULL(VIRTIO_BALLOON_F_STATS_VQ));
	vfc_bd_expect_size(test, bd, 32, total);
	resets = bd->fake->resets;
	reports = vfc_bd_reports(bd);

	bd->fake->status |= VIRTIO_CONFIG_S_NEEDS_RESET;
	vfc_config_changed(&bd->fake->vdev);
	flush_work(&bd->fake->vdev.reset_work);
	KUNIT_EXPECT_GT(test, bd->fake->resets, resets);
	KUNIT_EXPECT_EQ(test, bd->fake->status & (VIRTIO_CONFIG_S_NEEDS_RESET |
						  VIRTIO_CONFIG_S_DRIVER_OK),
			VIRTIO_CONFIG_S_DRIVER_OK);
	KUNIT_EXPECT_EQ(test, vfc_bd_config(bd, BD_ACTUAL), frames);
	KUNIT_EXPECT_EQ(test, vfc_bd_nr_held(bd), frames);
	KUNIT_EXPECT_EQ(test, totalram_pages(), total - 32);
	KUNIT_EXPECT_EQ_MSG(test, read_poll_timeout(vfc_bd_reports, seen,
						    seen > reports, BD_POLL_US,
						    BD_WAIT_US, false, bd), 0,
			    "no statistics report after the reset");

	vfc_bd_expect_size(test, bd, 0, total);
	KUNIT_EXPECT_EQ(test, bd->bad_deflates, 0U);
	vfc_bd_remove(bd);
	KUNIT_EXPECT_EQ(test, bd->inflated, bd->deflated);
	KUNIT_EXPECT_EQ(test, totalram_pages(), total);
}

/*
 * num_pages moves while an inflate request is in flight: the driver waits
 * for the acknowledgment (the pages are the device's from then on), then
 * follows the new target, deflating what it just inflated.
 */
static void vfc_balloon_dev_target_moves(struct kunit *test)
{
	struct vfc_bd *bd = vfc_bd_cur;
	unsigned long total = totalram_pages();
	struct vfc_rt_taken t;

	vfc_bd_add(test, BIT_ULL(VIRTIO_BALLOON_F_MUST_TELL_HOST));
	WRITE_ONCE(bd->auto_ack[BD_INFLATE], false);
	vfc_bd_target(bd, 32 * VFC_BALLOON_FRAMES_PER_PAGE);
	KUNIT_ASSERT_TRUE_MSG(test, vfc_bd_wait_take(bd, BD_INFLATE, &t),
			      "no inflate request");
	vfc_bd_target(bd, 0);
	vfc_bd_target(bd, U32_MAX);
	vfc_bd_target(bd, 0);
	/* Nothing more while the request is the device's. */
	msleep(50);
	KUNIT_EXPECT_EQ(test, bd->deflated, 0U);
	KUNIT_EXPECT_EQ(test, vfc_bd_config(bd, BD_ACTUAL), 0U);

	vfc_bd_record(bd, BD_INFLATE, &t);
	WRITE_ONCE(bd->auto_ack[BD_INFLATE], true);
	vfc_bd_complete(bd, BD_INFLATE, &t, 0);
	KUNIT_EXPECT_EQ(test, bd->inflated, 32 * VFC_BALLOON_FRAMES_PER_PAGE);
	/* actual was 0 before too: wait for the deflate itself. */
	KUNIT_ASSERT_TRUE_MSG(test, vfc_bd_wait_held(bd, 0),
			      "the device still holds %u frames",
			      vfc_bd_nr_held(bd));
	KUNIT_EXPECT_TRUE(test, vfc_bd_wait_actual(bd, 0));
	KUNIT_EXPECT_EQ(test, bd->deflated, 32 * VFC_BALLOON_FRAMES_PER_PAGE);
	KUNIT_EXPECT_EQ(test, bd->bad_deflates, 0U);
	KUNIT_EXPECT_EQ(test, totalram_pages(), total);
	vfc_bd_remove(bd);
}

/*
 * Without VIRTIO_BALLOON_F_MUST_TELL_HOST "the driver MAY use pages from
 * the balloon" once it told the device: a deflate gives its pages back
 * (actual, totalram) while the device still holds the request. The next
 * inflate waits for that request: the device hears of a page's deflate
 * before the page may come back in an inflate.
 */
static void vfc_balloon_dev_deflate_untold(struct kunit *test)
{
	const u32 fpp = VFC_BALLOON_FRAMES_PER_PAGE;
	unsigned long total = totalram_pages();
	struct vfc_bd *bd = vfc_bd_cur;
	struct vfc_rt_taken t;
	unsigned int kicks;

	vfc_bd_add(test, 0);
	KUNIT_ASSERT_FALSE(test, vfc_has_feature(&bd->fake->vdev,
						 VIRTIO_BALLOON_F_MUST_TELL_HOST));
	vfc_bd_expect_size(test, bd, 64, total);
	WRITE_ONCE(bd->auto_ack[BD_DEFLATE], false);
	vfc_bd_target(bd, 16 * fpp);
	KUNIT_ASSERT_TRUE_MSG(test, vfc_bd_wait_take(bd, BD_DEFLATE, &t),
			      "no deflate request");
	KUNIT_EXPECT_TRUE_MSG(test, vfc_bd_wait_actual(bd, 16 * fpp),
			      "actual %u: pages not back before the acknowledgment",
			      vfc_bd_config(bd, BD_ACTUAL));
	KUNIT_EXPECT_TRUE(test, vfc_bd_wait_totalram(total - 16));

	kicks = READ_ONCE(bd->rt[BD_INFLATE]->kicks);
	vfc_bd_target(bd, 64 * fpp);
	msleep(50);
	KUNIT_EXPECT_EQ_MSG(test, READ_ONCE(bd->rt[BD_INFLATE]->kicks), kicks,
			    "an inflate while a deflate request is the device's");
	vfc_bd_record(bd, BD_DEFLATE, &t);
	WRITE_ONCE(bd->auto_ack[BD_DEFLATE], true);
	vfc_bd_complete(bd, BD_DEFLATE, &t, 0);
	KUNIT_EXPECT_TRUE(test, vfc_bd_wait_actual(bd, 64 * fpp));
	KUNIT_EXPECT_EQ(test, vfc_bd_nr_held(bd), 64 * fpp);
	KUNIT_EXPECT_EQ(test, totalram_pages(), total - 64);
	vfc_bd_remove(bd);
	KUNIT_EXPECT_EQ(test, bd->bad_deflates, 0U);
	KUNIT_EXPECT_EQ(test, bd->inflated, bd->deflated);
	KUNIT_EXPECT_EQ(test, totalram_pages(), total);
}

/*
 * A big move runs in parts, one per CPU: with two CPUs, a target of
 * 4 * VFC_BALLOON_PART_MIN pages is two inflate requests in flight at
 * once, which together name every page once; actual moves only when both
 * are acknowledged.
 */
static void vfc_balloon_dev_parts(struct kunit *test)
{
	const unsigned int pages = 4 * VFC_BALLOON_PART_MIN;
	const u32 fpp = VFC_BALLOON_FRAMES_PER_PAGE;
	unsigned long total = totalram_pages();
	struct vfc_bd *bd = vfc_bd_cur;
	struct vfc_rt_taken t[2];

	if (num_online_cpus() < 2)
		kunit_skip(test, "one CPU: a move runs in one part");
	vfc_bd_add(test, BIT_ULL(VIRTIO_BALLOON_F_MUST_TELL_HOST));
	WRITE_ONCE(bd->auto_ack[BD_INFLATE], false);
	vfc_bd_target(bd, pages * fpp);
	KUNIT_ASSERT_TRUE_MSG(test, vfc_bd_wait_take(bd, BD_INFLATE, &t[0]),
			      "no inflate request");
	KUNIT_ASSERT_TRUE_MSG(test, vfc_bd_wait_take(bd, BD_INFLATE, &t[1]),
			      "one inflate request in flight, not two");
	KUNIT_EXPECT_EQ(test, t[0].elem[0].len + t[1].elem[0].len,
			pages * fpp * (u32)sizeof(__le32));
	msleep(20);
	KUNIT_EXPECT_EQ(test, vfc_bd_config(bd, BD_ACTUAL), 0U);

	vfc_bd_record(bd, BD_INFLATE, &t[0]);
	vfc_bd_record(bd, BD_INFLATE, &t[1]);
	WRITE_ONCE(bd->auto_ack[BD_INFLATE], true);
	vfc_bd_complete(bd, BD_INFLATE, &t[0], 0);
	vfc_bd_complete(bd, BD_INFLATE, &t[1], 0);
	KUNIT_EXPECT_TRUE(test, vfc_bd_wait_actual(bd, pages * fpp));
	KUNIT_EXPECT_EQ(test, vfc_bd_nr_held(bd), pages * fpp);
	KUNIT_EXPECT_EQ(test, totalram_pages(), total - pages);
	vfc_bd_expect_size(test, bd, 0, total);
	vfc_bd_remove(bd);
	KUNIT_EXPECT_EQ(test, bd->bad_deflates, 0U);
	KUNIT_EXPECT_EQ(test, totalram_pages(), total);
}

/*
 * An inflate request the device never acknowledges: after the
 * acknowledgment timeout the driver resets the device and gives every
 * page back to the guest (the device holds none after the reset), and
 * the balloon stays stopped: a new target sends nothing.
 */
static void vfc_balloon_dev_ack_timeout(struct kunit *test)
{
	unsigned long timeout = vfc_balloon_ack_timeout;
	struct vfc_bd *bd = vfc_bd_cur;
	unsigned long total = totalram_pages();
	struct vfc_rt_taken t;
	unsigned int resets, kicks, n;

	vfc_bd_add(test, BIT_ULL(VIRTIO_BALLOON_F_MUST_TELL_HOST));
	resets = bd->fake->resets;
	WRITE_ONCE(bd->auto_ack[BD_INFLATE], false);
	WRITE_ONCE(vfc_balloon_ack_timeout, msecs_to_jiffies(200));
	vfc_bd_target(bd, 32 * VFC_BALLOON_FRAMES_PER_PAGE);
	KUNIT_EXPECT_TRUE_MSG(test, vfc_bd_wait_take(bd, BD_INFLATE, &t),
			      "no inflate request");
	read_poll_timeout(READ_ONCE, n, n != resets, BD_POLL_US, BD_WAIT_US,
			  false, bd->fake->resets);
	WRITE_ONCE(vfc_balloon_ack_timeout, timeout);
	KUNIT_ASSERT_EQ_MSG(test, bd->fake->resets, resets + 1,
			    "no reset after the request timed out");
	/* Given back: the guest's memory is whole again. */
	KUNIT_EXPECT_TRUE_MSG(test, vfc_bd_wait_totalram(total),
			      "totalram %lu pages, %lu before",
			      totalram_pages(), total);
	KUNIT_EXPECT_EQ(test, vfc_bd_config(bd, BD_ACTUAL), 0U);
	KUNIT_EXPECT_TRUE(test, vfc_vq_is_broken(bd->rt[BD_INFLATE]->vq));
	vfc_expect_report(test, &bd->fake->vdev, "request never acknowledged",
			  "Traditional Memory Balloon Device / Device Operation",
			  true, 0);

	kicks = bd->rt[BD_INFLATE]->kicks + bd->rt[BD_DEFLATE]->kicks;
	vfc_bd_target(bd, 64 * VFC_BALLOON_FRAMES_PER_PAGE);
	msleep(100);
	KUNIT_EXPECT_EQ(test, bd->rt[BD_INFLATE]->kicks +
			bd->rt[BD_DEFLATE]->kicks, kicks);
	vfc_bd_remove(bd);
	KUNIT_EXPECT_EQ(test, totalram_pages(), total);
}

/* The tags "5.5.6.3 Memory Statistics" defines, the first ten on 6.1. */
static void vfc_bd_expect_report(struct kunit *test, struct vfc_bd *bd)
{
	struct virtio_balloon_stat st[VIRTIO_BALLOON_S_NR];
	DECLARE_BITMAP(seen, VIRTIO_BALLOON_S_NR);
	unsigned int i, n, tag;

	spin_lock(&bd->lock);
	n = bd->nr_stats;
	memcpy(st, bd->stats, n * sizeof(st[0]));
	spin_unlock(&bd->lock);

	bitmap_zero(seen, VIRTIO_BALLOON_S_NR);
	KUNIT_EXPECT_GE(test, n, 4U);
	for (i = 0; i < n; i++) {
		tag = __virtio16_to_cpu(true, st[i].tag);
		KUNIT_EXPECT_LT(test, tag, (unsigned int)VIRTIO_BALLOON_S_NR);
		if (tag >= VIRTIO_BALLOON_S_NR)
			continue;
		KUNIT_EXPECT_FALSE_MSG(test, test_bit(tag, seen),
				       "tag %u twice", tag);
		__set_bit(tag, seen);
		if (tag == VIRTIO_BALLOON_S_MEMTOT)
			KUNIT_EXPECT_EQ(test, __virtio64_to_cpu(true, st[i].val),
					(u64)totalram_pages() << PAGE_SHIFT);
	}
	KUNIT_EXPECT_TRUE(test, test_bit(VIRTIO_BALLOON_S_MEMFREE, seen));
	KUNIT_EXPECT_TRUE(test, test_bit(VIRTIO_BALLOON_S_MEMTOT, seen));
	KUNIT_EXPECT_TRUE(test, test_bit(VIRTIO_BALLOON_S_AVAIL, seen));
}

static bool vfc_bd_wait_reports(struct vfc_bd *bd, unsigned int n)
{
	unsigned int seen;

	return !read_poll_timeout(READ_ONCE, seen, seen >= n, BD_POLL_US,
				  BD_WAIT_US, false, bd->reports);
}

/*
 * "Device Configuration Space": a config generation that never settles.
 * The balloon cannot read num_pages whole, so it does not move (no page
 * taken on a torn value) and tries again later; once the device holds
 * still it follows the target.
 */
static void vfc_balloon_dev_generation_unsettled(struct kunit *test)
{
	const u32 frames = 16 * VFC_BALLOON_FRAMES_PER_PAGE;
	unsigned long total = totalram_pages();
	struct vfc_bd *bd = vfc_bd_cur;

	vfc_bd_add(test, BIT_ULL(VIRTIO_BALLOON_F_MUST_TELL_HOST));
	WRITE_ONCE(bd->fake->changes_during_get, UINT_MAX);
	vfc_bd_target(bd, frames);
	msleep(500);
	KUNIT_EXPECT_EQ(test, vfc_bd_config(bd, BD_ACTUAL), 0U);
	KUNIT_EXPECT_EQ(test, vfc_bd_nr_held(bd), 0U);
	KUNIT_EXPECT_EQ(test, totalram_pages(), total);
	KUNIT_EXPECT_GT(test, UINT_MAX - READ_ONCE(bd->fake->changes_during_get),
			1U);
	vfc_expect_report(test, &bd->fake->vdev, "config generation never settled",
			  "Device Configuration Space", true, 0);

	WRITE_ONCE(bd->fake->changes_during_get, 0);
	KUNIT_EXPECT_TRUE_MSG(test, vfc_bd_wait_actual(bd, frames),
			      "no move after the config settled");
	vfc_bd_expect_size(test, bd, 0, total);
	vfc_bd_remove(bd);
	KUNIT_EXPECT_EQ(test, bd->bad_deflates, 0U);
}

/*
 * num_pages oscillating: the device moves its target up and down again
 * and again while requests are in flight. The balloon follows what it
 * reads, ends on the last target, and names only pages the device holds.
 */
static void vfc_balloon_dev_target_oscillates(struct kunit *test)
{
	unsigned long total = totalram_pages();
	struct vfc_bd *bd = vfc_bd_cur;
	unsigned int i;

	vfc_bd_add(test, BIT_ULL(VIRTIO_BALLOON_F_MUST_TELL_HOST));
	for (i = 0; i < 64; i++) {
		vfc_bd_target(bd, (i % 2 ? 2 * VFC_BALLOON_OOM_PAGES : 8) *
				  VFC_BALLOON_FRAMES_PER_PAGE);
		usleep_range(200, 2000);
	}
	vfc_bd_expect_size(test, bd, 24, total);
	vfc_bd_expect_size(test, bd, 0, total);
	vfc_bd_remove(bd);
	KUNIT_EXPECT_EQ(test, bd->bad_deflates, 0U);
	KUNIT_EXPECT_EQ(test, bd->inflated, bd->deflated);
	KUNIT_EXPECT_EQ(test, totalram_pages(), total);
}

/*
 * "5.5.6.3 Memory Statistics": a report at probe; each time the device
 * uses the buffer, a fresh one. A device that uses the read-only buffer
 * with a length breaks the statistics queue, and only it: the balloon
 * goes on inflating.
 */
static void vfc_balloon_dev_stats(struct kunit *test)
{
	struct vfc_bd *bd = vfc_bd_cur;
	unsigned int i;

	vfc_bd_add(test, BIT_ULL(VIRTIO_BALLOON_F_STATS_VQ));
	KUNIT_ASSERT_NOT_NULL(test, bd->rt[BD_STATS]);
	KUNIT_ASSERT_TRUE_MSG(test, vfc_bd_wait_reports(bd, 1),
			      "no report at probe");
	vfc_bd_expect_report(test, bd);

	for (i = 2; i <= 4; i++) {
		vfc_bd_use_stats(bd, 0);
		KUNIT_ASSERT_TRUE_MSG(test, vfc_bd_wait_reports(bd, i),
				      "no report %u after the device asked", i);
		vfc_bd_expect_report(test, bd);
	}
	KUNIT_EXPECT_FALSE(test, vfc_vq_is_broken(bd->rt[BD_STATS]->vq));

	/* Hostile: a length for a buffer the device may only read. */
	vfc_bd_use_stats(bd, 16);
	KUNIT_EXPECT_TRUE_MSG(test, vfc_bd_wait_broken(bd->rt[BD_STATS]->vq),
			      "a used length for a read-only buffer went unnoticed");
	msleep(50);
	KUNIT_EXPECT_EQ(test, READ_ONCE(bd->reports), 4U);

	vfc_bd_target(bd, 8 * VFC_BALLOON_FRAMES_PER_PAGE);
	KUNIT_EXPECT_TRUE_MSG(test, vfc_bd_wait_actual(bd, 8 * VFC_BALLOON_FRAMES_PER_PAGE),
			      "the balloon stopped with its statistics queue");
	vfc_bd_remove(bd);
	KUNIT_EXPECT_EQ(test, vfc_bd_nr_held(bd), 0U);
}

/*
 * One round as "5.5.6.6 Free Page Hinting" has it, from log entry @from:
 * the command id, @blocks device-writable free blocks of pageblock order,
 * each still the driver's (allocated, not in the guest's use), then STOP.
 * Return: the index after the round.
 */
static unsigned int vfc_bd_expect_round(struct kunit *test, struct vfc_bd *bd,
					unsigned int from, u32 id,
					unsigned int blocks)
{
	const u32 size = PAGE_SIZE << pageblock_order;
	struct vfc_bd_hint *h = &bd->hints[from];
	unsigned int i;

	KUNIT_EXPECT_TRUE(test, h->cmd);
	KUNIT_EXPECT_EQ(test, h->len, (u32)sizeof(__le32));
	KUNIT_EXPECT_EQ_MSG(test, h->id, id, "round %u: wrong command id", from);
	for (i = 1; i <= blocks; i++) {
		h = &bd->hints[from + i];
		KUNIT_EXPECT_FALSE_MSG(test, h->cmd, "entry %u: a command, not a block",
				       from + i);
		KUNIT_EXPECT_EQ(test, h->len, size);
		KUNIT_EXPECT_EQ(test, h->addr % size, 0ULL);
		KUNIT_EXPECT_GT(test, page_ref_count(pfn_to_page(h->addr >> PAGE_SHIFT)), 0);
	}
	h = &bd->hints[from + i];
	KUNIT_EXPECT_TRUE(test, h->cmd);
	KUNIT_EXPECT_EQ_MSG(test, h->id, (u32)VIRTIO_BALLOON_CMD_ID_STOP,
			    "round %u: no STOP after the blocks", from);
	return from + i + 1;
}

/*
 * VIRTIO_BALLOON_F_DEFLATE_ON_OOM: the balloon's pages stay in the
 * guest's managed memory; each OOM call gives back 1 MiB,
 * through the deflate queue, until the balloon is empty; a device that
 * does not acknowledge that deflate is reset and every page comes back
 * at once, to the call that needed them.
 */
static void vfc_balloon_dev_oom(struct kunit *test)
{
	const unsigned int pages = 2 * VFC_BALLOON_OOM_PAGES + 88;
	unsigned long timeout = vfc_balloon_ack_timeout;
	unsigned long total = totalram_pages();
	struct vfc_bd *bd = vfc_bd_cur;
	unsigned int resets;

	vfc_bd_add(test, BIT_ULL(VIRTIO_BALLOON_F_MUST_TELL_HOST) |
		   BIT_ULL(VIRTIO_BALLOON_F_DEFLATE_ON_OOM));
	vfc_bd_target(bd, pages * VFC_BALLOON_FRAMES_PER_PAGE);
	KUNIT_ASSERT_TRUE(test, vfc_bd_wait_actual(bd, pages * VFC_BALLOON_FRAMES_PER_PAGE));
	KUNIT_EXPECT_EQ_MSG(test, totalram_pages(), total,
			    "DEFLATE_ON_OOM: the balloon's pages stay counted");

	KUNIT_EXPECT_EQ(test, vfc_balloon_test_oom(&bd->fake->vdev),
			(unsigned long)VFC_BALLOON_OOM_PAGES);
	KUNIT_EXPECT_EQ(test, vfc_bd_nr_held(bd),
			(pages - VFC_BALLOON_OOM_PAGES) * VFC_BALLOON_FRAMES_PER_PAGE);
	KUNIT_EXPECT_EQ(test, vfc_bd_config(bd, BD_ACTUAL),
			(pages - VFC_BALLOON_OOM_PAGES) * VFC_BALLOON_FRAMES_PER_PAGE);

	/* The device sits on the next OOM deflate. */
	resets = bd->fake->resets;
	WRITE_ONCE(bd->auto_ack[BD_DEFLATE], false);
	WRITE_ONCE(vfc_balloon_ack_timeout, msecs_to_jiffies(200));
	KUNIT_EXPECT_EQ_MSG(test, vfc_balloon_test_oom(&bd->fake->vdev),
			    (unsigned long)(pages - VFC_BALLOON_OOM_PAGES),
			    "a device that does not answer: every page back");
	WRITE_ONCE(vfc_balloon_ack_timeout, timeout);
	KUNIT_EXPECT_EQ(test, bd->fake->resets, resets + 1);
	KUNIT_EXPECT_EQ(test, vfc_balloon_test_oom(&bd->fake->vdev), 0UL);
	KUNIT_EXPECT_EQ(test, totalram_pages(), total);
	vfc_bd_remove(bd);
	KUNIT_EXPECT_EQ(test, totalram_pages(), total);
	KUNIT_EXPECT_EQ(test, bd->bad_deflates, 0U);
}

/*
 * Free some large blocks, which the guest's page reporting then reports
 * (its work runs a couple of seconds after such frees).
 */
static void vfc_bd_churn(void)
{
	struct page *blocks[BD_CHURN_BLOCKS];
	unsigned int i;

	for (i = 0; i < BD_CHURN_BLOCKS; i++)
		blocks[i] = alloc_pages(GFP_KERNEL | __GFP_NOWARN | __GFP_NORETRY,
					pageblock_order);
	for (i = 0; i < BD_CHURN_BLOCKS; i++)
		if (blocks[i])
			__free_pages(blocks[i], pageblock_order);
}

/*
 * "5.5.6.7 Free Page Reporting": once the driver is bound, the guest's
 * page reporting hands free blocks to the device, one report of
 * device-writable entries at a time, each used before the next. A device
 * that uses a report twice ends reporting: the balloon resets the device
 * and stops, and the guest carries on. Split: the next used index shows
 * it at once. Packed: the second used descriptor lands in the slot of the
 * next (here, with a report as long as the ring, on the first one's own,
 * hiding it), so a report is never seen used, and the acknowledgment
 * timeout (shortened here) ends it.
 */
static void vfc_balloon_dev_reporting(struct kunit *test)
{
	unsigned long timeout = vfc_balloon_ack_timeout;
	unsigned long total = totalram_pages();
	struct vfc_bd *bd = vfc_bd_cur;
	u8 saved[VFC_RT_MAX_SG * BD_MARK_LEN];
	unsigned int seen, resets;
	struct vfc_rt_taken t;

	vfc_bd_add(test, BIT_ULL(VIRTIO_BALLOON_F_REPORTING) |
		   BIT_ULL(VIRTIO_BALLOON_F_PAGE_POISON));
	/*
	 * Written when negotiated (the guest's freed pages are zeroed or
	 * poisoned), and (vfc_bd_set()) not while DRIVER_OK: before it.
	 */
	KUNIT_EXPECT_EQ(test, bd->poison_set,
			vfc_has_feature(&bd->fake->vdev,
					VIRTIO_BALLOON_F_PAGE_POISON));
	KUNIT_ASSERT_NOT_NULL(test, bd->rt[BD_REPORT]);
	KUNIT_ASSERT_TRUE_MSG(test, !read_poll_timeout(READ_ONCE, seen, seen,
						       BD_POLL_US, BD_WAIT_US,
						       false, bd->reports_done),
			      "no free page report within %u ms", BD_WAIT_MS);
	KUNIT_EXPECT_GT(test, READ_ONCE(bd->reported), 0U);
	/* "SHOULD attempt to report large pages": a pageblock at least. */
	KUNIT_EXPECT_GE(test, READ_ONCE(bd->report_min),
			(u32)(PAGE_SIZE << pageblock_order));

	/* Hostile: the next report used twice. */
	resets = bd->fake->resets;
	WRITE_ONCE(bd->auto_ack[BD_REPORT], false);
	WRITE_ONCE(vfc_balloon_ack_timeout, msecs_to_jiffies(2000));
	/* The guest reports what it frees: free some. */
	vfc_bd_churn();
	KUNIT_ASSERT_TRUE_MSG(test, vfc_bd_wait_take(bd, BD_REPORT, &t),
			      "no report after freeing memory");
	vfc_bd_mark_report(&t, saved);
	/* The driver waits for the device meanwhile. */
	msleep(20);
	vfc_bd_unmark_report(test, &t, saved);
	vfc_bd_complete(bd, BD_REPORT, &t, 0);
	vfc_bd_complete(bd, BD_REPORT, &t, 0);
	WRITE_ONCE(bd->auto_ack[BD_REPORT], true);
	/* The driver meets it with its next report. */
	vfc_bd_churn();
	KUNIT_EXPECT_FALSE_MSG(test, read_poll_timeout(READ_ONCE, seen,
						       seen != resets, BD_POLL_US,
						       BD_WAIT_US, false,
						       bd->fake->resets),
			       "reporting went on after a report was used twice");
	WRITE_ONCE(vfc_balloon_ack_timeout, timeout);
	if (!bd->rt[BD_REPORT]->packed)
		KUNIT_EXPECT_TRUE(test, vfc_vq_is_broken(bd->rt[BD_REPORT]->vq));
	vfc_bd_remove(bd);
	KUNIT_EXPECT_EQ(test, totalram_pages(), total);
}

/* The first command the device logged at or after @from; nr_hints if none. */
static unsigned int vfc_bd_next_cmd(struct vfc_bd *bd, unsigned int from)
{
	unsigned int i;

	spin_lock(&bd->lock);
	for (i = from; i < bd->nr_hints && !bd->hints[i].cmd; i++)
		;
	spin_unlock(&bd->lock);
	return i;
}

/*
 * "5.5.6.6 Free Page Hinting": each new command id starts a round of
 * blocks ending in STOP; an id that jumps to another in the middle of a
 * round ends that round (STOP) and starts one for the new id; DONE gives
 * every hinted block back to the guest.
 */
/*
 * Start a round for @id and, while the device holds its first two blocks,
 * move the command id on to @next; then let the device use both and take
 * what the driver made available meanwhile.
 */
static void vfc_bd_hint_cut(struct kunit *test, struct vfc_bd *bd, u32 id,
			    u32 next)
{
	struct vfc_rt_taken t0, t1;

	WRITE_ONCE(bd->auto_ack[BD_HINT], false);
	vfc_bd_hint_id(bd, id);
	KUNIT_ASSERT_TRUE(test, vfc_bd_wait_take(bd, BD_HINT, &t0));
	KUNIT_ASSERT_TRUE(test, vfc_bd_wait_take(bd, BD_HINT, &t1));
	vfc_bd_hint_id(bd, next);
	vfc_bd_record_hint(bd, &t0);
	vfc_bd_record_hint(bd, &t1);
	WRITE_ONCE(bd->auto_ack[BD_HINT], true);
	vfc_bd_complete(bd, BD_HINT, &t0, 0);
	vfc_bd_complete(bd, BD_HINT, &t1, 0);
	vfc_vq_notify(bd->rt[BD_HINT]->vq);
}

static void vfc_balloon_dev_hint(struct kunit *test)
{
	const u32 a = 0x80000001, b = 0x80000002, c = 0x80000009;
	struct vfc_bd *bd = vfc_bd_cur;
	unsigned int i, n, ms, blocks, block;
	unsigned long freed;
	u64 seen_free = 0;

	WRITE_ONCE(vfc_balloon_hint_max_blocks, BD_HINT_BLOCKS);
	vfc_bd_add(test, BIT_ULL(VIRTIO_BALLOON_F_FREE_PAGE_HINT));
	KUNIT_ASSERT_NOT_NULL(test, bd->rt[BD_HINT]);

	vfc_bd_hint_id(bd, a);
	KUNIT_ASSERT_TRUE_MSG(test, vfc_bd_wait_hints(bd, BD_HINT_BLOCKS + 2),
			      "round for %#x: %u buffers", a, bd->nr_hints);
	n = vfc_bd_expect_round(test, bd, 0, a, BD_HINT_BLOCKS);

	/*
	 * b, with more blocks than the ring holds, so that its round waits
	 * for the device; meanwhile c: b's round ends early, in STOP.
	 */
	WRITE_ONCE(vfc_balloon_hint_max_blocks, BD_HINT_MANY);
	vfc_bd_hint_cut(test, bd, b, c);

	read_poll_timeout(vfc_bd_next_cmd, i, i < READ_ONCE(bd->nr_hints),
			  BD_POLL_US, BD_WAIT_US, false, bd, n + 1);
	KUNIT_ASSERT_LT_MSG(test, i, bd->nr_hints, "%#x's round never ended", b);
	KUNIT_EXPECT_TRUE(test, bd->hints[n].cmd);
	KUNIT_EXPECT_EQ(test, bd->hints[n].id, b);
	KUNIT_EXPECT_GT(test, i - n - 1, 0U);
	KUNIT_EXPECT_LT_MSG(test, i - n - 1, (unsigned int)BD_HINT_MANY,
			    "%#x's round did not end when the id moved on", b);
	KUNIT_EXPECT_EQ_MSG(test, bd->hints[i].id, (u32)VIRTIO_BALLOON_CMD_ID_STOP,
			    "%#x's round did not end in STOP", b);
	KUNIT_ASSERT_TRUE_MSG(test, vfc_bd_wait_hints(bd, i + BD_HINT_MANY + 3),
			      "round for %#x: %u buffers", c, bd->nr_hints - i - 1);
	n = vfc_bd_expect_round(test, bd, i + 1, c, BD_HINT_MANY);
	msleep(20);
	KUNIT_EXPECT_EQ_MSG(test, READ_ONCE(bd->nr_hints), n,
			    "buffers after the last round's STOP");

	/*
	 * Before DONE the device may drop the blocks' contents: it marks
	 * them. The guest short of memory takes one back: "MUST initialize
	 * the contents of any previously hinted page released before ...
	 * DONE", and ("treat the content of all hinted pages as
	 * uninitialized") no mark may reach the guest's memory.
	 */
	for (blocks = 0, block = 0, i = 0; i < n; i++) {
		if (bd->hints[i].cmd)
			continue;
		blocks++;
		block = bd->hints[i].len >> PAGE_SHIFT;
		memset(phys_to_virt(bd->hints[i].addr), BD_MARK, BD_MARK_LEN);
	}
	KUNIT_ASSERT_TRUE_MSG(test, want_init_on_free(),
			      "the guest kernel does not zero the pages it frees: boot it with init_on_free=1");
	freed = vfc_balloon_test_shrink(&bd->fake->vdev, 1);
	KUNIT_EXPECT_GT(test, freed, 0UL);
	for (ms = 0, i = 0; i < n; i++)
		ms += !bd->hints[i].cmd && !vfc_bd_marked(bd->hints[i].addr);
	KUNIT_EXPECT_EQ_MSG(test, ms * block, freed,
			    "blocks given back before DONE still hold the device's mark");

	/* DONE: every block hinted goes back to the guest's free memory. */
	vfc_bd_hint_id(bd, VIRTIO_BALLOON_CMD_ID_DONE);
	for (ms = 0; ms < BD_WAIT_MS; ms += 5) {
		for (freed = 0, i = 0; i < n; i++) {
			struct vfc_bd_hint *h = &bd->hints[i];

			if (h->cmd)
				continue;
			/* Seen free once is enough: the guest may reuse it. */
			if (!page_ref_count(pfn_to_page(h->addr >> PAGE_SHIFT)))
				seen_free |= BIT_ULL(i);
			freed += !!(seen_free & BIT_ULL(i));
		}
		if (freed == blocks)
			break;
		usleep_range(BD_POLL_US, BD_POLL_US + 1000);
	}
	KUNIT_EXPECT_EQ_MSG(test, freed, blocks,
			    "hinted blocks not given back after DONE");
	/* The last ones may still be on their way through the allocator. */
	msleep(20);
	for (i = 0; i < n; i++)
		if (!bd->hints[i].cmd)
			KUNIT_EXPECT_FALSE_MSG(test, vfc_bd_marked(bd->hints[i].addr),
					       "hinted block %u given back with the device's mark",
					       i);
	/*
	 * The driver polls the hinting queue and never asks for its
	 * interrupts: QEMU raises them from its iothread, and config
	 * interrupts were seen lost with them (VFC_BALLOON_HINT_POLL).
	 */
	KUNIT_EXPECT_EQ_MSG(test, bd->rt[BD_HINT]->irqs, 0U,
			    "used-buffer interrupts asked for on the hinting queue");
	vfc_bd_remove(bd);
}

/* ------------------------------------------------------------------------
 * The suite
 */

/*
 * "The driver SHOULD stop supplying pages for hinting when
 * free_page_hint_cmd_id specifies a value of VIRTIO_BALLOON_CMD_ID_STOP or
 * VIRTIO_BALLOON_CMD_ID_DONE": a round waiting for the device (more
 * blocks than the ring holds) when the device says STOP, or DONE, ends
 * there, with no round after it.
 */
static void vfc_balloon_dev_hint_stopped(struct kunit *test)
{
	static const u32 ends[] = { VIRTIO_BALLOON_CMD_ID_STOP,
				    VIRTIO_BALLOON_CMD_ID_DONE };
	struct vfc_bd *bd = vfc_bd_cur;
	unsigned int e, i, n = 0;

	WRITE_ONCE(vfc_balloon_hint_max_blocks, BD_HINT_MANY);
	vfc_bd_add(test, BIT_ULL(VIRTIO_BALLOON_F_FREE_PAGE_HINT));
	KUNIT_ASSERT_NOT_NULL(test, bd->rt[BD_HINT]);
	for (e = 0; e < ARRAY_SIZE(ends); e++) {
		vfc_bd_hint_cut(test, bd, 0x80000001 + e, ends[e]);

		read_poll_timeout(vfc_bd_next_cmd, i, i < READ_ONCE(bd->nr_hints),
				  BD_POLL_US, BD_WAIT_US, false, bd, n + 1);
		KUNIT_ASSERT_LT_MSG(test, i, bd->nr_hints,
				    "the round never ended on %u", ends[e]);
		KUNIT_EXPECT_EQ(test, bd->hints[i].id,
				(u32)VIRTIO_BALLOON_CMD_ID_STOP);
		KUNIT_EXPECT_LT_MSG(test, i - n - 1, (unsigned int)BD_HINT_MANY,
				    "blocks went on after %u", ends[e]);
		msleep(50);
		KUNIT_EXPECT_EQ_MSG(test, READ_ONCE(bd->nr_hints), i + 1,
				    "buffers after %u and the round's STOP",
				    ends[e]);
		n = i + 1;
	}
	vfc_bd_remove(bd);
}

#ifdef VFC_KUNIT_FAULTS
/* ------------------------------------------------------------------------
 * Every allocation failure: the runner arms the kernel's fault injection
 * (vfc_sweep() in vfc_test_support.c), so only the test bed builds these.
 */

/* Balloon pages each step moves: a request's worth of page allocations. */
#define BD_SWEEP_PAGES	8

/* Every feature whose set-up allocates. */
#define BD_SWEEP_FEATURES (BIT_ULL(VIRTIO_BALLOON_F_MUST_TELL_HOST) | \
			   BIT_ULL(VIRTIO_BALLOON_F_STATS_VQ) | \
			   BIT_ULL(VIRTIO_BALLOON_F_FREE_PAGE_HINT) | \
			   BIT_ULL(VIRTIO_BALLOON_F_PAGE_POISON) | \
			   BIT_ULL(VIRTIO_BALLOON_F_REPORTING))

/* No queue left, and nothing mapped or allocated on any fake ring. */
static void vfc_bd_expect_clean(struct kunit *test, struct vfc_bd *bd)
{
	enum vfc_bd_q q;

	for (q = 0; q < BD_NR_Q; q++) {
		if (!bd->rt[q])
			continue;
		KUNIT_EXPECT_NULL_MSG(test, bd->rt[q]->vq, "%s queue left",
				      vfc_bd_q_name[q]);
		vfc_fake_dma_expect_clean(test, bd->rt[q]->dma);
	}
}

/* The balloon still moves pages in and out, exactly. */
static void vfc_bd_expect_works(struct kunit *test, struct vfc_bd *bd,
				unsigned long total)
{
	vfc_bd_expect_size(test, bd, BD_SWEEP_PAGES, total);
	vfc_bd_expect_size(test, bd, 0, total);
	KUNIT_EXPECT_EQ(test, bd->bad_deflates, 0U);
}

/* Arm the next run of @ctx to fail its allocation @nth. */
static void vfc_bd_fail_nth(struct kunit *test, struct vfc_bd *bd,
			    enum vfc_balloon_ctx ctx, unsigned int nth)
{
	KUNIT_ASSERT_EQ(test, vfc_balloon_test_fail_nth(&bd->fake->vdev, ctx,
							nth), 0);
}

/* Wait for the armed run of @ctx to end; whether it reached the failure. */
static bool vfc_bd_fail_hit(struct kunit *test, struct vfc_bd *bd,
			    enum vfc_balloon_ctx ctx)
{
	int hit;

	KUNIT_ASSERT_FALSE_MSG(test,
			       read_poll_timeout(vfc_balloon_test_fail_hit, hit,
						 hit != -EAGAIN, BD_POLL_US,
						 BD_WAIT_US, false,
						 &bd->fake->vdev, ctx),
			       "the armed run of context %d never ended", ctx);
	KUNIT_ASSERT_GE(test, hit, 0);
	return hit;
}

/*
 * Probe, as the driver core runs it for a device added or bound: the
 * core's steps ("Device Initialization"), the queues, the statistics
 * buffer, reporting and hinting. A probe that fails leaves the device
 * FAILED and nothing behind; one that coped with its failure works.
 */
static bool vfc_bd_sweep_probe(struct kunit *test, void *ctx,
			       unsigned int nth)
{
	unsigned long total = *(unsigned long *)ctx;
	struct vfc_bd *bd = vfc_bd_cur;
	struct device *dev = &bd->fake->vdev.dev;
	bool hit;
	int ret;

	device_release_driver(dev);
	KUNIT_ASSERT_NULL(test, dev->driver);
	vfc_bd_expect_clean(test, bd);
	KUNIT_ASSERT_EQ(test, totalram_pages(), total);

	vfc_fail_nth_arm(nth);
	ret = device_attach(dev);
	hit = vfc_fail_nth_disarm();
	if (dev->driver) {
		KUNIT_EXPECT_EQ(test, ret, 1);
		KUNIT_EXPECT_TRUE(test, bd->fake->status &
					VIRTIO_CONFIG_S_DRIVER_OK);
		vfc_bd_expect_works(test, bd, total);
	} else {
		/* 0, or the probe's error: the driver core logs it. */
		KUNIT_EXPECT_LE(test, ret, 0);
		/* FAILED, or the driver core failed before vfc's probe. */
		KUNIT_EXPECT_TRUE_MSG(test, (bd->fake->status &
					     VIRTIO_CONFIG_S_FAILED) ||
				      !(bd->fake->status &
					VIRTIO_CONFIG_S_DRIVER),
				      "probe failed at allocation %u, status %#x",
				      nth, bd->fake->status);
		KUNIT_EXPECT_FALSE(test, bd->fake->status &
					 VIRTIO_CONFIG_S_DRIVER_OK);
		vfc_bd_expect_clean(test, bd);
	}
	return hit;
}

/*
 * Inflating: a page the guest cannot spare ends the request short, and
 * the balloon tries again later; it still reaches the target ("5.5.6
 * Device Operation"), and every page comes back.
 */
static bool vfc_bd_sweep_inflate(struct kunit *test, void *ctx,
				 unsigned int nth)
{
	unsigned long total = *(unsigned long *)ctx;
	struct vfc_bd *bd = vfc_bd_cur;
	bool hit;

	vfc_bd_fail_nth(test, bd, VFC_BALLOON_CTX_WORK, nth);
	vfc_bd_target(bd, BD_SWEEP_PAGES * VFC_BALLOON_FRAMES_PER_PAGE);
	hit = vfc_bd_fail_hit(test, bd, VFC_BALLOON_CTX_WORK);
	vfc_bd_expect_works(test, bd, total);
	return hit;
}

/* Deflating, from a balloon on target. */
static bool vfc_bd_sweep_deflate(struct kunit *test, void *ctx,
				 unsigned int nth)
{
	unsigned long total = *(unsigned long *)ctx;
	struct vfc_bd *bd = vfc_bd_cur;
	bool hit;

	vfc_bd_expect_size(test, bd, BD_SWEEP_PAGES, total);
	vfc_bd_fail_nth(test, bd, VFC_BALLOON_CTX_WORK, nth);
	vfc_bd_target(bd, 0);
	hit = vfc_bd_fail_hit(test, bd, VFC_BALLOON_CTX_WORK);
	vfc_bd_expect_size(test, bd, 0, total);
	KUNIT_EXPECT_EQ(test, bd->bad_deflates, 0U);
	return hit;
}

/* A statistics report the device asks for ("5.5.6.3 Memory Statistics"). */
static bool vfc_bd_sweep_stats(struct kunit *test, void *ctx,
			       unsigned int nth)
{
	struct vfc_bd *bd = vfc_bd_cur;
	unsigned int reports = vfc_bd_reports(bd);
	bool hit;

	vfc_bd_fail_nth(test, bd, VFC_BALLOON_CTX_STATS, nth);
	vfc_bd_use_stats(bd, 0);
	hit = vfc_bd_fail_hit(test, bd, VFC_BALLOON_CTX_STATS);
	/* A refill that failed is tried again a second later. */
	KUNIT_ASSERT_TRUE_MSG(test, vfc_bd_wait_reports(bd, reports + 1),
			      "no report after allocation %u failed", nth);
	vfc_bd_expect_report(test, bd);
	KUNIT_EXPECT_FALSE(test, vfc_vq_is_broken(bd->rt[BD_STATS]->vq));
	return hit;
}

/* A free page report ("5.5.6.7 Free Page Reporting"); reporting goes on. */
static bool vfc_bd_sweep_report(struct kunit *test, void *ctx,
				unsigned int nth)
{
	struct vfc_bd *bd = vfc_bd_cur;
	unsigned int before, seen;
	bool hit;

	vfc_bd_fail_nth(test, bd, VFC_BALLOON_CTX_REPORT, nth);
	vfc_bd_churn();
	hit = vfc_bd_fail_hit(test, bd, VFC_BALLOON_CTX_REPORT);
	before = READ_ONCE(bd->reports_done);
	vfc_bd_churn();
	KUNIT_EXPECT_FALSE_MSG(test, read_poll_timeout(READ_ONCE, seen,
						       seen > before,
						       BD_POLL_US, BD_WAIT_US,
						       false, bd->reports_done),
			       "no report after allocation %u failed", nth);
	KUNIT_EXPECT_FALSE(test, vfc_vq_is_broken(bd->rt[BD_REPORT]->vq));
	return hit;
}

/*
 * Each operation with its 1st, 2nd, ... allocation failing, until it runs
 * through untouched: the error is clean (probe: the device FAILED; the
 * works: a retry), nothing leaks (each case ends with the guest's memory
 * whole and nothing mapped; kmemleak's scan after the module), and the
 * device is left working.
 */
static void vfc_balloon_dev_alloc_failures(struct kunit *test)
{
	unsigned long total = totalram_pages();
	struct vfc_bd *bd = vfc_bd_cur;
	const char *row = bd->row->name;

	vfc_bd_add(test, BD_SWEEP_FEATURES);
	KUNIT_EXPECT_GT(test, vfc_sweep(test, row, "probe", vfc_bd_sweep_probe,
					&total), 0U);
	/* The last probe went through untouched. */
	KUNIT_ASSERT_NOT_NULL(test, bd->fake->vdev.dev.driver);
	KUNIT_EXPECT_GT(test, vfc_sweep(test, row, "inflate",
					vfc_bd_sweep_inflate, &total), 0U);
	vfc_sweep(test, row, "deflate", vfc_bd_sweep_deflate, &total);
	KUNIT_ASSERT_TRUE(test, vfc_bd_wait_reports(bd, 1));
	vfc_sweep(test, row, "stats", vfc_bd_sweep_stats, NULL);
	vfc_sweep(test, row, "reporting", vfc_bd_sweep_report, NULL);
	vfc_bd_remove(bd);
	vfc_bd_expect_clean(test, bd);
	KUNIT_EXPECT_EQ(test, totalram_pages(), total);
}
#endif

static int vfc_balloon_dev_init(struct kunit *test)
{
	struct vfc_bd *bd;
	enum vfc_bd_q q;

	bd = kunit_kzalloc(test, sizeof(*bd), GFP_KERNEL);
	if (!bd)
		return -ENOMEM;
	bd->test = test;
	bd->row = test->param_value;
	spin_lock_init(&bd->lock);
	mutex_init(&bd->dev_lock);
	bd->hint_max = vfc_balloon_hint_max_blocks;
	bd->ack_timeout = vfc_balloon_ack_timeout;
	for (q = 0; q < BD_NR_Q; q++)
		bd->auto_ack[q] = true;
	vfc_bd_cur = bd;
	return 0;
}

/* Runs after a failed assertion too: unregister, then the leak checks. */
static void vfc_balloon_dev_exit(struct kunit *test)
{
	struct vfc_bd *bd = vfc_bd_cur;
	enum vfc_bd_q q;

	if (!bd)
		return;
	for (q = 0; q < BD_NR_Q; q++)
		WRITE_ONCE(bd->auto_ack[q], true);
	vfc_bd_remove(bd);
	KUNIT_EXPECT_EQ_MSG(test, bd->early_kicks, 0U,
			    "notifications before DRIVER_OK");
	KUNIT_EXPECT_EQ_MSG(test, bd->stats_changed, 0U,
			    "statistics reports with another subset of tags");
	KUNIT_EXPECT_EQ_MSG(test, bd->bad_config, 0U,
			    "config accesses the spec forbids");
	for (q = 0; q < BD_NR_Q; q++)
		vfc_rt_free(bd->rt[q]);
	WRITE_ONCE(vfc_balloon_hint_max_blocks, bd->hint_max);
	WRITE_ONCE(vfc_balloon_ack_timeout, bd->ack_timeout);
	vfc_bd_cur = NULL;
}

static struct kunit_case vfc_balloon_dev_cases[] = {
	KUNIT_CASE_PARAM(vfc_balloon_dev_inflate_deflate, vfc_bd_gen_params),
	KUNIT_CASE_PARAM(vfc_balloon_dev_deflate_poisoned, vfc_bd_gen_params),
	KUNIT_CASE_PARAM(vfc_balloon_dev_target_moves, vfc_bd_gen_params),
	KUNIT_CASE_PARAM(vfc_balloon_dev_deflate_untold, vfc_bd_gen_params),
	KUNIT_CASE_PARAM(vfc_balloon_dev_parts, vfc_bd_gen_params),
	KUNIT_CASE_PARAM(vfc_balloon_dev_target_oscillates, vfc_bd_gen_params),
	KUNIT_CASE_PARAM(vfc_balloon_dev_generation_unsettled,
			 vfc_bd_gen_params),
	KUNIT_CASE_PARAM(vfc_balloon_dev_needs_reset, vfc_bd_gen_params),
	KUNIT_CASE_PARAM(vfc_balloon_dev_ack_timeout, vfc_bd_gen_params),
	KUNIT_CASE_PARAM(vfc_balloon_dev_stats, vfc_bd_gen_params),
	KUNIT_CASE_PARAM(vfc_balloon_dev_oom, vfc_bd_gen_params),
	KUNIT_CASE_PARAM(vfc_balloon_dev_hint, vfc_bd_gen_params),
	KUNIT_CASE_PARAM(vfc_balloon_dev_hint_stopped, vfc_bd_gen_params),
	KUNIT_CASE_PARAM(vfc_balloon_dev_reporting, vfc_bd_gen_params),
#ifdef VFC_KUNIT_FAULTS
	KUNIT_CASE_PARAM(vfc_balloon_dev_alloc_failures, vfc_bd_gen_params),
#endif
	{}
};

static struct kunit_suite vfc_balloon_dev_suite = {
	.name = "vfc_balloon_device",
	.init = vfc_balloon_dev_init,
	.exit = vfc_balloon_dev_exit,
	.test_cases = vfc_balloon_dev_cases,
};

kunit_test_suite(vfc_balloon_dev_suite);

MODULE_DESCRIPTION("KUnit tests for vfc_balloon's state machines on a fake balloon device");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(VFC_NS);
MODULE_IMPORT_NS(VFC_TEST_NS);
MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);
