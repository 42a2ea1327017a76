/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What vfc's KUnit suites share, in one module (vfc_test_support.ko, whose
 * name does not end in _test: it runs no suite of its own). Its symbols
 * are exported in the VFC_TEST namespace.
 *
 * - A fake DMA device whose dma_map_ops record every coherent allocation
 *   and streaming mapping, and its leak check.
 * - A vfc device that is never registered, for queues made directly.
 * - A fake transport: a vfc device in memory behind a struct
 *   vfc_config_ops, with knobs to make it misbehave.
 * - A fake ring device that plays the device's side of both ring layouts
 *   in memory, hostile if asked, and the fixture of the cases that drive
 *   a queue against it.
 */
#ifndef _VFC_TESTS_TEST_SUPPORT_H
#define _VFC_TESTS_TEST_SUPPORT_H

#include <kunit/test.h>
#include <linux/atomic.h>
#include <linux/device.h>
#include <linux/dma-mapping.h>
#include <linux/scatterlist.h>
#include <linux/string.h>
#include <linux/types.h>
#include <linux/virtio_byteorder.h>
#include <uapi/linux/virtio_config.h>
#include <uapi/linux/virtio_ring.h>

#include <vfc/vfc.h>
#include <vfc/vfc_config.h>
#include <vfc/vfc_ring.h>

#define F_V1		BIT_ULL(VIRTIO_F_VERSION_1)
#define F_AP		BIT_ULL(VIRTIO_F_ACCESS_PLATFORM)
#define F_INDIRECT	BIT_ULL(VIRTIO_RING_F_INDIRECT_DESC)
#define F_EVENT_IDX	BIT_ULL(VIRTIO_RING_F_EVENT_IDX)
#define F_PACKED	BIT_ULL(VIRTIO_F_RING_PACKED)

/* ------------------------------------------------------------------------
 * The fake DMA device
 */

#define VFC_FAKE_DMA_MAX_MAPS	128
#define VFC_FAKE_DMA_MAX_ALLOCS	4

/* A live streaming mapping. */
struct vfc_fake_map {
	bool live;
	dma_addr_t addr;
	size_t size;
	enum dma_data_direction dir;
};

/* A live coherent allocation. */
struct vfc_fake_alloc {
	void *cpu;
	dma_addr_t dma;
	size_t size;
};

/**
 * struct vfc_fake_dma - a device whose DMA ops record everything
 * @dev: the device handed to vfc_vring_create_virtqueue() as dma_dev
 * @fail_alloc_above: coherent allocations larger than this fail; 0: none
 * @maps_left: mappings that may still succeed; -1: no limit
 * @alloc_calls: coherent allocations asked for, failed ones included
 * @last_alloc_size: the size of the last one
 * @live_allocs: coherent allocations not yet freed
 * @live_maps: streaming mappings not yet unmapped
 * @map_failures: mappings refused because of @maps_left
 * @bad_unmaps: unmaps of something not mapped, or with the wrong size or
 *	direction
 * @bad_frees: frees of something not allocated, or with the wrong size
 * @overflows: more live mappings or allocations than the tables hold
 * @allocs: the live coherent allocations
 * @maps: the live mappings; last, so KASAN sees an overrun
 */
struct vfc_fake_dma {
	struct device dev;
	size_t fail_alloc_above;
	long maps_left;
	unsigned int alloc_calls;
	size_t last_alloc_size;
	unsigned int live_allocs;
	unsigned int live_maps;
	unsigned int map_failures;
	unsigned int bad_unmaps;
	unsigned int bad_frees;
	unsigned int overflows;
	struct vfc_fake_alloc allocs[VFC_FAKE_DMA_MAX_ALLOCS];
	struct vfc_fake_map maps[VFC_FAKE_DMA_MAX_MAPS];
};

struct vfc_fake_dma *vfc_fake_dma_new(const char *name);
bool vfc_fake_dma_covers(const struct vfc_fake_dma *dma, u64 addr, u32 len,
			 enum dma_data_direction dir);
const struct vfc_fake_alloc *vfc_fake_dma_ring(const struct vfc_fake_dma *dma);
void vfc_fake_dma_expect_clean(struct kunit *test,
			       const struct vfc_fake_dma *dma);

/* ------------------------------------------------------------------------
 * A vfc device that is never registered
 */

struct vfc_device *vfc_test_vdev_new(const char *name, u64 features);
void vfc_expect_report(struct kunit *test, struct vfc_device *vdev,
		       const char *what, const char *section, bool violation,
		       unsigned long count);

/* ------------------------------------------------------------------------
 * The fake transport
 */

/* The ids of a fake device: no real driver matches them. */
#define VFC_TEST_DEVICE_ID	0xfc01
#define VFC_TEST_VENDOR_ID	0x5646
#define VFC_TEST_LOG_LEN	32

/**
 * struct vfc_fake - an in-memory device behind a fake transport
 * @vdev: the device on the vfc bus
 * @ops: this device's own copy of the ops, so a test can drop one
 * @status: the device status byte
 * @device_features: the features the device offers
 * @finalized: vdev->features when finalize_features was last called
 * @finalize_calls: calls of finalize_features
 * @resets: calls of reset, failed ones included
 * @reset_err: make reset fail with this error
 * @refuse_features_ok: the device does not keep FEATURES_OK set
 * @generation: the config generation counter
 * @generation_reads: calls of generation
 * @config_reads: calls of get
 * @changes_during_get: how many of the next gets see the config change
 * @log_len: number of status writes (resets are logged as 0)
 * @log: the status values written, in order
 * @config: the device-specific config space; last, so KASAN sees overruns
 */
struct vfc_fake {
	struct vfc_device vdev;
	struct vfc_config_ops ops;
	u8 status;
	u64 device_features;
	u64 finalized;
	unsigned int finalize_calls;
	unsigned int resets;
	int reset_err;
	bool refuse_features_ok;
	u32 generation;
	unsigned int generation_reads;
	unsigned int config_reads;
	unsigned int changes_during_get;
	unsigned int log_len;
	u8 log[VFC_TEST_LOG_LEN];
	u8 config[16];
};

static inline struct vfc_fake *to_vfc_fake(struct vfc_device *vdev)
{
	return container_of(vdev, struct vfc_fake, vdev);
}

struct vfc_fake *vfc_fake_new(struct kunit *test, u64 features);
int vfc_fake_releases(void);
unsigned int vfc_fake_writes_with(const struct vfc_fake *fake, u8 bit);
void vfc_fake_expect_log(struct kunit *test, const struct vfc_fake *fake,
			 unsigned int from, const u8 *expected, unsigned int n);

/* ------------------------------------------------------------------------
 * The fake ring device
 */

#define VFC_RT_INDEX		3	/* not 0, so a mix-up shows */
#define VFC_RT_NAME		"vfc-rt-q"
#define VFC_RT_NUM		8	/* small: fills, wraps and breaks fast */
#define VFC_RT_ALIGN		SMP_CACHE_BYTES
#define VFC_RT_NBUFS		16	/* driver buffers a case can post */
#define VFC_RT_MAX_SG		4	/* entries per buffer */
/* Each entry has its own slot: separate cache lines, as DMA-API debug wants. */
#define VFC_RT_SLOT		128
#define VFC_RT_PATTERN		0xa5

/* Packed descriptor and event suppression bits. */
#define VFC_RT_F_AVAIL		BIT(VRING_PACKED_DESC_F_AVAIL)
#define VFC_RT_F_USED		BIT(VRING_PACKED_DESC_F_USED)
#define VFC_RT_WRAP_CTR		BIT(VRING_PACKED_EVENT_F_WRAP_CTR)

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
 * @set_index: split: move a queue with nothing in flight to free-running
 *	index @idx, the driver's side and the device's; NULL for packed,
 *	whose positions wrap at the ring's size
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
	void (*set_index)(struct vfc_rt *rt, u16 idx);
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
	VFC_RT_IDX_BACK,
	VFC_RT_NOTIFY_FAILS,
	VFC_RT_FLAGS_MIXED,
};

/**
 * struct vfc_rt_case - a row of a case table
 * @name: the row's name in the results
 * @ops: the ring layout's device side
 * @features: ring features negotiated besides VERSION_1, ACCESS_PLATFORM
 *	(so that the fake DMA device sees every mapping) and @ops' own
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
 * @phys: the ring hands the device physical addresses (no
 *	VIRTIO_F_ACCESS_PLATFORM): buffers are not checked against @dma
 * @long_bufs: buffers may have more than VFC_RT_MAX_SG entries (a
 *	driver's, not a case's): the device keeps the first ones, counts all
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
	bool phys;
	bool long_bufs;
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

extern const struct vfc_rt_ring_ops vfc_rt_split_ops;
extern const struct vfc_rt_ring_ops vfc_rt_packed_ops;

/* A row's name as KUnit prints it. */
static inline void vfc_rt_case_desc(const struct vfc_rt_case *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

/* Ring fields are little-endian: vfc drives modern (VERSION_1) devices. */
static inline u16 vfc_rt_r16(const __virtio16 *p)
{
	return __virtio16_to_cpu(true, READ_ONCE(*p));
}

/* The packed layout's fields are little-endian by definition. */
static inline u16 vfc_rt_le16(const __le16 *p)
{
	return le16_to_cpu(READ_ONCE(*p));
}

/* A position and its wrap counter, as off_wrap encodes them. */
static inline u16 vfc_rt_off_wrap(u16 pos, bool wrap)
{
	return pos | (wrap ? VFC_RT_WRAP_CTR : 0);
}

struct vfc_rt *vfc_rt_new(struct kunit *test, const struct vfc_rt_case *row);
void vfc_rt_free(struct vfc_rt *rt);

bool vfc_rt_notify(struct vfc_virtqueue *vq);
void vfc_rt_callback(struct vfc_virtqueue *vq);
void vfc_rt_packed_set_kicks(struct vfc_rt *rt, u16 flags, u16 pos,
			     bool wrap);
struct vfc_rt_taken *vfc_rt_take(struct vfc_rt *rt, unsigned int i);
void vfc_rt_push(struct vfc_rt *rt, const struct vfc_rt_taken *t, u32 len);
void vfc_rt_interrupt(struct vfc_rt *rt);
void vfc_rt_complete(struct vfc_rt *rt, const struct vfc_rt_taken *t,
		     u32 len);

struct vfc_virtqueue *vfc_rt_create_on(struct vfc_rt *rt,
				       struct vfc_device *vdev,
				       struct vfc_vring_config *cfg);
struct vfc_virtqueue *vfc_rt_create(struct vfc_rt *rt, unsigned int num,
				    unsigned int align, bool may_reduce_num);
void vfc_rt_start(struct vfc_rt *rt);
void vfc_rt_destroy(struct vfc_rt *rt);
struct vfc_rt_buf *vfc_rt_prep(struct vfc_rt *rt, unsigned int i,
			       unsigned int nr_out, unsigned int nr_in,
			       unsigned int len);
void vfc_rt_in_per_entry(struct vfc_rt_buf *b);
int vfc_rt_add(struct vfc_rt *rt, struct vfc_rt_buf *b);
void vfc_rt_expect_taken(struct vfc_rt *rt, const struct vfc_rt_buf *b,
			 const struct vfc_rt_taken *t);
void vfc_rt_expect_written(struct vfc_rt *rt, const struct vfc_rt_buf *b,
			   u32 len);
void vfc_rt_expect_used(struct vfc_rt *rt, const struct vfc_rt_buf *b,
			u32 len);
void vfc_rt_expect_none(struct vfc_rt *rt);
void vfc_rt_expect_idle(struct vfc_rt *rt);
void vfc_rt_expect_detach(struct vfc_rt *rt, unsigned long expected);
void vfc_rt_round_trip_one(struct vfc_rt *rt, unsigned int i);

/* ------------------------------------------------------------------------
 * The allocation-failure sweep
 *
 * The kernel's fail-nth ("Fault injection capabilities infrastructure",
 * Documentation/fault-injection/): the Nth allocation of a task from now on
 * fails, counted over failslab and fail_page_alloc. The runner
 * (testbed/test_kunit.py) makes both count allocations that may sleep and
 * order-0 and highmem pages too; without that, or without
 * CONFIG_FAULT_INJECTION, vfc_sweep() fails the case.
 */

/* The largest N a sweep tries before it calls the operation endless. */
#define VFC_SWEEP_MAX	2000

/**
 * typedef vfc_sweep_step_t - one run of the operation a sweep breaks
 * @test: the case
 * @ctx: the case's context
 * @nth: the allocation to fail, from 1
 *
 * Runs the operation once with allocation @nth failing, checks that it
 * failed cleanly or coped (KUNIT_EXPECT/ASSERT on the outcome, leaks and
 * mappings) and leaves things ready for the next run.
 *
 * Return: true if allocation @nth was reached (and failed), false if the
 * operation made fewer allocations: the sweep is done.
 */
typedef bool (*vfc_sweep_step_t)(struct kunit *test, void *ctx,
				 unsigned int nth);

void vfc_fail_nth_arm(unsigned int nth);
unsigned int vfc_fail_nth_pause(void);
bool vfc_fail_nth_disarm(void);
unsigned int vfc_sweep(struct kunit *test, const char *row,
		       const char *what, vfc_sweep_step_t step, void *ctx);

#endif /* _VFC_TESTS_TEST_SUPPORT_H */
