/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A fake DMA device for vfc's KUnit suites: its dma_map_ops record every
 * coherent allocation and streaming mapping, so a test can check that
 * nothing stays mapped or allocated, that nothing is unmapped twice or with
 * the wrong size or direction, and can make allocations or mappings fail.
 * No IOMMU: the device sees guest-physical addresses, which a fake device
 * turns back into pointers with phys_to_virt().
 *
 * Static functions in a header: each test module builds its own copy from
 * this one source (an object linked into two modules draws a warning).
 */
#ifndef _VFC_TESTS_FAKE_DMA_H
#define _VFC_TESTS_FAKE_DMA_H

#include <linux/dma-map-ops.h>
#include <linux/dma-mapping.h>
#include <linux/gfp.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>

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

static dma_addr_t vfc_fake_dma_map_page(struct device *dev, struct page *page,
					unsigned long offset, size_t size,
					enum dma_data_direction dir,
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
		m->addr = page_to_phys(page) + offset;
		m->size = size;
		m->dir = dir;
		m->live = true;
		dma->live_maps++;
		return m->addr;
	}
	dma->overflows++;
	return DMA_MAPPING_ERROR;
}

static void vfc_fake_dma_unmap_page(struct device *dev, dma_addr_t addr,
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

static void vfc_fake_dma_unmap_sg(struct device *dev, struct scatterlist *sgl,
				  int nents, enum dma_data_direction dir,
				  unsigned long attrs)
{
	struct scatterlist *sg;
	int i;

	for_each_sg(sgl, sg, nents, i)
		vfc_fake_dma_unmap_page(dev, sg->dma_address, sg->length, dir,
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
		sg->dma_address = vfc_fake_dma_map_page(dev, sg_page(sg),
							sg->offset, sg->length,
							dir, attrs);
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
	.map_page = vfc_fake_dma_map_page,
	.unmap_page = vfc_fake_dma_unmap_page,
	.map_sg = vfc_fake_dma_map_sg,
	.unmap_sg = vfc_fake_dma_unmap_sg,
};

/* Whether [addr, addr + len) lies in one live mapping in direction @dir. */
static inline bool vfc_fake_dma_covers(const struct vfc_fake_dma *dma, u64 addr,
				       u32 len, enum dma_data_direction dir)
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

static void vfc_fake_dma_release(struct device *dev)
{
	kfree(to_fake_dma(dev));
}

static inline struct vfc_fake_dma *vfc_fake_dma_new(const char *name)
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
	dma->dev.coherent_dma_mask = DMA_BIT_MASK(64);
	dma->dev.dma_mask = &dma->dev.coherent_dma_mask;
	dma->maps_left = -1;
	return dma;
}

#endif /* _VFC_TESTS_FAKE_DMA_H */
