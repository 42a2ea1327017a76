// SPDX-License-Identifier: GPL-2.0
/*
 * vfc_pci: the virtio-PCI modern transport (virtio spec, "Virtio Over PCI
 * Bus"), implementing struct vfc_config_ops for the vfc core.
 *
 * Binds modern virtio functions (device ids 0x1040-0x107f) and transitional
 * ones (0x1000-0x103f) through their modern interface, and only those
 * given to it (driver_override). There is no module device table: vfc_pci
 * must never be loaded automatically in place of the kernel's virtio_pci,
 * which usually drives the guest's disk and network. It takes the devices
 * of the types its takeover= parameter names, from virtio_pci or free, and
 * gives them back when it unloads (virtio_pci_takeover.c); guest/vfc-move
 * moves one by hand.
 *
 * Interrupts: MSI-X with a vector for config changes and one per queue,
 * else one vector shared by the queues, else INTx with the ISR register.
 * A vector the device refuses (reads back VIRTIO_MSI_NO_VECTOR) moves on to
 * the next mode.
 */
#include <kunit/visibility.h>
#include <linux/delay.h>
#include <linux/interrupt.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <uapi/linux/virtio_config.h>
#include <uapi/linux/virtio_pci.h>
#include "vfc_compat.h"
#include <vfc/vfc.h>
#include <vfc/vfc_config.h>
#include <vfc/vfc_ring.h>

#include "vfc_pci_internal.h"

/* A reset that takes longer than this is a device that does not reset. */
#define VFC_PCI_RESET_TIMEOUT_MS 1000
/* One that takes longer than this goes into the conformance report. */
#define VFC_PCI_RESET_SLOW_MS 100
/* "ISR status capability": bit 0, a queue interrupt (uapi names bit 1 only) */
#define VFC_PCI_ISR_QUEUE 0x1
/* Where the spec says what the device does with a vector it is given. */
#define VFC_PCI_MSIX_CFG "Virtio Over PCI Bus / MSI-X Vector Configuration"
/* Where the spec says what device_status does on reset. */
#define VFC_PCI_COMMON_CFG "Virtio Over PCI Bus / Common configuration structure layout"

enum vfc_pci_irq_mode {
	VFC_PCI_MSIX_PER_VQ,
	VFC_PCI_MSIX_SHARED,
	VFC_PCI_INTX,
};

static const char *const vfc_pci_irq_mode_names[] = {
	[VFC_PCI_MSIX_PER_VQ] = "MSI-X, a vector per queue",
	[VFC_PCI_MSIX_SHARED] = "MSI-X, one vector shared by the queues",
	[VFC_PCI_INTX] = "INTx",
};

static struct vfc_pci_device *to_vp(struct vfc_device *vdev)
{
	return container_of(vdev, struct vfc_pci_device, vdev);
}

/* ------------------------------------------------------------------------
 * Register access: the function's BARs, or the KUnit suite's stand-in
 */

static bool vfc_pci_windowed(const struct vfc_pci_device *vp)
{
	return IS_ENABLED(CONFIG_KUNIT) && vp->window;
}

static u8 vfc_pci_rd8(struct vfc_pci_device *vp, const void __iomem *addr)
{
	if (vfc_pci_windowed(vp))
		return vp->window->read(vp, addr, 1);
	return ioread8(addr);
}

static u16 vfc_pci_rd16(struct vfc_pci_device *vp, const void __iomem *addr)
{
	if (vfc_pci_windowed(vp))
		return vp->window->read(vp, addr, 2);
	return ioread16(addr);
}

static u32 vfc_pci_rd32(struct vfc_pci_device *vp, const void __iomem *addr)
{
	if (vfc_pci_windowed(vp))
		return vp->window->read(vp, addr, 4);
	return ioread32(addr);
}

static void vfc_pci_wr8(struct vfc_pci_device *vp, u8 val, void __iomem *addr)
{
	if (vfc_pci_windowed(vp))
		vp->window->write(vp, addr, val, 1);
	else
		iowrite8(val, addr);
}

static void vfc_pci_wr16(struct vfc_pci_device *vp, u16 val,
			 void __iomem *addr)
{
	if (vfc_pci_windowed(vp))
		vp->window->write(vp, addr, val, 2);
	else
		iowrite16(val, addr);
}

static void vfc_pci_wr32(struct vfc_pci_device *vp, u32 val,
			 void __iomem *addr)
{
	if (vfc_pci_windowed(vp))
		vp->window->write(vp, addr, val, 4);
	else
		iowrite32(val, addr);
}

/* A function that was surprise-removed reads all-ones from now on. */
static bool vfc_pci_gone(struct vfc_pci_device *vp)
{
	if (vfc_pci_windowed(vp))
		return !vp->window->present(vp);
	return !pci_device_is_present(vp->pdev);
}

/* Bus mastering off: the function can no longer reach guest memory. */
static void vfc_pci_stop_dma(struct vfc_pci_device *vp)
{
	if (vfc_pci_windowed(vp))
		vp->window->clear_master(vp);
	else
		pci_clear_master(vp->pdev);
}

/* Interrupt resources: the function's, or the stand-in's. */
static bool vfc_pci_has_msix(struct vfc_pci_device *vp)
{
	if (vfc_pci_windowed(vp))
		return vp->window->msix;
	return vp->pdev->msix_cap;
}

static int vfc_pci_alloc_vectors(struct vfc_pci_device *vp, unsigned int nvec)
{
	if (vfc_pci_windowed(vp))
		return vp->window->alloc_vectors(vp, nvec);
	return pci_alloc_irq_vectors(vp->pdev, nvec, nvec, PCI_IRQ_MSIX);
}

static void vfc_pci_free_vectors(struct vfc_pci_device *vp)
{
	if (vfc_pci_windowed(vp))
		vp->window->free_vectors(vp);
	else
		pci_free_irq_vectors(vp->pdev);
}

static void vfc_pci_free_irq(struct vfc_pci_device *vp, int irq, void *data)
{
	if (vfc_pci_windowed(vp))
		vp->window->free_irq(vp, irq, data);
	else
		free_irq(irq, data);
}

static void vfc_pci_sync_irq(struct vfc_pci_device *vp, int irq)
{
	/* The stand-in calls the handlers itself, never concurrently. */
	if (!vfc_pci_windowed(vp))
		synchronize_irq(irq);
}

/* ------------------------------------------------------------------------
 * Config space, status, features
 */

/* Is [offset, offset + len) inside the mapped device config? */
static bool vfc_pci_cfg_ok(struct vfc_pci_device *vp, unsigned int offset,
			   unsigned int len)
{
	if (vp->device && len <= vp->device_len &&
	    offset <= vp->device_len - len)
		return true;
	dev_err_ratelimited(&vp->vdev.dev,
			    "config access %u+%u outside the %zu bytes of device config\n",
			    offset, len, vp->device_len);
	return false;
}

/*
 * Fields are read with their own width ("Virtio Structure PCI
 * Capabilities": aligned accesses of the field's size); @buf holds them in
 * the device's byte order, little-endian.
 */
static void vfc_pci_get(struct vfc_device *vdev, unsigned int offset,
			void *buf, unsigned int len)
{
	struct vfc_pci_device *vp = to_vp(vdev);
	void __iomem *p = vp->device + offset;
	__le16 w;
	__le32 l;
	unsigned int i;

	if (!vfc_pci_cfg_ok(vp, offset, len)) {
		memset(buf, 0, len);
		return;
	}
	switch (len) {
	case 1:
		*(u8 *)buf = vfc_pci_rd8(vp, p);
		break;
	case 2:
		w = cpu_to_le16(vfc_pci_rd16(vp, p));
		memcpy(buf, &w, sizeof(w));
		break;
	case 4:
		l = cpu_to_le32(vfc_pci_rd32(vp, p));
		memcpy(buf, &l, sizeof(l));
		break;
	case 8:
		l = cpu_to_le32(vfc_pci_rd32(vp, p));
		memcpy(buf, &l, sizeof(l));
		l = cpu_to_le32(vfc_pci_rd32(vp, p + 4));
		memcpy(buf + 4, &l, sizeof(l));
		break;
	default:
		for (i = 0; i < len; i++)
			((u8 *)buf)[i] = vfc_pci_rd8(vp, p + i);
	}
}

static void vfc_pci_set(struct vfc_device *vdev, unsigned int offset,
			const void *buf, unsigned int len)
{
	struct vfc_pci_device *vp = to_vp(vdev);
	void __iomem *p = vp->device + offset;
	__le16 w;
	__le32 l;
	unsigned int i;

	if (!vfc_pci_cfg_ok(vp, offset, len))
		return;
	switch (len) {
	case 1:
		vfc_pci_wr8(vp, *(const u8 *)buf, p);
		break;
	case 2:
		memcpy(&w, buf, sizeof(w));
		vfc_pci_wr16(vp, le16_to_cpu(w), p);
		break;
	case 4:
		memcpy(&l, buf, sizeof(l));
		vfc_pci_wr32(vp, le32_to_cpu(l), p);
		break;
	case 8:
		memcpy(&l, buf, sizeof(l));
		vfc_pci_wr32(vp, le32_to_cpu(l), p);
		memcpy(&l, buf + 4, sizeof(l));
		vfc_pci_wr32(vp, le32_to_cpu(l), p + 4);
		break;
	default:
		for (i = 0; i < len; i++)
			vfc_pci_wr8(vp, ((const u8 *)buf)[i], p + i);
	}
}

/*
 * A function that is gone reads all-ones everywhere: it has no config to
 * read. Its generation then never holds still (values no 8-bit register
 * gives), so that every read of its config fails with -EAGAIN
 * (vfc_config_read()) rather than handing out all-ones as values.
 */
static u32 vfc_pci_generation(struct vfc_device *vdev)
{
	struct vfc_pci_device *vp = to_vp(vdev);
	u8 gen = vfc_pci_rd8(vp, &vp->common->config_generation);

	if (gen == 0xff && vfc_pci_gone(vp))
		return 0x100 + atomic_inc_return(&vp->gone_generation);
	return gen;
}

static u8 vfc_pci_get_status(struct vfc_device *vdev)
{
	struct vfc_pci_device *vp = to_vp(vdev);

	return vfc_pci_rd8(vp, &vp->common->device_status);
}

static void vfc_pci_set_status(struct vfc_device *vdev, u8 status)
{
	struct vfc_pci_device *vp = to_vp(vdev);

	vfc_pci_wr8(vp, status, &vp->common->device_status);
}

/*
 * "The driver MUST wait for a read of device_status to return 0 before
 * reinitializing the device" - but not forever. A device that does not
 * reset may still write the memory its driver is about to free ("Device
 * Cleanup"): bus mastering goes off, so it can no longer reach guest memory
 * at all, and the error says so. A device that is gone ends the wait at
 * once.
 */
static int vfc_pci_reset(struct vfc_device *vdev)
{
	struct vfc_pci_device *vp = to_vp(vdev);
	unsigned long start = jiffies, deadline;

	vfc_pci_wr8(vp, 0, &vp->common->device_status);
	deadline = start + msecs_to_jiffies(VFC_PCI_RESET_TIMEOUT_MS);
	while (vfc_pci_rd8(vp, &vp->common->device_status)) {
		if (vfc_pci_gone(vp)) {
			dev_err(&vdev->dev, "device is gone: not waiting for its reset\n");
			return -ENODEV;
		}
		if (time_after(jiffies, deadline)) {
			vfc_pci_stop_dma(vp);
			dev_err(&vdev->dev, "device did not reset within %u ms: bus mastering off, it can no longer reach guest memory\n",
				VFC_PCI_RESET_TIMEOUT_MS);
			vfc_report_violation(vdev, VFC_PCI_COMMON_CFG,
					     "reset never completed",
					     "device_status 0x%02x after %u ms",
					     vfc_pci_rd8(vp, &vp->common->device_status),
					     VFC_PCI_RESET_TIMEOUT_MS);
			return -ETIMEDOUT;
		}
		usleep_range(1000, 2000);
	}
	/* Tolerated, and told: a reset that keeps the driver waiting. */
	if (time_after(jiffies, start + msecs_to_jiffies(VFC_PCI_RESET_SLOW_MS)))
		vfc_report_deviation(vdev, VFC_PCI_COMMON_CFG, "reset took long",
				     "%u ms", jiffies_to_msecs(jiffies - start));
	return 0;
}

static u64 vfc_pci_get_features(struct vfc_device *vdev)
{
	struct vfc_pci_device *vp = to_vp(vdev);
	struct virtio_pci_common_cfg __iomem *c = vp->common;
	u64 features;

	vfc_pci_wr32(vp, 0, &c->device_feature_select);
	features = vfc_pci_rd32(vp, &c->device_feature);
	vfc_pci_wr32(vp, 1, &c->device_feature_select);
	features |= (u64)vfc_pci_rd32(vp, &c->device_feature) << 32;
	/* All-ones from a function that is gone offers nothing. */
	if (features == U64_MAX && vfc_pci_gone(vp)) {
		dev_err(&vdev->dev, "device is gone: it offers no features\n");
		return 0;
	}
	return features;
}

static int vfc_pci_finalize_features(struct vfc_device *vdev)
{
	struct vfc_pci_device *vp = to_vp(vdev);
	struct virtio_pci_common_cfg __iomem *c = vp->common;

	vfc_pci_wr32(vp, 0, &c->guest_feature_select);
	vfc_pci_wr32(vp, lower_32_bits(vdev->features), &c->guest_feature);
	vfc_pci_wr32(vp, 1, &c->guest_feature_select);
	vfc_pci_wr32(vp, upper_32_bits(vdev->features), &c->guest_feature);
	return 0;
}

/* ------------------------------------------------------------------------
 * Interrupts
 */

VISIBLE_IF_KUNIT irqreturn_t vfc_pci_config_interrupt(int irq, void *data)
{
	struct vfc_pci_device *vp = data;

	vfc_config_changed(&vp->vdev);
	return IRQ_HANDLED;
}
EXPORT_SYMBOL_IF_KUNIT(vfc_pci_config_interrupt);

/*
 * A queue interrupt of this device that no queue claimed: "The device MUST
 * NOT consume buffers or send any used buffer notifications to the driver
 * before DRIVER_OK" (nor after a reset, which clears it). Not claimed, and
 * told when the status shows it so; with DRIVER_OK set it may be a late
 * one for buffers the driver already took, which is no fault.
 */
static void vfc_pci_unclaimed(struct vfc_pci_device *vp)
{
	u8 status = vfc_pci_rd8(vp, &vp->common->device_status);

	if (!(status & VIRTIO_CONFIG_S_DRIVER_OK))
		vfc_report_deviation(&vp->vdev, "Device Status Field",
				     "used buffer notification without DRIVER_OK",
				     "status 0x%02x", status);
}

/* A queue's own MSI-X vector. */
VISIBLE_IF_KUNIT irqreturn_t vfc_pci_vq_interrupt(int irq, void *data)
{
	struct vfc_virtqueue *vq = data;
	irqreturn_t ret = vfc_vring_interrupt(irq, vq);

	if (ret == IRQ_NONE)
		vfc_pci_unclaimed(to_vp(vq->vdev));
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(vfc_pci_vq_interrupt);

VISIBLE_IF_KUNIT irqreturn_t vfc_pci_vqs_interrupt(int irq, void *data)
{
	struct vfc_pci_device *vp = data;
	irqreturn_t ret = IRQ_NONE;
	unsigned int i;

	for (i = 0; i < vp->nvqs; i++) {
		/* Pairs with the release in vfc_pci_setup_vq(). */
		struct vfc_virtqueue *vq = smp_load_acquire(&vp->vqs[i].vq);

		if (vq && vfc_vring_interrupt(irq, vq) == IRQ_HANDLED)
			ret = IRQ_HANDLED;
	}
	/* The shared vector is this device's alone (INTx says so by ISR). */
	if (ret == IRQ_NONE && vp->msix_enabled)
		vfc_pci_unclaimed(vp);
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(vfc_pci_vqs_interrupt);

/* INTx: reading the ISR tells what happened and lowers the line. */
VISIBLE_IF_KUNIT irqreturn_t vfc_pci_intx_interrupt(int irq, void *data)
{
	struct vfc_pci_device *vp = data;
	u8 isr = vfc_pci_rd8(vp, vp->isr);

	if (!isr)
		return IRQ_NONE;
	/* All-ones: the device is gone and its line is someone else's now. */
	if (isr == 0xff && vfc_pci_gone(vp)) {
		vfc_break_device(&vp->vdev);
		return IRQ_NONE;
	}
	if (isr & VIRTIO_PCI_ISR_CONFIG)
		vfc_pci_config_interrupt(irq, vp);
	if (vfc_pci_vqs_interrupt(irq, vp) == IRQ_NONE &&
	    isr & VFC_PCI_ISR_QUEUE)
		vfc_pci_unclaimed(vp);
	return IRQ_HANDLED;
}
EXPORT_SYMBOL_IF_KUNIT(vfc_pci_intx_interrupt);

static void vfc_pci_synchronize_cbs(struct vfc_device *vdev)
{
	struct vfc_pci_device *vp = to_vp(vdev);
	unsigned int i;

	if (vp->config_irq)
		vfc_pci_sync_irq(vp, vp->config_irq);
	if (vp->shared_irq)
		vfc_pci_sync_irq(vp, vp->shared_irq);
	for (i = 0; i < vp->nvqs; i++)
		if (vp->vqs[i].irq)
			vfc_pci_sync_irq(vp, vp->vqs[i].irq);
}

/* ------------------------------------------------------------------------
 * Virtqueues
 */

/*
 * The hot path, straight to the BAR: the KUnit suite's stand-in never
 * kicks a queue.
 */
/*
 * "Available Buffer Notifications", without VIRTIO_F_NOTIFICATION_DATA: a
 * 16-bit write of the queue's index to its notify address.
 */
static bool vfc_pci_notify(struct vfc_virtqueue *vq)
{
	struct vfc_pci_vq *pvq = vq->priv;

	vfc_pci_wr16(to_vp(vq->vdev), vq->index, pvq->notify);
	return true;
}

static void vfc_pci_write_addr(struct vfc_pci_device *vp, u64 addr,
			       __le32 __iomem *lo, __le32 __iomem *hi)
{
	vfc_pci_wr32(vp, lower_32_bits(addr), lo);
	vfc_pci_wr32(vp, upper_32_bits(addr), hi);
}

/* Set up queue @index, its ring and, for MSI-X, its vector. */
VISIBLE_IF_KUNIT int vfc_pci_setup_vq(struct vfc_pci_device *vp,
				      unsigned int index,
				      const struct vfc_vq_info *info, u16 vector)
{
	struct virtio_pci_common_cfg __iomem *c = vp->common;
	struct vfc_pci_vq *pvq = &vp->vqs[index];
	struct vfc_vring_config cfg = {
		.index = index,
		.vring_align = SMP_CACHE_BYTES,
		.weak_barriers = !vfc_has_feature(&vp->vdev,
						  VIRTIO_F_ORDER_PLATFORM),
		.may_reduce_num = true,
		.notify = vfc_pci_notify,
		.callback = info->callback,
		.name = info->name,
		.dma_dev = vp->vdev.dev.parent,
	};
	struct vfc_virtqueue *vq;
	struct device *dev = &vp->vdev.dev;
	u16 num, notify_off;
	u32 offset;
	int err;

	if (index >= vfc_pci_rd16(vp, &c->num_queues)) {
		dev_err(dev, "queue %u (%s): device has only %u queues\n",
			index, info->name, vfc_pci_rd16(vp, &c->num_queues));
		return -ENOENT;
	}
	vfc_pci_wr16(vp, index, &c->queue_select);
	num = vfc_pci_rd16(vp, &c->queue_size);
	if (!num) {
		dev_err(dev, "queue %u (%s): size 0, not available\n", index,
			info->name);
		return -ENOENT;
	}
	if (vfc_pci_rd16(vp, &c->queue_enable)) {
		dev_err(dev, "queue %u (%s): already enabled before setup\n",
			index, info->name);
		vfc_report_violation(&vp->vdev, VFC_PCI_COMMON_CFG,
				     "queue enabled before setup",
				     "queue %u", index);
		return -ENOENT;
	}
	notify_off = vfc_pci_rd16(vp, &c->queue_notify_off);
	err = vfc_pci_notify_offset(&vp->caps, notify_off, &offset);
	if (err) {
		dev_err(dev, "queue %u (%s): notify offset %u x %u beyond the %u-byte notify structure\n",
			index, info->name, notify_off,
			vp->caps.notify_off_multiplier, vp->caps.notify.length);
		vfc_report_violation(&vp->vdev,
				     "Virtio Over PCI Bus / Notification structure layout",
				     "notify offset beyond the notify structure",
				     "queue %u: %u x %u, %u bytes", index,
				     notify_off, vp->caps.notify_off_multiplier,
				     vp->caps.notify.length);
		return err;
	}

	cfg.num = num;
	vq = vfc_vring_create_virtqueue(&vp->vdev, &cfg);
	if (IS_ERR(vq)) {
		dev_err(dev, "queue %u (%s): no ring for size %u: %pe\n", index,
			info->name, num, vq);
		/* "always a power of 2" (split), "up to 2^15 entries" (packed) */
		if (PTR_ERR(vq) == -EINVAL)
			vfc_report_violation(&vp->vdev,
					     vfc_has_feature(&vp->vdev, VIRTIO_F_RING_PACKED) ?
					     "Packed Virtqueues" : "Split Virtqueues",
					     "queue size the layout does not take",
					     "queue %u: %u", index, num);
		return PTR_ERR(vq);
	}
	pvq->notify = vp->notify + offset;
	vq->priv = pvq;
	/*
	 * Published whole: a handler of a shared line (INTx, or the shared
	 * vector), which may run at any time, sees the queue or NULL.
	 */
	smp_store_release(&pvq->vq, vq);

	/* The ring may be smaller than the device offered (may_reduce_num). */
	vfc_pci_wr16(vp, vfc_vq_get_vring_size(vq), &c->queue_size);
	vfc_pci_write_addr(vp, vfc_vq_get_desc_addr(vq), &c->queue_desc_lo,
			   &c->queue_desc_hi);
	vfc_pci_write_addr(vp, vfc_vq_get_avail_addr(vq), &c->queue_avail_lo,
			   &c->queue_avail_hi);
	vfc_pci_write_addr(vp, vfc_vq_get_used_addr(vq), &c->queue_used_lo,
			   &c->queue_used_hi);

	if (vector != VIRTIO_MSI_NO_VECTOR) {
		vfc_pci_wr16(vp, vector, &c->queue_msix_vector);
		/* A device out of vectors says so by reading back NO_VECTOR. */
		if (vfc_pci_rd16(vp, &c->queue_msix_vector) != vector) {
			vfc_report_deviation(&vp->vdev, VFC_PCI_MSIX_CFG,
					     "MSI-X vector refused",
					     "queue %u vector %u", index, vector);
			dev_info(dev, "queue %u (%s): device refused MSI-X vector %u\n",
				 index, info->name, vector);
			return -EBUSY;
		}
	}
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(vfc_pci_setup_vq);

/*
 * Undo find_vqs as far as it got; the device is reset or never enabled.
 * Interrupts go first: free_irq() waits for a handler still running on
 * another CPU, so once they are gone no handler can reach a queue, and
 * only then are the queues freed.
 */
static void vfc_pci_del_vqs(struct vfc_device *vdev)
{
	struct vfc_pci_device *vp = to_vp(vdev);
	struct virtio_pci_common_cfg __iomem *c = vp->common;
	unsigned int i;

	for (i = 0; i < vp->nvqs; i++) {
		struct vfc_pci_vq *pvq = &vp->vqs[i];

		if (pvq->irq)
			vfc_pci_free_irq(vp, pvq->irq, pvq->vq);
		pvq->irq = 0;
	}
	if (vp->shared_irq)
		vfc_pci_free_irq(vp, vp->shared_irq, vp);
	if (vp->config_irq)
		vfc_pci_free_irq(vp, vp->config_irq, vp);
	vp->shared_irq = 0;
	vp->config_irq = 0;

	if (vp->msix_enabled) {
		for (i = 0; i < vp->nvqs; i++) {
			if (!vp->vqs[i].vq)
				continue;
			vfc_pci_wr16(vp, i, &c->queue_select);
			vfc_pci_wr16(vp, VIRTIO_MSI_NO_VECTOR, &c->queue_msix_vector);
		}
		vfc_pci_wr16(vp, VIRTIO_MSI_NO_VECTOR, &c->msix_config);
		vfc_pci_free_vectors(vp);
		vp->msix_enabled = false;
	}

	for (i = 0; i < vp->nvqs; i++)
		if (vp->vqs[i].vq)
			vfc_vring_del_virtqueue(vp->vqs[i].vq);
	kfree(vp->vqs);
	vp->vqs = NULL;
	vp->nvqs = 0;
}

static int vfc_pci_request(struct vfc_pci_device *vp, int vector,
			   irq_handler_t handler, unsigned long flags,
			   char *name, const char *what, void *data, int *irq)
{
	int nr, err;

	snprintf(name, VFC_PCI_IRQ_NAME_LEN, "%s-%s",
		 dev_name(&vp->vdev.dev), what);
	if (vfc_pci_windowed(vp))
		return vp->window->request_irq(vp, vector, handler, data, irq);
	nr = vector < 0 ? vp->pdev->irq : pci_irq_vector(vp->pdev, vector);
	if (nr < 0)
		return nr;
	err = request_irq(nr, handler, flags, name, data);
	if (!err)
		*irq = nr;
	return err;
}

static int vfc_pci_find_vqs_mode(struct vfc_pci_device *vp, unsigned int nvqs,
				 struct vfc_virtqueue *vqs[],
				 const struct vfc_vq_info info[],
				 enum vfc_pci_irq_mode mode)
{
	struct virtio_pci_common_cfg __iomem *c = vp->common;
	unsigned int i, nvec = 0, next = 1;
	u16 vector;
	int err;

	vp->vqs = kcalloc(nvqs, sizeof(*vp->vqs), GFP_KERNEL);
	if (!vp->vqs)
		return -ENOMEM;
	vp->nvqs = nvqs;

	if (mode == VFC_PCI_MSIX_PER_VQ) {
		nvec = 1;
		for (i = 0; i < nvqs; i++)
			if (info[i].name && info[i].callback)
				nvec++;
	} else if (mode == VFC_PCI_MSIX_SHARED) {
		nvec = 2;
	}

	if (nvec) {
		err = vfc_pci_alloc_vectors(vp, nvec);
		if (err < 0)
			return err;
		vp->msix_enabled = true;
		err = vfc_pci_request(vp, 0, vfc_pci_config_interrupt, 0,
				      vp->config_irq_name, "config", vp,
				      &vp->config_irq);
		if (err)
			return err;
		vfc_pci_wr16(vp, 0, &c->msix_config);
		if (vfc_pci_rd16(vp, &c->msix_config) != 0) {
			vfc_report_deviation(&vp->vdev, VFC_PCI_MSIX_CFG,
					     "MSI-X vector refused",
					     "config vector 0");
			dev_info(&vp->vdev.dev, "device refused MSI-X vector 0 for config changes\n");
			return -EBUSY;
		}
		if (mode == VFC_PCI_MSIX_SHARED) {
			err = vfc_pci_request(vp, 1, vfc_pci_vqs_interrupt, 0,
					      vp->shared_irq_name, "virtqueues",
					      vp, &vp->shared_irq);
			if (err)
				return err;
		}
	} else {
		if (!vp->isr) {
			dev_err(&vp->vdev.dev, "no MSI-X and no ISR capability: no way to take interrupts\n");
			return -ENODEV;
		}
		err = vfc_pci_request(vp, -1, vfc_pci_intx_interrupt,
				      IRQF_SHARED, vp->shared_irq_name, "intx",
				      vp, &vp->shared_irq);
		if (err)
			return err;
	}

	for (i = 0; i < nvqs; i++) {
		if (!info[i].name) {
			vqs[i] = NULL;
			continue;
		}
		vector = VIRTIO_MSI_NO_VECTOR;
		if (info[i].callback && mode == VFC_PCI_MSIX_PER_VQ)
			vector = next++;
		else if (info[i].callback && mode == VFC_PCI_MSIX_SHARED)
			vector = 1;
		err = vfc_pci_setup_vq(vp, i, &info[i], vector);
		if (err)
			return err;
		if (mode == VFC_PCI_MSIX_PER_VQ && info[i].callback) {
			err = vfc_pci_request(vp, vector, vfc_pci_vq_interrupt, 0,
					      vp->vqs[i].irq_name, info[i].name,
					      vp->vqs[i].vq, &vp->vqs[i].irq);
			if (err)
				return err;
		}
		vqs[i] = vp->vqs[i].vq;
	}

	/* Enabling is the last step: only a reset undoes it. */
	for (i = 0; i < nvqs; i++) {
		if (!vp->vqs[i].vq)
			continue;
		vfc_pci_wr16(vp, i, &c->queue_select);
		vfc_pci_wr16(vp, 1, &c->queue_enable);
	}
	return 0;
}

static int vfc_pci_find_vqs(struct vfc_device *vdev, unsigned int nvqs,
			    struct vfc_virtqueue *vqs[],
			    const struct vfc_vq_info info[])
{
	struct vfc_pci_device *vp = to_vp(vdev);
	enum vfc_pci_irq_mode mode = vfc_pci_has_msix(vp) ? VFC_PCI_MSIX_PER_VQ :
							   VFC_PCI_INTX;
	int err;

	for (;; mode++) {
		err = vfc_pci_find_vqs_mode(vp, nvqs, vqs, info, mode);
		if (!err) {
			dev_info(&vdev->dev, "%u queues, interrupts by %s\n",
				 nvqs, vfc_pci_irq_mode_names[mode]);
			return 0;
		}
		vfc_pci_del_vqs(vdev);
		/* Only a missing or refused interrupt resource is worth a retry. */
		if (mode == VFC_PCI_INTX ||
		    (err != -EBUSY && err != -ENOSPC && err != -EINVAL))
			return err;
	}
}

VISIBLE_IF_KUNIT const struct vfc_config_ops vfc_pci_config_ops = {
	.get = vfc_pci_get,
	.set = vfc_pci_set,
	.generation = vfc_pci_generation,
	.get_status = vfc_pci_get_status,
	.set_status = vfc_pci_set_status,
	.reset = vfc_pci_reset,
	.find_vqs = vfc_pci_find_vqs,
	.del_vqs = vfc_pci_del_vqs,
	.synchronize_cbs = vfc_pci_synchronize_cbs,
	.get_features = vfc_pci_get_features,
	.finalize_features = vfc_pci_finalize_features,
};
EXPORT_SYMBOL_IF_KUNIT(vfc_pci_config_ops);

/* ------------------------------------------------------------------------
 * The PCI driver
 */

static void __iomem *vfc_pci_map(struct vfc_pci_device *vp,
				 const struct vfc_pci_region *r, size_t len)
{
	return pci_iomap_range(vp->pdev, r->bar, r->offset, len);
}

static void vfc_pci_unmap(struct vfc_pci_device *vp)
{
	if (vp->notify)
		pci_iounmap(vp->pdev, vp->notify);
	if (vp->device)
		pci_iounmap(vp->pdev, vp->device);
	if (vp->isr)
		pci_iounmap(vp->pdev, vp->isr);
	if (vp->common)
		pci_iounmap(vp->pdev, vp->common);
	if (vp->bars)
		pci_release_selected_regions(vp->pdev, vp->bars);
}

/**
 * vfc_pci_map_lengths() - how much of each structure to map
 * @caps: the capabilities, checked by the parser
 * @len: set to the lengths: the common configuration's registers, one
 *	byte of ISR status (0 without it), the device configuration up to
 *	VFC_PCI_DEVICE_CFG_MAX (0 without it) and the whole notification
 *	structure, whose queue offsets come later
 *
 * "The drivers SHOULD only map part of configuration structure large
 * enough for device operation."
 */
VISIBLE_IF_KUNIT void vfc_pci_map_lengths(const struct vfc_pci_caps *caps,
					  struct vfc_pci_map_lens *len)
{
	len->common = sizeof(struct virtio_pci_common_cfg);
	len->isr = caps->isr.present ? 1 : 0;
	len->device = caps->device.present ?
		      min_t(size_t, caps->device.length,
			    VFC_PCI_DEVICE_CFG_MAX) : 0;
	len->notify = caps->notify.length;
}
EXPORT_SYMBOL_IF_KUNIT(vfc_pci_map_lengths);

/* Map only what is needed of each structure, checked by the parser. */
static int vfc_pci_map_all(struct vfc_pci_device *vp)
{
	struct vfc_pci_caps *caps = &vp->caps;
	struct vfc_pci_map_lens len;
	int bars, err;

	bars = BIT(caps->common.bar) | BIT(caps->notify.bar);
	if (caps->isr.present)
		bars |= BIT(caps->isr.bar);
	if (caps->device.present)
		bars |= BIT(caps->device.bar);
	err = pci_request_selected_regions(vp->pdev, bars, "vfc_pci");
	if (err)
		return err;
	vp->bars = bars;

	vfc_pci_map_lengths(caps, &len);
	vp->common = vfc_pci_map(vp, &caps->common, len.common);
	vp->notify = vfc_pci_map(vp, &caps->notify, len.notify);
	if (!vp->common || !vp->notify)
		return -ENOMEM;
	if (len.isr) {
		vp->isr = vfc_pci_map(vp, &caps->isr, len.isr);
		if (!vp->isr)
			return -ENOMEM;
	}
	if (len.device) {
		vp->device_len = len.device;
		vp->device = vfc_pci_map(vp, &caps->device, vp->device_len);
		if (!vp->device)
			return -ENOMEM;
	}
	return 0;
}

static void vfc_pci_release(struct device *dev)
{
	kfree(to_vp(dev_to_vfc(dev)));
}

static int vfc_pci_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct vfc_pci_bar bars[VFC_PCI_NUM_BARS] = {};
	struct vfc_pci_device *vp;
	u8 *cfg;
	u32 v;
	int i, err;

	int virtio_id = vfc_pci_virtio_id(pdev);

	if (virtio_id < 0)
		return virtio_id;

	vp = kzalloc(sizeof(*vp), GFP_KERNEL);
	cfg = kzalloc(VFC_PCI_CFG_SPACE, GFP_KERNEL);
	if (!vp || !cfg) {
		err = -ENOMEM;
		goto err_alloc;
	}
	vp->pdev = pdev;
	vp->vdev.id.device = virtio_id;
	vp->vdev.id.vendor = pdev->subsystem_vendor;

	err = pci_enable_device(pdev);
	if (err)
		goto err_alloc;

	for (i = 0; i < VFC_PCI_CFG_SPACE; i += 4) {
		pci_read_config_dword(pdev, i, &v);
		put_unaligned_le32(v, cfg + i);
	}
	for (i = 0; i < VFC_PCI_NUM_BARS; i++)
		if (pci_resource_flags(pdev, i) & (IORESOURCE_MEM | IORESOURCE_IO))
			bars[i].len = pci_resource_len(pdev, i);
	err = vfc_pci_parse_caps(cfg, bars, &vp->caps, &pdev->dev);
	if (err)
		goto err_enable;

	err = dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(64));
	if (err)
		err = dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(32));
	if (err) {
		dev_err(&pdev->dev, "no usable DMA mask\n");
		goto err_enable;
	}

	err = vfc_pci_map_all(vp);
	if (err) {
		dev_err(&pdev->dev, "cannot map the virtio structures: %d\n", err);
		goto err_map;
	}
	pci_set_master(pdev);

	vp->vdev.dev.parent = &pdev->dev;
	vp->vdev.dev.release = vfc_pci_release;
	vp->vdev.config = &vfc_pci_config_ops;
	pci_set_drvdata(pdev, vp);
	kfree(cfg);

	err = vfc_register_device(&vp->vdev);
	if (err) {
		/* Registration took a reference: the release frees @vp. */
		vfc_pci_unmap(vp);
		pci_clear_master(pdev);
		pci_disable_device(pdev);
		put_device(&vp->vdev.dev);
		return err;
	}
	/* Its report exists from registration on: what the parser ignored. */
	if (vp->caps.ignored)
		vfc_report_violation(&vp->vdev,
				     "Virtio Over PCI Bus / Virtio Structure PCI Capabilities",
				     "capability ignored", "%s (%u in all)",
				     vp->caps.ignored_why, vp->caps.ignored);
	return 0;

err_map:
	vfc_pci_unmap(vp);
err_enable:
	pci_disable_device(pdev);
err_alloc:
	kfree(cfg);
	kfree(vp);
	return err;
}

static void vfc_pci_remove(struct pci_dev *pdev)
{
	struct vfc_pci_device *vp = pci_get_drvdata(pdev);

	/* Keep @vp until the mappings are gone; unregistering drops a ref. */
	get_device(&vp->vdev.dev);
	/*
	 * Surprise removal: nothing the device would answer can come. Broken
	 * queues fail new requests and wake whoever waits for an old one, so
	 * the driver's remove does not wait out its timeouts.
	 */
	if (vfc_pci_gone(vp)) {
		dev_info(&vp->vdev.dev, "device is gone: breaking its queues\n");
		vfc_break_device(&vp->vdev);
	}
	vfc_unregister_device(&vp->vdev);
	vfc_pci_unmap(vp);
	pci_clear_master(pdev);
	pci_disable_device(pdev);
	put_device(&vp->vdev.dev);
}

/*
 * System sleep. The device's driver stops and resets it first. On the way
 * back the PCI core has restored the function's config space, and the
 * device, which the platform may have reset meanwhile, is initialised
 * again from the start.
 */
static int vfc_pci_freeze(struct device *dev)
{
	struct vfc_pci_device *vp = dev_get_drvdata(dev);
	int err;

	err = vfc_device_freeze(&vp->vdev);
	if (err)
		return err;
	pci_disable_device(to_pci_dev(dev));
	return 0;
}

static int vfc_pci_restore(struct device *dev)
{
	struct pci_dev *pdev = to_pci_dev(dev);
	struct vfc_pci_device *vp = pci_get_drvdata(pdev);
	int err;

	err = pci_enable_device(pdev);
	if (err) {
		dev_err(dev, "cannot enable the device on resume: %d\n", err);
		return err;
	}
	pci_set_master(pdev);
	return vfc_device_restore(&vp->vdev);
}

static DEFINE_SIMPLE_DEV_PM_OPS(vfc_pci_pm_ops, vfc_pci_freeze,
				vfc_pci_restore);

/*
 * Only functions given to vfc_pci: their driver_override names it
 * (takeover=, guest/vfc-move). A free function of another type, a disk
 * that virtio_pci has not probed yet say, is never bound by accident.
 */
static const struct pci_device_id vfc_pci_ids[] = {
	{ PCI_DEVICE_DRIVER_OVERRIDE(VFC_PCI_VENDOR, PCI_ANY_ID, 1) },
	{ }
};

struct pci_driver vfc_pci_driver = {
	.name = "vfc_pci",
	.id_table = vfc_pci_ids,
	.probe = vfc_pci_probe,
	.remove = vfc_pci_remove,
	.driver.pm = pm_sleep_ptr(&vfc_pci_pm_ops),
	/* The takeover's device_attach() must find it probed. */
	.driver.probe_type = PROBE_FORCE_SYNCHRONOUS,
};

static int __init vfc_pci_init(void)
{
	int err;

	err = vfc_pci_takeover_init();
	if (err)
		return err;
	err = pci_register_driver(&vfc_pci_driver);
	if (err) {
		vfc_pci_takeover_exit();
		return err;
	}
	vfc_pci_takeover_existing();
	return 0;
}
module_init(vfc_pci_init);

static void __exit vfc_pci_exit(void)
{
	pci_unregister_driver(&vfc_pci_driver);
	vfc_pci_takeover_exit();
}
module_exit(vfc_pci_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("vfc: virtio-PCI modern transport");
MODULE_IMPORT_NS(VFC_NS);
