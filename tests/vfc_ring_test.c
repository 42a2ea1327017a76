// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for vfc's virtqueues (virtio_ring.c, the split layout in
 * virtio_ring_split.c and the packed layout in virtio_ring_packed.c),
 * driven from both ends.
 *
 * The driver's end is the exported vfc_vq_* API. The device's end is a fake
 * device in this file that reads and writes the rings in memory, as a real
 * device would through DMA: it takes available buffers, walks their
 * descriptor chains (direct or indirect), writes a pattern into the
 * device-writable parts, returns them in the order it likes, counts the
 * kicks it gets and raises the interrupts the driver asked for. It checks
 * the driver's side of the spec as it goes, and it can lie: used ids out of
 * range or not in flight, lengths longer than the buffer, a used index that
 * runs ahead (split), used flags that disagree with its wrap counter
 * (packed), descriptors scribbled over after it took them.
 *
 * Each ring layout's device side sits behind struct vfc_rt_ring_ops, and
 * every case is a table of rows naming the layout and features: the cases
 * common to both layouts have rows for each, and the packed layout has
 * cases of its own (wrap counters on odd rings, out-of-order completion,
 * event suppression structures).
 *
 * Below the rings sits a fake DMA device with its own dma_map_ops: it
 * records every live mapping and coherent allocation (every case ends with
 * none left: the leak check in vfc_ring_exit()), and can refuse large
 * coherent allocations or fail a mapping after N successful ones. DMA-API
 * debug runs in the wrappers around these ops, so a double or wrong unmap
 * also shows up in the guest's log.
 */
#include <kunit/test.h>
#include <linux/bitops.h>
#include <linux/device.h>
#include <linux/dma-map-ops.h>
#include <linux/dma-mapping.h>
#include <linux/gfp.h>
#include <linux/interrupt.h>
#include <linux/io.h>
#include <linux/irqflags.h>
#include <linux/list.h>
#include <linux/minmax.h>
#include <linux/sched.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/virtio_byteorder.h>
#include <uapi/linux/virtio_config.h>
#include <uapi/linux/virtio_ring.h>

#include <vfc/vfc.h>
#include <vfc/vfc_config.h>
#include <vfc/vfc_ring.h>

#include "vfc_fake_dma.h"
#include "vfc_ring_internal.h"

#define F_V1		BIT_ULL(VIRTIO_F_VERSION_1)
#define F_INDIRECT	BIT_ULL(VIRTIO_RING_F_INDIRECT_DESC)
#define F_EVENT_IDX	BIT_ULL(VIRTIO_RING_F_EVENT_IDX)
#define F_PACKED	BIT_ULL(VIRTIO_F_RING_PACKED)

#define VFC_RT_INDEX		3	/* not 0, so a mix-up shows */
#define VFC_RT_NAME		"vfc-rt-q"
#define VFC_RT_NUM		8	/* small: fills, wraps and breaks fast */
#define VFC_RT_ALIGN		SMP_CACHE_BYTES
#define VFC_RT_NBUFS		16	/* driver buffers a case can post */
#define VFC_RT_MAX_SG		4	/* entries per buffer */
/* Each entry has its own slot: separate cache lines, as DMA-API debug wants. */
#define VFC_RT_SLOT		128
#define VFC_RT_PATTERN		0xa5
/* Split: past the 16-bit wrap of every ring index, with room to spare. */
#define VFC_RT_WRAP_BUFS	(65536 + 4 * VFC_RT_NUM)
/* Packed: the wrap counters flip once a lap; forty laps of a ring of 8. */
#define VFC_RT_PACKED_WRAP_BUFS	(40 * VFC_RT_NUM)
/* Packed, odd rings: laps (wrap counter flips) each row goes through. */
#define VFC_RT_PACKED_FLIPS	10

/* Packed descriptor and event suppression bits. */
#define VFC_RT_F_AVAIL		BIT(VRING_PACKED_DESC_F_AVAIL)
#define VFC_RT_F_USED		BIT(VRING_PACKED_DESC_F_USED)
#define VFC_RT_WRAP_CTR		BIT(VRING_PACKED_EVENT_F_WRAP_CTR)

/* ------------------------------------------------------------------------
 * The fake DMA device
 */

/* The one live coherent allocation, or NULL if there is not exactly one. */
static const struct vfc_fake_alloc *vfc_fake_dma_ring(const struct vfc_fake_dma *dma)
{
	unsigned int i;

	if (dma->live_allocs != 1)
		return NULL;
	for (i = 0; i < VFC_FAKE_DMA_MAX_ALLOCS; i++)
		if (dma->allocs[i].cpu)
			return &dma->allocs[i];
	return NULL;
}

/* ------------------------------------------------------------------------
 * Test rows, the fixture, and the device's side of a layout
 */

struct vfc_rt;

/* What the device tells the driver about kicks. */
enum vfc_rt_kicks {
	/* Kick me for the next buffer. */
	VFC_RT_KICKS_WANTED,
	/* Don't kick me, through the mechanism the features select. */
	VFC_RT_KICKS_SUPPRESSED,
	/*
	 * "Don't kick me" through a field the features (or the flags) leave
	 * out of use, "kick me" through the one in use: the driver must kick.
	 */
	VFC_RT_KICKS_DECOY,
};

/* One entry of a buffer, as the device found it. */
struct vfc_rt_elem {
	u64 addr;
	u32 len;
	bool write;
};

/**
 * struct vfc_rt_taken - a buffer the device took, as it found it
 * @id: the id to return it with (split: the head descriptor's index;
 *	packed: the Buffer ID of the last descriptor)
 * @slot: packed: the ring slot of its first descriptor
 * @ndesc: packed: the ring descriptors it took
 * @indirect: it came through an indirect table
 * @table_addr: that table's DMA address
 * @table_len: its length in bytes
 * @nr_out: device-readable entries (they come first)
 * @nr_in: device-writable entries
 * @in_bytes: bytes the device may write
 * @elem: the entries in order
 */
struct vfc_rt_taken {
	u32 id;
	u16 slot;
	u16 ndesc;
	bool indirect;
	u64 table_addr;
	u32 table_len;
	unsigned int nr_out;
	unsigned int nr_in;
	u32 in_bytes;
	struct vfc_rt_elem elem[VFC_RT_MAX_SG];
};

/**
 * struct vfc_rt_ring_ops - the device's side of one ring layout
 * @features: feature bits the layout needs negotiated
 * @wrap_bufs: buffers vfc_ring_wrap() pushes to wrap every index or counter
 * @attach: find the rings of a queue just created
 * @expect_areas: check a new queue's areas: where, how big, how aligned,
 *	what they hold
 * @pop_avail: take the next available buffer; false when there is none
 * @push_used: return buffer @id with @len bytes written, and publish it
 * @jump_used: move the used index on by @by without writing entries
 * @wants_irq: whether the driver asked for an interrupt now that the used
 *	index (split) or position (packed, as off_wrap encodes it) moved from
 *	@old to @new
 * @kick_hint: tell the driver whether the device wants kicks
 * @scribble: overwrite every descriptor the device can reach for @t
 */
struct vfc_rt_ring_ops {
	u64 features;
	unsigned int wrap_bufs;
	void (*attach)(struct vfc_rt *rt);
	void (*expect_areas)(struct vfc_rt *rt);
	bool (*pop_avail)(struct vfc_rt *rt, struct vfc_rt_taken *t);
	void (*push_used)(struct vfc_rt *rt, u32 id, u32 len);
	void (*jump_used)(struct vfc_rt *rt, u16 by);
	bool (*wants_irq)(struct vfc_rt *rt, u16 old, u16 new);
	void (*kick_hint)(struct vfc_rt *rt, enum vfc_rt_kicks hint);
	void (*scribble)(struct vfc_rt *rt, const struct vfc_rt_taken *t);
};

/* What a hostile row makes the device do. */
enum vfc_rt_hostile {
	VFC_RT_ID_OUT_OF_RANGE,
	VFC_RT_ID_HUGE,
	VFC_RT_ID_NOT_HEAD,
	VFC_RT_ID_TWICE,
	VFC_RT_LEN_TOO_LONG,
	VFC_RT_LEN_OUT_ONLY,
	VFC_RT_IDX_JUMP,
	VFC_RT_NOTIFY_FAILS,
	VFC_RT_FLAGS_MIXED,
};

/**
 * struct vfc_rt_case - a row of a case table
 * @name: the row's name in the results
 * @ops: the ring layout's device side
 * @features: ring features negotiated besides VERSION_1 and @ops' own
 * @num: ring size; 0: VFC_RT_NUM
 * @align: vring_align; 0: VFC_RT_ALIGN
 * @err: the error the row expects
 * @arg: a number the case gives its own meaning
 * @hostile: what the device does wrong
 * @reason: vfc_vq_broken_reason() expected afterwards
 */
struct vfc_rt_case {
	const char *name;
	const struct vfc_rt_ring_ops *ops;
	u64 features;
	unsigned int num;
	unsigned int align;
	int err;
	long arg;
	enum vfc_rt_hostile hostile;
	const char *reason;
};

/**
 * struct vfc_rt_buf - a buffer as the driver posts it
 * @nr_out: device-readable entries
 * @nr_in: device-writable entries, after them
 * @in_per_entry: post each writable entry as its own scatterlist
 * @len: each entry's length
 * @mem: each entry's memory, a slot of the fixture's @mem
 * @out: the readable entries, one scatterlist
 * @in: the writable entries, one scatterlist or @nr_in of one entry
 */
struct vfc_rt_buf {
	unsigned int nr_out;
	unsigned int nr_in;
	bool in_per_entry;
	unsigned int len[VFC_RT_MAX_SG];
	u8 *mem[VFC_RT_MAX_SG];
	struct scatterlist out[VFC_RT_MAX_SG];
	struct scatterlist in[VFC_RT_MAX_SG];
};

/**
 * struct vfc_rt - the fixture: a queue, the fake device behind it, and
 *	the fake DMA device below both
 * @test: the running test
 * @param: its row
 * @ops: the device's side of the row's layout
 * @dma: the DMA device
 * @vdev: the vfc device the queue belongs to (never registered)
 * @vq: the queue, once created
 * @vr: split: the rings, as the device reads and writes them (@vring)
 * @vring: split: where @vr points
 * @desc: packed: the descriptor ring
 * @drv: packed: the driver event suppression structure (driver area)
 * @dev: packed: the device event suppression structure (device area)
 * @ndesc: packed: descriptors each buffer id in flight took; 0: not in
 *	flight
 * @num: the ring's size, as the device sees it
 * @packed: VIRTIO_F_RING_PACKED negotiated
 * @indirect: VIRTIO_RING_F_INDIRECT_DESC negotiated
 * @event_idx: VIRTIO_RING_F_EVENT_IDX negotiated
 * @last_avail: buffers the device took (split: its next available entry),
 *	free-running
 * @used_idx: split: the device's used index (free-running); packed: its
 *	used position and wrap counter, as off_wrap encodes them
 * @signalled_used: @used_idx when the device last decided on an interrupt
 * @avail_pos: packed: the slot the device looks at for the next buffer
 * @avail_wrap: packed: the device's wrap counter for @avail_pos
 * @used_pos: packed: the slot of the device's next used descriptor
 * @used_wrap: packed: the Device Ring Wrap Counter, for @used_pos
 * @used_flags_xor: packed: bits flipped in the next used descriptor's
 *	flags (a hostile knob)
 * @rearm_kicks: after taking a buffer, ask for a kick for the next one
 * @notify_fails: the transport's notify reports failure
 * @kicks: notifications the device received
 * @irqs: interrupts the device raised
 * @irqs_handled: of those, the ones vfc_vring_interrupt() claimed
 * @callbacks: calls of the queue's callback
 * @violations: spec violations the device saw
 * @mem: the buffers' memory, VFC_RT_SLOT bytes per entry
 * @taken: room for the buffers the device takes
 * @bufs: the driver's buffers; their addresses are the tokens
 */
struct vfc_rt {
	struct kunit *test;
	const struct vfc_rt_case *param;
	const struct vfc_rt_ring_ops *ops;
	struct vfc_fake_dma *dma;
	struct vfc_device *vdev;
	struct vfc_virtqueue *vq;
	const struct vring *vr;
	struct vring vring;
	struct vring_packed_desc *desc;
	struct vring_packed_desc_event *drv;
	struct vring_packed_desc_event *dev;
	u16 *ndesc;
	unsigned int num;
	bool packed;
	bool indirect;
	bool event_idx;
	u16 last_avail;
	u16 used_idx;
	u16 signalled_used;
	u16 avail_pos;
	bool avail_wrap;
	u16 used_pos;
	bool used_wrap;
	u16 used_flags_xor;
	bool rearm_kicks;
	bool notify_fails;
	unsigned int kicks;
	unsigned int irqs;
	unsigned int irqs_handled;
	unsigned int callbacks;
	unsigned int violations;
	u8 *mem;
	struct vfc_rt_taken taken[VFC_RT_NBUFS];
	struct vfc_rt_buf bufs[VFC_RT_NBUFS];
};

/* The device saw the driver break the spec: fail the test, say how. */
static __printf(2, 3) bool vfc_rt_bad(struct vfc_rt *rt, const char *fmt, ...)
{
	char msg[96];
	va_list args;

	va_start(args, fmt);
	vsnprintf(msg, sizeof(msg), fmt, args);
	va_end(args);
	rt->violations++;
	KUNIT_FAIL(rt->test, "fake device: %s", msg);
	return false;
}

/* Ring fields are little-endian: vfc drives modern (VERSION_1) devices. */
static u16 vfc_rt_r16(const __virtio16 *p)
{
	return __virtio16_to_cpu(true, READ_ONCE(*p));
}

static void vfc_rt_w16(__virtio16 *p, u16 v)
{
	WRITE_ONCE(*p, __cpu_to_virtio16(true, v));
}

static u32 vfc_rt_r32(const __virtio32 *p)
{
	return __virtio32_to_cpu(true, READ_ONCE(*p));
}

static u64 vfc_rt_r64(const __virtio64 *p)
{
	return __virtio64_to_cpu(true, READ_ONCE(*p));
}

/* The packed layout's fields are little-endian by definition. */
static u16 vfc_rt_le16(const __le16 *p)
{
	return le16_to_cpu(READ_ONCE(*p));
}

static u32 vfc_rt_le32(const __le32 *p)
{
	return le32_to_cpu(READ_ONCE(*p));
}

static u64 vfc_rt_le64(const __le64 *p)
{
	return le64_to_cpu(READ_ONCE(*p));
}

/*
 * Record one entry of a buffer. "Message Framing" (split) and "Scatter-
 * Gather Support" (packed): device-readable entries come first; each must
 * lie in a live mapping in its direction.
 */
static bool vfc_rt_record(struct vfc_rt *rt, struct vfc_rt_taken *t,
			  u64 addr, u32 len, bool write)
{
	enum dma_data_direction dir = write ? DMA_FROM_DEVICE : DMA_TO_DEVICE;
	struct vfc_rt_elem *e;

	if (t->nr_out + t->nr_in == VFC_RT_MAX_SG)
		return vfc_rt_bad(rt, "buffer longer than posted");
	if (!write && t->nr_in)
		return vfc_rt_bad(rt, "readable entry after a writable one");
	if (!vfc_fake_dma_covers(rt->dma, addr, len, dir))
		return vfc_rt_bad(rt, "entry %#llx+%u not mapped %s", addr,
				  len, write ? "from device" : "to device");
	e = &t->elem[t->nr_out + t->nr_in];
	e->addr = addr;
	e->len = len;
	e->write = write;
	if (write) {
		t->nr_in++;
		t->in_bytes += len;
	} else {
		t->nr_out++;
	}
	return true;
}

/* A ring part lies in the one allocation, aligned, where the CPU sees it. */
static void vfc_rt_expect_part(struct vfc_rt *rt, const char *part,
			       dma_addr_t addr, const void *cpu, size_t size,
			       size_t align)
{
	const struct vfc_fake_alloc *a = vfc_fake_dma_ring(rt->dma);
	struct kunit *test = rt->test;

	KUNIT_ASSERT_NOT_NULL(test, a);
	KUNIT_EXPECT_EQ_MSG(test, (u64)addr % align, 0ULL,
			    "%s not %zu-aligned (\"Virtqueues\" table)",
			    part, align);
	KUNIT_EXPECT_GE_MSG(test, (u64)addr, (u64)a->dma,
			    "%s starts before the ring allocation", part);
	KUNIT_EXPECT_LE_MSG(test, (u64)addr + size, (u64)a->dma + a->size,
			    "%s ends after the ring allocation", part);
	KUNIT_EXPECT_PTR_EQ_MSG(test, cpu, (const void *)(a->cpu +
							  (addr - a->dma)),
				"%s: CPU and DMA addresses disagree", part);
}

/* ------------------------------------------------------------------------
 * The device's side of the split layout
 */

/*
 * Walk the chain from @head ("The Virtqueue Descriptor Table"), following
 * at most one indirect table ("Indirect Descriptors").
 */
static bool vfc_rt_split_walk(struct vfc_rt *rt, u16 head,
			      struct vfc_rt_taken *t)
{
	struct vring_desc *table = rt->vr->desc;
	unsigned int size = rt->num, i = head;

	memset(t, 0, sizeof(*t));
	t->id = head;
	for (;;) {
		struct vring_desc *d;
		u16 flags;
		u32 len;
		u64 addr;

		if (i >= size)
			return vfc_rt_bad(rt, "chain from %u leaves its table",
					  head);
		d = &table[i];
		flags = vfc_rt_r16(&d->flags);
		len = vfc_rt_r32(&d->len);
		addr = vfc_rt_r64(&d->addr);
		if (flags & ~(VRING_DESC_F_NEXT | VRING_DESC_F_WRITE |
			      VRING_DESC_F_INDIRECT))
			return vfc_rt_bad(rt, "unknown flags %#x", flags);
		if (flags & VRING_DESC_F_INDIRECT) {
			if (!rt->indirect)
				return vfc_rt_bad(rt, "INDIRECT not negotiated");
			if (t->indirect)
				return vfc_rt_bad(rt, "INDIRECT in a table");
			if (flags & VRING_DESC_F_NEXT)
				return vfc_rt_bad(rt, "INDIRECT with NEXT");
			if (!len || len % sizeof(*d))
				return vfc_rt_bad(rt, "table length %u", len);
			if (!vfc_fake_dma_covers(rt->dma, addr, len,
						 DMA_TO_DEVICE))
				return vfc_rt_bad(rt, "table %#llx not mapped",
						  addr);
			t->indirect = true;
			t->table_addr = addr;
			t->table_len = len;
			table = phys_to_virt(addr);
			size = len / sizeof(*d);
			i = 0;
			continue;
		}
		if (!vfc_rt_record(rt, t, addr, len,
				   flags & VRING_DESC_F_WRITE))
			return false;
		if (!(flags & VRING_DESC_F_NEXT))
			return true;
		i = vfc_rt_r16(&d->next);
	}
}

static void vfc_rt_split_attach(struct vfc_rt *rt)
{
	struct vfc_vring_view view;

	vfc_vring_get_view(rt->vq, &view);
	KUNIT_ASSERT_EQ(rt->test, view.layout, VFC_VRING_SPLIT);
	rt->vring.num = view.num;
	rt->vring.desc = view.desc;
	rt->vring.avail = view.driver;
	rt->vring.used = view.device;
	rt->vr = &rt->vring;
	rt->num = view.num;
}

/*
 * The three parts in one coherent allocation with the sizes and alignments
 * of "Split Virtqueues": desc 16 * num at 16, avail 6 + 2 * num at 2 (with
 * used_event), used 6 + 8 * num at 4 (with avail_event), in that order.
 */
static void vfc_rt_split_expect_areas(struct vfc_rt *rt)
{
	struct vfc_virtqueue *vq = rt->vq;
	struct kunit *test = rt->test;
	dma_addr_t d, avail, used;
	unsigned int num = rt->num;

	d = vfc_vq_get_desc_addr(vq);
	avail = vfc_vq_get_avail_addr(vq);
	used = vfc_vq_get_used_addr(vq);
	vfc_rt_expect_part(rt, "desc", d, rt->vr->desc, 16 * num, 16);
	vfc_rt_expect_part(rt, "avail", avail, rt->vr->avail, 6 + 2 * num, 2);
	vfc_rt_expect_part(rt, "used", used, rt->vr->used, 6 + 8 * num, 4);
	KUNIT_EXPECT_GE(test, (u64)avail, (u64)d + 16 * num);
	KUNIT_EXPECT_GE_MSG(test, (u64)used, (u64)avail + 6 + 2 * num,
			    "used ring overlaps the available ring");

	/* Indices start at 0; "The driver MUST initialize flags in the used
	 * ring to 0"; callbacks start enabled.
	 */
	KUNIT_EXPECT_EQ(test, vfc_rt_r16(&rt->vr->avail->idx), 0);
	KUNIT_EXPECT_EQ(test, vfc_rt_r16(&rt->vr->avail->flags), 0);
	KUNIT_EXPECT_EQ(test, vfc_rt_r16(&rt->vr->used->idx), 0);
}

static bool vfc_rt_split_pop_avail(struct vfc_rt *rt, struct vfc_rt_taken *t)
{
	const struct vring *vr = rt->vr;
	u16 avail_idx = vfc_rt_r16(&vr->avail->idx);
	u16 head;

	if (avail_idx == rt->last_avail)
		return false;
	if ((u16)(avail_idx - rt->last_avail) > rt->num)
		return vfc_rt_bad(rt, "avail idx %u is %u past %u", avail_idx,
				  (u16)(avail_idx - rt->last_avail),
				  rt->last_avail);
	/* Read the entry only after the index that exposed it. */
	virt_rmb();
	head = vfc_rt_r16(&vr->avail->ring[rt->last_avail & (rt->num - 1)]);
	rt->last_avail++;
	if (rt->rearm_kicks) {
		/* "Available Buffer Notification Suppression": kick me next. */
		vfc_rt_w16(&vring_avail_event(vr), rt->last_avail);
		/* Publish the request before looking at the ring again. */
		virt_mb();
	}
	return vfc_rt_split_walk(rt, head, t);
}

static void vfc_rt_split_push_used(struct vfc_rt *rt, u32 id, u32 len)
{
	struct vring_used_elem *e;

	e = &rt->vr->used->ring[rt->used_idx & (rt->num - 1)];
	WRITE_ONCE(e->id, __cpu_to_virtio32(true, id));
	WRITE_ONCE(e->len, __cpu_to_virtio32(true, len));
	/* "The device MUST set len prior to updating the used idx". */
	virt_wmb();
	rt->used_idx++;
	vfc_rt_w16(&rt->vr->used->idx, rt->used_idx);
}

static void vfc_rt_split_jump_used(struct vfc_rt *rt, u16 by)
{
	/* Whatever the ring holds goes out with the index. */
	virt_wmb();
	rt->used_idx += by;
	vfc_rt_w16(&rt->vr->used->idx, rt->used_idx);
}

/* "Used Buffer Notification Suppression", the device's side. */
static bool vfc_rt_split_wants_irq(struct vfc_rt *rt, u16 old, u16 new)
{
	const struct vring *vr = rt->vr;
	u16 flags;

	/* Read the driver's wish only after publishing the used index. */
	virt_mb();
	flags = vfc_rt_r16(&vr->avail->flags);
	if (rt->event_idx) {
		/* With EVENT_IDX "The driver MUST set flags to 0". */
		if (flags)
			vfc_rt_bad(rt, "avail flags %#x with EVENT_IDX", flags);
		return vring_need_event(vfc_rt_r16(&vring_used_event(vr)), new,
					old);
	}
	if (flags & ~VRING_AVAIL_F_NO_INTERRUPT)
		vfc_rt_bad(rt, "avail flags %#x", flags);
	return !(flags & VRING_AVAIL_F_NO_INTERRUPT);
}

/* "Available Buffer Notification Suppression", the device's side. */
static void vfc_rt_split_kick_hint(struct vfc_rt *rt, enum vfc_rt_kicks hint)
{
	const struct vring *vr = rt->vr;
	/* avail_event one behind: no kick for another 65535 buffers. */
	u16 never = rt->last_avail - 1;
	u16 flags = 0, event = rt->last_avail;

	if (hint == VFC_RT_KICKS_SUPPRESSED) {
		if (rt->event_idx)
			event = never;
		else
			flags = VRING_USED_F_NO_NOTIFY;
	} else if (hint == VFC_RT_KICKS_DECOY) {
		/* "The driver MUST ignore" the field not in use. */
		if (rt->event_idx)
			flags = VRING_USED_F_NO_NOTIFY;
		else
			event = never;
	}
	rt->rearm_kicks = event == rt->last_avail;
	vfc_rt_w16(&vr->used->flags, flags);
	vfc_rt_w16(&vring_avail_event(vr), event);
	/* Publish the wish before the driver's next look at the ring. */
	virt_mb();
}

/*
 * Lies a driver must not act on: an address nothing mapped, another
 * length, no flags and no chaining. A driver that unmapped from these
 * would unmap the wrong thing and free the wrong count of descriptors,
 * without following a loop.
 */
static void vfc_rt_split_scribble_desc(struct vring_desc *d)
{
	WRITE_ONCE(d->addr, __cpu_to_virtio64(true, 0xdead000));
	WRITE_ONCE(d->len, __cpu_to_virtio32(true, 0x1234));
	WRITE_ONCE(d->flags, __cpu_to_virtio16(true, 0));
	WRITE_ONCE(d->next, __cpu_to_virtio16(true, 0));
}

static void vfc_rt_split_scribble(struct vfc_rt *rt,
				  const struct vfc_rt_taken *t)
{
	struct vring_desc *table;
	unsigned int i;

	for (i = 0; i < rt->num; i++)
		vfc_rt_split_scribble_desc(&rt->vr->desc[i]);
	if (!t->indirect)
		return;
	table = phys_to_virt(t->table_addr);
	for (i = 0; i < t->table_len / sizeof(*table); i++)
		vfc_rt_split_scribble_desc(&table[i]);
}

static const struct vfc_rt_ring_ops vfc_rt_split_ops = {
	.features = 0,
	.wrap_bufs = VFC_RT_WRAP_BUFS,
	.attach = vfc_rt_split_attach,
	.expect_areas = vfc_rt_split_expect_areas,
	.pop_avail = vfc_rt_split_pop_avail,
	.push_used = vfc_rt_split_push_used,
	.jump_used = vfc_rt_split_jump_used,
	.wants_irq = vfc_rt_split_wants_irq,
	.kick_hint = vfc_rt_split_kick_hint,
	.scribble = vfc_rt_split_scribble,
};

/* ------------------------------------------------------------------------
 * The device's side of the packed layout
 */

/* A position and its wrap counter, as off_wrap encodes them. */
static u16 vfc_rt_off_wrap(u16 pos, bool wrap)
{
	return pos | (wrap ? VFC_RT_WRAP_CTR : 0);
}

/* One slot on, flipping the wrap counter at the end of the ring. */
static void vfc_rt_packed_step(const struct vfc_rt *rt, u16 *pos, bool *wrap)
{
	if (++*pos >= rt->num) {
		*pos = 0;
		*wrap = !*wrap;
	}
}

/*
 * "Driver and Device Ring Wrap Counters": a driver descriptor is available
 * when AVAIL matches the wrap counter and USED does not.
 */
static bool vfc_rt_packed_is_avail(u16 flags, bool wrap)
{
	return !!(flags & VFC_RT_F_AVAIL) == wrap &&
	       !!(flags & VFC_RT_F_USED) != wrap;
}

/*
 * The device event suppression structure (device area): what the device
 * wants in the way of available buffer notifications.
 */
static void vfc_rt_packed_set_kicks(struct vfc_rt *rt, u16 flags, u16 pos,
				    bool wrap)
{
	WRITE_ONCE(rt->dev->off_wrap, cpu_to_le16(vfc_rt_off_wrap(pos, wrap)));
	WRITE_ONCE(rt->dev->flags, cpu_to_le16(flags));
	/* Publish the wish before the driver's next look at the ring. */
	virt_mb();
}

static void vfc_rt_packed_attach(struct vfc_rt *rt)
{
	struct vfc_vring_view view;

	vfc_vring_get_view(rt->vq, &view);
	KUNIT_ASSERT_EQ(rt->test, view.layout, VFC_VRING_PACKED);
	rt->num = view.num;
	rt->desc = view.desc;
	rt->drv = view.driver;
	rt->dev = view.device;
	rt->ndesc = kunit_kcalloc(rt->test, rt->num, sizeof(*rt->ndesc),
				  GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(rt->test, rt->ndesc);
	/* "a single-bit ring wrap counter initialized to 1" */
	rt->avail_pos = 0;
	rt->avail_wrap = true;
	rt->used_pos = 0;
	rt->used_wrap = true;
	rt->used_idx = vfc_rt_off_wrap(0, true);
	rt->signalled_used = rt->used_idx;
	rt->used_flags_xor = 0;
}

/*
 * "Structure Size and Alignment": the descriptor ring (16 * num at 16),
 * then the driver and the device event suppression structures (4 at 4),
 * in that order, in one coherent allocation, the ring at its start.
 */
static void vfc_rt_packed_expect_areas(struct vfc_rt *rt)
{
	const struct vfc_fake_alloc *a = vfc_fake_dma_ring(rt->dma);
	struct vfc_virtqueue *vq = rt->vq;
	struct kunit *test = rt->test;
	unsigned int num = rt->num;
	dma_addr_t desc, drv, dev;

	KUNIT_ASSERT_NOT_NULL(test, a);
	desc = vfc_vq_get_desc_addr(vq);
	drv = vfc_vq_get_avail_addr(vq);
	dev = vfc_vq_get_used_addr(vq);
	KUNIT_EXPECT_EQ_MSG(test, (u64)desc, (u64)a->dma,
			    "desc ring not at the start of the allocation");
	vfc_rt_expect_part(rt, "desc", desc, rt->desc, 16 * num, 16);
	vfc_rt_expect_part(rt, "driver event", drv, rt->drv, 4, 4);
	vfc_rt_expect_part(rt, "device event", dev, rt->dev, 4, 4);
	KUNIT_EXPECT_GE(test, (u64)drv, (u64)desc + 16 * num);
	KUNIT_EXPECT_GE(test, (u64)dev, (u64)drv + 4);

	/* "The descriptor ring is zero-initialized"; callbacks enabled. */
	KUNIT_EXPECT_NULL(test, memchr_inv(rt->desc, 0, 16 * num));
	KUNIT_EXPECT_EQ(test, vfc_rt_le16(&rt->drv->flags),
			VRING_PACKED_EVENT_FLAG_ENABLE);
}

/*
 * "Indirect Flag: Scatter-Gather Support": a table of descriptors whose
 * only valid flag is WRITE; their ids are reserved.
 */
static bool vfc_rt_packed_table(struct vfc_rt *rt, struct vfc_rt_taken *t,
				u64 addr, u32 len)
{
	struct vring_packed_desc *table;
	unsigned int i;

	if (!rt->indirect)
		return vfc_rt_bad(rt, "INDIRECT not negotiated");
	if (!len || len % sizeof(*table))
		return vfc_rt_bad(rt, "table length %u", len);
	if (!vfc_fake_dma_covers(rt->dma, addr, len, DMA_TO_DEVICE))
		return vfc_rt_bad(rt, "table %#llx not mapped", addr);
	t->indirect = true;
	t->table_addr = addr;
	t->table_len = len;
	table = phys_to_virt(addr);
	for (i = 0; i < len / sizeof(*table); i++) {
		struct vring_packed_desc *d = &table[i];
		u16 flags = vfc_rt_le16(&d->flags);

		if (flags & ~VRING_DESC_F_WRITE)
			return vfc_rt_bad(rt, "flags %#x in a table", flags);
		if (!vfc_rt_record(rt, t, vfc_rt_le64(&d->addr),
				   vfc_rt_le32(&d->len),
				   flags & VRING_DESC_F_WRITE))
			return false;
	}
	return true;
}

/*
 * Take the buffer at the device's next available slot: a chain over
 * consecutive slots ("Next Flag: Descriptor Chaining"), which may wrap,
 * or one descriptor naming an indirect table.
 */
static bool vfc_rt_packed_pop_avail(struct vfc_rt *rt, struct vfc_rt_taken *t)
{
	bool wrap = rt->avail_wrap;
	u16 pos = rt->avail_pos, id = 0;
	unsigned int n;

	if (!vfc_rt_packed_is_avail(vfc_rt_le16(&rt->desc[pos].flags), wrap))
		return false;
	/* The descriptors only after the flags that exposed them. */
	virt_rmb();
	memset(t, 0, sizeof(*t));
	t->slot = pos;
	for (n = 1; ; n++) {
		struct vring_packed_desc *d = &rt->desc[pos];
		u16 flags = vfc_rt_le16(&d->flags);
		u64 addr = vfc_rt_le64(&d->addr);
		u32 len = vfc_rt_le32(&d->len);

		id = vfc_rt_le16(&d->id);
		/* "all flags ... must be set/cleared correctly in all
		 * descriptors in the list, not just the first one"
		 */
		if (!vfc_rt_packed_is_avail(flags, wrap))
			return vfc_rt_bad(rt, "slot %u of a chain: flags %#x",
					  pos, flags);
		if (flags & ~(VRING_DESC_F_NEXT | VRING_DESC_F_WRITE |
			      VRING_DESC_F_INDIRECT | VFC_RT_F_AVAIL |
			      VFC_RT_F_USED))
			return vfc_rt_bad(rt, "unknown flags %#x", flags);
		vfc_rt_packed_step(rt, &pos, &wrap);
		if (flags & VRING_DESC_F_INDIRECT) {
			/* "MUST NOT write direct descriptors with
			 * VIRTQ_DESC_F_INDIRECT set in a scatter-gather list
			 * linked by VIRTQ_DESC_F_NEXT"
			 */
			if (n > 1 || (flags & VRING_DESC_F_NEXT))
				return vfc_rt_bad(rt, "INDIRECT in a chain");
			if (!vfc_rt_packed_table(rt, t, addr, len))
				return false;
			break;
		}
		if (!vfc_rt_record(rt, t, addr, len,
				   flags & VRING_DESC_F_WRITE))
			return false;
		if (!(flags & VRING_DESC_F_NEXT))
			break;
		if (n == rt->num)
			return vfc_rt_bad(rt, "chain longer than the ring");
	}

	/*
	 * "Buffer ID is included in the last descriptor in the list". The
	 * spec does not bound ids by the ring size; vfc's are (one per
	 * private entry), and this device tracks them so.
	 */
	t->id = id;
	t->ndesc = n;
	if (id >= rt->num)
		return vfc_rt_bad(rt, "buffer id %u past the ring", id);
	if (rt->ndesc[id])
		return vfc_rt_bad(rt, "buffer id %u already in flight", id);
	rt->ndesc[id] = n;
	rt->avail_pos = pos;
	rt->avail_wrap = wrap;
	rt->last_avail++;
	if (rt->rearm_kicks)
		/* "Driver and Device Event Suppression": kick me next. */
		vfc_rt_packed_set_kicks(rt, VRING_PACKED_EVENT_FLAG_DESC, pos,
					wrap);
	return true;
}

/*
 * Write a used descriptor at the device's used position ("Receiving Used
 * Buffers From The Device"): id and len first, then the flags that expose
 * them, AVAIL and USED both at the Device Ring Wrap Counter ("Write Flag":
 * WRITE when it wrote data). Then skip the buffer's descriptors ("The
 * device only writes out a single used descriptor for the whole list. It
 * then skips forward"), one for an id it does not know.
 */
static void vfc_rt_packed_push_used(struct vfc_rt *rt, u32 id, u32 len)
{
	struct vring_packed_desc *d = &rt->desc[rt->used_pos];
	u16 flags = rt->used_wrap ? VFC_RT_F_AVAIL | VFC_RT_F_USED : 0;
	unsigned int n = 1;

	if (len)
		flags |= VRING_DESC_F_WRITE;
	flags ^= rt->used_flags_xor;
	rt->used_flags_xor = 0;
	if (id < rt->num && rt->ndesc[id]) {
		n = rt->ndesc[id];
		rt->ndesc[id] = 0;
	}
	WRITE_ONCE(d->id, cpu_to_le16(id));
	WRITE_ONCE(d->len, cpu_to_le32(len));
	/* id and len before the flags that expose them. */
	virt_wmb();
	WRITE_ONCE(d->flags, cpu_to_le16(flags));
	while (n--)
		vfc_rt_packed_step(rt, &rt->used_pos, &rt->used_wrap);
	rt->used_idx = vfc_rt_off_wrap(rt->used_pos, rt->used_wrap);
}

/* The packed layout has no used index to run ahead. */
static void vfc_rt_packed_jump_used(struct vfc_rt *rt, u16 by)
{
	KUNIT_FAIL(rt->test, "no used index to jump in the packed layout");
}

/*
 * "Driver and Device Event Suppression", the device's side: the driver
 * event suppression structure. For RING_EVENT_FLAGS_DESC the device
 * notifies when it used the descriptor at off_wrap's offset in the lap of
 * off_wrap's wrap counter, i.e. when its used position (as off_wrap encodes
 * it) went from @old past that descriptor to @new, as QEMU and vhost
 * decide; for a descriptor that is the next used one this is "when it
 * writes the used descriptor there".
 */
static bool vfc_rt_packed_wants_irq(struct vfc_rt *rt, u16 old, u16 new)
{
	bool wrap = new & VFC_RT_WRAP_CTR;
	u16 flags, off_wrap, event, o, n;

	/* Read the driver's wish only after publishing the used one. */
	virt_mb();
	flags = vfc_rt_le16(&rt->drv->flags);
	off_wrap = vfc_rt_le16(&rt->drv->off_wrap);
	/* "Reserved, set to 0" */
	if (flags & ~3)
		vfc_rt_bad(rt, "driver event flags %#x", flags);
	switch (flags & 3) {
	case VRING_PACKED_EVENT_FLAG_ENABLE:
		return true;
	case VRING_PACKED_EVENT_FLAG_DISABLE:
		return false;
	case VRING_PACKED_EVENT_FLAG_DESC:
		/* "Only valid if VIRTIO_F_EVENT_IDX has been negotiated." */
		if (!rt->event_idx)
			vfc_rt_bad(rt, "RING_EVENT_FLAGS_DESC without EVENT_IDX");
		break;
	default:
		vfc_rt_bad(rt, "reserved driver event flags 3");
		return true;
	}
	event = off_wrap & ~VFC_RT_WRAP_CTR;
	if (event >= rt->num)
		vfc_rt_bad(rt, "driver event offset %u past the ring", event);
	/* Positions count from the start of @new's lap: the lap before
	 * counts one ring back, in 16-bit arithmetic as vring_need_event()'s.
	 */
	n = new & ~VFC_RT_WRAP_CTR;
	o = old & ~VFC_RT_WRAP_CTR;
	if (!!(old & VFC_RT_WRAP_CTR) != wrap)
		o -= rt->num;
	if (!!(off_wrap & VFC_RT_WRAP_CTR) != wrap)
		event -= rt->num;
	return vring_need_event(event, n, o);
}

/*
 * The device event suppression structure, the device's side. Without
 * EVENT_IDX: ENABLE or DISABLE. With it: DESC at the next slot the device
 * will look at (re-armed after each buffer it takes), or at the slot before
 * it, which the driver made available last and does not make available
 * again for two laps. Decoys: DESC without EVENT_IDX (not valid, so the
 * driver must not take it for "don't kick"), and a "never" offset beside
 * ENABLE with it (the offset is not in use).
 */
static void vfc_rt_packed_kick_hint(struct vfc_rt *rt, enum vfc_rt_kicks hint)
{
	u16 pos = rt->avail_pos, never = pos ? pos - 1 : rt->num - 1;
	bool wrap = rt->avail_wrap, never_wrap = pos ? wrap : !wrap;

	rt->rearm_kicks = false;
	switch (hint) {
	case VFC_RT_KICKS_WANTED:
		rt->rearm_kicks = rt->event_idx;
		if (rt->event_idx)
			vfc_rt_packed_set_kicks(rt,
						VRING_PACKED_EVENT_FLAG_DESC,
						pos, wrap);
		else
			vfc_rt_packed_set_kicks(rt,
						VRING_PACKED_EVENT_FLAG_ENABLE,
						0, false);
		break;
	case VFC_RT_KICKS_SUPPRESSED:
		vfc_rt_packed_set_kicks(rt, rt->event_idx ?
					VRING_PACKED_EVENT_FLAG_DESC :
					VRING_PACKED_EVENT_FLAG_DISABLE,
					never, never_wrap);
		break;
	case VFC_RT_KICKS_DECOY:
		vfc_rt_packed_set_kicks(rt, rt->event_idx ?
					VRING_PACKED_EVENT_FLAG_ENABLE :
					VRING_PACKED_EVENT_FLAG_DESC,
					never, never_wrap);
		break;
	}
}

/*
 * Lies a driver must not act on: an address nothing mapped, another
 * length and id, NEXT and INDIRECT. AVAIL and USED stay as they were
 * (@keep), so no slot looks used that was not.
 */
static void vfc_rt_packed_scribble_desc(struct vring_packed_desc *d,
					u16 keep)
{
	u16 flags = vfc_rt_le16(&d->flags) & keep;

	WRITE_ONCE(d->addr, cpu_to_le64(0xdead000));
	WRITE_ONCE(d->len, cpu_to_le32(0x1234));
	WRITE_ONCE(d->id, cpu_to_le16(0x4321));
	WRITE_ONCE(d->flags, cpu_to_le16(flags | VRING_DESC_F_NEXT |
					 VRING_DESC_F_INDIRECT));
}

/*
 * The slots @t took (the others belong to the driver, or hold used
 * descriptors the driver may still read), and its table.
 */
static void vfc_rt_packed_scribble(struct vfc_rt *rt,
				   const struct vfc_rt_taken *t)
{
	struct vring_packed_desc *table;
	bool wrap = false;
	u16 pos = t->slot;
	unsigned int i;

	for (i = 0; i < t->ndesc; i++) {
		vfc_rt_packed_scribble_desc(&rt->desc[pos],
					    VFC_RT_F_AVAIL | VFC_RT_F_USED);
		vfc_rt_packed_step(rt, &pos, &wrap);
	}
	if (!t->indirect)
		return;
	table = phys_to_virt(t->table_addr);
	for (i = 0; i < t->table_len / sizeof(*table); i++)
		vfc_rt_packed_scribble_desc(&table[i], 0);
}

static const struct vfc_rt_ring_ops vfc_rt_packed_ops = {
	.features = F_PACKED,
	.wrap_bufs = VFC_RT_PACKED_WRAP_BUFS,
	.attach = vfc_rt_packed_attach,
	.expect_areas = vfc_rt_packed_expect_areas,
	.pop_avail = vfc_rt_packed_pop_avail,
	.push_used = vfc_rt_packed_push_used,
	.jump_used = vfc_rt_packed_jump_used,
	.wants_irq = vfc_rt_packed_wants_irq,
	.kick_hint = vfc_rt_packed_kick_hint,
	.scribble = vfc_rt_packed_scribble,
};

/* ------------------------------------------------------------------------
 * The fake device, layout-independent
 */

/* The transport's notify: the device got a kick. */
static bool vfc_rt_notify(struct vfc_virtqueue *vq)
{
	struct vfc_rt *rt = vq->priv;

	rt->kicks++;
	return !rt->notify_fails;
}

static void vfc_rt_callback(struct vfc_virtqueue *vq)
{
	struct vfc_rt *rt = vq->priv;

	rt->callbacks++;
}

/* The device takes the next available buffer, which must be there. */
static struct vfc_rt_taken *vfc_rt_take(struct vfc_rt *rt, unsigned int i)
{
	KUNIT_ASSERT_LT(rt->test, i, (unsigned int)VFC_RT_NBUFS);
	KUNIT_ASSERT_TRUE_MSG(rt->test, rt->ops->pop_avail(rt, &rt->taken[i]),
			      "no buffer %u available", i);
	return &rt->taken[i];
}

/* Write the pattern into the first @len writable bytes of @t. */
static void vfc_rt_fill(const struct vfc_rt_taken *t, u32 len)
{
	unsigned int i;

	for (i = t->nr_out; i < t->nr_out + t->nr_in && len; i++) {
		u32 n = min(len, t->elem[i].len);

		memset(phys_to_virt(t->elem[i].addr), VFC_RT_PATTERN, n);
		len -= n;
	}
}

/* Return @t with @len bytes written, without deciding on an interrupt. */
static void vfc_rt_push(struct vfc_rt *rt, const struct vfc_rt_taken *t,
			u32 len)
{
	vfc_rt_fill(t, len);
	rt->ops->push_used(rt, t->id, len);
}

/*
 * The device decides on an interrupt for what it used since it last did,
 * and raises one if the driver asked for it, with interrupts off as a
 * real one would run.
 */
static void vfc_rt_interrupt(struct vfc_rt *rt)
{
	u16 old = rt->signalled_used, new = rt->used_idx;
	unsigned long flags;
	irqreturn_t ret;

	rt->signalled_used = new;
	if (old == new || !rt->ops->wants_irq(rt, old, new))
		return;
	rt->irqs++;
	local_irq_save(flags);
	ret = vfc_vring_interrupt(0, rt->vq);
	local_irq_restore(flags);
	if (ret == IRQ_HANDLED)
		rt->irqs_handled++;
}

static void vfc_rt_complete(struct vfc_rt *rt, const struct vfc_rt_taken *t,
			    u32 len)
{
	vfc_rt_push(rt, t, len);
	vfc_rt_interrupt(rt);
}

/* ------------------------------------------------------------------------
 * The driver's side
 */

static struct vfc_virtqueue *vfc_rt_create(struct vfc_rt *rt,
					   unsigned int num,
					   unsigned int align,
					   bool may_reduce_num)
{
	const struct vfc_vring_config cfg = {
		.index = VFC_RT_INDEX,
		.num = num,
		.vring_align = align,
		.weak_barriers = true,
		.may_reduce_num = may_reduce_num,
		.notify = vfc_rt_notify,
		.callback = vfc_rt_callback,
		.name = VFC_RT_NAME,
		.dma_dev = &rt->dma->dev,
	};
	struct vfc_virtqueue *vq;

	vq = vfc_vring_create_virtqueue(rt->vdev, &cfg);
	if (!vq) {
		KUNIT_FAIL(rt->test, "create returned NULL, not an ERR_PTR");
		return ERR_PTR(-EFAULT);
	}
	if (IS_ERR(vq))
		return vq;
	vq->priv = rt;
	rt->vq = vq;
	rt->last_avail = 0;
	rt->used_idx = 0;
	rt->signalled_used = 0;
	/* Packed: the positions, wrap counters and used_idx's encoding. */
	rt->ops->attach(rt);
	rt->ops->kick_hint(rt, VFC_RT_KICKS_WANTED);
	return vq;
}

/* Create the queue the row describes. */
static void vfc_rt_start(struct vfc_rt *rt)
{
	struct vfc_virtqueue *vq;

	vq = vfc_rt_create(rt, rt->param->num ?: VFC_RT_NUM,
			   rt->param->align ?: VFC_RT_ALIGN, false);
	KUNIT_ASSERT_FALSE_MSG(rt->test, IS_ERR(vq), "create: %ld",
			       PTR_ERR(vq));
}

/* Detach what is left, as a driver does after reset, and free the queue. */
static void vfc_rt_destroy(struct vfc_rt *rt)
{
	unsigned int i;

	/* Bounded, in case a broken detach keeps returning tokens. */
	for (i = 0; i <= rt->num; i++)
		if (!vfc_vq_detach_unused_buf(rt->vq))
			break;
	vfc_vring_del_virtqueue(rt->vq);
	rt->vq = NULL;
	rt->vr = NULL;
	rt->desc = NULL;
	rt->drv = NULL;
	rt->dev = NULL;
}

/*
 * Lay out buffer @i: @nr_out readable then @nr_in writable entries of @len
 * bytes each, each in its own slot. Readable bytes hold a filler, writable
 * ones zeroes, so the device's writes show.
 */
static struct vfc_rt_buf *vfc_rt_prep(struct vfc_rt *rt, unsigned int i,
				      unsigned int nr_out, unsigned int nr_in,
				      unsigned int len)
{
	struct vfc_rt_buf *b = &rt->bufs[i];
	unsigned int e;

	KUNIT_ASSERT_LT(rt->test, i, (unsigned int)VFC_RT_NBUFS);
	KUNIT_ASSERT_LE(rt->test, nr_out + nr_in,
			(unsigned int)VFC_RT_MAX_SG);
	KUNIT_ASSERT_LE(rt->test, len, (unsigned int)VFC_RT_SLOT);
	memset(b, 0, sizeof(*b));
	b->nr_out = nr_out;
	b->nr_in = nr_in;
	if (nr_out)
		sg_init_table(b->out, nr_out);
	if (nr_in)
		sg_init_table(b->in, nr_in);
	for (e = 0; e < nr_out + nr_in; e++) {
		b->len[e] = len;
		b->mem[e] = rt->mem + (i * VFC_RT_MAX_SG + e) * VFC_RT_SLOT;
		memset(b->mem[e], e < nr_out ? 0x5a : 0, VFC_RT_SLOT);
		if (e < nr_out)
			sg_set_buf(&b->out[e], b->mem[e], len);
		else
			sg_set_buf(&b->in[e - nr_out], b->mem[e], len);
	}
	return b;
}

/* Post each writable entry of @b as a scatterlist of its own. */
static void vfc_rt_in_per_entry(struct vfc_rt_buf *b)
{
	unsigned int e;

	b->in_per_entry = true;
	for (e = 0; e < b->nr_in; e++)
		sg_init_one(&b->in[e], b->mem[b->nr_out + e],
			    b->len[b->nr_out + e]);
}

/* vfc_vq_add_sgs() with @b as its own token. */
static int vfc_rt_add(struct vfc_rt *rt, struct vfc_rt_buf *b)
{
	struct scatterlist *sgs[1 + VFC_RT_MAX_SG];
	unsigned int out = 0, in = 0, e;

	if (b->nr_out)
		sgs[out++] = b->out;
	if (b->in_per_entry)
		for (e = 0; e < b->nr_in; e++)
			sgs[out + in++] = &b->in[e];
	else if (b->nr_in)
		sgs[out + in++] = b->in;
	return vfc_vq_add_sgs(rt->vq, sgs, out, in, b, GFP_KERNEL);
}

/* The device found @b as the driver posted it, entry by entry. */
static void vfc_rt_expect_taken(struct vfc_rt *rt, const struct vfc_rt_buf *b,
				const struct vfc_rt_taken *t)
{
	struct kunit *test = rt->test;
	unsigned int e, n = b->nr_out + b->nr_in;

	KUNIT_EXPECT_EQ(test, t->nr_out, b->nr_out);
	KUNIT_EXPECT_EQ(test, t->nr_in, b->nr_in);
	/* One ring descriptor for a buffer of several entries. */
	KUNIT_EXPECT_EQ(test, t->indirect, rt->indirect && n > 1);
	if (t->nr_out + t->nr_in != n)
		return;
	for (e = 0; e < n; e++) {
		KUNIT_EXPECT_EQ(test, t->elem[e].addr,
				(u64)virt_to_phys(b->mem[e]));
		KUNIT_EXPECT_EQ(test, t->elem[e].len, (u32)b->len[e]);
	}
}

/* The first @len writable bytes of @b hold the pattern, the rest zeroes. */
static void vfc_rt_expect_written(struct vfc_rt *rt,
				  const struct vfc_rt_buf *b, u32 len)
{
	unsigned int e;

	for (e = b->nr_out; e < b->nr_out + b->nr_in; e++) {
		u32 n = min_t(u32, len, b->len[e]);

		KUNIT_EXPECT_NULL(rt->test,
				  memchr_inv(b->mem[e], VFC_RT_PATTERN, n));
		KUNIT_EXPECT_NULL(rt->test, memchr_inv(b->mem[e] + n, 0,
						       b->len[e] - n));
		len -= n;
	}
}

/* The next used buffer must be @b, with @len bytes written. */
static void vfc_rt_expect_used(struct vfc_rt *rt, const struct vfc_rt_buf *b,
			       u32 len)
{
	unsigned int got = ~0U;
	void *token;

	token = vfc_vq_get_buf(rt->vq, &got);
	KUNIT_ASSERT_PTR_EQ_MSG(rt->test, token, (void *)b,
				"get_buf: buffer %td expected; broken: %s",
				b - rt->bufs,
				vfc_vq_broken_reason(rt->vq) ?: "no");
	KUNIT_EXPECT_EQ(rt->test, got, len);
}

/* No used buffer is waiting. */
static void vfc_rt_expect_none(struct vfc_rt *rt)
{
	unsigned int len;

	KUNIT_EXPECT_NULL(rt->test, vfc_vq_get_buf(rt->vq, &len));
}

/* No used buffer is waiting, and looking for one broke nothing. */
static void vfc_rt_expect_idle(struct vfc_rt *rt)
{
	vfc_rt_expect_none(rt);
	KUNIT_EXPECT_FALSE_MSG(rt->test, vfc_vq_is_broken(rt->vq),
			       "broken: %s", vfc_vq_broken_reason(rt->vq));
}

/*
 * Detach what is left: each token must be one of @expected (a bit per
 * buffer index), each once; then nothing is mapped and all is free.
 */
static void vfc_rt_expect_detach(struct vfc_rt *rt, unsigned long expected)
{
	struct kunit *test = rt->test;
	unsigned long seen = 0;
	unsigned int i, j;
	void *token;

	for (i = 0; i <= VFC_RT_NBUFS; i++) {
		token = vfc_vq_detach_unused_buf(rt->vq);
		if (!token)
			break;
		for (j = 0; j < VFC_RT_NBUFS; j++)
			if (token == &rt->bufs[j])
				break;
		KUNIT_ASSERT_LT_MSG(test, j, (unsigned int)VFC_RT_NBUFS,
				    "detach returned an unknown token");
		KUNIT_EXPECT_FALSE_MSG(test, seen & BIT(j),
				       "buffer %u detached twice", j);
		seen |= BIT(j);
	}
	KUNIT_EXPECT_EQ(test, seen, expected);
	KUNIT_EXPECT_NULL(test, vfc_vq_detach_unused_buf(rt->vq));
	KUNIT_EXPECT_EQ(test, rt->dma->live_maps, 0U);
	KUNIT_EXPECT_EQ(test, rt->vq->num_free, rt->num);
}

/* One buffer there and back: the queue works. */
static void vfc_rt_round_trip_one(struct vfc_rt *rt, unsigned int i)
{
	struct vfc_rt_buf *b = vfc_rt_prep(rt, i, 1, 1, 32);
	struct vfc_rt_taken *t;

	KUNIT_ASSERT_EQ(rt->test, vfc_rt_add(rt, b), 0);
	KUNIT_EXPECT_TRUE(rt->test, vfc_vq_kick(rt->vq));
	t = vfc_rt_take(rt, i);
	vfc_rt_expect_taken(rt, b, t);
	vfc_rt_complete(rt, t, 20);
	vfc_rt_expect_used(rt, b, 20);
	vfc_rt_expect_written(rt, b, 20);
	vfc_rt_expect_idle(rt);
}

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

/*
 * Many buffers through a ring of 8, batches of 1 to 8 returned in reverse,
 * one kick and one interrupt per batch throughout. Split: more than 65536,
 * so every 16-bit index wraps ("Updating idx": it "wraps naturally at
 * 65536"). Packed: forty laps, so both wrap counters flip forty times
 * ("Driver and Device Ring Wrap Counters").
 */
static void vfc_ring_wrap(struct kunit *test)
{
	struct vfc_rt *rt = test->priv;
	/* Indirect rows post two entries, so each buffer goes indirect. */
	unsigned int nr_out = rt->indirect ? 1 : 0;
	unsigned int total = 0, rounds = 0, k, i, len;
	struct vfc_rt_buf *b;

	vfc_rt_start(rt);
	while (total < rt->ops->wrap_bufs) {
		k = 1 + rounds % rt->num;
		for (i = 0; i < k; i++) {
			b = vfc_rt_prep(rt, i, nr_out, 1, 16);
			KUNIT_ASSERT_EQ(test, vfc_rt_add(rt, b), 0);
		}
		KUNIT_ASSERT_TRUE(test, vfc_vq_kick(rt->vq));
		for (i = 0; i < k; i++)
			vfc_rt_expect_taken(rt, &rt->bufs[i],
					    vfc_rt_take(rt, i));
		for (i = k; i-- > 0;)
			vfc_rt_push(rt, &rt->taken[i], i + 1);
		vfc_rt_interrupt(rt);
		for (i = k; i-- > 0;)
			vfc_rt_expect_used(rt, &rt->bufs[i], i + 1);
		KUNIT_ASSERT_NULL(test, vfc_vq_get_buf(rt->vq, &len));
		total += k;
		rounds++;
		KUNIT_ASSERT_EQ_MSG(test, rt->kicks, rounds,
				    "kicks after %u buffers", total);
		KUNIT_ASSERT_EQ_MSG(test, rt->irqs, rounds,
				    "interrupts after %u buffers", total);
		if (!(rounds % 256))
			cond_resched();
	}
	KUNIT_EXPECT_FALSE(test, vfc_vq_is_broken(rt->vq));
	KUNIT_EXPECT_EQ(test, rt->last_avail, (u16)total);
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

static const struct vfc_rt_case vfc_rt_indirect_only_cases[] = {
	{ .name = "split-indirect", .ops = &vfc_rt_split_ops,
	  .features = F_INDIRECT },
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

/*
 * "Indirect Descriptors" are an optimisation: when the table cannot be
 * allocated the buffer goes direct, one descriptor per entry. The runner
 * arms failslab for tasks that ask for it (task-filter) and only for
 * allocations that cannot sleep (ignore-gfp-wait), so the table's
 * GFP_ATOMIC allocation fails here while nothing else does.
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
		KUNIT_FAIL(test, "failslab not armed for this task (testbed/run.py arms it)");
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
 * broken with the row's reason, returns nothing more (not even a valid
 * entry after the bad one), refuses new buffers with -EIO, and still
 * detaches every outstanding buffer, unmapping all.
 */
static void vfc_ring_hostile(struct kunit *test)
{
	struct vfc_rt *rt = test->priv;
	enum vfc_rt_hostile how = rt->param->hostile;
	unsigned long outstanding = BIT(0) | BIT(1);
	struct vfc_rt_taken *ta = NULL, *tb = NULL;
	struct vfc_rt_buf *a, *b;
	const char *reason;
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
	KUNIT_EXPECT_EQ(test, vfc_rt_add(rt, vfc_rt_prep(rt, 1, 1, 0, 16)),
			-EIO);
	vfc_rt_complete(rt, &rt->taken[0], 32);
	vfc_rt_expect_none(rt);
	vfc_rt_expect_detach(rt, BIT(0));
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

static void vfc_rt_case_desc(const struct vfc_rt_case *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(vfc_rt_basic, vfc_rt_basic_cases, vfc_rt_case_desc);
KUNIT_ARRAY_PARAM(vfc_rt_create, vfc_rt_create_cases, vfc_rt_case_desc);
KUNIT_ARRAY_PARAM(vfc_rt_invalid, vfc_rt_invalid_cases, vfc_rt_case_desc);
KUNIT_ARRAY_PARAM(vfc_rt_reduce, vfc_rt_reduce_cases, vfc_rt_case_desc);
KUNIT_ARRAY_PARAM(vfc_rt_no_memory, vfc_rt_no_memory_cases,
		  vfc_rt_case_desc);
KUNIT_ARRAY_PARAM(vfc_rt_layout, vfc_rt_layout_cases, vfc_rt_case_desc);
KUNIT_ARRAY_PARAM(vfc_rt_indirect, vfc_rt_indirect_cases, vfc_rt_case_desc);
KUNIT_ARRAY_PARAM(vfc_rt_indirect_only, vfc_rt_indirect_only_cases,
		  vfc_rt_case_desc);
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

static void vfc_rt_vdev_release(struct device *dev)
{
	kfree(dev_to_vfc(dev));
}

static struct vfc_device *vfc_rt_vdev_new(u64 features)
{
	struct vfc_device *vdev;

	vdev = kzalloc(sizeof(*vdev), GFP_KERNEL);
	if (!vdev)
		return NULL;
	device_initialize(&vdev->dev);
	vdev->dev.release = vfc_rt_vdev_release;
	if (dev_set_name(&vdev->dev, "vfc-ring-test")) {
		put_device(&vdev->dev);
		return NULL;
	}
	spin_lock_init(&vdev->config_lock);
	spin_lock_init(&vdev->vqs_list_lock);
	INIT_LIST_HEAD(&vdev->vqs);
	vdev->features = features;
	return vdev;
}

static int vfc_ring_init(struct kunit *test)
{
	const struct vfc_rt_case *p = test->param_value;
	struct vfc_rt *rt;
	u64 features;

	/* Unparameterised cases run on the first row of the basic table. */
	if (!p)
		p = &vfc_rt_basic_cases[0];
	rt = kunit_kzalloc(test, sizeof(*rt), GFP_KERNEL);
	if (!rt)
		return -ENOMEM;
	test->priv = rt;
	rt->test = test;
	rt->param = p;
	rt->ops = p->ops;
	features = F_V1 | p->ops->features | p->features;
	rt->packed = features & F_PACKED;
	rt->indirect = features & F_INDIRECT;
	rt->event_idx = features & F_EVENT_IDX;
	rt->mem = kunit_kzalloc(test, VFC_RT_NBUFS * VFC_RT_MAX_SG *
				      VFC_RT_SLOT, GFP_KERNEL);
	rt->dma = vfc_fake_dma_new("vfc-ring-test-dma");
	rt->vdev = vfc_rt_vdev_new(features);
	if (!rt->mem || !rt->dma || !rt->vdev)
		return -ENOMEM;
	return 0;
}

/*
 * Runs after a failed assertion too: free what is left, then the leak
 * check. Expectations only: an assertion here would abort the cleanup.
 */
static void vfc_ring_exit(struct kunit *test)
{
	struct vfc_rt *rt = test->priv;

	if (!rt)
		return;
	if (rt->vq)
		vfc_rt_destroy(rt);
	if (rt->dma) {
		KUNIT_EXPECT_EQ_MSG(test, rt->dma->live_maps, 0U,
				    "streaming mappings leaked");
		KUNIT_EXPECT_EQ_MSG(test, rt->dma->live_allocs, 0U,
				    "coherent allocations leaked");
		KUNIT_EXPECT_EQ_MSG(test, rt->dma->bad_unmaps, 0U,
				    "unmapped what was not mapped");
		KUNIT_EXPECT_EQ_MSG(test, rt->dma->bad_frees, 0U,
				    "freed what was not allocated");
		KUNIT_EXPECT_EQ(test, rt->dma->overflows, 0U);
		put_device(&rt->dma->dev);
	}
	if (rt->vdev) {
		KUNIT_EXPECT_TRUE(test, list_empty(&rt->vdev->vqs));
		put_device(&rt->vdev->dev);
	}
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
	KUNIT_CASE_PARAM(vfc_ring_indirect_fallback,
			 vfc_rt_indirect_only_gen_params),
	KUNIT_CASE_PARAM(vfc_ring_add_invalid, vfc_rt_basic_gen_params),
	KUNIT_CASE_PARAM(vfc_ring_detach, vfc_rt_indirect_gen_params),
	KUNIT_CASE_PARAM(vfc_ring_scribbled_desc, vfc_rt_indirect_gen_params),
	KUNIT_CASE_PARAM(vfc_ring_hostile, vfc_rt_hostile_gen_params),
	KUNIT_CASE_PARAM(vfc_ring_break_device, vfc_rt_basic_gen_params),
	KUNIT_CASE_PARAM(vfc_ring_kick_suppression, vfc_rt_event_gen_params),
	KUNIT_CASE_PARAM(vfc_ring_callbacks, vfc_rt_event_gen_params),
	KUNIT_CASE_PARAM(vfc_ring_enable_cb_delayed, vfc_rt_event_gen_params),
	KUNIT_CASE_PARAM(vfc_ring_packed_wrap, vfc_rt_packed_wrap_gen_params),
	KUNIT_CASE_PARAM(vfc_ring_packed_out_of_order,
			 vfc_rt_packed_order_gen_params),
	KUNIT_CASE_PARAM(vfc_ring_packed_driver_events,
			 vfc_rt_packed_event_gen_params),
	KUNIT_CASE_PARAM(vfc_ring_packed_kicks, vfc_rt_packed_kick_gen_params),
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
MODULE_IMPORT_NS(VFC);
