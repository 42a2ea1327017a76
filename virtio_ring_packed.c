// SPDX-License-Identifier: GPL-2.0
/*
 * vfc: the packed virtqueue layout (virtio spec, "Packed Virtqueues").
 *
 * One descriptor ring that the driver and the device both write: the
 * driver makes descriptors available by setting their AVAIL and USED flags
 * to its wrap counter's (1, 0) or (0, 1), the device marks them used by
 * making both flags equal to its wrap counter. Beside it two event
 * suppression structures: the driver's (driver area), where the driver
 * says when it wants used-buffer notifications, and the device's (device
 * area), where the device says when it wants to be notified.
 *
 * As for split, the device is not trusted. Descriptor slots are reused in
 * ring order, possibly while an older buffer is still out, so the driver's
 * record of a buffer's mappings is not kept by slot but in a chain of
 * private entries named by the buffer id; nothing is read back from the
 * ring to unmap or free. A used id out of range or not in flight, a used
 * length beyond what the buffer offered for writing, and a used descriptor
 * whose flags disagree with each other break the queue.
 *
 * Ring sizes need not be powers of two. Modern devices only: little-endian.
 *
 * The functions that are not static are the layout's: its table,
 * vfc_vring_packed_layout in vfc_ring_layouts.h, lists them, and
 * virtio_ring.c calls them through it.
 */
#include <linux/slab.h>
#include <vfc/vfc.h>

#include "vfc_ring_buf.h"
#include "vfc_ring_internal.h"

#define AVAIL_BIT BIT(VRING_PACKED_DESC_F_AVAIL)
#define USED_BIT BIT(VRING_PACKED_DESC_F_USED)

static_assert(sizeof(struct vring_packed_desc) == VFC_VRING_DESC_SIZE);
static_assert(offsetof(struct vfc_vring_packed, common) == 0);

static inline struct vfc_vring_packed *to_packed(const struct vfc_vring *vr)
{
	return container_of(vr, struct vfc_vring_packed, common);
}

/* A position and wrap counter as event suppression encodes them. */
static u16 off_wrap_packed(u16 idx, bool wrap)
{
	return idx | (wrap << VRING_PACKED_EVENT_F_WRAP_CTR);
}

/* The slot and the wrap counter of an off_wrap value. */
static u16 off_packed(u16 off_wrap)
{
	return off_wrap & ~BIT(VRING_PACKED_EVENT_F_WRAP_CTR);
}

static bool wrap_packed(u16 off_wrap)
{
	return off_wrap & BIT(VRING_PACKED_EVENT_F_WRAP_CTR);
}

/* ------------------------------------------------------------------------
 * Ring memory
 */

/*
 * One coherent allocation: the ring (16-byte aligned, at the start of a
 * page-aligned allocation), then the driver and the device event
 * suppression structures, 4 bytes each with 4-byte alignment.
 */
void vfc_vring_geometry_packed(unsigned int num, unsigned int align,
			       struct vfc_vring_geometry *g)
{
	g->driver = sizeof(struct vring_packed_desc) * num;
	g->device = g->driver + sizeof(struct vring_packed_desc_event);
	g->bytes = g->device + sizeof(struct vring_packed_desc_event);
}

/* ------------------------------------------------------------------------
 * Buffers
 */

static void desc_write_packed(struct vring_packed_desc *d,
			      const struct vfc_vring_extra *e, u16 id)
{
	d->addr = cpu_to_le64(e->addr);
	d->len = cpu_to_le32(e->len);
	d->id = cpu_to_le16(id);
}

/* "VIRTQ_DESC_F_WRITE is the only valid flag" in an indirect table. */
static void table_write_packed(void *table, unsigned int i, unsigned int total,
			       const struct vfc_vring_extra *e)
{
	struct vring_packed_desc *d = (struct vring_packed_desc *)table + i;

	desc_write_packed(d, e, 0);
	d->flags = cpu_to_le16(e->flags);
}

int vfc_vring_add_packed(struct vfc_vring *vr, struct scatterlist *sgs[],
			 unsigned int total, unsigned int out_sgs,
			 unsigned int in_sgs, void *data, gfp_t gfp)
{
	struct vfc_vring_packed *vp = to_packed(vr);
	struct vfc_vring_buf buf;
	u16 idx, pos, head_flags = 0, flags;
	unsigned int i;
	int err;

	err = vfc_vring_map_buf(vr, sgs, total, out_sgs, in_sgs, gfp, &buf,
				table_write_packed);
	if (err)
		return err;

	if (buf.indir) {
		err = vfc_vring_map_indir(vr, &buf);
		if (err) {
			vfc_vring_unmap_buf(vr, &buf);
			return err;
		}
	}

	/*
	 * Write the slots in ring order, the buffer id in each ("Buffer ID
	 * is included in the last descriptor"; the others ignore it), with
	 * AVAIL/USED for the wrap counter of each slot: a buffer may wrap.
	 * The first slot's flags wait until all the others are out.
	 */
	pos = vp->next_avail;
	for (i = 0, idx = buf.head; i < buf.ndesc; i++, idx = vr->extra[idx].next) {
		desc_write_packed(&vp->desc[pos], &vr->extra[idx], buf.head);
		flags = vr->extra[idx].flags | vp->avail_used_flags;
		if (i + 1 < buf.ndesc)
			flags |= VRING_DESC_F_NEXT;
		if (i == 0)
			head_flags = flags;
		else
			WRITE_ONCE(vp->desc[pos].flags, cpu_to_le16(flags));
		if (++pos >= vr->num) {
			pos = 0;
			vp->avail_wrap = !vp->avail_wrap;
			vp->avail_used_flags ^= AVAIL_BIT | USED_BIT;
		}
	}
	vfc_vring_commit(vr, &buf, data);

	/* "makes the first descriptor in the list available after the rest" */
	vfc_vring_wmb(vr);
	WRITE_ONCE(vp->desc[vp->next_avail].flags, cpu_to_le16(head_flags));
	vp->next_avail = pos;
	vr->num_added += buf.ndesc;
	return 0;
}

/* Is the slot at @idx used in the lap of @wrap? */
static bool is_used_packed(const struct vfc_vring_packed *vp, u16 idx,
			   bool wrap)
{
	u16 flags = le16_to_cpu(READ_ONCE(vp->desc[idx].flags));

	return !!(flags & USED_BIT) == wrap;
}

/*
 * With nothing in flight the slot at last_used is left from the lap
 * before: the middle of a chain there still carries the flags the driver
 * gave it, which read as used in this lap. With buffers in flight it holds
 * a descriptor of this lap, made available by the driver or used by the
 * device, so its flags are worth checking.
 */
bool vfc_vring_more_used_packed(struct vfc_vring *vr)
{
	struct vfc_vring_packed *vp = to_packed(vr);
	u16 last = READ_ONCE(vp->last_used_wrap);

	return vr->in_flight &&
	       is_used_packed(vp, off_packed(last), wrap_packed(last));
}

void *vfc_vring_get_buf_packed(struct vfc_vring *vr, unsigned int *len)
{
	struct vfc_vring_packed *vp = to_packed(vr);
	u16 last_used_wrap = vp->last_used_wrap;
	u16 flags, id, last = off_packed(last_used_wrap);
	bool wrap = wrap_packed(last_used_wrap);
	struct vring_packed_desc *d;
	u32 used_len;
	void *data;

	if (!vfc_vring_more_used_packed(vr))
		return NULL;
	/* Read the used descriptor only after its flags said it is used. */
	vfc_vring_rmb(vr);

	d = &vp->desc[last];
	flags = le16_to_cpu(READ_ONCE(d->flags));
	id = le16_to_cpu(READ_ONCE(d->id));
	/*
	 * "Element Length is reserved for used descriptors without the
	 * VIRTQ_DESC_F_WRITE flag, and is ignored by drivers": the device
	 * wrote nothing.
	 */
	used_len = flags & VRING_DESC_F_WRITE ? le32_to_cpu(READ_ONCE(d->len)) :
						0;
	/* "the device ... sets both AVAIL and USED to its wrap counter" */
	if (!!(flags & AVAIL_BIT) != wrap || !!(flags & USED_BIT) != wrap) {
		vfc_vring_bad(vr, "Packed Virtqueues / Driver and Device Ring Wrap Counters",
			      "used flags disagree with the wrap counter",
			      "slot %u flags 0x%04x, wrap %u", last, flags,
			      wrap);
		return NULL;
	}
	/* The device skips the buffer's slots; so do we, once it checks out. */
	if (id < vr->num && vr->state[id].data) {
		last += vr->state[id].ndesc;
		if (last >= vr->num) {
			last -= vr->num;
			wrap = !wrap;
		}
	}
	data = vfc_vring_take_used(vr, id, used_len);
	if (!data)
		return NULL;
	last_used_wrap = off_wrap_packed(last, wrap);
	WRITE_ONCE(vp->last_used_wrap, last_used_wrap);

	/*
	 * With descriptor-specific notifications on, move the event along
	 * so the device notifies for the next one; visible before the
	 * caller's next look at the ring.
	 */
	if (vp->event_flags_shadow == VRING_PACKED_EVENT_FLAG_DESC) {
		WRITE_ONCE(vp->driver->off_wrap, cpu_to_le16(last_used_wrap));
		vfc_vring_mb(vr);
	}
	*len = used_len;
	return data;
}

bool vfc_vring_kick_prepare_packed(struct vfc_vring *vr)
{
	struct vfc_vring_packed *vp = to_packed(vr);
	struct vring_packed_desc_event event;
	u16 new, old, off_wrap, event_idx, flags;
	u32 snapshot;

	/* The new descriptors before reading the device's wishes. */
	vfc_vring_mb(vr);
	/*
	 * Slots count from the start of this lap; 16-bit arithmetic puts
	 * @old (and an event in the previous lap) below zero. More than a
	 * lap added since the last kick: the window is ambiguous, so kick.
	 */
	new = vp->next_avail;
	old = new - vr->num_added;
	if (vr->num_added >= vr->num) {
		vr->num_added = 0;
		return true;
	}
	vr->num_added = 0;

	/* Both fields at once, as the device may change them together. */
	snapshot = READ_ONCE(*(u32 *)vp->device);
	memcpy(&event, &snapshot, sizeof(event));
	flags = le16_to_cpu(event.flags) & 0x3;
	if (flags != VRING_PACKED_EVENT_FLAG_DESC || !vr->event)
		return flags != VRING_PACKED_EVENT_FLAG_DISABLE;

	off_wrap = le16_to_cpu(event.off_wrap);
	event_idx = off_packed(off_wrap);
	/*
	 * An event in the lap before ours counts from one ring further
	 * back; vring_need_event()'s 16-bit arithmetic does the rest.
	 */
	if (wrap_packed(off_wrap) != vp->avail_wrap)
		event_idx -= vr->num;
	return vring_need_event(event_idx, new, old);
}

/* ------------------------------------------------------------------------
 * Used-buffer notifications
 */

static void set_event_flags_packed(struct vfc_vring_packed *vp, u16 flags)
{
	if (vp->event_flags_shadow == flags)
		return;
	vp->event_flags_shadow = flags;
	WRITE_ONCE(vp->driver->flags, cpu_to_le16(flags));
}

void vfc_vring_disable_cb_packed(struct vfc_vring *vr)
{
	set_event_flags_packed(to_packed(vr), VRING_PACKED_EVENT_FLAG_DISABLE);
}

/* Descriptor-specific notifications need EVENT_IDX; else all or none. */
static u16 enabled_flags_packed(const struct vfc_vring *vr)
{
	return vr->event ? VRING_PACKED_EVENT_FLAG_DESC :
			   VRING_PACKED_EVENT_FLAG_ENABLE;
}

unsigned int vfc_vring_enable_cb_prepare_packed(struct vfc_vring *vr)
{
	struct vfc_vring_packed *vp = to_packed(vr);
	u16 pos = vp->last_used_wrap;

	if (vr->event) {
		WRITE_ONCE(vp->driver->off_wrap, cpu_to_le16(pos));
		/* The event position before the flags that make it count. */
		vfc_vring_wmb(vr);
	}
	set_event_flags_packed(vp, enabled_flags_packed(vr));
	return pos;
}

bool vfc_vring_poll_packed(struct vfc_vring *vr, unsigned int last_used)
{
	struct vfc_vring_packed *vp = to_packed(vr);
	u16 idx = off_packed(last_used);
	bool wrap = wrap_packed(last_used);

	if (idx >= vr->num || !vr->in_flight)
		return false;
	/* Our event structure before the device's flags. */
	vfc_vring_mb(vr);
	return is_used_packed(vp, idx, wrap);
}

bool vfc_vring_enable_cb_delayed_packed(struct vfc_vring *vr)
{
	struct vfc_vring_packed *vp = to_packed(vr);
	u16 bufs, idx = off_packed(vp->last_used_wrap);
	bool wrap = wrap_packed(vp->last_used_wrap);

	if (vr->event) {
		/* Three quarters of the descriptors outstanding, ahead. */
		bufs = (vr->num - vr->vq.num_free) * 3 / 4;
		idx += bufs;
		if (idx >= vr->num) {
			idx -= vr->num;
			wrap = !wrap;
		}
		WRITE_ONCE(vp->driver->off_wrap,
			   cpu_to_le16(off_wrap_packed(idx, wrap)));
		/* The event position before the flags that make it count. */
		vfc_vring_wmb(vr);
	}
	set_event_flags_packed(vp, enabled_flags_packed(vr));
	/*
	 * Our event structure before the device's flags. Where the device
	 * will write its next used descriptors depends on which buffers it
	 * completes, so any used buffer counts here, not three quarters.
	 */
	vfc_vring_mb(vr);
	return !vfc_vring_more_used_packed(vr);
}

/* ------------------------------------------------------------------------
 * A new queue
 */

void vfc_vring_setup_packed(struct vfc_vring *vr)
{
	struct vfc_vring_packed *vp = to_packed(vr);

	vp->desc = vr->desc.cpu;
	vp->driver = vr->driver.cpu;
	vp->device = vr->device.cpu;
	/* "the driver ... wrap counter ... initialized to 1" for both */
	vp->avail_wrap = true;
	vp->last_used_wrap = off_wrap_packed(0, true);
	vp->avail_used_flags = AVAIL_BIT;
	/* The zeroed driver event suppression structure reads ENABLE. */
	vp->event_flags_shadow = VRING_PACKED_EVENT_FLAG_ENABLE;
}
