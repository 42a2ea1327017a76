/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vfc: private virtqueue state shared by the ring layouts.
 *
 * The public handle is struct vfc_virtqueue; each layout's private struct
 * begins with a struct vfc_vring, which embeds the handle.
 *
 * This header is where the layouts are listed: their enum, and for each
 * the functions its file (virtio_ring_split.c, virtio_ring_packed.c)
 * defines for the rest and its queue struct, which is here rather than in
 * that file because the layout's table holds its size. Each layout is one
 * const struct vfc_vring_layout, which holds its rules, its ring's
 * geometry, its setup and its operations; the tables are in
 * vfc_ring_layouts.h, which virtio_ring.c alone includes, and which says
 * why they are there.
 */
#ifndef _VFC_RING_INTERNAL_H
#define _VFC_RING_INTERNAL_H

#include <linux/dma-mapping.h>
#include <uapi/linux/virtio_config.h>
#include <vfc/vfc_ring.h>

struct vfc_vring;

/**
 * enum vfc_vring_layout_id - the ring layouts
 * @VFC_VRING_SPLIT: "Split Virtqueues" (virtio_ring_split.c)
 * @VFC_VRING_PACKED: "Packed Virtqueues" (virtio_ring_packed.c)
 */
enum vfc_vring_layout_id {
	VFC_VRING_SPLIT,
	VFC_VRING_PACKED,
};

/**
 * struct vfc_vring_geometry - where a layout puts a ring's areas
 * @bytes: the ring's size in all: one coherent DMA allocation
 * @driver: offset of the driver area
 * @device: offset of the device area
 *
 * The descriptor area starts the allocation in both layouts, so it is
 * page aligned, more than the 16 bytes both ask for.
 */
struct vfc_vring_geometry {
	size_t bytes;
	size_t driver;
	size_t device;
};

/**
 * struct vfc_vring_layout - a ring layout: its rules, its ring, its
 *	operations
 * @id: the layout, which the queue records for VFC_VRING_CALL()
 * @queue_size: the size of the layout's queue, a struct that begins with
 *	a struct vfc_vring
 * @max_num: the largest ring size
 * @num_pow2: ring sizes must be powers of two
 * @min_align: the smallest vring_align the layout takes (a power of two,
 *	vring_align at most PAGE_SIZE); 0 if its alignments are fixed and it
 *	ignores vring_align
 * @geometry: where the areas of a ring of @num entries go, with @align as
 *	vring_align
 * @setup: initialise the layout's state of a new queue, whose size,
 *	areas and features are set; the ring memory is zeroed
 * @add: offer a buffer of @total entries, mapped here, as its token @data
 * @kick_prepare: publish what was added; whether the device wants a kick
 * @get_buf: take back the next used buffer: its token and the bytes
 *	written, or NULL
 * @more_used: whether a used buffer is waiting
 * @disable_cb: ask the device not to interrupt
 * @enable_cb_prepare: ask for interrupts again; the position to poll from
 * @poll: whether the device used buffers since that position
 * @enable_cb_delayed: ask for an interrupt once most outstanding buffers
 *	are used; false if used buffers wait that it would not announce
 *
 * Creation reaches @geometry and @setup through a pointer to the table;
 * the operations are called through VFC_VRING_CALL() only. The exported
 * functions in virtio_ring.c that call them give the rules and check what
 * all layouts share first (a token, a buffer of at least one entry, a
 * queue not broken).
 */
struct vfc_vring_layout {
	enum vfc_vring_layout_id id;
	size_t queue_size;
	unsigned int max_num;
	bool num_pow2;
	unsigned int min_align;
	void (*geometry)(unsigned int num, unsigned int align,
			 struct vfc_vring_geometry *g);
	void (*setup)(struct vfc_vring *vr);
	int (*add)(struct vfc_vring *vr, struct scatterlist *sgs[],
		   unsigned int total, unsigned int out_sgs,
		   unsigned int in_sgs, void *data, gfp_t gfp);
	bool (*kick_prepare)(struct vfc_vring *vr);
	void *(*get_buf)(struct vfc_vring *vr, unsigned int *len);
	bool (*more_used)(struct vfc_vring *vr);
	void (*disable_cb)(struct vfc_vring *vr);
	unsigned int (*enable_cb_prepare)(struct vfc_vring *vr);
	bool (*poll)(struct vfc_vring *vr, unsigned int last_used);
	bool (*enable_cb_delayed)(struct vfc_vring *vr);
};

/**
 * struct vfc_vring_extra - the driver's own record of one descriptor
 * @addr: the address the device sees it at (DMA or physical)
 * @len: its length
 * @flags: VRING_DESC_F_WRITE or VRING_DESC_F_INDIRECT; the layout adds
 *	what chains need when it writes the descriptor out
 * @next: the free list's link, which a buffer's chain follows too (ring
 *	entries only)
 */
struct vfc_vring_extra {
	dma_addr_t addr;
	u32 len;
	u16 flags;
	u16 next;
};

/**
 * struct vfc_vring_indir - an indirect descriptor table and its record
 * @desc: the table the device reads, in the layout's descriptor format
 *	(16 bytes an entry in both)
 * @dma: where the device sees @desc, once it is the buffer's ring entry
 * @mapped: @desc is mapped through the DMA API
 * @num: entries in @desc
 * @extra: the driver's record of each entry
 */
struct vfc_vring_indir {
	void *desc;
	dma_addr_t dma;
	bool mapped;
	unsigned int num;
	struct vfc_vring_extra extra[];
};

/* Both layouts' descriptors are 16 bytes, in rings and indirect tables. */
#define VFC_VRING_DESC_SIZE 16

/**
 * struct vfc_vring_state - a buffer in flight, by its head (split) or
 * buffer id (packed): the index of its first private entry
 * @data: the driver's token; NULL when not in flight
 * @indir: its indirect table, or NULL
 * @in_len: bytes the device may write (the sum of the writable entries)
 * @ndesc: ring descriptors (and private entries) the buffer takes
 * @last: its last private entry, which links back into the free list
 */
struct vfc_vring_state {
	void *data;
	struct vfc_vring_indir *indir;
	u32 in_len;
	u16 ndesc;
	u16 last;
};

/**
 * struct vfc_vring_buf - a buffer being added, between mapping and commit
 * @head: its first private entry (split head, packed buffer id)
 * @last: its last private entry
 * @ndesc: ring descriptors it takes
 * @n: entries mapped (scatterlist entries)
 * @indir: its indirect table, or NULL
 * @in_len: bytes the device may write
 */
struct vfc_vring_buf {
	u16 head;
	u16 last;
	u16 ndesc;
	unsigned int n;
	struct vfc_vring_indir *indir;
	u32 in_len;
};

/**
 * struct vfc_vring_area - one of a ring's three areas
 * @cpu: where the CPU sees it
 * @dma: where the device sees it
 */
struct vfc_vring_area {
	void *cpu;
	dma_addr_t dma;
};

/* The spec sections whose rules a device breaks on the used side. */
#define VFC_SPLIT_USED_RING	"Split Virtqueues / The Virtqueue Used Ring"
#define VFC_PACKED_DESC_TABLE	"Packed Virtqueues / The Virtqueue Descriptor Table"

/* A protocol violation's message: queue, violation and the values seen. */
#define VFC_VRING_MSG_LEN	128

/**
 * struct vfc_vring_stats - what a queue did, for debugfs (vfc/<device>/queues)
 * @added: buffers added
 * @used: buffers the device used and the driver took back
 * @kicks: notifications sent to the device
 * @kicks_suppressed: kicks the device declined (kick_prepare said no)
 * @interrupts: used buffer notifications (vfc_vring_interrupt())
 * @spurious: of those, the ones not claimed: nothing used, or the queue
 *	not live
 * @callbacks: calls of the queue's callback
 * @indirect: buffers added through an indirect table
 * @max_in_flight: the most buffers the device held at once
 *
 * Plain counters: each is written on a path its user serialises (the
 * queue's interrupt on one CPU at a time); readers take what they see.
 */
struct vfc_vring_stats {
	u64 added;
	u64 used;
	u64 kicks;
	u64 kicks_suppressed;
	u64 interrupts;
	u64 spurious;
	u64 callbacks;
	u64 indirect;
	unsigned int max_in_flight;
};

/**
 * struct vfc_vring - a virtqueue's state common to both layouts
 * @vq: the public handle
 * @layout: the layout, which VFC_VRING_CALL() switches on
 * @broken: set once the device broke the protocol; read locklessly
 * @broken_reason: what it did, for messages and tests
 * @broken_msg: the message logged (after the device's name) for the
 *	violation that broke it, "" if vfc_break_device() did
 * @cbs_live: between DRIVER_OK and reset: interrupts may call back
 * @weak_barriers: SMP barriers suffice (VIRTIO_F_ORDER_PLATFORM not
 *	negotiated); otherwise the platform's DMA barriers are used
 * @indirect: VIRTIO_RING_F_INDIRECT_DESC negotiated
 * @event: VIRTIO_RING_F_EVENT_IDX negotiated
 * @notify: the transport's notification, false if it failed
 * @dma_dev: the device that maps rings and buffers
 * @use_dma_api: rings and buffers go through the DMA API on @dma_dev;
 *	otherwise the device sees guest-physical addresses (see
 *	vfc_vring_use_dma_api())
 * @num: the ring's size
 * @num_added: avail entries (split) or slots (packed) added since the
 *	last kick_prepare
 * @in_flight: buffers handed to the device and not yet returned
 * @free_head: the first free private entry
 * @extra: the record of each ring descriptor, by private entry
 * @state: the record of each buffer in flight, by its first entry
 * @ring_mem: CPU address of the one coherent ring allocation
 * @ring_dma: its DMA address
 * @ring_bytes: its size
 * @desc: the descriptor area
 * @driver: the driver area (split: available ring; packed: driver event
 *	suppression structure)
 * @device: the device area (split: used ring; packed: device event
 *	suppression structure)
 * @stats: what it did, for debugfs
 */
struct vfc_vring {
	struct vfc_virtqueue vq;
	enum vfc_vring_layout_id layout;
	bool broken;
	const char *broken_reason;
	char broken_msg[VFC_VRING_MSG_LEN];
	bool cbs_live;
	bool weak_barriers;
	bool indirect;
	bool event;
	bool (*notify)(struct vfc_virtqueue *vq);
	struct device *dma_dev;
	bool use_dma_api;
	unsigned int num;
	unsigned int num_added;
	unsigned int in_flight;
	u16 free_head;
	struct vfc_vring_extra *extra;
	struct vfc_vring_state *state;
	void *ring_mem;
	dma_addr_t ring_dma;
	size_t ring_bytes;
	struct vfc_vring_area desc;
	struct vfc_vring_area driver;
	struct vfc_vring_area device;
	struct vfc_vring_stats stats;
#if IS_ENABLED(CONFIG_KUNIT)
	/*
	 * KUnit: called right after each barrier, with 'm', 'r' or 'w' for
	 * its kind: a case looks at the ring as the device would at that
	 * instant (what is written before it, what is read after it).
	 */
	void (*test_barrier)(const struct vfc_vring *vr, char kind);
	void *test_priv;
#endif
};

static inline struct vfc_vring *to_vfc_vring(const struct vfc_virtqueue *vq)
{
	return container_of(vq, struct vfc_vring, vq);
}

static inline void vfc_vring_test_barrier(const struct vfc_vring *vr,
					  char kind)
{
#if IS_ENABLED(CONFIG_KUNIT)
	if (unlikely(vr->test_barrier))
		vr->test_barrier(vr, kind);
#endif
}

/*
 * Barriers between the driver and the device; what each orders is written
 * at its call site. A device that is software on another CPU (weak
 * barriers) needs SMP ordering only; a device that may be hardware
 * (VIRTIO_F_ORDER_PLATFORM) needs the platform's ordering for DMA.
 */
static inline void vfc_vring_mb(const struct vfc_vring *vr)
{
	if (vr->weak_barriers)
		/* full ordering against another CPU */
		virt_mb();
	else
		/* full ordering against a DMA master */
		mb();
	vfc_vring_test_barrier(vr, 'm');
}

static inline void vfc_vring_rmb(const struct vfc_vring *vr)
{
	if (vr->weak_barriers)
		/* reads ordered against another CPU's writes */
		virt_rmb();
	else
		/* reads ordered against a DMA master's writes */
		dma_rmb();
	vfc_vring_test_barrier(vr, 'r');
}

static inline void vfc_vring_wmb(const struct vfc_vring *vr)
{
	if (vr->weak_barriers)
		/* writes ordered for another CPU's reads */
		virt_wmb();
	else
		/* writes ordered for a DMA master's reads */
		dma_wmb();
	vfc_vring_test_barrier(vr, 'w');
}

__printf(4, 5)
void vfc_vring_bad(struct vfc_vring *vr, const char *section,
		   const char *reason, const char *fmt, ...);
void vfc_vring_set_broken(struct vfc_vring *vr, const char *reason);

/* ------------------------------------------------------------------------
 * The split layout (virtio_ring_split.c)
 */

/**
 * struct vfc_vring_split - a split virtqueue
 * @common: state shared with the packed layout; first, as the generic
 *	code frees the whole by it
 * @vring: CPU addresses of the three areas
 * @avail_idx_shadow: our copy of avail->idx, never read back
 * @avail_flags_shadow: our copy of avail->flags, never read back
 * @last_used_idx: the next used entry to read
 */
struct vfc_vring_split {
	struct vfc_vring common;
	struct vring vring;
	u16 avail_idx_shadow;
	u16 avail_flags_shadow;
	u16 last_used_idx;
};

void vfc_vring_geometry_split(unsigned int num, unsigned int align,
			      struct vfc_vring_geometry *g);
void vfc_vring_setup_split(struct vfc_vring *vr);
int vfc_vring_add_split(struct vfc_vring *vr, struct scatterlist *sgs[],
			unsigned int total, unsigned int out_sgs,
			unsigned int in_sgs, void *data, gfp_t gfp);
bool vfc_vring_kick_prepare_split(struct vfc_vring *vr);
void *vfc_vring_get_buf_split(struct vfc_vring *vr, unsigned int *len);
bool vfc_vring_more_used_split(struct vfc_vring *vr);
void vfc_vring_disable_cb_split(struct vfc_vring *vr);
unsigned int vfc_vring_enable_cb_prepare_split(struct vfc_vring *vr);
bool vfc_vring_poll_split(struct vfc_vring *vr, unsigned int last_used);
bool vfc_vring_enable_cb_delayed_split(struct vfc_vring *vr);

/* For the KUnit suites only, exported to them alone. */
int vfc_vring_split_test_set_index(struct vfc_virtqueue *vq, u16 idx);

/* ------------------------------------------------------------------------
 * The packed layout (virtio_ring_packed.c)
 */

/**
 * struct vfc_vring_packed - a packed virtqueue
 * @common: state shared with the split layout; first, as the generic code
 *	frees the whole by it. Its private entries are named by buffer id.
 * @desc: the descriptor ring
 * @driver: the driver event suppression structure
 * @device: the device event suppression structure
 * @next_avail: the next slot to fill
 * @avail_wrap: the driver's wrap counter
 * @avail_used_flags: AVAIL and USED as @avail_wrap wants them
 * @last_used_wrap: the next slot the device writes a used descriptor to,
 *	and in bit 15 (VRING_PACKED_EVENT_F_WRAP_CTR) its wrap counter: one
 *	value, written and read whole, so that an interrupt on another CPU
 *	never pairs a slot with the other lap's counter
 * @event_flags_shadow: our copy of @driver's flags, never read back
 */
struct vfc_vring_packed {
	struct vfc_vring common;
	struct vring_packed_desc *desc;
	struct vring_packed_desc_event *driver;
	struct vring_packed_desc_event *device;
	u16 next_avail;
	bool avail_wrap;
	u16 avail_used_flags;
	u16 last_used_wrap;
	u16 event_flags_shadow;
};

void vfc_vring_geometry_packed(unsigned int num, unsigned int align,
			       struct vfc_vring_geometry *g);
void vfc_vring_setup_packed(struct vfc_vring *vr);
int vfc_vring_add_packed(struct vfc_vring *vr, struct scatterlist *sgs[],
			 unsigned int total, unsigned int out_sgs,
			 unsigned int in_sgs, void *data, gfp_t gfp);
bool vfc_vring_kick_prepare_packed(struct vfc_vring *vr);
void *vfc_vring_get_buf_packed(struct vfc_vring *vr, unsigned int *len);
bool vfc_vring_more_used_packed(struct vfc_vring *vr);
void vfc_vring_disable_cb_packed(struct vfc_vring *vr);
unsigned int vfc_vring_enable_cb_prepare_packed(struct vfc_vring *vr);
bool vfc_vring_poll_packed(struct vfc_vring *vr, unsigned int last_used);
bool vfc_vring_enable_cb_delayed_packed(struct vfc_vring *vr);

/* ------------------------------------------------------------------------
 * For the core and the KUnit suites
 */

/**
 * struct vfc_vring_view - a ring's areas as the CPU sees them
 * @layout: the ring's layout, which says what the areas hold
 * @num: the ring's size
 * @desc: the descriptor area
 * @driver: the driver area (split: available ring; packed: driver event
 *	suppression structure)
 * @device: the device area (split: used ring; packed: device event
 *	suppression structure)
 */
struct vfc_vring_view {
	enum vfc_vring_layout_id layout;
	unsigned int num;
	void *desc;
	void *driver;
	void *device;
};

/* For the KUnit suites only, exported to them alone. */
void vfc_vring_get_view(const struct vfc_virtqueue *vq,
			struct vfc_vring_view *view);

/* For the core's DRIVER_OK and reset; exported to the KUnit suites alone. */
void vfc_vring_set_cbs_live(struct vfc_device *vdev, bool live);

/* For the core's negotiation; exported to the KUnit suites alone. */
u64 vfc_vring_transport_features(void);

#endif /* _VFC_RING_INTERNAL_H */
