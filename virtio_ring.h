/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vfc: private virtqueue state shared by the ring layouts.
 *
 * The public handle is struct vfc_virtqueue; each layout's private struct
 * embeds a struct vfc_vring, which embeds the handle. The generic API in
 * virtio_ring.c dispatches through struct vfc_vring_ops to the layout.
 */
#ifndef _VFC_VIRTIO_RING_H
#define _VFC_VIRTIO_RING_H

#include <linux/dma-mapping.h>
#include <vfc/vfc_ring.h>

struct vfc_vring;

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
	void *(*detach_unused_buf)(struct vfc_vring *vr);
	void (*free)(struct vfc_vring *vr);
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
 * @notify: the transport's notification, false if it failed
 * @dma_dev: the device that maps rings and buffers
 * @num_added: buffers added since the last kick_prepare
 * @in_flight: buffers handed to the device and not yet returned
 * @ring_mem: CPU address of the one coherent ring allocation
 * @ring_dma: its DMA address
 * @ring_bytes: its size
 * @desc_dma: DMA address of the descriptor area
 * @driver_dma: DMA address of the driver area (split: available ring)
 * @device_dma: DMA address of the device area (split: used ring)
 * @packed: the packed layout (a later layout; false for split)
 */
struct vfc_vring {
	struct vfc_virtqueue vq;
	const struct vfc_vring_ops *ops;
	bool broken;
	const char *broken_reason;
	bool weak_barriers;
	bool indirect;
	bool event;
	bool (*notify)(struct vfc_virtqueue *vq);
	struct device *dma_dev;
	unsigned int num_added;
	unsigned int in_flight;
	void *ring_mem;
	dma_addr_t ring_dma;
	size_t ring_bytes;
	dma_addr_t desc_dma;
	dma_addr_t driver_dma;
	dma_addr_t device_dma;
	bool packed;
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

int vfc_vring_map_sg(struct vfc_vring *vr, struct scatterlist *sg,
		     enum dma_data_direction dir, dma_addr_t *addr);
void vfc_vring_unmap(struct vfc_vring *vr, dma_addr_t addr, u32 len,
		     enum dma_data_direction dir);

int vfc_vring_init_common(struct vfc_vring *vr, unsigned int index,
			  struct vfc_device *vdev, bool weak_barriers,
			  bool (*notify)(struct vfc_virtqueue *vq),
			  vfc_vq_callback_t *callback, const char *name,
			  struct device *dma_dev);

struct vfc_virtqueue *
vfc_vring_create_split(unsigned int index, unsigned int num,
		       unsigned int vring_align, struct vfc_device *vdev,
		       bool weak_barriers, bool may_reduce_num,
		       bool (*notify)(struct vfc_virtqueue *vq),
		       vfc_vq_callback_t *callback, const char *name,
		       struct device *dma_dev);
const struct vring *vfc_vring_split_vring(const struct vfc_vring *vr);

#endif /* _VFC_VIRTIO_RING_H */
