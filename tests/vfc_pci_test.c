// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for vfc_pci's register layer (virtio_pci_modern.c) over a
 * fake register window: a stand-in for the PCI function
 * (struct vfc_pci_window_ops) whose common configuration, ISR and device
 * configuration are plain memory, with the side effects a device may or
 * may not have: a queue vector refused (NO_VECTOR read back), a config
 * generation that never settles, a reset that never completes, a function
 * that is gone (all-ones reads, not present). Below the queues sits the
 * fake DMA device, and the device negotiates VIRTIO_F_ACCESS_PLATFORM, so
 * every ring allocation is seen and each case ends with none left.
 *
 * Spec: virtio 1.4, "Virtio Over PCI Bus" (transport-pci.tex), "Device
 * Reset" and "Device Cleanup" (content.tex).
 */
#include <kunit/test.h>
#include <linux/jiffies.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <uapi/linux/virtio_config.h>
#include <uapi/linux/virtio_pci.h>

#include "vfc_compat.h"
#include <vfc/vfc.h>
#include <vfc/vfc_config.h>
#include <vfc/vfc_ring.h>

#include "vfc_pci_internal.h"
#include "vfc_ring_internal.h"
#include "vfc_test_support.h"

/* Queues the fake device has, each with its own size and vector. */
#define VFC_PT_QUEUES		2
#define VFC_PT_QSIZE		64
#define VFC_PT_CFG_LEN		16
#define VFC_PT_NOTIFY_LEN	16
#define VFC_PT_CFG_LOG		8
#define VFC_PT_CFG_VALUE	0x12345678
/* "ISR status capability": bit 0, a queue interrupt */
#define VFC_PT_ISR_QUEUE	0x1
/* bit 1, a configuration change */
#define VFC_PT_ISR_CONFIG	0x2
/* interrupts the stand-in can have requested at once */
#define VFC_PT_IRQS		8

/**
 * struct vfc_pt - the fixture: a vfc_pci device over a fake window
 * @vp: the device, as vfc_pci's probe would set it up, without a function
 * @dma: the fake DMA device, @vp's parent
 * @common: the common configuration registers; queue_size and
 *	queue_msix_vector are banked per queue below, by queue_select
 * @queue_size: each queue's queue_size
 * @queue_vector: each queue's queue_msix_vector
 * @isr: the ISR status register
 * @isr_reads: reads of @isr
 * @device_cfg: the device-specific configuration
 * @notify: the notification structure
 * @notify_writes: writes to @notify
 * @notify_at: the offset in @notify of the last one
 * @notify_width: its width in bytes
 * @notify_val: its value
 * @cfg_at: the offsets in @device_cfg of the accesses, in order
 * @cfg_width: their widths
 * @nr_cfg: how many (the first VFC_PT_CFG_LOG are kept)
 * @bad_writes: writes to fields the driver must not write (device_feature,
 *	num_queues, config_generation, queue_notify_off), or of 0 to
 *	queue_enable
 * @generation: config_generation as it moves when @unsettled
 * @gone: the function is gone: reads are all-ones, writes go nowhere
 * @refuse_vectors: vector writes read back VIRTIO_MSI_NO_VECTOR
 * @no_reset: writing 0 to device_status does not reset the device
 * @unsettled: config_generation changes on every read
 * @stop_dma: times bus mastering was turned off
 * @callbacks: queue callbacks run
 * @refuse_config_vector: msix_config writes read back VIRTIO_MSI_NO_VECTOR
 * @table_size: the MSI-X table's size (Table Size + 1); 0: no MSI-X
 * @vectors: vectors allocated, 0 when none are
 * @max_vector: the highest vector written to msix_config or a
 *	queue_msix_vector (other than VIRTIO_MSI_NO_VECTOR), -1 if none
 * @handler: each interrupt requested, by its cookie - 1; NULL when free
 * @irq_data: its data
 * @irqs: interrupts requested and not freed
 */
struct vfc_pt {
	struct vfc_pci_device vp;
	struct vfc_fake_dma *dma;
	struct virtio_pci_common_cfg common;
	u16 queue_size[VFC_PT_QUEUES];
	u16 queue_vector[VFC_PT_QUEUES];
	u8 isr;
	unsigned int isr_reads;
	u8 device_cfg[VFC_PT_CFG_LEN];
	u8 notify[VFC_PT_NOTIFY_LEN];
	unsigned int notify_writes;
	unsigned int notify_at;
	unsigned int notify_width;
	u32 notify_val;
	u8 cfg_at[VFC_PT_CFG_LOG];
	u8 cfg_width[VFC_PT_CFG_LOG];
	unsigned int nr_cfg;
	unsigned int bad_writes;
	u8 generation;
	bool gone;
	bool refuse_vectors;
	bool no_reset;
	bool unsettled;
	unsigned int stop_dma;
	unsigned int callbacks;
	bool refuse_config_vector;
	unsigned int table_size;
	unsigned int vectors;
	int max_vector;
	irq_handler_t handler[VFC_PT_IRQS];
	void *irq_data[VFC_PT_IRQS];
	unsigned int irqs;
};

static struct vfc_pt *to_pt(struct vfc_pci_device *vp)
{
	return container_of(vp, struct vfc_pt, vp);
}

/* The banked register of the selected queue, or NULL if it is none. */
static u16 *vfc_pt_banked(struct vfc_pt *t, const void *a)
{
	u16 sel = le16_to_cpu(t->common.queue_select);

	if (sel >= VFC_PT_QUEUES)
		return NULL;
	if (a == &t->common.queue_size)
		return &t->queue_size[sel];
	if (a == &t->common.queue_msix_vector)
		return &t->queue_vector[sel];
	return NULL;
}

/* Log an access to the device-specific configuration. */
static void vfc_pt_cfg_access(struct vfc_pt *t, const void *a,
			      unsigned int width)
{
	const u8 *cfg = t->device_cfg;

	if ((const u8 *)a < cfg || (const u8 *)a >= cfg + sizeof(t->device_cfg))
		return;
	if (t->nr_cfg < VFC_PT_CFG_LOG) {
		t->cfg_at[t->nr_cfg] = (const u8 *)a - cfg;
		t->cfg_width[t->nr_cfg] = width;
	}
	t->nr_cfg++;
}

static u32 vfc_pt_read(struct vfc_pci_device *vp, const void __iomem *addr,
		       unsigned int width)
{
	struct vfc_pt *t = to_pt(vp);
	const void *a = (__force const void *)addr;
	u16 *banked;

	vfc_pt_cfg_access(t, a, width);
	if (a == &t->isr)
		t->isr_reads++;
	if (t->gone)
		return width == 4 ? U32_MAX : (1U << (8 * width)) - 1;
	if (a == &t->common.config_generation && t->unsettled)
		return ++t->generation;
	if (a == &t->common.queue_size || a == &t->common.queue_msix_vector) {
		banked = vfc_pt_banked(t, a);
		return banked ? *banked : 0;
	}
	switch (width) {
	case 1:
		return *(const u8 *)a;
	case 2:
		return get_unaligned_le16(a);
	default:
		return get_unaligned_le32(a);
	}
}

static void vfc_pt_write(struct vfc_pci_device *vp, void __iomem *addr,
			 u32 val, unsigned int width)
{
	struct vfc_pt *t = to_pt(vp);
	void *a = (__force void *)addr;
	u16 *banked;

	if (t->gone)
		return;
	vfc_pt_cfg_access(t, a, width);
	/* "The driver MUST NOT write to device_feature, num_queues, ..." */
	if (a == &t->common.device_feature || a == &t->common.num_queues ||
	    a == &t->common.config_generation ||
	    a == &t->common.queue_notify_off ||
	    (a == &t->common.queue_enable && !val))
		t->bad_writes++;
	if (a >= (void *)t->notify && a < (void *)t->notify + sizeof(t->notify)) {
		t->notify_writes++;
		t->notify_at = a - (void *)t->notify;
		t->notify_width = width;
		t->notify_val = val;
	}
	if (a == &t->common.device_status && !val && t->no_reset)
		return;
	if ((a == &t->common.queue_msix_vector || a == &t->common.msix_config) &&
	    val != VIRTIO_MSI_NO_VECTOR)
		t->max_vector = max_t(int, t->max_vector, val);
	if ((a == &t->common.queue_msix_vector || a == &t->common.msix_config) &&
	    t->refuse_vectors)
		val = VIRTIO_MSI_NO_VECTOR;
	if (a == &t->common.msix_config && t->refuse_config_vector)
		val = VIRTIO_MSI_NO_VECTOR;
	if (a == &t->common.queue_size || a == &t->common.queue_msix_vector) {
		banked = vfc_pt_banked(t, a);
		if (banked)
			*banked = val;
		return;
	}
	switch (width) {
	case 1:
		*(u8 *)a = val;
		break;
	case 2:
		put_unaligned_le16(val, a);
		break;
	default:
		put_unaligned_le32(val, a);
	}
}

static bool vfc_pt_present(struct vfc_pci_device *vp)
{
	return !to_pt(vp)->gone;
}

static void vfc_pt_clear_master(struct vfc_pci_device *vp)
{
	to_pt(vp)->stop_dma++;
}

/* As pci_alloc_irq_vectors(): all @nvec or none, -ENOSPC beyond the table. */
static int vfc_pt_alloc_vectors(struct vfc_pci_device *vp, unsigned int nvec)
{
	struct vfc_pt *t = to_pt(vp);

	if (t->vectors)
		return -EINVAL;
	if (nvec > t->table_size)
		return -ENOSPC;
	t->vectors = nvec;
	return nvec;
}

static void vfc_pt_free_vectors(struct vfc_pci_device *vp)
{
	struct vfc_pt *t = to_pt(vp);

	KUNIT_EXPECT_EQ_MSG(current->kunit_test, t->irqs, 0U,
			    "vectors freed with interrupts still requested");
	t->vectors = 0;
}

static int vfc_pt_request_irq(struct vfc_pci_device *vp, int vector,
			      irq_handler_t handler, void *data, int *irq)
{
	struct vfc_pt *t = to_pt(vp);
	unsigned int i;

	if (vector >= 0 && vector >= t->vectors)
		return -EINVAL;
	for (i = 0; i < VFC_PT_IRQS; i++) {
		if (t->handler[i])
			continue;
		t->handler[i] = handler;
		t->irq_data[i] = data;
		t->irqs++;
		*irq = i + 1;
		return 0;
	}
	return -EBUSY;
}

static void vfc_pt_free_irq(struct vfc_pci_device *vp, int irq, void *data)
{
	struct vfc_pt *t = to_pt(vp);

	if (irq < 1 || irq > VFC_PT_IRQS || !t->handler[irq - 1] ||
	    t->irq_data[irq - 1] != data) {
		KUNIT_FAIL(current->kunit_test, "free_irq(%d) not requested",
			   irq);
		return;
	}
	t->handler[irq - 1] = NULL;
	t->irqs--;
}

static const struct vfc_pci_window_ops vfc_pt_window = {
	.read = vfc_pt_read,
	.write = vfc_pt_write,
	.present = vfc_pt_present,
	.clear_master = vfc_pt_clear_master,
	.msix = true,
	.alloc_vectors = vfc_pt_alloc_vectors,
	.free_vectors = vfc_pt_free_vectors,
	.request_irq = vfc_pt_request_irq,
	.free_irq = vfc_pt_free_irq,
};

/* The memory is the test's: nothing to free when the last ref goes. */
static void vfc_pt_release(struct device *dev)
{
}

static void vfc_pt_callback(struct vfc_virtqueue *vq)
{
	struct vfc_pci_device *vp = container_of(vq->vdev,
						 struct vfc_pci_device, vdev);

	to_pt(vp)->callbacks++;
}

static const struct vfc_vq_info vfc_pt_info = {
	.name = "q", .callback = vfc_pt_callback,
};

static int vfc_pt_init(struct kunit *test)
{
	struct vfc_pci_device *vp;
	struct vfc_pt *t;
	unsigned int i;

	t = kunit_kzalloc(test, sizeof(*t), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, t);
	t->dma = vfc_fake_dma_new("vfc-pci-test-dma");
	KUNIT_ASSERT_NOT_NULL(test, t->dma);

	vp = &t->vp;
	device_initialize(&vp->vdev.dev);
	vp->vdev.dev.release = vfc_pt_release;
	vp->vdev.dev.parent = &t->dma->dev;
	KUNIT_ASSERT_EQ(test, dev_set_name(&vp->vdev.dev, "vfc-pci-test"), 0);
	spin_lock_init(&vp->vdev.config_lock);
	spin_lock_init(&vp->vdev.vqs_list_lock);
	INIT_LIST_HEAD(&vp->vdev.vqs);
	vfc_report_init(&vp->vdev);
	vp->vdev.config = &vfc_pci_config_ops;
	vp->vdev.features = BIT_ULL(VIRTIO_F_VERSION_1) |
			    BIT_ULL(VIRTIO_F_ACCESS_PLATFORM);

	vp->window = &vfc_pt_window;
	vp->common = (__force struct virtio_pci_common_cfg __iomem *)&t->common;
	vp->isr = (__force u8 __iomem *)&t->isr;
	vp->device = (__force void __iomem *)t->device_cfg;
	vp->device_len = sizeof(t->device_cfg);
	vp->notify = (__force void __iomem *)t->notify;
	vp->caps.notify.length = sizeof(t->notify);
	vp->caps.notify_off_multiplier = 4;

	t->common.num_queues = cpu_to_le16(VFC_PT_QUEUES);
	for (i = 0; i < VFC_PT_QUEUES; i++) {
		t->queue_size[i] = VFC_PT_QSIZE;
		t->queue_vector[i] = VIRTIO_MSI_NO_VECTOR;
	}
	put_unaligned_le32(VFC_PT_CFG_VALUE, t->device_cfg);
	t->common.msix_config = cpu_to_le16(VIRTIO_MSI_NO_VECTOR);
	t->table_size = VFC_PT_QUEUES + 1;
	t->max_vector = -1;

	/* As find_vqs begins: room for each queue's state, none set up. */
	vp->vqs = kcalloc(VFC_PT_QUEUES, sizeof(*vp->vqs), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, vp->vqs);
	vp->nvqs = VFC_PT_QUEUES;
	test->priv = t;
	return 0;
}

static void vfc_pt_exit(struct kunit *test)
{
	struct vfc_pt *t = test->priv;

	if (!t)
		return;
	vfc_pci_config_ops.del_vqs(&t->vp.vdev);
	KUNIT_EXPECT_TRUE(test, list_empty(&t->vp.vdev.vqs));
	KUNIT_EXPECT_EQ_MSG(test, t->irqs, 0U, "interrupts left requested");
	KUNIT_EXPECT_EQ_MSG(test, t->vectors, 0U, "MSI-X vectors left allocated");
	KUNIT_EXPECT_EQ_MSG(test, t->bad_writes, 0U,
			    "writes to read-only common configuration fields");
	vfc_fake_dma_expect_clean(test, t->dma);
	put_device(&t->vp.vdev.dev);
	put_device(&t->dma->dev);
}

/*
 * "Virtio Over PCI Bus", common configuration: queue_size 0 means the
 * queue is unavailable; a queue index at or past num_queues does not
 * exist. Neither gets a ring.
 */
static void vfc_pci_queue_size_zero(struct kunit *test)
{
	struct vfc_pt *t = test->priv;
	struct vfc_pci_device *vp = &t->vp;

	t->queue_size[0] = 0;
	KUNIT_EXPECT_EQ(test, vfc_pci_setup_vq(vp, 0, &vfc_pt_info,
					       VIRTIO_MSI_NO_VECTOR), -ENOENT);
	KUNIT_EXPECT_NULL(test, vp->vqs[0].vq);
	KUNIT_EXPECT_TRUE(test, list_empty(&vp->vdev.vqs));
	KUNIT_EXPECT_EQ(test, t->dma->alloc_calls, 0U);

	/* The next queue is there: ring, addresses, the size it got. */
	KUNIT_ASSERT_EQ(test, vfc_pci_setup_vq(vp, 1, &vfc_pt_info,
					       VIRTIO_MSI_NO_VECTOR), 0);
	KUNIT_ASSERT_NOT_NULL(test, vp->vqs[1].vq);
	KUNIT_EXPECT_EQ(test, t->queue_size[1],
			(u16)vfc_vq_get_vring_size(vp->vqs[1].vq));
	KUNIT_EXPECT_EQ(test, (u64)le32_to_cpu(t->common.queue_desc_lo) |
			      (u64)le32_to_cpu(t->common.queue_desc_hi) << 32,
			(u64)vfc_vq_get_desc_addr(vp->vqs[1].vq));
	KUNIT_EXPECT_EQ(test, t->dma->live_allocs, 1U);

	/* Past num_queues. */
	t->common.num_queues = cpu_to_le16(1);
	KUNIT_EXPECT_EQ(test, vfc_pci_setup_vq(vp, 1, &vfc_pt_info,
					       VIRTIO_MSI_NO_VECTOR), -ENOENT);
}

/*
 * "The device MUST return vector mapped to a given event, (NO_VECTOR if
 * unmapped) on read of config_msix_vector/queue_msix_vector": a device
 * out of vectors answers a write with NO_VECTOR, and setup says -EBUSY,
 * which makes find_vqs try the next interrupt mode.
 */
static void vfc_pci_vector_refused(struct kunit *test)
{
	struct vfc_pt *t = test->priv;
	struct vfc_pci_device *vp = &t->vp;

	KUNIT_EXPECT_EQ(test, vfc_pci_setup_vq(vp, 0, &vfc_pt_info, 1), 0);
	KUNIT_EXPECT_EQ(test, t->queue_vector[0], 1);

	t->refuse_vectors = true;
	KUNIT_EXPECT_EQ(test, vfc_pci_setup_vq(vp, 1, &vfc_pt_info, 2),
			-EBUSY);
	KUNIT_EXPECT_EQ(test, t->queue_vector[1], VIRTIO_MSI_NO_VECTOR);
	/* Its ring exists until del_vqs, which the exit checks frees it. */
	KUNIT_EXPECT_NOT_NULL(test, vp->vqs[1].vq);
}

/*
 * "Device Configuration Space": a driver re-reads until config_generation
 * holds still; one that never does gets -EAGAIN, not a torn value.
 */
static void vfc_pci_generation_unsettled(struct kunit *test)
{
	struct vfc_pt *t = test->priv;
	__le32 v = 0;

	KUNIT_EXPECT_EQ(test, vfc_config_read(&t->vp.vdev, 0, &v, sizeof(v)),
			0);
	KUNIT_EXPECT_EQ(test, le32_to_cpu(v), (u32)VFC_PT_CFG_VALUE);

	t->unsettled = true;
	KUNIT_EXPECT_EQ(test, vfc_config_read(&t->vp.vdev, 0, &v, sizeof(v)),
			-EAGAIN);
	KUNIT_EXPECT_GE(test, t->generation, (u8)VFC_CONFIG_READ_TRIES);
	vfc_expect_report(test, &t->vp.vdev, "config generation never settled",
			  "Device Configuration Space", true, 1);
}

/*
 * Surprise removal: every read is all-ones. An INTx interrupt that reads
 * ISR 0xff breaks the device and wakes its waiters instead of reporting a
 * config change and scanning the queues; reset gives up at once, without
 * waiting out its timeout.
 */
static void vfc_pci_surprise_removal(struct kunit *test)
{
	struct vfc_pt *t = test->priv;
	struct vfc_pci_device *vp = &t->vp;
	struct vfc_virtqueue *vq;
	unsigned long start;
	const char *why;

	KUNIT_ASSERT_EQ(test, vfc_pci_setup_vq(vp, 0, &vfc_pt_info,
					       VIRTIO_MSI_NO_VECTOR), 0);
	vq = vp->vqs[0].vq;
	vfc_vring_set_cbs_live(&vp->vdev, true);

	t->gone = true;
	KUNIT_EXPECT_EQ(test, vp->vdev.config->get_status(&vp->vdev), 0xff);
	KUNIT_EXPECT_EQ(test, vfc_pci_intx_interrupt(0, vp), IRQ_NONE);
	KUNIT_EXPECT_TRUE(test, vfc_vq_is_broken(vq));
	why = vfc_vq_broken_reason(vq);
	KUNIT_ASSERT_NOT_NULL(test, why);
	KUNIT_EXPECT_STREQ(test, why, "device broken");
	/* The waiter is woken once, and finds the queue broken. */
	KUNIT_EXPECT_EQ(test, t->callbacks, 1U);

	start = jiffies;
	KUNIT_EXPECT_EQ(test, vp->vdev.config->reset(&vp->vdev), -ENODEV);
	KUNIT_EXPECT_LT(test, jiffies_to_msecs(jiffies - start), 500U);
	KUNIT_EXPECT_EQ(test, t->stop_dma, 0U);
	vfc_vring_set_cbs_live(&vp->vdev, false);
}

/*
 * A function that is gone reads all-ones. Its features read as none, so a
 * probe finds no VIRTIO_F_VERSION_1 and fails; its config cannot be read
 * (-EAGAIN), so no driver takes 0xffffffff for a value.
 */
static void vfc_pci_gone_reads(struct kunit *test)
{
	struct vfc_pt *t = test->priv;
	struct vfc_device *vdev = &t->vp.vdev;
	__le32 v = 0;

	t->common.device_feature = cpu_to_le32(BIT(0));
	KUNIT_EXPECT_NE(test, vdev->config->get_features(vdev), 0ULL);
	t->common.config_generation = 0xff;
	KUNIT_EXPECT_EQ(test, vfc_config_read(vdev, 0, &v, sizeof(v)), 0);
	KUNIT_EXPECT_EQ(test, le32_to_cpu(v), (u32)VFC_PT_CFG_VALUE);

	t->gone = true;
	KUNIT_EXPECT_EQ(test, vdev->config->get_features(vdev), 0ULL);
	KUNIT_EXPECT_EQ(test, vfc_config_read(vdev, 0, &v, sizeof(v)),
			-EAGAIN);
	KUNIT_EXPECT_EQ(test, vdev->config->get_status(vdev), 0xff);
}

/*
 * "Notification structure layout": a queue is notified at
 * queue_notify_off x notify_off_multiplier into the structure, which must
 * hold the 2 bytes written there. One beyond it gets no queue and no ring.
 */
static void vfc_pci_notify_off_beyond(struct kunit *test)
{
	struct vfc_pt *t = test->priv;
	struct vfc_pci_device *vp = &t->vp;

	/* 4 x 4 = 16: the 2 bytes would lie past the 16-byte structure. */
	t->common.queue_notify_off = cpu_to_le16(VFC_PT_NOTIFY_LEN / 4);
	KUNIT_EXPECT_EQ(test, vfc_pci_setup_vq(vp, 0, &vfc_pt_info,
					       VIRTIO_MSI_NO_VECTOR), -EINVAL);
	KUNIT_EXPECT_NULL(test, vp->vqs[0].vq);
	KUNIT_EXPECT_EQ(test, t->dma->alloc_calls, 0U);
	/* A multiplier so large the product needs more than 32 bits. */
	t->common.queue_notify_off = cpu_to_le16(U16_MAX);
	vp->caps.notify_off_multiplier = U32_MAX;
	KUNIT_EXPECT_EQ(test, vfc_pci_setup_vq(vp, 0, &vfc_pt_info,
					       VIRTIO_MSI_NO_VECTOR), -EINVAL);
	KUNIT_EXPECT_EQ(test, t->dma->alloc_calls, 0U);
	vfc_expect_report(test, &vp->vdev,
			  "notify offset beyond the notify structure",
			  "Virtio Over PCI Bus / Notification structure layout",
			  true, 2);

	/* The last offset that fits: 3 x 4 + 2 <= 16. */
	vp->caps.notify_off_multiplier = 4;
	t->common.queue_notify_off = cpu_to_le16(3);
	KUNIT_ASSERT_EQ(test, vfc_pci_setup_vq(vp, 0, &vfc_pt_info,
					       VIRTIO_MSI_NO_VECTOR), 0);
	KUNIT_EXPECT_TRUE(test, vp->vqs[0].notify == vp->notify + 12);
}

/*
 * "Available Buffer Notifications": without VIRTIO_F_NOTIFICATION_DATA the
 * driver notifies with a 16-bit write of the queue's index, at the
 * queue's queue_notify_off x notify_off_multiplier.
 */
static void vfc_pci_notify_value(struct kunit *test)
{
	struct vfc_pt *t = test->priv;
	struct vfc_pci_device *vp = &t->vp;

	t->common.queue_notify_off = cpu_to_le16(2);
	KUNIT_ASSERT_EQ(test, vfc_pci_setup_vq(vp, 1, &vfc_pt_info,
					       VIRTIO_MSI_NO_VECTOR), 0);
	KUNIT_EXPECT_TRUE(test, vfc_vq_notify(vp->vqs[1].vq));
	KUNIT_EXPECT_EQ(test, t->notify_writes, 1U);
	KUNIT_EXPECT_EQ(test, t->notify_at, 8U);
	KUNIT_EXPECT_EQ(test, t->notify_width, 2U);
	KUNIT_EXPECT_EQ(test, t->notify_val, 1U);
}

/*
 * "For device configuration access, the driver MUST use 8-bit wide
 * accesses for 8-bit wide fields, 16-bit wide and aligned accesses for
 * 16-bit wide fields and 32-bit wide and aligned accesses for 32-bit and
 * 64-bit wide fields."
 */
static void vfc_pci_config_widths(struct kunit *test)
{
	static const u8 at[] = { 3, 2, 4, 8, 12, 4 };
	static const u8 width[] = { 1, 2, 4, 4, 4, 4 };
	struct vfc_pt *t = test->priv;
	struct vfc_device *vdev = &t->vp.vdev;
	__le64 q = 0;
	__le32 l = 0;
	__le16 w = 0;
	u8 b = 0;
	unsigned int i;

	vdev->config->get(vdev, 3, &b, sizeof(b));
	vdev->config->get(vdev, 2, &w, sizeof(w));
	vdev->config->get(vdev, 4, &l, sizeof(l));
	vdev->config->get(vdev, 8, &q, sizeof(q));
	vdev->config->set(vdev, 4, &l, sizeof(l));
	KUNIT_ASSERT_EQ(test, t->nr_cfg, (unsigned int)ARRAY_SIZE(at));
	for (i = 0; i < ARRAY_SIZE(at); i++) {
		KUNIT_EXPECT_EQ_MSG(test, t->cfg_at[i], at[i], "access %u", i);
		KUNIT_EXPECT_EQ_MSG(test, t->cfg_width[i], width[i],
				    "access %u", i);
	}
}

/*
 * "Virtqueue Configuration": a split ring's size is a power of two. A
 * device that offers another gets no queue (no ring to round it to that
 * both sides would agree on).
 */
static void vfc_pci_queue_size_not_pow2(struct kunit *test)
{
	struct vfc_pt *t = test->priv;
	struct vfc_pci_device *vp = &t->vp;

	t->queue_size[0] = 96;
	KUNIT_EXPECT_EQ(test, vfc_pci_setup_vq(vp, 0, &vfc_pt_info,
					       VIRTIO_MSI_NO_VECTOR), -EINVAL);
	KUNIT_EXPECT_NULL(test, vp->vqs[0].vq);
	KUNIT_EXPECT_TRUE(test, list_empty(&vp->vdev.vqs));
	KUNIT_EXPECT_EQ(test, t->dma->live_allocs, 0U);
	vfc_expect_report(test, &vp->vdev, "queue size the layout does not take",
			  "Split Virtqueues", true, 1);
}

/*
 * "Device Reset": the driver waits for device_status to read 0, but not
 * forever; a device that never resets may still write the rings its
 * driver frees next ("Device Cleanup"), so bus mastering goes off first.
 */
static void vfc_pci_reset_timeout(struct kunit *test)
{
	struct vfc_pt *t = test->priv;
	struct vfc_device *vdev = &t->vp.vdev;

	vdev->config->set_status(vdev, VIRTIO_CONFIG_S_DRIVER_OK);
	KUNIT_EXPECT_EQ(test, vdev->config->reset(vdev), 0);
	KUNIT_EXPECT_EQ(test, t->common.device_status, 0);
	KUNIT_EXPECT_EQ(test, t->stop_dma, 0U);

	t->no_reset = true;
	vdev->config->set_status(vdev, VIRTIO_CONFIG_S_DRIVER_OK);
	KUNIT_EXPECT_EQ(test, vdev->config->reset(vdev), -ETIMEDOUT);
	KUNIT_EXPECT_EQ(test, t->stop_dma, 1U);
	vfc_expect_report(test, vdev, "reset never completed",
			  "Virtio Over PCI Bus / Common configuration structure layout",
			  true, 1);
}

/*
 * Interrupts on a shared line arrive whenever they like: before any queue
 * exists, while find_vqs is half done (a queue set up, the next refused),
 * and after del_vqs. None may reach a queue that is not whole or is gone,
 * and none calls back outside DRIVER_OK..reset.
 */
static void vfc_pci_interrupts_teardown(struct kunit *test)
{
	struct vfc_pt *t = test->priv;
	struct vfc_pci_device *vp = &t->vp;

	t->isr = VFC_PT_ISR_QUEUE;
	KUNIT_EXPECT_EQ(test, vfc_pci_vqs_interrupt(0, vp), IRQ_NONE);

	t->queue_size[1] = 0;
	KUNIT_ASSERT_EQ(test, vfc_pci_setup_vq(vp, 0, &vfc_pt_info,
					       VIRTIO_MSI_NO_VECTOR), 0);
	KUNIT_EXPECT_EQ(test, vfc_pci_setup_vq(vp, 1, &vfc_pt_info,
					       VIRTIO_MSI_NO_VECTOR), -ENOENT);
	KUNIT_EXPECT_EQ(test, vfc_pci_intx_interrupt(0, vp), IRQ_HANDLED);
	KUNIT_EXPECT_EQ(test, vfc_pci_vqs_interrupt(0, vp), IRQ_NONE);

	vfc_pci_config_ops.del_vqs(&vp->vdev);
	KUNIT_EXPECT_NULL(test, vp->vqs);
	KUNIT_EXPECT_EQ(test, vp->nvqs, 0U);
	KUNIT_EXPECT_EQ(test, vfc_pci_vqs_interrupt(0, vp), IRQ_NONE);
	KUNIT_EXPECT_EQ(test, vfc_pci_intx_interrupt(0, vp), IRQ_HANDLED);
	KUNIT_EXPECT_EQ(test, t->callbacks, 0U);
}

/*
 * "If MSI-X capability is enabled, the driver SHOULD NOT access ISR status
 * upon detecting a Queue Interrupt": the MSI-X handlers (queues, shared
 * queues, configuration) never read it; the INTx handler, which has
 * nothing else to go by, reads it once per interrupt.
 */
static void vfc_pci_isr_msix(struct kunit *test)
{
	struct vfc_pt *t = test->priv;
	struct vfc_pci_device *vp = &t->vp;

	KUNIT_ASSERT_EQ(test, vfc_pci_setup_vq(vp, 0, &vfc_pt_info, 1), 0);
	t->isr = VFC_PT_ISR_QUEUE;
	vfc_pci_vq_interrupt(0, vp->vqs[0].vq);
	vfc_pci_vqs_interrupt(0, vp);
	vfc_pci_config_interrupt(0, vp);
	KUNIT_EXPECT_EQ(test, t->isr_reads, 0U);
	KUNIT_EXPECT_EQ(test, vfc_pci_intx_interrupt(0, vp), IRQ_HANDLED);
	KUNIT_EXPECT_EQ(test, t->isr_reads, 1U);
}

/*
 * "The device MUST NOT ... send any used buffer notifications to the
 * driver before DRIVER_OK": a queue's vector, the shared vector, or INTx
 * with the ISR's queue bit, with nothing used and the status without
 * DRIVER_OK, is not claimed and goes into the conformance report as a
 * deviation; with DRIVER_OK set (a late interrupt for buffers already
 * taken) it does not.
 */
static void vfc_pci_early_interrupt(struct kunit *test)
{
	struct vfc_pt *t = test->priv;
	struct vfc_pci_device *vp = &t->vp;
	struct vfc_report_entry e;

	KUNIT_ASSERT_EQ(test, vfc_pci_setup_vq(vp, 0, &vfc_pt_info, 1), 0);
	KUNIT_EXPECT_EQ(test, vfc_pci_vq_interrupt(0, vp->vqs[0].vq), IRQ_NONE);
	t->isr = VFC_PT_ISR_QUEUE;
	KUNIT_EXPECT_EQ(test, vfc_pci_intx_interrupt(0, vp), IRQ_HANDLED);
	vfc_expect_report(test, &vp->vdev,
			  "used buffer notification without DRIVER_OK",
			  "Device Status Field", false, 2);

	t->common.device_status = VIRTIO_CONFIG_S_DRIVER_OK;
	KUNIT_EXPECT_EQ(test, vfc_pci_vq_interrupt(0, vp->vqs[0].vq), IRQ_NONE);
	KUNIT_EXPECT_EQ(test, vfc_pci_intx_interrupt(0, vp), IRQ_HANDLED);
	KUNIT_ASSERT_TRUE(test, vfc_report_get(&vp->vdev,
					       "used buffer notification without DRIVER_OK",
					       &e));
	KUNIT_EXPECT_EQ(test, e.count, 2UL);
	t->common.device_status = 0;
}

/*
 * VIRTIO_F_ORDER_PLATFORM: "a driver MUST use the barriers suitable for
 * hardware devices" (the ring's weak_barriers off); without it, the
 * lighter ones for a device that is software on another CPU.
 */
static void vfc_pci_order_platform(struct kunit *test)
{
	struct vfc_pt *t = test->priv;
	struct vfc_pci_device *vp = &t->vp;

	KUNIT_ASSERT_EQ(test, vfc_pci_setup_vq(vp, 0, &vfc_pt_info,
					       VIRTIO_MSI_NO_VECTOR), 0);
	KUNIT_EXPECT_TRUE(test, to_vfc_vring(vp->vqs[0].vq)->weak_barriers);
	vp->vdev.features |= BIT_ULL(VIRTIO_F_ORDER_PLATFORM);
	KUNIT_ASSERT_EQ(test, vfc_pci_setup_vq(vp, 1, &vfc_pt_info,
					       VIRTIO_MSI_NO_VECTOR), 0);
	KUNIT_EXPECT_FALSE(test, to_vfc_vring(vp->vqs[1].vq)->weak_barriers);
}

/*
 * "The drivers SHOULD only map part of configuration structure large
 * enough for device operation": of structures far longer than their
 * registers, the common configuration's registers, one byte of ISR status
 * and at most a page of device configuration; none of what is absent.
 */
static void vfc_pci_map_lengths_bounded(struct kunit *test)
{
	struct vfc_pci_caps caps = {
		.common = { .present = true, .length = SZ_64K },
		.isr = { .present = true, .length = SZ_64K },
		.device = { .present = true, .length = SZ_1M },
		.notify = { .present = true, .length = 0x4000 },
	};
	struct vfc_pci_map_lens len;

	vfc_pci_map_lengths(&caps, &len);
	KUNIT_EXPECT_EQ(test, len.common, sizeof(struct virtio_pci_common_cfg));
	KUNIT_EXPECT_EQ(test, len.isr, (size_t)1);
	KUNIT_EXPECT_EQ(test, len.device, (size_t)PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, len.notify, (size_t)0x4000);

	caps.device.length = 8;
	vfc_pci_map_lengths(&caps, &len);
	KUNIT_EXPECT_EQ(test, len.device, (size_t)8);
	caps.isr.present = false;
	caps.device.present = false;
	vfc_pci_map_lengths(&caps, &len);
	KUNIT_EXPECT_EQ(test, len.isr, (size_t)0);
	KUNIT_EXPECT_EQ(test, len.device, (size_t)0);
}

/*
 * "PCI Device Discovery": vendor 0x1AF4 and device ids 0x1040 + the virtio
 * device id, or a transitional id (0x1000-0x103f) with the virtio device
 * id in the subsystem device id; "Drivers MUST match any PCI Revision ID
 * value". Anything else is no virtio function.
 */
static void vfc_pci_virtio_ids(struct kunit *test)
{
	static const struct {
		u16 vendor, device, subsystem;
		int id;
	} cases[] = {
		{ 0x1af4, 0x1045, 0, 5 },
		{ 0x1af4, 0x1044, 0x1af4, 4 },
		{ 0x1af4, 0x107f, 0, 63 },
		{ 0x1af4, 0x1002, 5, 5 },	/* transitional balloon */
		{ 0x1af4, 0x1005, 4, 4 },	/* transitional rng */
		{ 0x1af4, 0x103f, 5, 5 },
		{ 0x1af4, 0x0fff, 5, -ENODEV },
		{ 0x1af4, 0x1080, 0, -ENODEV },
		{ 0x1af4, 0x1110, 0, -ENODEV },	/* ivshmem */
		{ 0x8086, 0x1045, 0, -ENODEV },
	};
	static const u8 revisions[] = { 0, 1, 2, 0xff };
	struct pci_dev *pdev;
	unsigned int i, r;

	pdev = kunit_kzalloc(test, sizeof(*pdev), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, pdev);
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		for (r = 0; r < ARRAY_SIZE(revisions); r++) {
			pdev->vendor = cases[i].vendor;
			pdev->device = cases[i].device;
			pdev->subsystem_device = cases[i].subsystem;
			pdev->revision = revisions[r];
			KUNIT_EXPECT_EQ_MSG(test, vfc_pci_virtio_id(pdev),
					    cases[i].id,
					    "%04x:%04x subsystem %04x revision %u",
					    cases[i].vendor, cases[i].device,
					    cases[i].subsystem, revisions[r]);
		}
	}
}

/* find_vqs' queues: both with a callback, each worth a vector. */
static const struct vfc_vq_info vfc_pt_infos[VFC_PT_QUEUES] = {
	{ .name = "q0", .callback = vfc_pt_callback },
	{ .name = "q1", .callback = vfc_pt_callback },
};

static int vfc_pt_find_vqs(struct vfc_pt *t)
{
	struct vfc_virtqueue *vqs[VFC_PT_QUEUES];

	/* find_vqs sets up the queues' state itself. */
	vfc_pci_config_ops.del_vqs(&t->vp.vdev);
	return vfc_pci_config_ops.find_vqs(&t->vp.vdev, VFC_PT_QUEUES, vqs,
					   vfc_pt_infos);
}

/*
 * "Driver MUST NOT attempt to map an event to a vector outside the MSI-X
 * Table supported by the device": with room for a vector per queue, the
 * configuration gets 0 and the queues 1 and 2; with a table of two, both
 * queues share vector 1; with one, INTx and no vector at all. Every
 * vector written lies inside the table, and del_vqs unmaps them all and
 * frees every interrupt.
 */
static void vfc_pci_msix_vectors(struct kunit *test)
{
	static const struct {
		unsigned int table;
		int max_vector;
		u16 q0, q1;
		unsigned int irqs;
	} rows[] = {
		{ 3, 2, 1, 2, 3 },
		{ 2, 1, 1, 1, 2 },
		{ 1, -1, VIRTIO_MSI_NO_VECTOR, VIRTIO_MSI_NO_VECTOR, 1 },
	};
	struct vfc_pt *t = test->priv;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(rows); i++) {
		t->table_size = rows[i].table;
		t->max_vector = -1;
		KUNIT_ASSERT_EQ(test, vfc_pt_find_vqs(t), 0);
		KUNIT_EXPECT_EQ_MSG(test, t->max_vector, rows[i].max_vector,
				    "table of %u", rows[i].table);
		KUNIT_EXPECT_LT(test, t->max_vector, (int)t->table_size);
		KUNIT_EXPECT_LT(test, t->max_vector, (int)max(t->vectors, 1U));
		KUNIT_EXPECT_EQ(test, t->queue_vector[0], rows[i].q0);
		KUNIT_EXPECT_EQ(test, t->queue_vector[1], rows[i].q1);
		KUNIT_EXPECT_EQ(test, t->irqs, rows[i].irqs);
		vfc_pci_config_ops.del_vqs(&t->vp.vdev);
		/* As the reset before the next find_vqs does. */
		t->common.queue_enable = 0;
		KUNIT_EXPECT_EQ(test, t->irqs, 0U);
		KUNIT_EXPECT_EQ(test, t->vectors, 0U);
		KUNIT_EXPECT_EQ(test, le16_to_cpu(t->common.msix_config),
				VIRTIO_MSI_NO_VECTOR);
		KUNIT_EXPECT_EQ(test, t->queue_vector[0], VIRTIO_MSI_NO_VECTOR);
		KUNIT_EXPECT_EQ(test, t->queue_vector[1], VIRTIO_MSI_NO_VECTOR);
	}
}

/*
 * An MSI-X vector refused for configuration changes (msix_config reads
 * back NO_VECTOR, "The device MUST return vector mapped to a given event"):
 * both MSI-X modes give up, freeing their vectors and interrupts, and
 * find_vqs settles on INTx, where a configuration change still arrives
 * through the ISR.
 */
static void vfc_pci_config_vector_refused(struct kunit *test)
{
	struct vfc_pt *t = test->priv;
	struct vfc_pci_device *vp = &t->vp;

	t->refuse_config_vector = true;
	KUNIT_ASSERT_EQ(test, vfc_pt_find_vqs(t), 0);
	KUNIT_EXPECT_EQ(test, t->vectors, 0U);
	KUNIT_ASSERT_EQ(test, t->irqs, 1U);
	KUNIT_EXPECT_TRUE(test, t->handler[0] == vfc_pci_intx_interrupt);
	KUNIT_EXPECT_EQ(test, t->max_vector, 0);
	KUNIT_EXPECT_EQ(test, t->queue_vector[0], VIRTIO_MSI_NO_VECTOR);
	KUNIT_EXPECT_EQ(test, t->queue_vector[1], VIRTIO_MSI_NO_VECTOR);

	t->isr = VFC_PT_ISR_CONFIG;
	KUNIT_EXPECT_EQ(test, t->handler[0](0, t->irq_data[0]), IRQ_HANDLED);
	KUNIT_EXPECT_TRUE(test, vp->vdev.config_change_pending);
	/* Tolerated (a device may run out of vectors), and told. */
	vfc_expect_report(test, &vp->vdev, "MSI-X vector refused",
			  "Virtio Over PCI Bus / MSI-X Vector Configuration",
			  false, 2);
}

#ifdef VFC_KUNIT_FAULTS
/*
 * find_vqs with its Nth allocation failing (vfc_sweep()): -ENOMEM with
 * nothing left behind (no queue state, vector, interrupt or mapping), or,
 * where a smaller ring would do, every queue set up.
 */
static bool vfc_pci_sweep_find_vqs(struct kunit *test, void *ctx,
				   unsigned int nth)
{
	struct vfc_pt *t = test->priv;
	struct vfc_virtqueue *vqs[VFC_PT_QUEUES];
	bool hit;
	int err;

	vfc_pci_config_ops.del_vqs(&t->vp.vdev);
	/* As the reset before a find_vqs does. */
	t->common.queue_enable = 0;
	vfc_fail_nth_arm(nth);
	err = vfc_pci_config_ops.find_vqs(&t->vp.vdev, VFC_PT_QUEUES, vqs,
					  vfc_pt_infos);
	hit = vfc_fail_nth_disarm();
	if (err) {
		KUNIT_EXPECT_TRUE_MSG(test, hit, "find_vqs failed untouched: %d",
				      err);
		KUNIT_EXPECT_EQ(test, err, -ENOMEM);
		KUNIT_EXPECT_NULL(test, t->vp.vqs);
		KUNIT_EXPECT_EQ(test, t->irqs, 0U);
		KUNIT_EXPECT_EQ(test, t->vectors, 0U);
	} else {
		KUNIT_EXPECT_NOT_NULL(test, vqs[0]);
		KUNIT_EXPECT_NOT_NULL(test, vqs[1]);
		KUNIT_EXPECT_EQ(test, t->irqs, VFC_PT_QUEUES + 1);
	}
	vfc_pci_config_ops.del_vqs(&t->vp.vdev);
	vfc_fake_dma_expect_clean(test, t->dma);
	return hit;
}

/* Every allocation of find_vqs failing in turn. */
static void vfc_pci_find_vqs_alloc_failures(struct kunit *test)
{
	KUNIT_EXPECT_GT(test, vfc_sweep(test, "pci", "find_vqs",
					vfc_pci_sweep_find_vqs, NULL), 0U);
}
#endif

/*
 * takeover=: what it names, and every malformed value refused with nothing
 * taken (the module then fails to load with -EINVAL).
 */
static void vfc_pci_takeover_param(struct kunit *test)
{
	static const struct {
		const char *s;
		int err;
		u64 types;
	} cases[] = {
		{ NULL, 0, 0 },
		{ "", 0, 0 },
		{ "  ", 0, 0 },
		{ "balloon", 0, BIT_ULL(5) },
		{ "rng", 0, BIT_ULL(4) },
		{ "balloon,rng", 0, BIT_ULL(4) | BIT_ULL(5) },
		{ " rng , balloon ", 0, BIT_ULL(4) | BIT_ULL(5) },
		{ "1,63", 0, BIT_ULL(1) | BIT_ULL(63) },
		{ "0x2", 0, BIT_ULL(2) },
		{ "0", -EINVAL, 0 },
		{ "64", -EINVAL, 0 },
		{ "-1", -EINVAL, 0 },
		{ "blk", -EINVAL, 0 },
		{ "balloon,", -EINVAL, 0 },
		{ ",rng", -EINVAL, 0 },
		{ "rng,,balloon", -EINVAL, 0 },
		{ "Balloon", -EINVAL, 0 },
		{ "99999999999", -EINVAL, 0 },
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		u64 types = ~0ULL;

		KUNIT_EXPECT_EQ_MSG(test, vfc_pci_takeover_parse(cases[i].s, &types),
				    cases[i].err, "takeover=%s", cases[i].s);
		KUNIT_EXPECT_EQ_MSG(test, types, cases[i].types, "takeover=%s",
				    cases[i].s);
	}
}

static struct kunit_case vfc_pci_test_cases[] = {
	KUNIT_CASE(vfc_pci_takeover_param),
	KUNIT_CASE(vfc_pci_queue_size_zero),
	KUNIT_CASE(vfc_pci_vector_refused),
	KUNIT_CASE(vfc_pci_generation_unsettled),
	KUNIT_CASE(vfc_pci_surprise_removal),
	KUNIT_CASE(vfc_pci_gone_reads),
	KUNIT_CASE(vfc_pci_notify_off_beyond),
	KUNIT_CASE(vfc_pci_notify_value),
	KUNIT_CASE(vfc_pci_config_widths),
	KUNIT_CASE(vfc_pci_queue_size_not_pow2),
	KUNIT_CASE(vfc_pci_reset_timeout),
	KUNIT_CASE(vfc_pci_interrupts_teardown),
	KUNIT_CASE(vfc_pci_isr_msix),
	KUNIT_CASE(vfc_pci_early_interrupt),
	KUNIT_CASE(vfc_pci_order_platform),
	KUNIT_CASE(vfc_pci_map_lengths_bounded),
	KUNIT_CASE(vfc_pci_virtio_ids),
	KUNIT_CASE(vfc_pci_msix_vectors),
	KUNIT_CASE(vfc_pci_config_vector_refused),
#ifdef VFC_KUNIT_FAULTS
	KUNIT_CASE(vfc_pci_find_vqs_alloc_failures),
#endif
	{}
};

static struct kunit_suite vfc_pci_test_suite = {
	.name = "vfc_pci",
	.init = vfc_pt_init,
	.exit = vfc_pt_exit,
	.test_cases = vfc_pci_test_cases,
};

kunit_test_suite(vfc_pci_test_suite);

MODULE_IMPORT_NS(VFC_NS);
MODULE_IMPORT_NS(VFC_TEST_NS);
MODULE_IMPORT_NS(VFC_KUNIT_NS);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("KUnit tests for vfc_pci's register layer");
