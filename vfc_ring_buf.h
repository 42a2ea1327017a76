/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vfc: a buffer's way through a ring, the part both layouts share: mapping
 * its entries into the private record, committing it, taking it back when
 * the device used it. Each layout's add and get_buf run these for every
 * buffer, so they are inline: a call and return per step cost more than
 * the step (under TCG each return is a lookup of the next translated
 * block; make bench's ring table showed it).
 */
#ifndef _VFC_RING_BUF_H
#define _VFC_RING_BUF_H

#include <linux/dma-mapping.h>
#include <linux/slab.h>

#include "vfc_ring_internal.h"
#include "vfc_trace.h"

/* Map one scatterlist entry for the device; 0 or -ENOMEM. */
static inline int map_sg(struct vfc_vring *vr, struct scatterlist *sg,
			 enum dma_data_direction dir, dma_addr_t *addr)
{
	if (!vr->use_dma_api) {
		*addr = (dma_addr_t)sg_phys(sg);
		return 0;
	}
	*addr = dma_map_page(vr->dma_dev, sg_page(sg), sg->offset, sg->length,
			     dir);
	if (dma_mapping_error(vr->dma_dev, *addr))
		return -ENOMEM;
	return 0;
}

static inline void unmap_extra(struct vfc_vring *vr,
			       const struct vfc_vring_extra *e)
{
	if (!vr->use_dma_api)
		return;
	dma_unmap_page(vr->dma_dev, e->addr, e->len,
		       (e->flags & VRING_DESC_F_WRITE) ? DMA_FROM_DEVICE :
							 DMA_TO_DEVICE);
}

/**
 * vfc_vring_unmap_buf() - undo vfc_vring_map_buf()
 * @vr: the queue
 * @buf: the buffer; its indirect table, if any, is unmapped only if
 *	vfc_vring_map_indir() mapped it, and freed
 *
 * Everything is undone from the private record, never from the ring.
 */
static __always_inline void vfc_vring_unmap_buf(struct vfc_vring *vr,
						struct vfc_vring_buf *buf)
{
	struct vfc_vring_indir *indir = buf->indir;
	u16 idx = buf->head;
	unsigned int i;

	for (i = 0; i < buf->n; i++) {
		if (indir) {
			unmap_extra(vr, &indir->extra[i]);
		} else {
			unmap_extra(vr, &vr->extra[idx]);
			idx = vr->extra[idx].next;
		}
	}
	if (indir) {
		if (indir->mapped)
			dma_unmap_single(vr->dma_dev, indir->dma,
					 indir->num * VFC_VRING_DESC_SIZE,
					 DMA_TO_DEVICE);
		/* One allocation: the table, then the record. */
		kfree(indir->desc);
	}
}

/*
 * An indirect table and its record in one allocation: the table first (the
 * device reads it; kmalloc aligns it), the record after it.
 */
static inline struct vfc_vring_indir *alloc_indir(unsigned int total,
						  gfp_t gfp)
{
	struct vfc_vring_indir *indir;
	size_t table = (size_t)total * VFC_VRING_DESC_SIZE;
	void *mem;

	/* Failure is not an error: the buffer goes direct instead. */
	mem = kmalloc(table + struct_size(indir, extra, total),
		      gfp | __GFP_NOWARN);
	if (!mem)
		return NULL;
	indir = mem + table;
	indir->desc = mem;
	indir->num = total;
	indir->mapped = false;
	return indir;
}

/**
 * vfc_vring_map_buf() - reserve and map a buffer's entries
 * @vr: the queue
 * @sgs: @out_sgs readable then @in_sgs writable scatterlists
 * @total: their entries in all
 * @out_sgs: readable scatterlists
 * @in_sgs: writable scatterlists
 * @gfp: for an indirect table
 * @buf: filled in: the private entries taken and what they hold
 * @table_write: the layout's writer of entry @i (of @total) of an indirect
 *	table, from its record
 *
 * Maps each entry into the private record: an indirect table's when the
 * buffer goes indirect (INDIRECT_DESC, more than one entry, and a table
 * could be allocated), else the chain of ring entries from the free head.
 * An indirect table's entries are written as they are mapped, in one
 * pass. Nothing is taken from the free list until vfc_vring_commit().
 *
 * Return: 0; -EINVAL if the buffer is longer than the ring ("A driver MUST
 * NOT create a descriptor chain longer than the Queue Size") or than
 * 4 GiB ("Drivers MUST NOT add a descriptor chain longer than 2^32 bytes
 * in total"); -ENOSPC without enough free descriptors;
 * -ENOMEM if a mapping failed. On error nothing stays mapped.
 */
static __always_inline int
vfc_vring_map_buf(struct vfc_vring *vr, struct scatterlist *sgs[],
		  unsigned int total, unsigned int out_sgs, unsigned int in_sgs,
		  gfp_t gfp, struct vfc_vring_buf *buf,
		  void (*table_write)(void *table, unsigned int i,
				      unsigned int total,
				      const struct vfc_vring_extra *e))
{
	struct vfc_vring_extra *e = NULL;
	enum dma_data_direction dir;
	struct scatterlist *sg;
	u64 in_len = 0, len = 0;
	u16 idx;
	unsigned int i;
	int err;

	buf->n = 0;
	buf->indir = NULL;
	if (total > vr->num)
		return -EINVAL;
	if (vr->indirect && total > 1 && vr->vq.num_free)
		buf->indir = alloc_indir(total, gfp);
	buf->ndesc = buf->indir ? 1 : total;
	if (vr->vq.num_free < buf->ndesc) {
		err = -ENOSPC;
		goto fail;
	}

	buf->head = vr->free_head;
	idx = buf->head;
	for (i = 0; i < out_sgs + in_sgs; i++) {
		dir = i < out_sgs ? DMA_TO_DEVICE : DMA_FROM_DEVICE;
		/* Never more than @total: the table and the ring hold that many. */
		for (sg = sgs[i]; sg && buf->n < total; sg = sg_next(sg)) {
			e = buf->indir ? &buf->indir->extra[buf->n] :
					 &vr->extra[idx];
			err = map_sg(vr, sg, dir, &e->addr);
			if (err)
				goto fail;
			e->len = sg->length;
			len += sg->length;
			e->flags = 0;
			if (dir == DMA_FROM_DEVICE) {
				e->flags = VRING_DESC_F_WRITE;
				in_len += sg->length;
			}
			if (buf->indir) {
				table_write(buf->indir->desc, buf->n, total, e);
			} else {
				buf->last = idx;
				idx = e->next;
			}
			buf->n++;
		}
	}
	/* A chain holds 4 GiB at most; a used length counts below that. */
	if (len > BIT_ULL(32) || in_len > U32_MAX) {
		err = -EINVAL;
		goto fail;
	}
	buf->in_len = in_len;
	return 0;

fail:
	vfc_vring_unmap_buf(vr, buf);
	return err;
}

/**
 * vfc_vring_map_indir() - map a buffer's indirect table for the device
 * @vr: the queue
 * @buf: the buffer; the layout has written the table in its format
 *
 * Records the table as the buffer's one ring entry.
 *
 * Return: 0, or -ENOMEM (the caller undoes the buffer).
 */
static inline int vfc_vring_map_indir(struct vfc_vring *vr,
				      struct vfc_vring_buf *buf)
{
	struct vfc_vring_indir *indir = buf->indir;
	struct vfc_vring_extra *e = &vr->extra[buf->head];
	dma_addr_t dma;

	if (vr->use_dma_api) {
		dma = dma_map_single(vr->dma_dev, indir->desc,
				     buf->n * VFC_VRING_DESC_SIZE,
				     DMA_TO_DEVICE);
		if (dma_mapping_error(vr->dma_dev, dma))
			return -ENOMEM;
		indir->mapped = true;
	} else {
		dma = virt_to_phys(indir->desc);
	}
	indir->dma = dma;
	indir->num = buf->n;
	e->addr = dma;
	e->len = buf->n * VFC_VRING_DESC_SIZE;
	e->flags = VRING_DESC_F_INDIRECT;
	buf->last = buf->head;
	return 0;
}

/**
 * vfc_vring_commit() - the buffer is the device's: take its entries
 * @vr: the queue
 * @buf: the mapped buffer
 * @data: its token
 */
static __always_inline void vfc_vring_commit(struct vfc_vring *vr,
					     const struct vfc_vring_buf *buf,
					     void *data)
{
	vr->state[buf->head] = (struct vfc_vring_state) {
		.data = data, .indir = buf->indir, .in_len = buf->in_len,
		.ndesc = buf->ndesc, .last = buf->last,
	};
	vr->free_head = vr->extra[buf->last].next;
	vr->vq.num_free -= buf->ndesc;
	vr->in_flight++;
	vr->stats.added++;
	vr->stats.indirect += !!buf->indir;
	vr->stats.max_in_flight = max(vr->stats.max_in_flight, vr->in_flight);
	trace_vfc_vq_add(&vr->vq, buf->head, buf->n, !!buf->indir);
}

/**
 * vfc_vring_detach() - take a buffer back from the device
 * @vr: the queue
 * @head: its first private entry, known to be in flight
 *
 * Undoes its mappings from the private record and gives its entries back
 * to the free list.
 *
 * Return: its token.
 */
static __always_inline void *vfc_vring_detach(struct vfc_vring *vr, u16 head)
{
	struct vfc_vring_state *st = &vr->state[head];
	struct vfc_vring_buf buf = {
		.head = head, .indir = st->indir,
		.n = st->indir ? st->indir->num : st->ndesc,
	};
	void *data = st->data;

	vfc_vring_unmap_buf(vr, &buf);
	vr->extra[st->last].next = vr->free_head;
	vr->free_head = head;
	vr->vq.num_free += st->ndesc;
	vr->in_flight--;
	/* No longer in flight; commit() writes the rest anew. */
	st->data = NULL;
	return data;
}

/**
 * vfc_vring_take_used() - take back the buffer a used entry names
 * @vr: the queue
 * @id: the buffer id (split: head) the device used
 * @len: the bytes it says it wrote
 *
 * The entry is checked first: an id in range and in flight, a length
 * within what the buffer offered for writing. Then, as
 * vfc_vring_detach(), the buffer is unmapped and its entries freed.
 *
 * Return: the buffer's token, or NULL if the entry breaks the protocol,
 * which breaks the queue.
 */
static __always_inline void *vfc_vring_take_used(struct vfc_vring *vr, u32 id,
						 u32 len)
{
	/* Where each layout's chapter says what a used entry must hold. */
	const char *section = vr->layout == VFC_VRING_PACKED ?
			      VFC_PACKED_DESC_TABLE : VFC_SPLIT_USED_RING;

	if (id >= vr->num) {
		vfc_vring_bad(vr, section, "used id out of range",
			      "id %u, ring of %u", id, vr->num);
		return NULL;
	}
	if (!vr->state[id].data) {
		vfc_vring_bad(vr, section, "used id not in flight", "id %u", id);
		return NULL;
	}
	if (len > vr->state[id].in_len) {
		vfc_vring_bad(vr, section, "used length exceeds buffer",
			      "id %u: %u bytes used, %u writable", id, len,
			      vr->state[id].in_len);
		return NULL;
	}
	vr->stats.used++;
	trace_vfc_vq_used(&vr->vq, id, len);
	return vfc_vring_detach(vr, id);
}

#endif /* _VFC_RING_BUF_H */
