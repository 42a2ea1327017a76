/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vfc: virtqueues, the layout-independent API.
 *
 * A transport creates a device's queues with vfc_vring_create_virtqueue(),
 * which picks the split or the packed layout by the negotiated features and
 * allocates the rings through the DMA API against the transport's DMA
 * device. Drivers then post buffers (vfc_vq_add_*), tell the device
 * (vfc_vq_kick) and collect used buffers (vfc_vq_get_buf).
 *
 * Locking: a queue has no lock of its own. The caller serialises the calls
 * that change a queue (add, kick_prepare, get_buf, detach_unused_buf and
 * the enable/disable calls); vfc_vq_notify() and vfc_vq_is_broken() may run
 * beside them. vfc_vring_interrupt() may run at any time.
 */
#ifndef _VFC_VFC_RING_H
#define _VFC_VFC_RING_H

#include <linux/interrupt.h>
#include <linux/scatterlist.h>
#include <uapi/linux/virtio_ring.h>
#include <vfc/vfc_config.h>

/**
 * struct vfc_virtqueue - a virtqueue as drivers and transports see it
 * @list: entry in the device's @vqs list
 * @callback: called from vfc_vring_interrupt() when buffers were used
 * @name: the queue's name, for messages
 * @vdev: the device
 * @index: the queue's index on the device
 * @num_free: descriptors free (a buffer takes one per scatterlist entry,
 *	or one in all when it goes indirect)
 * @num_max: the ring's size
 * @priv: for the transport's use (e.g. the queue's notify address)
 */
struct vfc_virtqueue {
	struct list_head list;
	vfc_vq_callback_t *callback;
	const char *name;
	struct vfc_device *vdev;
	unsigned int index;
	unsigned int num_free;
	unsigned int num_max;
	void *priv;
};

/* The smallest ring may_reduce_num goes down to. */
#define VFC_VRING_MIN_NUM 8

/**
 * struct vfc_vring_config - what a transport asks of a new virtqueue
 * @index: the queue's index on the device
 * @num: the ring size asked for (the device's queue size)
 * @vring_align: split layout: alignment of the device area, a power of two
 *	from 4 to PAGE_SIZE; the packed layout's alignments are fixed
 * @weak_barriers: SMP barriers suffice; false when VIRTIO_F_ORDER_PLATFORM
 *	was negotiated
 * @may_reduce_num: if the ring does not fit, try halving it down to
 *	VFC_VRING_MIN_NUM entries
 * @notify: tells the device about new buffers; returns false on failure
 * @callback: called when the device used buffers, or NULL
 * @name: the queue's name, for messages
 * @dma_dev: the device that maps the ring and buffers (the transport's)
 */
struct vfc_vring_config {
	unsigned int index;
	unsigned int num;
	unsigned int vring_align;
	bool weak_barriers;
	bool may_reduce_num;
	bool (*notify)(struct vfc_virtqueue *vq);
	vfc_vq_callback_t *callback;
	const char *name;
	struct device *dma_dev;
};

struct vfc_virtqueue *
vfc_vring_create_virtqueue(struct vfc_device *vdev,
			   const struct vfc_vring_config *cfg);
void vfc_vring_del_virtqueue(struct vfc_virtqueue *vq);
irqreturn_t vfc_vring_interrupt(int irq, void *vq);

int vfc_vq_add_sgs(struct vfc_virtqueue *vq, struct scatterlist *sgs[],
		   unsigned int out_sgs, unsigned int in_sgs, void *data,
		   gfp_t gfp);
int vfc_vq_add_outbuf(struct vfc_virtqueue *vq, struct scatterlist sg[],
		      unsigned int num, void *data, gfp_t gfp);
int vfc_vq_add_inbuf(struct vfc_virtqueue *vq, struct scatterlist sg[],
		     unsigned int num, void *data, gfp_t gfp);
bool vfc_vq_kick_prepare(struct vfc_virtqueue *vq);
bool vfc_vq_notify(struct vfc_virtqueue *vq);
bool vfc_vq_kick(struct vfc_virtqueue *vq);
void *vfc_vq_get_buf(struct vfc_virtqueue *vq, unsigned int *len);
void vfc_vq_disable_cb(struct vfc_virtqueue *vq);
bool vfc_vq_enable_cb(struct vfc_virtqueue *vq);
unsigned int vfc_vq_enable_cb_prepare(struct vfc_virtqueue *vq);
bool vfc_vq_poll(struct vfc_virtqueue *vq, unsigned int last_used_idx);
bool vfc_vq_enable_cb_delayed(struct vfc_virtqueue *vq);
void *vfc_vq_detach_unused_buf(struct vfc_virtqueue *vq);
bool vfc_vq_is_broken(const struct vfc_virtqueue *vq);
const char *vfc_vq_broken_reason(const struct vfc_virtqueue *vq);
const char *vfc_vq_broken_message(const struct vfc_virtqueue *vq);
void vfc_break_device(struct vfc_device *vdev);

unsigned int vfc_vq_get_vring_size(const struct vfc_virtqueue *vq);
dma_addr_t vfc_vq_get_desc_addr(const struct vfc_virtqueue *vq);
dma_addr_t vfc_vq_get_avail_addr(const struct vfc_virtqueue *vq);
dma_addr_t vfc_vq_get_used_addr(const struct vfc_virtqueue *vq);

#endif /* _VFC_VFC_RING_H */
