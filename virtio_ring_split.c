// SPDX-License-Identifier: GPL-2.0
/*
 * vfc: the split virtqueue layout (virtio spec, "Split Virtqueues").
 *
 * Three areas in one coherent DMA allocation: the descriptor table, the
 * available ring (driver area, ending in used_event) and the used ring
 * (device area, ending in avail_event). The device is not trusted: the
 * ring keeps a private record of every descriptor it hands out (address,
 * length, direction, free-list link) and of every buffer in flight (token,
 * chain length, bytes the device may write), and frees and unmaps from that
 * record only. What the device writes - used ids, lengths and indices - is
 * checked before use; a violation breaks the queue.
 *
 * Modern devices only, so every ring field is little-endian.
 */
#include <linux/log2.h>
#include <linux/slab.h>
#include <linux/virtio_byteorder.h>
#include <vfc/vfc.h>

#include "virtio_ring.h"

/* The largest split ring ("Virtqueues": Queue Size is at most 32768). */
#define VFC_SPLIT_MAX_NUM 32768

/**
 * struct vfc_split_extra - the driver's own record of one descriptor
 * @addr: the DMA address it was mapped at
 * @len: its length
 * @flags: VRING_DESC_F_* as written to the device
 * @next: free-list link, which a chain follows too (ring descriptors only)
 */
struct vfc_split_extra {
	dma_addr_t addr;
	u32 len;
	u16 flags;
	u16 next;
};

/**
 * struct vfc_split_indir - an indirect descriptor table and its record
 * @desc: the table the device reads
 * @dma: where @desc is mapped
 * @num: entries in @desc
 * @extra: the driver's record of each entry
 */
struct vfc_split_indir {
	struct vring_desc *desc;
	dma_addr_t dma;
	unsigned int num;
	struct vfc_split_extra extra[];
};

/**
 * struct vfc_split_state - a buffer in flight, indexed by its head
 * @data: the driver's token; NULL when the head is not in flight
 * @indir: its indirect table, or NULL
 * @in_len: bytes the device may write (the sum of the writable entries)
 * @ndesc: ring descriptors the buffer takes
 * @last: its last ring descriptor, which links back into the free list
 */
struct vfc_split_state {
	void *data;
	struct vfc_split_indir *indir;
	u32 in_len;
	u16 ndesc;
	u16 last;
};

/**
 * struct vfc_vring_split - a split virtqueue
 * @common: state shared with the packed layout
 * @vring: CPU addresses of the three areas
 * @avail_idx_shadow: our copy of avail->idx, never read back
 * @avail_flags_shadow: our copy of avail->flags, never read back
 * @last_used_idx: the next used entry to read
 * @free_head: the first free descriptor
 * @extra: the record of each ring descriptor
 * @state: the record of each buffer in flight, by head
 */
struct vfc_vring_split {
	struct vfc_vring common;
	struct vring vring;
	u16 avail_idx_shadow;
	u16 avail_flags_shadow;
	u16 last_used_idx;
	u16 free_head;
	struct vfc_split_extra *extra;
	struct vfc_split_state *state;
};

static inline struct vfc_vring_split *to_split(const struct vfc_vring *vr)
{
	return container_of(vr, struct vfc_vring_split, common);
}

static inline __virtio16 cpu_to_ring16(u16 v)
{
	return __cpu_to_virtio16(true, v);
}

static inline u16 ring16_to_cpu(__virtio16 v)
{
	return __virtio16_to_cpu(true, v);
}

static void desc_write_split(struct vring_desc *d,
			     const struct vfc_split_extra *e)
{
	d->addr = __cpu_to_virtio64(true, e->addr);
	d->len = __cpu_to_virtio32(true, e->len);
	d->flags = cpu_to_ring16(e->flags);
	d->next = cpu_to_ring16(e->next);
}

static enum dma_data_direction desc_dir_split(const struct vfc_split_extra *e)
{
	return (e->flags & VRING_DESC_F_WRITE) ? DMA_FROM_DEVICE :
						 DMA_TO_DEVICE;
}

/* ------------------------------------------------------------------ */
/* Ring memory                                                         */
/* ------------------------------------------------------------------ */

/* flags, idx, ring[num], used_event */
static size_t avail_bytes_split(unsigned int num)
{
	return sizeof(struct vring_avail) + sizeof(__virtio16) * (num + 1);
}

/* flags, idx, ring[num], avail_event */
static size_t used_bytes_split(unsigned int num)
{
	return sizeof(struct vring_used) +
	       sizeof(struct vring_used_elem) * num + sizeof(__virtio16);
}

static void free_ring_split(struct vfc_vring_split *vs)
{
	struct vfc_vring *vr = &vs->common;

	if (vr->ring_mem)
		dma_free_coherent(vr->dma_dev, vr->ring_bytes, vr->ring_mem,
				  vr->ring_dma);
	vr->ring_mem = NULL;
	kvfree(vs->extra);
	vs->extra = NULL;
	kvfree(vs->state);
	vs->state = NULL;
}

/*
 * One coherent allocation for the three areas: the descriptor table at its
 * start (16-byte aligned, as the allocation is page aligned), the available
 * ring right after it (2-byte alignment), the used ring at @align (the spec
 * asks for 4; transports pass more to keep it off the driver's cache lines).
 */
static int alloc_ring_split(struct vfc_vring_split *vs, unsigned int num,
			    unsigned int align)
{
	struct vfc_vring *vr = &vs->common;
	size_t desc_bytes = sizeof(struct vring_desc) * num;
	size_t used_off = ALIGN(desc_bytes + avail_bytes_split(num), align);

	vr->ring_bytes = used_off + used_bytes_split(num);
	vr->ring_mem = dma_alloc_coherent(vr->dma_dev, vr->ring_bytes,
					  &vr->ring_dma,
					  GFP_KERNEL | __GFP_NOWARN);
	if (!vr->ring_mem)
		goto fail;
	vs->extra = kvcalloc(num, sizeof(*vs->extra), GFP_KERNEL);
	if (!vs->extra)
		goto fail;
	vs->state = kvcalloc(num, sizeof(*vs->state), GFP_KERNEL);
	if (!vs->state)
		goto fail;

	vs->vring.num = num;
	vs->vring.desc = vr->ring_mem;
	vs->vring.avail = vr->ring_mem + desc_bytes;
	vs->vring.used = vr->ring_mem + used_off;
	vr->desc_dma = vr->ring_dma;
	vr->driver_dma = vr->ring_dma + desc_bytes;
	vr->device_dma = vr->ring_dma + used_off;
	return 0;

fail:
	free_ring_split(vs);
	return -ENOMEM;
}

/* ------------------------------------------------------------------ */
/* Buffers                                                             */
/* ------------------------------------------------------------------ */

/* Undo the mappings of a buffer's entries, from the private record. */
static void unmap_chain_split(struct vfc_vring_split *vs, u16 head,
			      unsigned int n, struct vfc_split_indir *indir)
{
	struct vfc_vring *vr = &vs->common;
	struct vfc_split_extra *e;
	unsigned int i;
	u16 idx = head;

	for (i = 0; i < n; i++) {
		if (indir) {
			e = &indir->extra[i];
		} else {
			e = &vs->extra[idx];
			idx = e->next;
		}
		vfc_vring_unmap(vr, e->addr, e->len, desc_dir_split(e));
	}
}

static void free_indir_split(struct vfc_vring *vr,
			     struct vfc_split_indir *indir, bool mapped)
{
	if (mapped)
		dma_unmap_single(vr->dma_dev, indir->dma,
				 indir->num * sizeof(struct vring_desc),
				 DMA_TO_DEVICE);
	kfree(indir->desc);
	kfree(indir);
}

static struct vfc_split_indir *alloc_indir_split(unsigned int total, gfp_t gfp)
{
	struct vfc_split_indir *indir;

	/* Failure is not an error: the buffer goes direct instead. */
	gfp |= __GFP_NOWARN;
	indir = kmalloc(struct_size(indir, extra, total), gfp);
	if (!indir)
		return NULL;
	indir->desc = kmalloc_array(total, sizeof(*indir->desc), gfp);
	if (!indir->desc) {
		kfree(indir);
		return NULL;
	}
	indir->num = total;
	return indir;
}

static int add_split(struct vfc_vring *vr, struct scatterlist *sgs[],
		     unsigned int total, unsigned int out_sgs,
		     unsigned int in_sgs, void *data, gfp_t gfp)
{
	struct vfc_vring_split *vs = to_split(vr);
	struct vfc_split_indir *indir = NULL;
	struct vfc_split_extra *e = NULL;
	enum dma_data_direction dir;
	struct scatterlist *sg;
	unsigned int i, n = 0, ndesc;
	u16 head, idx, last = 0;
	u64 in_len = 0;
	dma_addr_t addr;
	int err;

	/* "A driver MUST NOT create a descriptor chain longer than the Queue Size" */
	if (total > vs->vring.num)
		return -EINVAL;
	if (vr->indirect && total > 1 && vr->vq.num_free)
		indir = alloc_indir_split(total, gfp);
	ndesc = indir ? 1 : total;
	if (vr->vq.num_free < ndesc) {
		err = -ENOSPC;
		goto free_indir;
	}

	head = vs->free_head;
	idx = head;
	for (i = 0; i < out_sgs + in_sgs; i++) {
		dir = i < out_sgs ? DMA_TO_DEVICE : DMA_FROM_DEVICE;
		for (sg = sgs[i]; sg; sg = sg_next(sg)) {
			err = vfc_vring_map_sg(vr, sg, dir, &addr);
			if (err)
				goto unmap;
			if (indir) {
				e = &indir->extra[n];
				e->next = n + 1;
			} else {
				e = &vs->extra[idx];
				last = idx;
				idx = e->next;
			}
			e->addr = addr;
			e->len = sg->length;
			e->flags = VRING_DESC_F_NEXT;
			if (dir == DMA_FROM_DEVICE) {
				e->flags |= VRING_DESC_F_WRITE;
				in_len += sg->length;
			}
			n++;
		}
	}
	/* The device reports used lengths in 32 bits; so must the offer. */
	if (in_len > U32_MAX) {
		err = -EINVAL;
		goto unmap;
	}
	e->flags &= ~VRING_DESC_F_NEXT;

	if (indir) {
		for (i = 0; i < n; i++)
			desc_write_split(&indir->desc[i], &indir->extra[i]);
		indir->dma = dma_map_single(vr->dma_dev, indir->desc,
					    n * sizeof(struct vring_desc),
					    DMA_TO_DEVICE);
		if (dma_mapping_error(vr->dma_dev, indir->dma)) {
			err = -ENOMEM;
			goto unmap;
		}
		e = &vs->extra[head];
		e->addr = indir->dma;
		e->len = n * sizeof(struct vring_desc);
		e->flags = VRING_DESC_F_INDIRECT;
		last = head;
		idx = e->next;
		desc_write_split(&vs->vring.desc[head], e);
	} else {
		for (i = 0, idx = head; i < n; i++, idx = vs->extra[idx].next)
			desc_write_split(&vs->vring.desc[idx], &vs->extra[idx]);
	}

	vs->free_head = idx;
	vr->vq.num_free -= ndesc;
	vs->state[head] = (struct vfc_split_state) {
		.data = data, .indir = indir, .in_len = in_len,
		.ndesc = ndesc, .last = last,
	};

	vs->vring.avail->ring[vs->avail_idx_shadow & (vs->vring.num - 1)] =
		cpu_to_ring16(head);
	/* The descriptors and the ring entry before the index publishing them. */
	vfc_vring_wmb(vr);
	vs->avail_idx_shadow++;
	WRITE_ONCE(vs->vring.avail->idx, cpu_to_ring16(vs->avail_idx_shadow));
	vr->in_flight++;

	/* kick_prepare() needs the added count to fit the 16-bit index. */
	if (unlikely(++vr->num_added == U16_MAX))
		vfc_vq_kick(&vr->vq);
	return 0;

unmap:
	unmap_chain_split(vs, head, n, indir);
free_indir:
	if (indir)
		free_indir_split(vr, indir, false);
	return err;
}

/* Give a buffer's descriptors back to the free list and undo its mappings. */
static void *detach_split(struct vfc_vring_split *vs, u16 head)
{
	struct vfc_vring *vr = &vs->common;
	struct vfc_split_state *st = &vs->state[head];
	void *data = st->data;

	if (st->indir) {
		unmap_chain_split(vs, head, st->indir->num, st->indir);
		free_indir_split(vr, st->indir, true);
	} else {
		unmap_chain_split(vs, head, st->ndesc, NULL);
	}
	vs->extra[st->last].next = vs->free_head;
	vs->free_head = head;
	vr->vq.num_free += st->ndesc;
	vr->in_flight--;
	memset(st, 0, sizeof(*st));
	return data;
}

static bool more_used_split(struct vfc_vring *vr)
{
	struct vfc_vring_split *vs = to_split(vr);

	return vs->last_used_idx !=
	       ring16_to_cpu(READ_ONCE(vs->vring.used->idx));
}

static void *get_buf_split(struct vfc_vring *vr, unsigned int *len)
{
	struct vfc_vring_split *vs = to_split(vr);
	struct vring_used_elem *elem;
	u16 used_idx, pending;
	u32 id, used_len;
	void *data;

	used_idx = ring16_to_cpu(READ_ONCE(vs->vring.used->idx));
	pending = used_idx - vs->last_used_idx;
	if (!pending)
		return NULL;
	if (pending > vr->in_flight) {
		vfc_vring_bad(vr, "used index beyond outstanding buffers",
			      "used idx %u, %u entries new, %u outstanding",
			      used_idx, pending, vr->in_flight);
		return NULL;
	}
	/* Read the used entry only after the index that published it. */
	vfc_vring_rmb(vr);

	elem = &vs->vring.used->ring[vs->last_used_idx & (vs->vring.num - 1)];
	id = __virtio32_to_cpu(true, READ_ONCE(elem->id));
	used_len = __virtio32_to_cpu(true, READ_ONCE(elem->len));
	if (id >= vs->vring.num) {
		vfc_vring_bad(vr, "used id out of range", "id %u, ring of %u",
			      id, vs->vring.num);
		return NULL;
	}
	if (!vs->state[id].data) {
		vfc_vring_bad(vr, "used id not in flight", "id %u", id);
		return NULL;
	}
	if (used_len > vs->state[id].in_len) {
		vfc_vring_bad(vr, "used length exceeds buffer",
			      "id %u: %u bytes used, %u writable", id,
			      used_len, vs->state[id].in_len);
		return NULL;
	}

	data = detach_split(vs, id);
	vs->last_used_idx++;
	/*
	 * With interrupts wanted, move used_event along so the device
	 * interrupts for the next entry; the store must be visible before
	 * the caller's next look at used->idx.
	 */
	if (vr->event &&
	    !(vs->avail_flags_shadow & VRING_AVAIL_F_NO_INTERRUPT)) {
		WRITE_ONCE(vring_used_event(&vs->vring),
			   cpu_to_ring16(vs->last_used_idx));
		vfc_vring_mb(vr);
	}
	*len = used_len;
	return data;
}

static bool kick_prepare_split(struct vfc_vring *vr)
{
	struct vfc_vring_split *vs = to_split(vr);
	u16 new = vs->avail_idx_shadow;
	u16 old = new - vr->num_added;

	/* The new avail->idx before reading the device's wishes. */
	vfc_vring_mb(vr);
	vr->num_added = 0;
	if (vr->event)
		return vring_need_event(ring16_to_cpu(READ_ONCE(vring_avail_event(&vs->vring))),
					new, old);
	return !(ring16_to_cpu(READ_ONCE(vs->vring.used->flags)) &
		 VRING_USED_F_NO_NOTIFY);
}

/* ------------------------------------------------------------------ */
/* Used-buffer notifications                                           */
/* ------------------------------------------------------------------ */

static void disable_cb_split(struct vfc_vring *vr)
{
	struct vfc_vring_split *vs = to_split(vr);

	if (vs->avail_flags_shadow & VRING_AVAIL_F_NO_INTERRUPT)
		return;
	vs->avail_flags_shadow |= VRING_AVAIL_F_NO_INTERRUPT;
	/*
	 * With EVENT_IDX the device ignores the flag; an event index just
	 * behind our position matches only after a full 16-bit wrap.
	 */
	if (vr->event)
		WRITE_ONCE(vring_used_event(&vs->vring),
			   cpu_to_ring16(vs->last_used_idx - 1));
	else
		WRITE_ONCE(vs->vring.avail->flags,
			   cpu_to_ring16(vs->avail_flags_shadow));
}

static void clear_no_interrupt_split(struct vfc_vring_split *vs)
{
	if (!(vs->avail_flags_shadow & VRING_AVAIL_F_NO_INTERRUPT))
		return;
	vs->avail_flags_shadow &= ~VRING_AVAIL_F_NO_INTERRUPT;
	if (!vs->common.event)
		WRITE_ONCE(vs->vring.avail->flags,
			   cpu_to_ring16(vs->avail_flags_shadow));
}

static unsigned int enable_cb_prepare_split(struct vfc_vring *vr)
{
	struct vfc_vring_split *vs = to_split(vr);

	clear_no_interrupt_split(vs);
	if (vr->event)
		WRITE_ONCE(vring_used_event(&vs->vring),
			   cpu_to_ring16(vs->last_used_idx));
	return vs->last_used_idx;
}

static bool poll_split(struct vfc_vring *vr, unsigned int last_used)
{
	struct vfc_vring_split *vs = to_split(vr);

	/* Our flags or event index before the device's used->idx. */
	vfc_vring_mb(vr);
	return (u16)last_used != ring16_to_cpu(READ_ONCE(vs->vring.used->idx));
}

static bool enable_cb_delayed_split(struct vfc_vring *vr)
{
	struct vfc_vring_split *vs = to_split(vr);
	u16 bufs, used;

	/*
	 * Without EVENT_IDX the device ignores used_event and interrupts for
	 * every buffer once the flag is clear; the threshold below then only
	 * decides whether the caller should look right away.
	 */
	clear_no_interrupt_split(vs);
	bufs = (u16)(vs->avail_idx_shadow - vs->last_used_idx) * 3 / 4;
	WRITE_ONCE(vring_used_event(&vs->vring),
		   cpu_to_ring16(vs->last_used_idx + bufs));
	/* The new event index or flags before the device's used->idx. */
	vfc_vring_mb(vr);
	used = ring16_to_cpu(READ_ONCE(vs->vring.used->idx));
	return (u16)(used - vs->last_used_idx) <= bufs;
}

/*
 * After a reset or once broken: any buffer still in flight, however far
 * the device got with it. The queue is not offered buffers again until it
 * is created anew.
 */
static void *detach_unused_buf_split(struct vfc_vring *vr)
{
	struct vfc_vring_split *vs = to_split(vr);
	unsigned int i;

	for (i = 0; i < vs->vring.num; i++)
		if (vs->state[i].data)
			return detach_split(vs, i);
	return NULL;
}

static void free_split(struct vfc_vring *vr)
{
	struct vfc_vring_split *vs = to_split(vr);

	free_ring_split(vs);
	kfree(vs);
}

static const struct vfc_vring_ops vfc_split_ops = {
	.add = add_split,
	.kick_prepare = kick_prepare_split,
	.get_buf = get_buf_split,
	.more_used = more_used_split,
	.disable_cb = disable_cb_split,
	.enable_cb_prepare = enable_cb_prepare_split,
	.poll = poll_split,
	.enable_cb_delayed = enable_cb_delayed_split,
	.detach_unused_buf = detach_unused_buf_split,
	.free = free_split,
};

/* ------------------------------------------------------------------ */
/* Creation                                                            */
/* ------------------------------------------------------------------ */

/**
 * vfc_vring_create_split() - create a split virtqueue
 * @index: see vfc_vring_create_virtqueue()
 * @num: ring size, a power of two up to 32768
 * @vring_align: alignment of the used ring, a power of two in [4, PAGE_SIZE]
 * @vdev: the device
 * @weak_barriers: SMP barriers suffice
 * @may_reduce_num: halve @num on allocation failure, down to
 *	VFC_VRING_MIN_NUM
 * @notify: the transport's notification
 * @callback: the driver's callback, or NULL
 * @name: the queue's name
 * @dma_dev: the device that maps the ring and buffers
 *
 * Context: process context; may sleep.
 * Return: the queue or an ERR_PTR(); see vfc_vring_create_virtqueue().
 */
struct vfc_virtqueue *
vfc_vring_create_split(unsigned int index, unsigned int num,
		       unsigned int vring_align, struct vfc_device *vdev,
		       bool weak_barriers, bool may_reduce_num,
		       bool (*notify)(struct vfc_virtqueue *vq),
		       vfc_vq_callback_t *callback, const char *name,
		       struct device *dma_dev)
{
	struct vfc_vring_split *vs;
	unsigned int n, i;
	int err;

	if (!num || !is_power_of_2(num) || num > VFC_SPLIT_MAX_NUM)
		return ERR_PTR(-EINVAL);
	if (!is_power_of_2(vring_align) || vring_align < 4 ||
	    vring_align > PAGE_SIZE)
		return ERR_PTR(-EINVAL);

	vs = kzalloc(sizeof(*vs), GFP_KERNEL);
	if (!vs)
		return ERR_PTR(-ENOMEM);
	err = vfc_vring_init_common(&vs->common, index, vdev, weak_barriers,
				    notify, callback, name, dma_dev);
	if (err)
		goto free_vs;

	for (n = num; ; n /= 2) {
		err = alloc_ring_split(vs, n, vring_align);
		if (!err)
			break;
		if (!may_reduce_num || n / 2 < VFC_VRING_MIN_NUM)
			goto free_vs;
	}
	if (n != num)
		dev_info(&vdev->dev, "vq %u (%s): no room for %u entries, using %u\n",
			 index, name, num, n);

	for (i = 0; i < n; i++)
		vs->extra[i].next = i + 1;
	vs->common.vq.num_free = n;
	vs->common.vq.num_max = n;
	vs->common.ops = &vfc_split_ops;
	/* Nobody to call: ask the device not to interrupt at all. */
	if (!callback)
		disable_cb_split(&vs->common);
	return &vs->common.vq;

free_vs:
	kfree(vs);
	return ERR_PTR(err);
}

/**
 * vfc_vring_split_vring() - CPU addresses of a split ring's areas
 * @vr: the queue
 *
 * Return: the ring as struct vring.
 */
const struct vring *vfc_vring_split_vring(const struct vfc_vring *vr)
{
	return &to_split(vr)->vring;
}
