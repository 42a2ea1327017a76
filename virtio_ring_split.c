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
 *
 * The functions that are not static are the layout's: its table,
 * vfc_vring_split_layout in vfc_ring_layouts.h, lists them, and
 * virtio_ring.c calls them through it.
 */
#include <kunit/visibility.h>
#include <linux/slab.h>
#include <linux/virtio_byteorder.h>
#include <vfc/vfc.h>

#include "vfc_ring_buf.h"
#include "vfc_ring_internal.h"

static_assert(sizeof(struct vring_desc) == VFC_VRING_DESC_SIZE);
static_assert(offsetof(struct vfc_vring_split, common) == 0);

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

/* Write out one descriptor from the private record, with @extra flags. */
static void desc_write_split(struct vring_desc *d,
			     const struct vfc_vring_extra *e, u16 flags,
			     u16 next)
{
	d->addr = __cpu_to_virtio64(true, e->addr);
	d->len = __cpu_to_virtio32(true, e->len);
	d->flags = cpu_to_ring16(e->flags | flags);
	d->next = cpu_to_ring16(next);
}

/* ------------------------------------------------------------------------
 * Ring memory
 */

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

/*
 * One coherent allocation for the three areas: the descriptor table at its
 * start (16-byte aligned, as the allocation is page aligned), the available
 * ring right after it (2-byte alignment), the used ring at @align (the spec
 * asks for 4; transports pass more to keep it off the driver's cache lines).
 */
void vfc_vring_geometry_split(unsigned int num, unsigned int align,
			      struct vfc_vring_geometry *g)
{
	g->driver = sizeof(struct vring_desc) * num;
	g->device = ALIGN(g->driver + avail_bytes_split(num), align);
	g->bytes = g->device + used_bytes_split(num);
}

/* ------------------------------------------------------------------------
 * Buffers
 */

/* An indirect table chains its entries by position. */
static void table_write_split(void *table, unsigned int i, unsigned int total,
			      const struct vfc_vring_extra *e)
{
	desc_write_split((struct vring_desc *)table + i, e,
			 i + 1 < total ? VRING_DESC_F_NEXT : 0, i + 1);
}

int vfc_vring_add_split(struct vfc_vring *vr, struct scatterlist *sgs[],
			unsigned int total, unsigned int out_sgs,
			unsigned int in_sgs, void *data, gfp_t gfp)
{
	struct vfc_vring_split *vs = to_split(vr);
	struct vfc_vring_buf buf;
	unsigned int i;
	u16 idx;
	int err;

	err = vfc_vring_map_buf(vr, sgs, total, out_sgs, in_sgs, gfp, &buf,
				table_write_split);
	if (err)
		return err;

	if (buf.indir) {
		err = vfc_vring_map_indir(vr, &buf);
		if (err) {
			vfc_vring_unmap_buf(vr, &buf);
			return err;
		}
	}
	/* The ring's descriptors follow the free list's links. */
	for (i = 0, idx = buf.head; i < buf.ndesc; i++, idx = vr->extra[idx].next)
		desc_write_split(&vs->vring.desc[idx], &vr->extra[idx],
				 i + 1 < buf.ndesc ? VRING_DESC_F_NEXT : 0,
				 vr->extra[idx].next);
	vfc_vring_commit(vr, &buf, data);

	vs->vring.avail->ring[vs->avail_idx_shadow & (vr->num - 1)] =
		cpu_to_ring16(buf.head);
	/* The descriptors and the ring entry before the index publishing them. */
	vfc_vring_wmb(vr);
	vs->avail_idx_shadow++;
	WRITE_ONCE(vs->vring.avail->idx, cpu_to_ring16(vs->avail_idx_shadow));

	/* kick_prepare() needs the added count to fit the 16-bit index. */
	if (unlikely(++vr->num_added == U16_MAX))
		vfc_vq_kick(&vr->vq);
	return 0;
}

bool vfc_vring_more_used_split(struct vfc_vring *vr)
{
	struct vfc_vring_split *vs = to_split(vr);

	return vs->last_used_idx !=
	       ring16_to_cpu(READ_ONCE(vs->vring.used->idx));
}

void *vfc_vring_get_buf_split(struct vfc_vring *vr, unsigned int *len)
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
	/*
	 * No split ring holds more than 32768 buffers: an index that moved
	 * on by more went back, behind entries the driver already took.
	 */
	if (pending > BIT(15)) {
		vfc_vring_bad(vr, VFC_SPLIT_USED_RING, "used index moved backwards",
			      "used idx %u, %u before", used_idx,
			      vs->last_used_idx);
		return NULL;
	}
	if (pending > vr->in_flight) {
		vfc_vring_bad(vr, VFC_SPLIT_USED_RING,
			      "used index beyond outstanding buffers",
			      "used idx %u, %u entries new, %u outstanding",
			      used_idx, pending, vr->in_flight);
		return NULL;
	}
	/* Read the used entry only after the index that published it. */
	vfc_vring_rmb(vr);

	elem = &vs->vring.used->ring[vs->last_used_idx & (vr->num - 1)];
	id = __virtio32_to_cpu(true, READ_ONCE(elem->id));
	used_len = __virtio32_to_cpu(true, READ_ONCE(elem->len));
	data = vfc_vring_take_used(vr, id, used_len);
	if (!data)
		return NULL;
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

bool vfc_vring_kick_prepare_split(struct vfc_vring *vr)
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

/* ------------------------------------------------------------------------
 * Used-buffer notifications
 */

void vfc_vring_disable_cb_split(struct vfc_vring *vr)
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

unsigned int vfc_vring_enable_cb_prepare_split(struct vfc_vring *vr)
{
	struct vfc_vring_split *vs = to_split(vr);

	clear_no_interrupt_split(vs);
	if (vr->event)
		WRITE_ONCE(vring_used_event(&vs->vring),
			   cpu_to_ring16(vs->last_used_idx));
	return vs->last_used_idx;
}

bool vfc_vring_poll_split(struct vfc_vring *vr, unsigned int last_used)
{
	struct vfc_vring_split *vs = to_split(vr);

	/* Our flags or event index before the device's used->idx. */
	vfc_vring_mb(vr);
	return (u16)last_used != ring16_to_cpu(READ_ONCE(vs->vring.used->idx));
}

bool vfc_vring_enable_cb_delayed_split(struct vfc_vring *vr)
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

/* ------------------------------------------------------------------------
 * A new queue
 */

void vfc_vring_setup_split(struct vfc_vring *vr)
{
	struct vfc_vring_split *vs = to_split(vr);

	vs->vring.num = vr->num;
	vs->vring.desc = vr->desc.cpu;
	vs->vring.avail = vr->driver.cpu;
	vs->vring.used = vr->device.cpu;
}

#if IS_ENABLED(CONFIG_KUNIT)
/**
 * vfc_vring_split_test_set_index() - move an idle queue's indices
 * @vq: a split queue with no buffer in flight and none added since its
 *	last kick
 * @idx: the free-running index to go on from
 *
 * For the KUnit suites, which alone can reach it: the indices start at 0
 * and take 65536 buffers to wrap ("Updating idx": it "wraps naturally at
 * 65536"), too many for a debug kernel to push through in a test. This
 * puts the driver's side where @idx buffers would have left it:
 * avail->idx and our copy of it, the next used entry to read, and
 * used_event as vfc_vring_get_buf_split() and
 * vfc_vring_disable_cb_split() leave it under EVENT_IDX (without, the
 * device ignores it). Nothing else in the queue depends on how many
 * buffers went through it. The device's side (used->idx, avail_event) is
 * the caller's to move with it.
 *
 * Return: 0; -EINVAL for a packed queue; -EBUSY if buffers are in flight
 * or not kicked yet.
 */
int vfc_vring_split_test_set_index(struct vfc_virtqueue *vq, u16 idx)
{
	struct vfc_vring *vr = to_vfc_vring(vq);
	struct vfc_vring_split *vs = to_split(vr);
	u16 event = idx;

	if (vr->layout != VFC_VRING_SPLIT)
		return -EINVAL;
	if (vr->in_flight || vr->num_added)
		return -EBUSY;
	vs->avail_idx_shadow = idx;
	WRITE_ONCE(vs->vring.avail->idx, cpu_to_ring16(idx));
	vs->last_used_idx = idx;
	if (vr->event && (vs->avail_flags_shadow & VRING_AVAIL_F_NO_INTERRUPT))
		event = idx - 1;
	WRITE_ONCE(vring_used_event(&vs->vring), cpu_to_ring16(event));
	/* The moved indices before the device's next look at the ring. */
	vfc_vring_mb(vr);
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(vfc_vring_split_test_set_index);
#endif
