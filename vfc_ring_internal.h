/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vfc: private virtqueue state shared by the ring layouts.
 *
 * The public handle is struct vfc_virtqueue; each layout's private struct
 * embeds a struct vfc_vring, which embeds the handle. The generic API in
 * virtio_ring.c dispatches through struct vfc_vring_ops to the layout.
 */
#ifndef _VFC_RING_INTERNAL_H
#define _VFC_RING_INTERNAL_H

#include <linux/dma-mapping.h>
#include <vfc/vfc_ring.h>

struct vfc_vring;

/**
 * struct vfc_vring_extra - the driver's own record of one descriptor
 * @addr: the DMA address it was mapped at
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
 * @dma: where @desc is mapped, if @mapped
 * @mapped: @desc is mapped for the device
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

/* What a ring layout implements; see the exported wrappers for the rules. */
struct vfc_vring_ops {
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
 * struct vfc_vring - a virtqueue's state common to both layouts
 * @vq: the public handle
 * @ops: the layout's operations
 * @broken: set once the device broke the protocol; read locklessly
 * @broken_reason: what it did, for messages and tests
 * @weak_barriers: SMP barriers suffice (VIRTIO_F_ORDER_PLATFORM not
 *	negotiated); otherwise the platform's DMA barriers are used
 * @indirect: VIRTIO_RING_F_INDIRECT_DESC negotiated
 * @event: VIRTIO_RING_F_EVENT_IDX negotiated
 * @packed: the packed layout
 * @notify: the transport's notification, false if it failed
 * @dma_dev: the device that maps rings and buffers
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
 * @desc_dma: DMA address of the descriptor area
 * @driver_dma: DMA address of the driver area (split: available ring)
 * @device_dma: DMA address of the device area (split: used ring)
 */
struct vfc_vring {
	struct vfc_virtqueue vq;
	const struct vfc_vring_ops *ops;
	bool broken;
	const char *broken_reason;
	bool weak_barriers;
	bool indirect;
	bool event;
	bool packed;
	bool (*notify)(struct vfc_virtqueue *vq);
	struct device *dma_dev;
	unsigned int num;
	unsigned int num_added;
	unsigned int in_flight;
	u16 free_head;
	struct vfc_vring_extra *extra;
	struct vfc_vring_state *state;
	void *ring_mem;
	dma_addr_t ring_dma;
	size_t ring_bytes;
	dma_addr_t desc_dma;
	dma_addr_t driver_dma;
	dma_addr_t device_dma;
};

static inline struct vfc_vring *to_vfc_vring(const struct vfc_virtqueue *vq)
{
	return container_of(vq, struct vfc_vring, vq);
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
}

static inline void vfc_vring_rmb(const struct vfc_vring *vr)
{
	if (vr->weak_barriers)
		/* reads ordered against another CPU's writes */
		virt_rmb();
	else
		/* reads ordered against a DMA master's writes */
		dma_rmb();
}

static inline void vfc_vring_wmb(const struct vfc_vring *vr)
{
	if (vr->weak_barriers)
		/* writes ordered for another CPU's reads */
		virt_wmb();
	else
		/* writes ordered for a DMA master's reads */
		dma_wmb();
}

__printf(3, 4)
void vfc_vring_bad(struct vfc_vring *vr, const char *reason,
		   const char *fmt, ...);
void vfc_vring_set_broken(struct vfc_vring *vr, const char *reason);

int vfc_vring_init(struct vfc_vring *vr, unsigned int index,
		   struct vfc_device *vdev, bool weak_barriers,
		   bool (*notify)(struct vfc_virtqueue *vq),
		   vfc_vq_callback_t *callback, const char *name,
		   struct device *dma_dev);
int vfc_vring_alloc(struct vfc_vring *vr, unsigned int num,
		    bool may_reduce_num,
		    size_t (*ring_bytes)(unsigned int num, unsigned int align),
		    unsigned int align);
void vfc_vring_free(struct vfc_vring *vr);

int vfc_vring_map_buf(struct vfc_vring *vr, struct scatterlist *sgs[],
		      unsigned int total, unsigned int out_sgs,
		      unsigned int in_sgs, gfp_t gfp, struct vfc_vring_buf *buf);
int vfc_vring_map_indir(struct vfc_vring *vr, struct vfc_vring_buf *buf);
void vfc_vring_unmap_buf(struct vfc_vring *vr, struct vfc_vring_buf *buf);
void vfc_vring_commit(struct vfc_vring *vr, const struct vfc_vring_buf *buf,
		      void *data);
void *vfc_vring_detach(struct vfc_vring *vr, u16 head);
void *vfc_vring_take_used(struct vfc_vring *vr, u32 id, u32 len);

struct vfc_virtqueue *
vfc_vring_create_split(unsigned int index, unsigned int num,
		       unsigned int vring_align, struct vfc_device *vdev,
		       bool weak_barriers, bool may_reduce_num,
		       bool (*notify)(struct vfc_virtqueue *vq),
		       vfc_vq_callback_t *callback, const char *name,
		       struct device *dma_dev);
const struct vring *vfc_vring_split_vring(const struct vfc_vring *vr);

struct vfc_virtqueue *
vfc_vring_create_packed(unsigned int index, unsigned int num,
			struct vfc_device *vdev, bool weak_barriers,
			bool may_reduce_num,
			bool (*notify)(struct vfc_virtqueue *vq),
			vfc_vq_callback_t *callback, const char *name,
			struct device *dma_dev);
unsigned int vfc_vring_packed_view(const struct vfc_vring *vr,
				   struct vring_packed_desc **desc,
				   struct vring_packed_desc_event **driver,
				   struct vring_packed_desc_event **device);

#endif /* _VFC_RING_INTERNAL_H */
