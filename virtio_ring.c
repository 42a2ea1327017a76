// SPDX-License-Identifier: GPL-2.0
/*
 * vfc: virtqueues, the layout-independent part.
 *
 * Creation picks the layout's table by the negotiated features once and
 * allocates, places and frees the ring through it; every other call checks
 * what is common (arguments, a broken queue) and dispatches on the layout
 * with VFC_VRING_CALL(), which calls the operation in the layout's table
 * (vfc_ring_layouts.h) directly. Buffer mapping and the "device broke the
 * protocol" path live here so that both layouts share them.
 */
#include <kunit/visibility.h>
#include <linux/cc_platform.h>
#include <linux/log2.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <uapi/linux/virtio_config.h>
#include "vfc_compat.h"
#include <vfc/vfc.h>
#include <xen/xen.h>

#include "vfc_ring_buf.h"
#include "vfc_ring_layouts.h"
#include "vfc_trace.h"

/* ------------------------------------------------------------------------
 * Shared helpers for the layouts
 */

/**
 * vfc_vring_set_broken() - stop using a queue for good
 * @vr: the queue
 * @reason: what went wrong, a string constant
 *
 * The first reason sticks, whichever CPU gives it. Any context: the queue's
 * own path and vfc_break_device() may race. Readers of @broken use
 * READ_ONCE(); @broken_reason is set before @broken.
 */
void vfc_vring_set_broken(struct vfc_vring *vr, const char *reason)
{
	trace_vfc_vq_broken(&vr->vq, reason);
	cmpxchg(&vr->broken_reason, NULL, reason);
	/*
	 * The reason is visible to whoever sees @broken: pairs with the
	 * acquire in vfc_vq_broken_reason().
	 */
	smp_store_release(&vr->broken, true);
}

/**
 * vfc_vring_bad() - the device broke the ring protocol
 * @vr: the queue
 * @section: the title of the spec section whose rule it broke
 * @reason: the violation, a string constant (kept, see
 *	vfc_vq_broken_reason())
 * @fmt: the details: which id, index or length
 *
 * Marks the queue broken and says so, rate-limited, naming the device and
 * the queue: a hostile device must not be able to flood the log. The
 * first violation's message stays for vfc_vq_broken_message(); the
 * device's conformance report counts it. Called from the queue's own
 * paths, which its user serialises.
 */
void vfc_vring_bad(struct vfc_vring *vr, const char *section,
		   const char *reason, const char *fmt, ...)
{
	char msg[VFC_VRING_MSG_LEN];
	struct va_format vaf;
	va_list args;

	va_start(args, fmt);
	vaf.fmt = fmt;
	vaf.va = &args;
	snprintf(msg, sizeof(msg), "vq %u (%s): %s (%pV)", vr->vq.index,
		 vr->vq.name, reason, &vaf);
	va_end(args);
	if (!READ_ONCE(vr->broken_reason))
		strscpy(vr->broken_msg, msg, sizeof(vr->broken_msg));
	dev_err_ratelimited(&vr->vq.vdev->dev, "%s; queue broken\n", msg);
	vfc_report_violation(vr->vq.vdev, section, reason, "%s", msg);
	vfc_vring_set_broken(vr, reason);
}

/**
 * vfc_vring_use_dma_api() - whether @vdev's queues go through the DMA API
 * @vdev: the device, with features negotiated
 *
 * "Reserved Feature Bits", VIRTIO_F_ACCESS_PLATFORM: without it the device
 * reads and writes guest-physical addresses, whatever IOMMU sits between
 * (the driver MUST pass only physical addresses), so an IOVA from the DMA
 * API would send it to the wrong memory. With it, the device is behind
 * the platform's translation and everything is mapped. A platform that
 * restricts what a device may see (guest memory encryption, Xen grants)
 * needs the DMA API whatever was negotiated: its bounce buffers are the
 * only memory such a device can reach.
 *
 * Return: true to map through the DMA API, false for physical addresses.
 */
static bool vfc_vring_use_dma_api(const struct vfc_device *vdev)
{
	if (vfc_has_feature(vdev, VIRTIO_F_ACCESS_PLATFORM))
		return true;
	return cc_platform_has(CC_ATTR_GUEST_MEM_ENCRYPT) || xen_domain();
}

/* ------------------------------------------------------------------------
 * Creation and teardown
 */

/* Free the ring and the records vfc_vring_alloc_once() allocated. */
static void vfc_vring_free(struct vfc_vring *vr)
{
	if (vr->ring_mem && vr->use_dma_api)
		dma_free_coherent(vr->dma_dev, vr->ring_bytes, vr->ring_mem,
				  vr->ring_dma);
	else if (vr->ring_mem)
		free_pages_exact(vr->ring_mem, vr->ring_bytes);
	vr->ring_mem = NULL;
	kvfree(vr->extra);
	vr->extra = NULL;
	kvfree(vr->state);
	vr->state = NULL;
}

/* A ring of @num entries laid out as @g, and the driver's records of it. */
static int vfc_vring_alloc_once(struct vfc_vring *vr, unsigned int num,
				const struct vfc_vring_geometry *g)
{
	vr->ring_bytes = g->bytes;
	if (vr->use_dma_api) {
		vr->ring_mem = dma_alloc_coherent(vr->dma_dev, vr->ring_bytes,
						  &vr->ring_dma,
						  GFP_KERNEL | __GFP_NOWARN);
	} else {
		/* Zeroed and page aligned, as dma_alloc_coherent() gives. */
		vr->ring_mem = alloc_pages_exact(vr->ring_bytes, GFP_KERNEL |
						 __GFP_ZERO | __GFP_NOWARN);
		if (vr->ring_mem)
			vr->ring_dma = virt_to_phys(vr->ring_mem);
	}
	vr->extra = kvcalloc(num, sizeof(*vr->extra), GFP_KERNEL);
	vr->state = kvcalloc(num, sizeof(*vr->state), GFP_KERNEL);
	if (vr->ring_mem && vr->extra && vr->state)
		return 0;
	vfc_vring_free(vr);
	return -ENOMEM;
}

static void vfc_vring_place(struct vfc_vring *vr, struct vfc_vring_area *area,
			    size_t offset)
{
	area->cpu = vr->ring_mem + offset;
	area->dma = vr->ring_dma + offset;
}

/*
 * Allocate the ring as @layout lays it out, one coherent DMA allocation
 * (page aligned), halving @num down to VFC_VRING_MIN_NUM while it does not
 * fit if @may_reduce_num. On success the free list holds every private
 * entry, the areas are placed, and vr->num, num_free and num_max give the
 * size obtained. Returns 0, or -ENOMEM when no size fits.
 */
static int vfc_vring_alloc(struct vfc_vring *vr,
			   const struct vfc_vring_layout *layout,
			   unsigned int num, bool may_reduce_num,
			   unsigned int align)
{
	struct vfc_vring_geometry g;
	unsigned int n, i;

	for (n = num;; n /= 2) {
		layout->geometry(n, align, &g);
		if (!vfc_vring_alloc_once(vr, n, &g))
			break;
		if (!may_reduce_num || n / 2 < VFC_VRING_MIN_NUM)
			return -ENOMEM;
	}
	if (n != num)
		dev_info(&vr->vq.vdev->dev, "vq %u (%s): no room for %u entries, using %u\n",
			 vr->vq.index, vr->vq.name, num, n);

	for (i = 0; i < n; i++)
		vr->extra[i].next = i + 1;
	vr->num = n;
	vr->vq.num_free = n;
	vr->vq.num_max = n;
	vfc_vring_place(vr, &vr->desc, 0);
	vfc_vring_place(vr, &vr->driver, g.driver);
	vfc_vring_place(vr, &vr->device, g.device);
	return 0;
}

/* Whether @layout takes a ring of @num entries and @align as vring_align. */
static bool vfc_vring_size_ok(const struct vfc_vring_layout *layout,
			      unsigned int num, unsigned int align)
{
	if (!num || num > layout->max_num)
		return false;
	if (layout->num_pow2 && !is_power_of_2(num))
		return false;
	if (!layout->min_align)
		return true;
	return is_power_of_2(align) && align >= layout->min_align &&
	       align <= PAGE_SIZE;
}

/**
 * vfc_vring_create_virtqueue() - create a virtqueue in DMA-mapped memory
 * @vdev: the device, with features negotiated
 * @cfg: the queue's index, size, callbacks and DMA device
 *
 * The layout follows the negotiated features: split unless
 * VIRTIO_F_RING_PACKED. Split rings take sizes that are powers of two up
 * to 32768 and a @cfg->vring_align that is a power of two from 4 to
 * PAGE_SIZE; packed rings take any size from 1 to 32768 and fix their own
 * alignments. A queue without a callback asks the device not to interrupt
 * for it. The queue joins @vdev's list of queues.
 *
 * Context: process context; may sleep.
 * Return: the queue, or ERR_PTR(-EINVAL) for a missing argument or a bad
 * size or alignment, ERR_PTR(-ENOMEM) when no ring fits.
 */
struct vfc_virtqueue *
vfc_vring_create_virtqueue(struct vfc_device *vdev,
			   const struct vfc_vring_config *cfg)
{
	const struct vfc_vring_layout *layout;
	struct vfc_vring *vr;
	int err;

	if (!vdev || !cfg->notify || !cfg->dma_dev)
		return ERR_PTR(-EINVAL);
	layout = vfc_vring_layout_of(vdev);
	if (!vfc_vring_size_ok(layout, cfg->num, cfg->vring_align))
		return ERR_PTR(-EINVAL);

	vr = kzalloc(layout->queue_size, GFP_KERNEL);
	if (!vr)
		return ERR_PTR(-ENOMEM);
	vr->layout = layout->id;
	vr->vq.vdev = vdev;
	vr->vq.index = cfg->index;
	vr->vq.name = cfg->name;
	vr->vq.callback = cfg->callback;
	vr->notify = cfg->notify;
	vr->dma_dev = cfg->dma_dev;
	vr->use_dma_api = vfc_vring_use_dma_api(vdev);
	vr->weak_barriers = cfg->weak_barriers;
	vr->indirect = vfc_has_feature(vdev, VIRTIO_RING_F_INDIRECT_DESC);
	vr->event = vfc_has_feature(vdev, VIRTIO_RING_F_EVENT_IDX);

	err = vfc_vring_alloc(vr, layout, cfg->num, cfg->may_reduce_num,
			      cfg->vring_align);
	if (err) {
		kfree(vr);
		return ERR_PTR(err);
	}
	layout->setup(vr);
	/* Nobody to call: ask the device not to interrupt at all. */
	if (!cfg->callback)
		VFC_VRING_CALL_VOID(vr, disable_cb);

	spin_lock_irq(&vdev->vqs_list_lock);
	list_add_tail(&vr->vq.list, &vdev->vqs);
	spin_unlock_irq(&vdev->vqs_list_lock);
	return &vr->vq;
}
EXPORT_SYMBOL_NS_GPL(vfc_vring_create_virtqueue, VFC_NS);

/**
 * vfc_vring_del_virtqueue() - free a virtqueue and its ring
 * @vq: the queue; the device no longer uses it (reset, or queue disabled)
 *
 * Buffers still outstanding are unmapped; their tokens are lost, so a
 * driver detaches them first with vfc_vq_detach_unused_buf().
 *
 * Context: process context; may sleep.
 */
void vfc_vring_del_virtqueue(struct vfc_virtqueue *vq)
{
	struct vfc_vring *vr = to_vfc_vring(vq);
	struct vfc_device *vdev = vq->vdev;

	spin_lock_irq(&vdev->vqs_list_lock);
	list_del(&vq->list);
	spin_unlock_irq(&vdev->vqs_list_lock);

	while (vfc_vq_detach_unused_buf(vq))
		;
	vfc_vring_free(vr);
	/* Each layout's queue begins with the common part. */
	kfree(vr);
}
EXPORT_SYMBOL_NS_GPL(vfc_vring_del_virtqueue, VFC_NS);

/**
 * vfc_vring_transport_features() - the transport feature bits vfc
 * implements, the one place to add a bit once vfc implements it
 *
 * The core negotiates with it; outside vfc.ko only the KUnit suites reach
 * it.
 *
 * Modern devices only; memory the device sees goes through the DMA API
 * when VIRTIO_F_ACCESS_PLATFORM is negotiated (an IOMMU or bounce buffers
 * may sit in between), by physical address otherwise; barriers strong
 * enough for hardware devices; indirect descriptors, event index
 * suppression and the packed layout.
 *
 * Return: a mask of VIRTIO_F_* and VIRTIO_RING_F_* bits.
 */
u64 vfc_vring_transport_features(void)
{
	return BIT_ULL(VIRTIO_RING_F_INDIRECT_DESC) |
	       BIT_ULL(VIRTIO_RING_F_EVENT_IDX) |
	       BIT_ULL(VIRTIO_F_VERSION_1) |
	       BIT_ULL(VIRTIO_F_ACCESS_PLATFORM) |
	       BIT_ULL(VIRTIO_F_ORDER_PLATFORM) |
	       BIT_ULL(VIRTIO_F_RING_PACKED);
}
EXPORT_SYMBOL_IF_KUNIT(vfc_vring_transport_features);

/* ------------------------------------------------------------------------
 * Buffers
 */

/**
 * vfc_vq_add_sgs() - offer a buffer to the device
 * @vq: the queue
 * @sgs: @out_sgs scatterlists the device reads, then @in_sgs it writes
 * @out_sgs: number of readable scatterlists
 * @in_sgs: number of writable scatterlists
 * @data: the token vfc_vq_get_buf() returns for this buffer; not NULL
 * @gfp: how to allocate an indirect table
 *
 * Each scatterlist entry is mapped through the DMA API; the mappings last
 * until the buffer comes back or is detached. The device sees the buffer
 * after the next kick.
 *
 * Context: any context @gfp allows. The caller serialises calls that
 * change @vq.
 * Return: 0; -EINVAL for no entries or a NULL @data; -ENOSPC if the ring
 * lacks free descriptors; -ENOMEM if mapping failed (nothing stays mapped);
 * -EIO if the queue is broken.
 */
int vfc_vq_add_sgs(struct vfc_virtqueue *vq, struct scatterlist *sgs[],
		   unsigned int out_sgs, unsigned int in_sgs, void *data,
		   gfp_t gfp)
{
	struct vfc_vring *vr = to_vfc_vring(vq);
	struct scatterlist *sg;
	unsigned int i, total = 0;

	if (!data)
		return -EINVAL;
	for (i = 0; i < out_sgs + in_sgs; i++)
		for (sg = sgs[i]; sg; sg = sg_next(sg))
			total++;
	if (!total)
		return -EINVAL;
	if (READ_ONCE(vr->broken))
		return -EIO;
	return VFC_VRING_CALL(vr, add, sgs, total, out_sgs, in_sgs, data, gfp);
}
EXPORT_SYMBOL_NS_GPL(vfc_vq_add_sgs, VFC_NS);

/* The first @num entries of @sg (fewer if it ends sooner), one way. */
static int add_one_way(struct vfc_virtqueue *vq, struct scatterlist *sg,
		       unsigned int num, bool out, void *data, gfp_t gfp)
{
	struct vfc_vring *vr = to_vfc_vring(vq);
	struct scatterlist *s;
	unsigned int total = 0;

	if (!data)
		return -EINVAL;
	for (s = sg; s && total < num; s = sg_next(s))
		total++;
	if (!total)
		return -EINVAL;
	if (READ_ONCE(vr->broken))
		return -EIO;
	return VFC_VRING_CALL(vr, add, &sg, total, out, !out, data, gfp);
}

/**
 * vfc_vq_add_outbuf() - offer a buffer the device only reads
 * @vq: the queue
 * @sg: a scatterlist
 * @num: how many of its entries to offer (fewer if the list ends sooner)
 * @data: the token; not NULL
 * @gfp: how to allocate an indirect table
 *
 * Context: as vfc_vq_add_sgs().
 * Return: as vfc_vq_add_sgs().
 */
int vfc_vq_add_outbuf(struct vfc_virtqueue *vq, struct scatterlist sg[],
		      unsigned int num, void *data, gfp_t gfp)
{
	return add_one_way(vq, sg, num, true, data, gfp);
}
EXPORT_SYMBOL_NS_GPL(vfc_vq_add_outbuf, VFC_NS);

/**
 * vfc_vq_add_inbuf() - offer a buffer the device only writes
 * @vq: the queue
 * @sg: a scatterlist
 * @num: how many of its entries to offer (fewer if the list ends sooner)
 * @data: the token; not NULL
 * @gfp: how to allocate an indirect table
 *
 * Context: as vfc_vq_add_sgs().
 * Return: as vfc_vq_add_sgs().
 */
int vfc_vq_add_inbuf(struct vfc_virtqueue *vq, struct scatterlist sg[],
		     unsigned int num, void *data, gfp_t gfp)
{
	return add_one_way(vq, sg, num, false, data, gfp);
}
EXPORT_SYMBOL_NS_GPL(vfc_vq_add_inbuf, VFC_NS);

/**
 * vfc_vq_kick_prepare() - publish added buffers; does the device want to
 * hear about them?
 * @vq: the queue
 *
 * Context: the caller serialises calls that change @vq.
 * Return: true if vfc_vq_notify() should follow.
 */
bool vfc_vq_kick_prepare(struct vfc_virtqueue *vq)
{
	struct vfc_vring *vr = to_vfc_vring(vq);

	bool wanted;

	if (READ_ONCE(vr->broken))
		return false;
	wanted = VFC_VRING_CALL(vr, kick_prepare);
	vr->stats.kicks_suppressed += !wanted;
	trace_vfc_vq_kick(vq, wanted);
	return wanted;
}
EXPORT_SYMBOL_NS_GPL(vfc_vq_kick_prepare, VFC_NS);

/**
 * vfc_vq_notify() - tell the device there are new buffers
 * @vq: the queue
 *
 * A transport's failure to notify breaks the queue.
 *
 * Context: any context; needs no lock.
 * Return: false if the queue is (now) broken.
 */
bool vfc_vq_notify(struct vfc_virtqueue *vq)
{
	struct vfc_vring *vr = to_vfc_vring(vq);

	if (READ_ONCE(vr->broken))
		return false;
	if (!vr->notify(vq)) {
		vfc_vring_bad(vr, "Notifying The Device", "notify failed",
			      "transport could not notify");
		return false;
	}
	vr->stats.kicks++;
	return true;
}
EXPORT_SYMBOL_NS_GPL(vfc_vq_notify, VFC_NS);

/**
 * vfc_vq_kick() - vfc_vq_kick_prepare() then, if wanted, vfc_vq_notify()
 * @vq: the queue
 *
 * Context: the caller serialises calls that change @vq.
 * Return: false if the queue is broken.
 */
bool vfc_vq_kick(struct vfc_virtqueue *vq)
{
	if (vfc_vq_kick_prepare(vq))
		return vfc_vq_notify(vq);
	return !vfc_vq_is_broken(vq);
}
EXPORT_SYMBOL_NS_GPL(vfc_vq_kick, VFC_NS);

/**
 * vfc_vq_get_buf() - take back the next buffer the device used
 * @vq: the queue
 * @len: set to the bytes the device says it wrote
 *
 * The buffer's mappings are undone from the ring's private record. A used
 * entry that breaks the protocol breaks the queue instead.
 *
 * Context: the caller serialises calls that change @vq.
 * Return: the buffer's token, or NULL if none is ready or the queue is
 * broken.
 */
void *vfc_vq_get_buf(struct vfc_virtqueue *vq, unsigned int *len)
{
	struct vfc_vring *vr = to_vfc_vring(vq);

	if (READ_ONCE(vr->broken))
		return NULL;
	return VFC_VRING_CALL(vr, get_buf, len);
}
EXPORT_SYMBOL_NS_GPL(vfc_vq_get_buf, VFC_NS);

/**
 * vfc_vq_disable_cb() - ask the device not to interrupt for used buffers
 * @vq: the queue
 *
 * A hint: interrupts may still arrive.
 *
 * Context: the caller serialises calls that change @vq.
 */
void vfc_vq_disable_cb(struct vfc_virtqueue *vq)
{
	struct vfc_vring *vr = to_vfc_vring(vq);

	VFC_VRING_CALL_VOID(vr, disable_cb);
}
EXPORT_SYMBOL_NS_GPL(vfc_vq_disable_cb, VFC_NS);

/**
 * vfc_vq_enable_cb_prepare() - ask for interrupts again, check later
 * @vq: the queue
 *
 * Context: the caller serialises calls that change @vq.
 * Return: a position to hand to vfc_vq_poll().
 */
unsigned int vfc_vq_enable_cb_prepare(struct vfc_virtqueue *vq)
{
	struct vfc_vring *vr = to_vfc_vring(vq);

	return VFC_VRING_CALL(vr, enable_cb_prepare);
}
EXPORT_SYMBOL_NS_GPL(vfc_vq_enable_cb_prepare, VFC_NS);

/**
 * vfc_vq_poll() - did the device use buffers since a position?
 * @vq: the queue
 * @last_used_idx: from vfc_vq_enable_cb_prepare()
 *
 * Context: any context.
 * Return: true if buffers are waiting; false if none or broken.
 */
bool vfc_vq_poll(struct vfc_virtqueue *vq, unsigned int last_used_idx)
{
	struct vfc_vring *vr = to_vfc_vring(vq);

	if (READ_ONCE(vr->broken))
		return false;
	return VFC_VRING_CALL(vr, poll, last_used_idx);
}
EXPORT_SYMBOL_NS_GPL(vfc_vq_poll, VFC_NS);

/**
 * vfc_vq_enable_cb() - ask for interrupts again
 * @vq: the queue
 *
 * Context: the caller serialises calls that change @vq.
 * Return: false if buffers arrived meanwhile: the caller should process
 * them, as no interrupt may come for them.
 */
bool vfc_vq_enable_cb(struct vfc_virtqueue *vq)
{
	return !vfc_vq_poll(vq, vfc_vq_enable_cb_prepare(vq));
}
EXPORT_SYMBOL_NS_GPL(vfc_vq_enable_cb, VFC_NS);

/**
 * vfc_vq_enable_cb_delayed() - ask for an interrupt after most of the
 * outstanding buffers are used
 * @vq: the queue
 *
 * With VIRTIO_RING_F_EVENT_IDX the interrupt waits for three quarters of
 * the outstanding buffers; without it the device interrupts for each
 * buffer used from now on.
 *
 * Context: the caller serialises calls that change @vq.
 * Return: false if used buffers are waiting that the interrupt would not
 * announce: process them now. Split: more than three quarters of those
 * outstanding were used. Packed: any was, as the slot the device writes
 * next depends on which buffers it completes.
 */
bool vfc_vq_enable_cb_delayed(struct vfc_virtqueue *vq)
{
	struct vfc_vring *vr = to_vfc_vring(vq);

	if (READ_ONCE(vr->broken))
		return true;
	return VFC_VRING_CALL(vr, enable_cb_delayed);
}
EXPORT_SYMBOL_NS_GPL(vfc_vq_enable_cb_delayed, VFC_NS);

/**
 * vfc_vq_detach_unused_buf() - take back a buffer the device never used
 * @vq: the queue; the device no longer uses it (reset) or broke it
 *
 * Any buffer still in flight, however far the device got with it. The
 * queue is not offered buffers again until it is created anew.
 *
 * Context: the caller serialises calls that change @vq.
 * Return: a token, unmapped, or NULL when none is left.
 */
void *vfc_vq_detach_unused_buf(struct vfc_virtqueue *vq)
{
	struct vfc_vring *vr = to_vfc_vring(vq);
	unsigned int i;

	for (i = 0; i < vr->num; i++)
		if (vr->state[i].data)
			return vfc_vring_detach(vr, i);
	return NULL;
}
EXPORT_SYMBOL_NS_GPL(vfc_vq_detach_unused_buf, VFC_NS);

/**
 * vfc_vring_interrupt() - the transport's used-buffer interrupt for a queue
 * @irq: the interrupt (unused)
 * @vq: the queue
 *
 * Only a live queue (vfc_vring_set_cbs_live()) that is not broken calls
 * back. Any other interrupt is not claimed: on a shared line it is another
 * device's, and a device that keeps signalling a queue it must not use is
 * left to the kernel's detector of unhandled interrupts, not hidden.
 *
 * Context: interrupt context.
 * Return: IRQ_NONE if nothing was used or the queue may not call back,
 * else IRQ_HANDLED.
 */
irqreturn_t vfc_vring_interrupt(int irq, void *vq)
{
	struct vfc_vring *vr = to_vfc_vring(vq);
	bool live = READ_ONCE(vr->cbs_live);

	vr->stats.interrupts++;
	if (!live || READ_ONCE(vr->broken) || !VFC_VRING_CALL(vr, more_used)) {
		vr->stats.spurious++;
		trace_vfc_vq_interrupt(&vr->vq, false);
		return IRQ_NONE;
	}
	trace_vfc_vq_interrupt(&vr->vq, true);
	if (vr->vq.callback) {
		vr->stats.callbacks++;
		trace_vfc_vq_callback(&vr->vq);
		vr->vq.callback(&vr->vq);
	}
	return IRQ_HANDLED;
}
EXPORT_SYMBOL_NS_GPL(vfc_vring_interrupt, VFC_NS);

/* ------------------------------------------------------------------------
 * State
 */

/**
 * vfc_vq_is_broken() - has the queue stopped for good?
 * @vq: the queue
 *
 * Context: any context; needs no lock.
 * Return: true once the device broke the protocol or the device was
 * broken with vfc_break_device().
 */
bool vfc_vq_is_broken(const struct vfc_virtqueue *vq)
{
	return READ_ONCE(to_vfc_vring(vq)->broken);
}
EXPORT_SYMBOL_NS_GPL(vfc_vq_is_broken, VFC_NS);

/**
 * vfc_vq_broken_reason() - why the queue is broken
 * @vq: the queue
 *
 * Context: any context.
 * Return: a string constant naming the violation, or NULL if not broken.
 */
const char *vfc_vq_broken_reason(const struct vfc_virtqueue *vq)
{
	const struct vfc_vring *vr = to_vfc_vring(vq);

	/* Pairs with the release in vfc_vring_set_broken(). */
	return smp_load_acquire(&vr->broken) ? READ_ONCE(vr->broken_reason) :
					       NULL;
}
EXPORT_SYMBOL_NS_GPL(vfc_vq_broken_reason, VFC_NS);

/**
 * vfc_vq_broken_message() - what was logged when the device broke the queue
 * @vq: the queue
 *
 * Context: the queue's own context (its user serialises it with the path
 * that found the violation).
 * Return: the message logged, after the device's name, for the protocol
 * violation that broke the queue: the queue, the violation and the values
 * seen. NULL if the queue is not broken or vfc_break_device() broke it.
 */
const char *vfc_vq_broken_message(const struct vfc_virtqueue *vq)
{
	const struct vfc_vring *vr = to_vfc_vring(vq);

	return vfc_vq_broken_reason(vq) && vr->broken_msg[0] ?
	       vr->broken_msg : NULL;
}
EXPORT_SYMBOL_NS_GPL(vfc_vq_broken_message, VFC_NS);

/**
 * vfc_break_device() - break every queue of a device
 * @vdev: the device, e.g. one that failed or is going away
 *
 * Each live queue's callback then runs once, with interrupts off as from
 * its interrupt, so that a driver waiting for a buffer looks again, finds
 * the queue broken and stops waiting: nothing the device would answer is
 * coming.
 *
 * Context: any context, hard interrupt included.
 */
void vfc_break_device(struct vfc_device *vdev)
{
	struct vfc_virtqueue *vq;
	unsigned long flags;

	spin_lock_irqsave(&vdev->vqs_list_lock, flags);
	list_for_each_entry(vq, &vdev->vqs, list)
		vfc_vring_set_broken(to_vfc_vring(vq), "device broken");
	list_for_each_entry(vq, &vdev->vqs, list)
		if (vq->callback && READ_ONCE(to_vfc_vring(vq)->cbs_live))
			vq->callback(vq);
	spin_unlock_irqrestore(&vdev->vqs_list_lock, flags);
}
EXPORT_SYMBOL_NS_GPL(vfc_break_device, VFC_NS);

/**
 * vfc_vring_set_cbs_live() - open or close the window for callbacks
 * @vdev: the device
 * @live: true just before DRIVER_OK, false just before a reset
 *
 * "Device Initialization": the device may use its queues from DRIVER_OK
 * on, and a reset stops it ("Device Reset"). vfc_vring_interrupt() calls
 * back only inside that window. The core calls this; closing it does not
 * wait for a callback already running (the transport's synchronize_cbs
 * does).
 *
 * Context: any context.
 */
void vfc_vring_set_cbs_live(struct vfc_device *vdev, bool live)
{
	struct vfc_virtqueue *vq;
	unsigned long flags;

	spin_lock_irqsave(&vdev->vqs_list_lock, flags);
	list_for_each_entry(vq, &vdev->vqs, list)
		WRITE_ONCE(to_vfc_vring(vq)->cbs_live, live);
	spin_unlock_irqrestore(&vdev->vqs_list_lock, flags);
}
EXPORT_SYMBOL_IF_KUNIT(vfc_vring_set_cbs_live);

/**
 * vfc_vq_get_vring_size() - the ring's size
 * @vq: the queue
 *
 * Return: the number of entries, which may_reduce_num may have lowered.
 */
unsigned int vfc_vq_get_vring_size(const struct vfc_virtqueue *vq)
{
	return vq->num_max;
}
EXPORT_SYMBOL_NS_GPL(vfc_vq_get_vring_size, VFC_NS);

/**
 * vfc_vq_get_desc_addr() - DMA address of the descriptor area
 * @vq: the queue
 *
 * Return: the address a transport programs as the queue's descriptors.
 */
dma_addr_t vfc_vq_get_desc_addr(const struct vfc_virtqueue *vq)
{
	return to_vfc_vring(vq)->desc.dma;
}
EXPORT_SYMBOL_NS_GPL(vfc_vq_get_desc_addr, VFC_NS);

/**
 * vfc_vq_get_avail_addr() - DMA address of the driver area
 * @vq: the queue
 *
 * Return: the address of the available ring (split) or the driver event
 * suppression structure (packed).
 */
dma_addr_t vfc_vq_get_avail_addr(const struct vfc_virtqueue *vq)
{
	return to_vfc_vring(vq)->driver.dma;
}
EXPORT_SYMBOL_NS_GPL(vfc_vq_get_avail_addr, VFC_NS);

/**
 * vfc_vq_get_used_addr() - DMA address of the device area
 * @vq: the queue
 *
 * Return: the address of the used ring (split) or the device event
 * suppression structure (packed).
 */
dma_addr_t vfc_vq_get_used_addr(const struct vfc_virtqueue *vq)
{
	return to_vfc_vring(vq)->device.dma;
}
EXPORT_SYMBOL_NS_GPL(vfc_vq_get_used_addr, VFC_NS);

#if IS_ENABLED(CONFIG_KUNIT)
/**
 * vfc_vring_get_view() - a ring's areas as the CPU sees them
 * @vq: the queue
 * @view: filled in
 *
 * For code that plays the device side in memory: the KUnit suites, which
 * alone can reach it.
 */
void vfc_vring_get_view(const struct vfc_virtqueue *vq,
			struct vfc_vring_view *view)
{
	const struct vfc_vring *vr = to_vfc_vring(vq);

	view->layout = vr->layout;
	view->num = vr->num;
	view->desc = vr->desc.cpu;
	view->driver = vr->driver.cpu;
	view->device = vr->device.cpu;
}
EXPORT_SYMBOL_IF_KUNIT(vfc_vring_get_view);
#endif
