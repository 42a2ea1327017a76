// SPDX-License-Identifier: GPL-2.0
/*
 * The support module of vfc's KUnit suites (vfc_test_support.ko): the fakes
 * and fixtures more than one suite uses, exported in the VFC_TEST
 * namespace. See vfc_test_support.h for what each is.
 *
 * The fake DMA device's dma_map_ops record every coherent allocation and
 * streaming mapping, so a test can check that nothing stays mapped or
 * allocated, that nothing is unmapped twice or with the wrong size or
 * direction, and can make allocations or mappings fail. No IOMMU: the
 * device sees guest-physical addresses, which a fake device turns back
 * into pointers with phys_to_virt(). DMA-API debug runs in the wrappers
 * around these ops, so a double or wrong unmap also shows up in the log.
 *
 * The fake ring device reads and writes the rings in memory, as a real
 * device would through DMA: it takes available buffers, walks their
 * descriptor chains (direct or indirect), writes a pattern into the
 * device-writable parts, returns them in the order it is told, counts the
 * kicks it gets and raises the interrupts the driver asked for. It checks
 * the driver's side of the spec as it goes, and it can lie: used ids out of
 * range or not in flight, lengths longer than the buffer, a used index that
 * runs ahead (split), used flags that disagree with its wrap counter
 * (packed), descriptors scribbled over after it took them. An idle split
 * queue it can move, its own side and the driver's, to any 16-bit index,
 * so that a case reaches the wrap without 65536 buffers. Each layout's
 * device side sits behind a struct vfc_rt_ring_ops.
 */
#include <kunit/test.h>
#include <linux/atomic.h>
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
#include <linux/module.h>
#include <linux/radix-tree.h>
#include <linux/sched.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/workqueue.h>
#include <linux/virtio_byteorder.h>
#include <uapi/linux/virtio_config.h>
#include <uapi/linux/virtio_ring.h>

#include "vfc_compat.h"
#include <vfc/vfc.h>
#include <vfc/vfc_config.h>
#include <vfc/vfc_ring.h>

#include "vfc_ring_internal.h"
#include "vfc_test_support.h"

/* ------------------------------------------------------------------------
 * The fake DMA device
 */

static struct vfc_fake_dma *to_fake_dma(struct device *dev)
{
	return container_of(dev, struct vfc_fake_dma, dev);
}

static void *vfc_fake_dma_alloc(struct device *dev, size_t size,
				dma_addr_t *dma_handle, gfp_t gfp,
				unsigned long attrs)
{
	struct vfc_fake_dma *dma = to_fake_dma(dev);
	struct vfc_fake_alloc *a = NULL;
	unsigned int i;
	void *cpu;

	dma->alloc_calls++;
	dma->last_alloc_size = size;
	if (dma->fail_alloc_above && size > dma->fail_alloc_above)
		return NULL;
	for (i = 0; i < VFC_FAKE_DMA_MAX_ALLOCS && !a; i++)
		if (!dma->allocs[i].cpu)
			a = &dma->allocs[i];
	if (!a) {
		dma->overflows++;
		return NULL;
	}
	/* dma_alloc_coherent() memory is zeroed; callers may rely on it. */
	gfp &= ~(__GFP_COMP | __GFP_HIGHMEM);
	cpu = alloc_pages_exact(size, gfp | __GFP_ZERO | __GFP_NOWARN);
	if (!cpu)
		return NULL;
	a->cpu = cpu;
	a->dma = virt_to_phys(cpu);
	a->size = size;
	dma->live_allocs++;
	*dma_handle = a->dma;
	return cpu;
}

static void vfc_fake_dma_free(struct device *dev, size_t size, void *cpu,
			      dma_addr_t dma_handle, unsigned long attrs)
{
	struct vfc_fake_dma *dma = to_fake_dma(dev);
	unsigned int i;

	for (i = 0; i < VFC_FAKE_DMA_MAX_ALLOCS; i++) {
		struct vfc_fake_alloc *a = &dma->allocs[i];

		if (a->cpu == cpu && a->dma == dma_handle && a->size == size) {
			free_pages_exact(cpu, size);
			a->cpu = NULL;
			dma->live_allocs--;
			return;
		}
	}
	/* Leak it rather than free the wrong pages. */
	dma->bad_frees++;
}

static dma_addr_t vfc_fake_dma_map_phys(struct device *dev, phys_addr_t phys,
					size_t size, enum dma_data_direction dir,
					unsigned long attrs)
{
	struct vfc_fake_dma *dma = to_fake_dma(dev);
	unsigned int i;

	if (!dma->maps_left) {
		dma->map_failures++;
		return DMA_MAPPING_ERROR;
	}
	for (i = 0; i < VFC_FAKE_DMA_MAX_MAPS; i++) {
		struct vfc_fake_map *m = &dma->maps[i];

		if (m->live)
			continue;
		if (dma->maps_left > 0)
			dma->maps_left--;
		/* No IOMMU: the device sees guest-physical addresses. */
		m->addr = phys;
		m->size = size;
		m->dir = dir;
		m->live = true;
		dma->live_maps++;
		return m->addr;
	}
	dma->overflows++;
	return DMA_MAPPING_ERROR;
}

static void vfc_fake_dma_unmap_phys(struct device *dev, dma_addr_t addr,
				    size_t size, enum dma_data_direction dir,
				    unsigned long attrs)
{
	struct vfc_fake_dma *dma = to_fake_dma(dev);
	unsigned int i;

	for (i = 0; i < VFC_FAKE_DMA_MAX_MAPS; i++) {
		struct vfc_fake_map *m = &dma->maps[i];

		if (m->live && m->addr == addr && m->size == size &&
		    m->dir == dir) {
			m->live = false;
			dma->live_maps--;
			return;
		}
	}
	dma->bad_unmaps++;
}

#ifndef VFC_DMA_OPS_MAP_PHYS
static dma_addr_t vfc_fake_dma_map_page(struct device *dev, struct page *page,
					unsigned long offset, size_t size,
					enum dma_data_direction dir,
					unsigned long attrs)
{
	return vfc_fake_dma_map_phys(dev, page_to_phys(page) + offset, size,
				     dir, attrs);
}
#endif

static void vfc_fake_dma_unmap_sg(struct device *dev, struct scatterlist *sgl,
				  int nents, enum dma_data_direction dir,
				  unsigned long attrs)
{
	struct scatterlist *sg;
	int i;

	for_each_sg(sgl, sg, nents, i)
		vfc_fake_dma_unmap_phys(dev, sg->dma_address, sg->length, dir,
					attrs);
}

/* Not in the contract (entries go through map_page), but never a NULL op. */
static int vfc_fake_dma_map_sg(struct device *dev, struct scatterlist *sgl,
			       int nents, enum dma_data_direction dir,
			       unsigned long attrs)
{
	struct scatterlist *sg;
	int i;

	for_each_sg(sgl, sg, nents, i) {
		sg->dma_address = vfc_fake_dma_map_phys(dev, sg_phys(sg),
							sg->length, dir, attrs);
		if (sg->dma_address == DMA_MAPPING_ERROR) {
			vfc_fake_dma_unmap_sg(dev, sgl, i, dir, attrs);
			return -EIO;
		}
		sg_dma_len(sg) = sg->length;
	}
	return nents;
}

static const struct dma_map_ops vfc_fake_dma_ops = {
	.alloc = vfc_fake_dma_alloc,
	.free = vfc_fake_dma_free,
#ifdef VFC_DMA_OPS_MAP_PHYS
	.map_phys = vfc_fake_dma_map_phys,
	.unmap_phys = vfc_fake_dma_unmap_phys,
#else
	.map_page = vfc_fake_dma_map_page,
	.unmap_page = vfc_fake_dma_unmap_phys,
#endif
	.map_sg = vfc_fake_dma_map_sg,
	.unmap_sg = vfc_fake_dma_unmap_sg,
};

/* Whether [addr, addr + len) lies in one live mapping in direction @dir. */
bool vfc_fake_dma_covers(const struct vfc_fake_dma *dma, u64 addr, u32 len,
			 enum dma_data_direction dir)
{
	unsigned int i;

	for (i = 0; i < VFC_FAKE_DMA_MAX_MAPS; i++) {
		const struct vfc_fake_map *m = &dma->maps[i];

		if (m->live && m->dir == dir && addr >= m->addr &&
		    addr + len <= m->addr + m->size)
			return true;
	}
	return false;
}
EXPORT_SYMBOL_NS_GPL(vfc_fake_dma_covers, VFC_TEST_NS);

static void vfc_fake_dma_release(struct device *dev)
{
	kfree(to_fake_dma(dev));
}

struct vfc_fake_dma *vfc_fake_dma_new(const char *name)
{
	struct vfc_fake_dma *dma;

	dma = kzalloc(sizeof(*dma), GFP_KERNEL);
	if (!dma)
		return NULL;
	device_initialize(&dma->dev);
	dma->dev.release = vfc_fake_dma_release;
	if (dev_set_name(&dma->dev, "%s", name)) {
		put_device(&dma->dev);
		return NULL;
	}
	set_dma_ops(&dma->dev, &vfc_fake_dma_ops);
	/*
	 * set_dma_ops() takes effect only where the kernel has per-device DMA
	 * ops (CONFIG_DMA_OPS up to 6.9, CONFIG_ARCH_HAS_DMA_OPS after; on x86
	 * only GART_IOMMU or XEN selects it from 6.10 on). Without them this
	 * device would quietly take the real DMA path and every check on it
	 * would pass unseen: refuse, so that the suites fail at once.
	 */
	if (get_dma_ops(&dma->dev) != &vfc_fake_dma_ops) {
		pr_err("vfc_test_support: set_dma_ops() has no effect on this kernel (no CONFIG_ARCH_HAS_DMA_OPS); the fake DMA device cannot work\n");
		put_device(&dma->dev);
		return NULL;
	}
	dma->dev.coherent_dma_mask = DMA_BIT_MASK(64);
	dma->dev.dma_mask = &dma->dev.coherent_dma_mask;
	dma->maps_left = -1;
	return dma;
}
EXPORT_SYMBOL_NS_GPL(vfc_fake_dma_new, VFC_TEST_NS);

/* The one live coherent allocation, or NULL if there is not exactly one. */
const struct vfc_fake_alloc *vfc_fake_dma_ring(const struct vfc_fake_dma *dma)
{
	unsigned int i;

	if (dma->live_allocs != 1)
		return NULL;
	for (i = 0; i < VFC_FAKE_DMA_MAX_ALLOCS; i++)
		if (dma->allocs[i].cpu)
			return &dma->allocs[i];
	return NULL;
}
EXPORT_SYMBOL_NS_GPL(vfc_fake_dma_ring, VFC_TEST_NS);

/**
 * vfc_fake_dma_expect_clean() - the leak check every case ends with
 * @test: the test
 * @dma: the fake DMA device
 *
 * Expectations only: it runs in a suite's exit, where an assertion would
 * abort the cleanup.
 */
void vfc_fake_dma_expect_clean(struct kunit *test,
			       const struct vfc_fake_dma *dma)
{
	KUNIT_EXPECT_EQ_MSG(test, dma->live_maps, 0U,
			    "streaming mappings leaked");
	KUNIT_EXPECT_EQ_MSG(test, dma->live_allocs, 0U,
			    "coherent allocations leaked");
	KUNIT_EXPECT_EQ_MSG(test, dma->bad_unmaps, 0U,
			    "unmapped what was not mapped");
	KUNIT_EXPECT_EQ_MSG(test, dma->bad_frees, 0U,
			    "freed what was not allocated");
	KUNIT_EXPECT_EQ(test, dma->overflows, 0U);
}
EXPORT_SYMBOL_NS_GPL(vfc_fake_dma_expect_clean, VFC_TEST_NS);

/* ------------------------------------------------------------------------
 * A vfc device that is never registered
 */

static void vfc_test_vdev_release(struct device *dev)
{
	kfree(dev_to_vfc(dev));
}

/**
 * vfc_expect_report() - the device's conformance report has this entry
 * @test: the case
 * @vdev: the device
 * @what: the entry's @what
 * @section: the spec section it must name
 * @violation: a violation, not a tolerated deviation
 * @count: the times it must count; 0 for any number but 0
 */
void vfc_expect_report(struct kunit *test, struct vfc_device *vdev,
		       const char *what, const char *section, bool violation,
		       unsigned long count)
{
	struct vfc_report_entry e;

	if (!vfc_report_get(vdev, what, &e)) {
		KUNIT_FAIL(test, "conformance report: no \"%s\"", what);
		return;
	}
	KUNIT_EXPECT_STREQ(test, e.section, section);
	KUNIT_EXPECT_EQ_MSG(test, e.violation, violation, "%s", what);
	if (count)
		KUNIT_EXPECT_EQ_MSG(test, e.count, count, "%s", what);
	else
		KUNIT_EXPECT_GT_MSG(test, e.count, 0UL, "%s", what);
	KUNIT_EXPECT_LE(test, e.first, e.last);
	KUNIT_EXPECT_NE(test, e.example[0], '\0');
}
EXPORT_SYMBOL_NS_GPL(vfc_expect_report, VFC_TEST_NS);

/**
 * vfc_test_vdev_new() - a vfc device for queues made directly
 * @name: its device name
 * @features: its negotiated features
 *
 * Never registered: it owns a list of queues and the features that pick
 * their layout and options, nothing more. Drop it with put_device().
 *
 * Return: the device, or NULL.
 */
struct vfc_device *vfc_test_vdev_new(const char *name, u64 features)
{
	struct vfc_device *vdev;

	vdev = kzalloc(sizeof(*vdev), GFP_KERNEL);
	if (!vdev)
		return NULL;
	device_initialize(&vdev->dev);
	vdev->dev.release = vfc_test_vdev_release;
	if (dev_set_name(&vdev->dev, "%s", name)) {
		put_device(&vdev->dev);
		return NULL;
	}
	spin_lock_init(&vdev->config_lock);
	spin_lock_init(&vdev->vqs_list_lock);
	INIT_LIST_HEAD(&vdev->vqs);
	vdev->features = features;
	vfc_report_init(vdev);
	return vdev;
}
EXPORT_SYMBOL_NS_GPL(vfc_test_vdev_new, VFC_TEST_NS);

/* ------------------------------------------------------------------------
 * The fake transport
 */

/* Fake devices freed by their release function, across all tests. */
static atomic_t vfc_fake_released = ATOMIC_INIT(0);

/**
 * vfc_fake_releases() - how many fake devices were freed so far
 *
 * Return: the count, which only grows.
 */
int vfc_fake_releases(void)
{
	return atomic_read(&vfc_fake_released);
}
EXPORT_SYMBOL_NS_GPL(vfc_fake_releases, VFC_TEST_NS);

static void vfc_fake_log(struct vfc_fake *fake, u8 status)
{
	if (fake->log_len < VFC_TEST_LOG_LEN)
		fake->log[fake->log_len] = status;
	fake->log_len++;
}

static void vfc_fake_get(struct vfc_device *vdev, unsigned int offset,
			 void *buf, unsigned int len)
{
	struct vfc_fake *fake = to_vfc_fake(vdev);

	fake->config_reads++;
	if (offset > sizeof(fake->config) ||
	    len > sizeof(fake->config) - offset) {
		memset(buf, 0, len);
		return;
	}
	memcpy(buf, fake->config + offset, len);
	/* The device changes its config while the driver reads it. */
	if (fake->changes_during_get) {
		fake->changes_during_get--;
		fake->generation++;
	}
}

static void vfc_fake_set(struct vfc_device *vdev, unsigned int offset,
			 const void *buf, unsigned int len)
{
	struct vfc_fake *fake = to_vfc_fake(vdev);

	if (offset > sizeof(fake->config) ||
	    len > sizeof(fake->config) - offset)
		return;
	memcpy(fake->config + offset, buf, len);
}

static u32 vfc_fake_generation(struct vfc_device *vdev)
{
	struct vfc_fake *fake = to_vfc_fake(vdev);

	fake->generation_reads++;
	return fake->generation;
}

static u8 vfc_fake_get_status(struct vfc_device *vdev)
{
	return to_vfc_fake(vdev)->status;
}

static void vfc_fake_set_status(struct vfc_device *vdev, u8 status)
{
	struct vfc_fake *fake = to_vfc_fake(vdev);

	vfc_fake_log(fake, status);
	/*
	 * "2.2.2 Device Requirements: Feature Bits": a device that cannot
	 * work with the accepted subset fails to set FEATURES_OK.
	 */
	if (fake->refuse_features_ok)
		status &= ~VIRTIO_CONFIG_S_FEATURES_OK;
	fake->status = status;
}

static int vfc_fake_reset(struct vfc_device *vdev)
{
	struct vfc_fake *fake = to_vfc_fake(vdev);

	fake->resets++;
	if (fake->reset_err)
		return fake->reset_err;
	vfc_fake_log(fake, 0);
	fake->status = 0;
	return 0;
}

static int vfc_fake_find_vqs(struct vfc_device *vdev, unsigned int nvqs,
			     struct vfc_virtqueue *vqs[],
			     const struct vfc_vq_info info[])
{
	return nvqs ? -EOPNOTSUPP : 0;
}

static void vfc_fake_del_vqs(struct vfc_device *vdev)
{
}

static u64 vfc_fake_get_features(struct vfc_device *vdev)
{
	return to_vfc_fake(vdev)->device_features;
}

static int vfc_fake_finalize_features(struct vfc_device *vdev)
{
	struct vfc_fake *fake = to_vfc_fake(vdev);

	fake->finalize_calls++;
	fake->finalized = vdev->features;
	return 0;
}

static const struct vfc_config_ops vfc_fake_ops = {
	.get = vfc_fake_get,
	.set = vfc_fake_set,
	.generation = vfc_fake_generation,
	.get_status = vfc_fake_get_status,
	.set_status = vfc_fake_set_status,
	.reset = vfc_fake_reset,
	.find_vqs = vfc_fake_find_vqs,
	.del_vqs = vfc_fake_del_vqs,
	.get_features = vfc_fake_get_features,
	.finalize_features = vfc_fake_finalize_features,
};

/*
 * The transport owns the device's memory; the last put_device() frees it,
 * which may be after the test that made it has ended.
 */
static void vfc_fake_release(struct device *dev)
{
	kfree(to_vfc_fake(dev_to_vfc(dev)));
	atomic_inc(&vfc_fake_released);
}

/*
 * A fake device, not registered yet: set knobs, then vfc_register_device()
 * with no assertion in between. Not kunit-managed: its release function
 * frees it, and nothing frees one that is never added.
 */
struct vfc_fake *vfc_fake_new(struct kunit *test, u64 features)
{
	struct vfc_fake *fake;
	unsigned int i;

	fake = kzalloc(sizeof(*fake), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, fake);
	fake->ops = vfc_fake_ops;
	fake->vdev.config = &fake->ops;
	fake->vdev.id.device = VFC_TEST_DEVICE_ID;
	fake->vdev.id.vendor = VFC_TEST_VENDOR_ID;
	fake->vdev.dev.release = vfc_fake_release;
	fake->device_features = features;
	for (i = 0; i < sizeof(fake->config); i++)
		fake->config[i] = i;
	return fake;
}
EXPORT_SYMBOL_NS_GPL(vfc_fake_new, VFC_TEST_NS);

/* How many status writes had @bit set. */
unsigned int vfc_fake_writes_with(const struct vfc_fake *fake, u8 bit)
{
	unsigned int i, n = 0;

	for (i = 0; i < min_t(unsigned int, fake->log_len, VFC_TEST_LOG_LEN);
	     i++)
		if (fake->log[i] & bit)
			n++;
	return n;
}
EXPORT_SYMBOL_NS_GPL(vfc_fake_writes_with, VFC_TEST_NS);

/* The status log from entry @from on is exactly @expected. */
void vfc_fake_expect_log(struct kunit *test, const struct vfc_fake *fake,
			 unsigned int from, const u8 *expected, unsigned int n)
{
	unsigned int i;

	KUNIT_ASSERT_LE(test, fake->log_len, VFC_TEST_LOG_LEN);
	KUNIT_ASSERT_EQ(test, fake->log_len, from + n);
	for (i = 0; i < n; i++)
		KUNIT_EXPECT_EQ_MSG(test, fake->log[from + i], expected[i],
				    "status write %u", from + i);
}
EXPORT_SYMBOL_NS_GPL(vfc_fake_expect_log, VFC_TEST_NS);

/* ------------------------------------------------------------------------
 * The fake ring device: checks and helpers
 */

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

	if (t->nr_out + t->nr_in == VFC_RT_MAX_SG && !rt->long_bufs)
		return vfc_rt_bad(rt, "buffer longer than posted");
	if (!write && t->nr_in)
		return vfc_rt_bad(rt, "readable entry after a writable one");
	if (!rt->phys && !vfc_fake_dma_covers(rt->dma, addr, len, dir))
		return vfc_rt_bad(rt, "entry %#llx+%u not mapped %s", addr,
				  len, write ? "from device" : "to device");
	/* With @long_bufs, entries past VFC_RT_MAX_SG are counted only. */
	if (t->nr_out + t->nr_in < VFC_RT_MAX_SG) {
		e = &t->elem[t->nr_out + t->nr_in];
		e->addr = addr;
		e->len = len;
		e->write = write;
	}
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
 * Move the idle queue to free-running index @idx: the driver's side
 * through virtio_ring_split.c, then the device's, which asks for a kick
 * for the next buffer as at the start.
 */
static void vfc_rt_split_set_index(struct vfc_rt *rt, u16 idx)
{
	struct kunit *test = rt->test;

	KUNIT_ASSERT_EQ_MSG(test, rt->last_avail, rt->used_idx,
			    "buffers in flight");
	KUNIT_ASSERT_EQ(test, vfc_vring_split_test_set_index(rt->vq, idx), 0);
	KUNIT_ASSERT_EQ(test, vfc_rt_r16(&rt->vr->avail->idx), idx);
	rt->last_avail = idx;
	rt->used_idx = idx;
	rt->signalled_used = idx;
	vfc_rt_w16(&rt->vr->used->idx, idx);
	/* Publishes avail_event, and used->idx with it. */
	vfc_rt_split_kick_hint(rt, VFC_RT_KICKS_WANTED);
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

const struct vfc_rt_ring_ops vfc_rt_split_ops = {
	.features = 0,
	.set_index = vfc_rt_split_set_index,
	.attach = vfc_rt_split_attach,
	.expect_areas = vfc_rt_split_expect_areas,
	.pop_avail = vfc_rt_split_pop_avail,
	.push_used = vfc_rt_split_push_used,
	.jump_used = vfc_rt_split_jump_used,
	.wants_irq = vfc_rt_split_wants_irq,
	.kick_hint = vfc_rt_split_kick_hint,
	.scribble = vfc_rt_split_scribble,
};
EXPORT_SYMBOL_NS_GPL(vfc_rt_split_ops, VFC_TEST_NS);

/* ------------------------------------------------------------------------
 * The device's side of the packed layout
 */

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
void vfc_rt_packed_set_kicks(struct vfc_rt *rt, u16 flags, u16 pos,
			     bool wrap)
{
	WRITE_ONCE(rt->dev->off_wrap, cpu_to_le16(vfc_rt_off_wrap(pos, wrap)));
	WRITE_ONCE(rt->dev->flags, cpu_to_le16(flags));
	/* Publish the wish before the driver's next look at the ring. */
	virt_mb();
}
EXPORT_SYMBOL_NS_GPL(vfc_rt_packed_set_kicks, VFC_TEST_NS);

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

const struct vfc_rt_ring_ops vfc_rt_packed_ops = {
	.features = F_PACKED,
	.attach = vfc_rt_packed_attach,
	.expect_areas = vfc_rt_packed_expect_areas,
	.pop_avail = vfc_rt_packed_pop_avail,
	.push_used = vfc_rt_packed_push_used,
	.jump_used = vfc_rt_packed_jump_used,
	.wants_irq = vfc_rt_packed_wants_irq,
	.kick_hint = vfc_rt_packed_kick_hint,
	.scribble = vfc_rt_packed_scribble,
};
EXPORT_SYMBOL_NS_GPL(vfc_rt_packed_ops, VFC_TEST_NS);

/* ------------------------------------------------------------------------
 * The fake device, layout-independent
 */

/* The transport's notify: the device got a kick. */
bool vfc_rt_notify(struct vfc_virtqueue *vq)
{
	struct vfc_rt *rt = vq->priv;

	rt->kicks++;
	return !rt->notify_fails;
}
EXPORT_SYMBOL_NS_GPL(vfc_rt_notify, VFC_TEST_NS);

void vfc_rt_callback(struct vfc_virtqueue *vq)
{
	struct vfc_rt *rt = vq->priv;

	rt->callbacks++;
}
EXPORT_SYMBOL_NS_GPL(vfc_rt_callback, VFC_TEST_NS);

/* The device takes the next available buffer, which must be there. */
struct vfc_rt_taken *vfc_rt_take(struct vfc_rt *rt, unsigned int i)
{
	KUNIT_ASSERT_LT(rt->test, i, (unsigned int)VFC_RT_NBUFS);
	KUNIT_ASSERT_TRUE_MSG(rt->test, rt->ops->pop_avail(rt, &rt->taken[i]),
			      "no buffer %u available", i);
	return &rt->taken[i];
}
EXPORT_SYMBOL_NS_GPL(vfc_rt_take, VFC_TEST_NS);

/* Write the pattern into the first @len writable bytes of @t. */
static void vfc_rt_fill(const struct vfc_rt_taken *t, u32 len)
{
	unsigned int i;

	for (i = t->nr_out;
	     i < min(t->nr_out + t->nr_in, VFC_RT_MAX_SG) && len; i++) {
		u32 n = min(len, t->elem[i].len);

		memset(phys_to_virt(t->elem[i].addr), VFC_RT_PATTERN, n);
		len -= n;
	}
}

/* Return @t with @len bytes written, without deciding on an interrupt. */
void vfc_rt_push(struct vfc_rt *rt, const struct vfc_rt_taken *t,
		 u32 len)
{
	vfc_rt_fill(t, len);
	rt->ops->push_used(rt, t->id, len);
}
EXPORT_SYMBOL_NS_GPL(vfc_rt_push, VFC_TEST_NS);

/*
 * The device decides on an interrupt for what it used since it last did,
 * and raises one if the driver asked for it, with interrupts off as a
 * real one would run.
 */
void vfc_rt_interrupt(struct vfc_rt *rt)
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
EXPORT_SYMBOL_NS_GPL(vfc_rt_interrupt, VFC_TEST_NS);

void vfc_rt_complete(struct vfc_rt *rt, const struct vfc_rt_taken *t,
		     u32 len)
{
	vfc_rt_push(rt, t, len);
	vfc_rt_interrupt(rt);
}
EXPORT_SYMBOL_NS_GPL(vfc_rt_complete, VFC_TEST_NS);

/* ------------------------------------------------------------------------
 * The driver's side
 */

/**
 * vfc_rt_create_on() - a queue of @vdev that this fake ring device serves
 * @rt: the fake ring device: its DMA device and layout
 * @vdev: the device the queue belongs to (a fake transport's find_vqs
 *	makes its queues so)
 * @cfg: the queue; dma_dev is set to @rt's
 *
 * Return: the queue, live, or an ERR_PTR.
 */
struct vfc_virtqueue *vfc_rt_create_on(struct vfc_rt *rt,
				       struct vfc_device *vdev,
				       struct vfc_vring_config *cfg)
{
	struct vfc_virtqueue *vq;
	unsigned int nth;

	cfg->dma_dev = &rt->dma->dev;
	vq = vfc_vring_create_virtqueue(vdev, cfg);
	if (!vq) {
		KUNIT_FAIL(rt->test, "create returned NULL, not an ERR_PTR");
		return ERR_PTR(-EFAULT);
	}
	if (IS_ERR(vq))
		return vq;
	/* What the fixture allocates is not the operation's (vfc_sweep()). */
	nth = vfc_fail_nth_pause();
	vq->priv = rt;
	rt->vq = vq;
	/* Without ACCESS_PLATFORM the ring hands out physical addresses. */
	rt->phys = !vfc_has_feature(vdev, VIRTIO_F_ACCESS_PLATFORM);
	rt->last_avail = 0;
	rt->used_idx = 0;
	rt->signalled_used = 0;
	/* Packed: the positions, wrap counters and used_idx's encoding. */
	rt->ops->attach(rt);
	rt->ops->kick_hint(rt, VFC_RT_KICKS_WANTED);
	vfc_fail_nth_arm(nth);
	return vq;
}
EXPORT_SYMBOL_NS_GPL(vfc_rt_create_on, VFC_TEST_NS);

struct vfc_virtqueue *vfc_rt_create(struct vfc_rt *rt,
				    unsigned int num,
				    unsigned int align,
				    bool may_reduce_num)
{
	struct vfc_vring_config cfg = {
		.index = VFC_RT_INDEX,
		.num = num,
		.vring_align = align,
		.weak_barriers = true,
		.may_reduce_num = may_reduce_num,
		.notify = vfc_rt_notify,
		.callback = vfc_rt_callback,
		.name = VFC_RT_NAME,
	};
	struct vfc_virtqueue *vq;

	vq = vfc_rt_create_on(rt, rt->vdev, &cfg);
	/* The device is live, as after DRIVER_OK. */
	if (!IS_ERR(vq))
		vfc_vring_set_cbs_live(rt->vdev, true);
	return vq;
}
EXPORT_SYMBOL_NS_GPL(vfc_rt_create, VFC_TEST_NS);

/* Create the queue the row describes. */
void vfc_rt_start(struct vfc_rt *rt)
{
	struct vfc_virtqueue *vq;

	vq = vfc_rt_create(rt, rt->param->num ?: VFC_RT_NUM,
			   rt->param->align ?: VFC_RT_ALIGN, false);
	KUNIT_ASSERT_FALSE_MSG(rt->test, IS_ERR(vq), "create: %ld",
			       PTR_ERR(vq));
}
EXPORT_SYMBOL_NS_GPL(vfc_rt_start, VFC_TEST_NS);

/* Detach what is left, as a driver does after reset, and free the queue. */
void vfc_rt_destroy(struct vfc_rt *rt)
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
EXPORT_SYMBOL_NS_GPL(vfc_rt_destroy, VFC_TEST_NS);

/*
 * Lay out buffer @i: @nr_out readable then @nr_in writable entries of @len
 * bytes each, each in its own slot. Readable bytes hold a filler, writable
 * ones zeroes, so the device's writes show.
 */
struct vfc_rt_buf *vfc_rt_prep(struct vfc_rt *rt, unsigned int i,
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
EXPORT_SYMBOL_NS_GPL(vfc_rt_prep, VFC_TEST_NS);

/* Post each writable entry of @b as a scatterlist of its own. */
void vfc_rt_in_per_entry(struct vfc_rt_buf *b)
{
	unsigned int e;

	b->in_per_entry = true;
	for (e = 0; e < b->nr_in; e++)
		sg_init_one(&b->in[e], b->mem[b->nr_out + e],
			    b->len[b->nr_out + e]);
}
EXPORT_SYMBOL_NS_GPL(vfc_rt_in_per_entry, VFC_TEST_NS);

/* vfc_vq_add_sgs() with @b as its own token. */
int vfc_rt_add(struct vfc_rt *rt, struct vfc_rt_buf *b)
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
EXPORT_SYMBOL_NS_GPL(vfc_rt_add, VFC_TEST_NS);

/* The device found @b as the driver posted it, entry by entry. */
void vfc_rt_expect_taken(struct vfc_rt *rt, const struct vfc_rt_buf *b,
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
EXPORT_SYMBOL_NS_GPL(vfc_rt_expect_taken, VFC_TEST_NS);

/* The first @len writable bytes of @b hold the pattern, the rest zeroes. */
void vfc_rt_expect_written(struct vfc_rt *rt,
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
EXPORT_SYMBOL_NS_GPL(vfc_rt_expect_written, VFC_TEST_NS);

/* The next used buffer must be @b, with @len bytes written. */
void vfc_rt_expect_used(struct vfc_rt *rt, const struct vfc_rt_buf *b,
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
EXPORT_SYMBOL_NS_GPL(vfc_rt_expect_used, VFC_TEST_NS);

/* No used buffer is waiting. */
void vfc_rt_expect_none(struct vfc_rt *rt)
{
	unsigned int len;

	KUNIT_EXPECT_NULL(rt->test, vfc_vq_get_buf(rt->vq, &len));
}
EXPORT_SYMBOL_NS_GPL(vfc_rt_expect_none, VFC_TEST_NS);

/* No used buffer is waiting, and looking for one broke nothing. */
void vfc_rt_expect_idle(struct vfc_rt *rt)
{
	vfc_rt_expect_none(rt);
	KUNIT_EXPECT_FALSE_MSG(rt->test, vfc_vq_is_broken(rt->vq),
			       "broken: %s", vfc_vq_broken_reason(rt->vq));
}
EXPORT_SYMBOL_NS_GPL(vfc_rt_expect_idle, VFC_TEST_NS);

/*
 * Detach what is left: each token must be one of @expected (a bit per
 * buffer index), each once; then nothing is mapped and all is free.
 */
void vfc_rt_expect_detach(struct vfc_rt *rt, unsigned long expected)
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
EXPORT_SYMBOL_NS_GPL(vfc_rt_expect_detach, VFC_TEST_NS);

/* One buffer there and back: the queue works. */
void vfc_rt_round_trip_one(struct vfc_rt *rt, unsigned int i)
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
EXPORT_SYMBOL_NS_GPL(vfc_rt_round_trip_one, VFC_TEST_NS);

/* ------------------------------------------------------------------------
 * The fixture
 */

/**
 * vfc_rt_new() - the fixture of a case that drives a queue against the
 *	fake ring device
 * @test: the test; the fixture is kunit-managed
 * @row: the layout, features and sizes; kept as @param
 *
 * A fake DMA device and a vfc device with the row's features; no queue
 * yet (vfc_rt_start() or vfc_rt_create()). Free it with vfc_rt_free().
 *
 * Return: the fixture, or NULL if something could not be allocated.
 */
struct vfc_rt *vfc_rt_new(struct kunit *test, const struct vfc_rt_case *row)
{
	u64 features = F_V1 | F_AP | row->ops->features | row->features;
	struct vfc_rt *rt;

	rt = kunit_kzalloc(test, sizeof(*rt), GFP_KERNEL);
	if (!rt)
		return NULL;
	rt->test = test;
	rt->param = row;
	rt->ops = row->ops;
	rt->packed = features & F_PACKED;
	rt->indirect = features & F_INDIRECT;
	rt->event_idx = features & F_EVENT_IDX;
	rt->mem = kunit_kzalloc(test, VFC_RT_NBUFS * VFC_RT_MAX_SG *
				      VFC_RT_SLOT, GFP_KERNEL);
	rt->dma = vfc_fake_dma_new("vfc-rt-dma");
	rt->vdev = vfc_test_vdev_new("vfc-rt", features);
	if (rt->mem && rt->dma && rt->vdev)
		return rt;
	if (rt->dma)
		put_device(&rt->dma->dev);
	if (rt->vdev)
		put_device(&rt->vdev->dev);
	return NULL;
}
EXPORT_SYMBOL_NS_GPL(vfc_rt_new, VFC_TEST_NS);

/**
 * vfc_rt_free() - free what is left of a fixture, then the leak check
 * @rt: the fixture, or NULL
 *
 * For a suite's exit, which runs after a failed assertion too:
 * expectations only, as an assertion here would abort the cleanup.
 */
void vfc_rt_free(struct vfc_rt *rt)
{
	if (!rt)
		return;
	if (rt->vq)
		vfc_rt_destroy(rt);
	vfc_fake_dma_expect_clean(rt->test, rt->dma);
	put_device(&rt->dma->dev);
	KUNIT_EXPECT_TRUE(rt->test, list_empty(&rt->vdev->vqs));
	put_device(&rt->vdev->dev);
}
EXPORT_SYMBOL_NS_GPL(vfc_rt_free, VFC_TEST_NS);

/* No suite may load where the fake DMA device cannot be made. */
static int __init vfc_test_support_init(void)
{
	struct vfc_fake_dma *dma = vfc_fake_dma_new("vfc-test-dma-check");

	if (!dma)
		return -EOPNOTSUPP;
	put_device(&dma->dev);
	return 0;
}
module_init(vfc_test_support_init);

static void __exit vfc_test_support_exit(void)
{
}
module_exit(vfc_test_support_exit);

/* ------------------------------------------------------------------------
 * The allocation-failure sweep
 */

/**
 * vfc_fail_nth_arm() - make this task's @nth allocation from now fail
 * @nth: from 1; 0 disarms
 *
 * What writing @nth to /proc/self/task/<tid>/fail-nth does, from the task
 * itself. A no-op without CONFIG_FAULT_INJECTION (vfc_sweep() fails then).
 */
void vfc_fail_nth_arm(unsigned int nth)
{
#ifdef CONFIG_FAULT_INJECTION
	WRITE_ONCE(current->fail_nth, nth);
#endif
}
EXPORT_SYMBOL_NS_GPL(vfc_fail_nth_arm, VFC_TEST_NS);

/**
 * vfc_fail_nth_pause() - stop counting this task's allocations for a while
 *
 * For a fixture's own allocations in the middle of an operation a sweep
 * breaks: vfc_fail_nth_arm() with the value returned goes on counting.
 * Return: the allocations still to go before the armed one; 0 if none is
 * armed or it was reached.
 */
unsigned int vfc_fail_nth_pause(void)
{
#ifdef CONFIG_FAULT_INJECTION
	unsigned int nth = READ_ONCE(current->fail_nth);

	WRITE_ONCE(current->fail_nth, 0);
	return nth;
#else
	return 0;
#endif
}
EXPORT_SYMBOL_NS_GPL(vfc_fail_nth_pause, VFC_TEST_NS);

/**
 * vfc_fail_nth_disarm() - disarm, and say whether the armed one failed
 *
 * Return: true if the allocation armed by vfc_fail_nth_arm() was reached
 * (and failed); false if fewer were made, or there is no fault injection.
 */
bool vfc_fail_nth_disarm(void)
{
#ifdef CONFIG_FAULT_INJECTION
	bool hit = !READ_ONCE(current->fail_nth);

	WRITE_ONCE(current->fail_nth, 0);
	return hit;
#else
	return false;
#endif
}
EXPORT_SYMBOL_NS_GPL(vfc_fail_nth_disarm, VFC_TEST_NS);

/*
 * The sweep means something only if the allocations it is after count: a
 * slab allocation that may sleep, and an order-0 movable highmem page (a
 * balloon page). The kernel's defaults count neither.
 */
static bool vfc_sweep_armed(struct kunit *test)
{
	struct page *page;
	void *p;
	bool hit;

	vfc_fail_nth_arm(1);
	p = kmalloc(16, GFP_KERNEL | __GFP_NOWARN);
	hit = vfc_fail_nth_disarm();
	kfree(p);
	if (!hit || p) {
		KUNIT_FAIL(test, "fail-nth misses GFP_KERNEL slab: %s",
			   "CONFIG_FAILSLAB, ignore-gfp-wait N (test_kunit.py)");
		return false;
	}
	vfc_fail_nth_arm(1);
	page = alloc_page(GFP_HIGHUSER_MOVABLE | __GFP_NOWARN);
	hit = vfc_fail_nth_disarm();
	if (page)
		__free_page(page);
	if (!hit || page) {
		KUNIT_FAIL(test, "fail-nth misses order-0 pages: %s",
			   "CONFIG_FAIL_PAGE_ALLOC, ignore-gfp-wait and -highmem N, min-order 0 (test_kunit.py)");
		return false;
	}
	return true;
}

/*
 * DMA-API debug tracks the cachelines of mappings the device may write in
 * a radix tree whose nodes it allocates with GFP_ATOMIC, and when one such
 * allocation fails it turns itself off for the rest of the boot
 * ("cacheline tracking ENOMEM, dma-debug disabled"). A radix tree node
 * that cannot be allocated comes from the CPU's preloaded ones instead:
 * fill every CPU's before each step, so that the checker outlives the
 * sweep (its failure point still counts).
 */
static long vfc_sweep_preload_cpu(void *unused)
{
	if (!radix_tree_preload(GFP_KERNEL))
		radix_tree_preload_end();
	return 0;
}

static void vfc_sweep_preload(void)
{
	int cpu;

	for_each_online_cpu(cpu)
		work_on_cpu_safe(cpu, vfc_sweep_preload_cpu, NULL);
}

/**
 * vfc_sweep() - fail an operation's allocations one by one
 * @test: the case
 * @row: the case's row (ring layout), for the log
 * @what: the operation, for the log
 * @step: runs the operation once with a given allocation failing
 * @ctx: passed to @step
 *
 * Calls @step for N = 1, 2, ... until it reports that the operation made
 * fewer than N allocations (the run that succeeds untouched), or the case
 * failed. Logs the number of failure points exercised.
 *
 * Return: that number.
 */
unsigned int vfc_sweep(struct kunit *test, const char *row,
		       const char *what, vfc_sweep_step_t step, void *ctx)
{
	unsigned int nth;

	if (!vfc_sweep_armed(test))
		return 0;
	for (nth = 1; nth <= VFC_SWEEP_MAX; nth++) {
		vfc_sweep_preload();
		if (!step(test, ctx, nth))
			break;
		if (test->status == KUNIT_FAILURE) {
			kunit_info(test, "%s %s: failed at allocation %u of the sweep\n",
				   row, what, nth);
			return nth;
		}
	}
	KUNIT_EXPECT_LE_MSG(test, nth, VFC_SWEEP_MAX,
			    "%s %s: still allocating after %u failure points",
			    row, what, VFC_SWEEP_MAX);
	kunit_info(test, "%s %s: %u allocation failure points, each failed cleanly\n",
		   row, what, nth - 1);
	return nth - 1;
}
EXPORT_SYMBOL_NS_GPL(vfc_sweep, VFC_TEST_NS);

MODULE_DESCRIPTION("vfc KUnit suites: fakes and fixtures they share");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(VFC_NS);
MODULE_IMPORT_NS(VFC_KUNIT_NS);
