/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vfc: the ring layouts' tables, and the dispatch through them. For
 * virtio_ring.c alone.
 *
 * Each layout is one const struct vfc_vring_layout: its size and alignment
 * rules, and its ring's geometry, its setup and its operations, which are
 * functions in its own file. A queue records its layout as an enum, and
 * the layout-independent API reaches the operations through
 * VFC_VRING_CALL(), a switch on that enum whose every case reads the
 * operation from the layout's table, as mainline Linux's virtio_ring.c
 * does since 2025. The tables are defined here, static, so that the
 * compiler sees their contents where the switch is: each case's read
 * folds to the function's address, and the call is direct. A table
 * defined in the layout's file would be opaque to virtio_ring.c and every
 * call through it indirect (retpolined). This way the hot path makes no
 * indirect call, and virtio_ring.c names no layout.
 *
 * Only virtio_ring.c includes this header: any other file would get a
 * copy of the tables of its own.
 */
#ifndef _VFC_RING_LAYOUTS_H
#define _VFC_RING_LAYOUTS_H

#include "vfc_ring_internal.h"

/*
 * "Queue Size value is always a power of 2. The maximum Queue Size value
 * is 32768"; the used ring at vring_align, which is at least its 4.
 */
static const struct vfc_vring_layout vfc_vring_split_layout = {
	.id = VFC_VRING_SPLIT,
	.queue_size = sizeof(struct vfc_vring_split),
	.max_num = 32768,
	.num_pow2 = true,
	.min_align = 4,
	.geometry = vfc_vring_geometry_split,
	.setup = vfc_vring_setup_split,
	.add = vfc_vring_add_split,
	.kick_prepare = vfc_vring_kick_prepare_split,
	.get_buf = vfc_vring_get_buf_split,
	.more_used = vfc_vring_more_used_split,
	.disable_cb = vfc_vring_disable_cb_split,
	.enable_cb_prepare = vfc_vring_enable_cb_prepare_split,
	.poll = vfc_vring_poll_split,
	.enable_cb_delayed = vfc_vring_enable_cb_delayed_split,
};

/*
 * "Packed virtqueues support up to 2^15 entries each"; the sizes need not
 * be powers of two, and the alignments are fixed (16 for the ring, 4 for
 * the event suppression structures).
 */
static const struct vfc_vring_layout vfc_vring_packed_layout = {
	.id = VFC_VRING_PACKED,
	.queue_size = sizeof(struct vfc_vring_packed),
	.max_num = 32768,
	.num_pow2 = false,
	.min_align = 0,
	.geometry = vfc_vring_geometry_packed,
	.setup = vfc_vring_setup_packed,
	.add = vfc_vring_add_packed,
	.kick_prepare = vfc_vring_kick_prepare_packed,
	.get_buf = vfc_vring_get_buf_packed,
	.more_used = vfc_vring_more_used_packed,
	.disable_cb = vfc_vring_disable_cb_packed,
	.enable_cb_prepare = vfc_vring_enable_cb_prepare_packed,
	.poll = vfc_vring_poll_packed,
	.enable_cb_delayed = vfc_vring_enable_cb_delayed_packed,
};

/* The layout the negotiated features ask for. */
static inline const struct vfc_vring_layout *
vfc_vring_layout_of(const struct vfc_device *vdev)
{
	if (vfc_has_feature(vdev, VIRTIO_F_RING_PACKED))
		return &vfc_vring_packed_layout;
	return &vfc_vring_split_layout;
}

/* Call operation @op of @table on @vr, with the operation's other arguments. */
#define VFC_VRING_OP(table, vr, op, ...) ((table).op((vr), ##__VA_ARGS__))

/*
 * VFC_VRING_CALL(vr, op, args...): call operation @op of @vr's layout,
 * directly (see above). @op goes with its arguments, unnamed, as each case
 * uses it: checkpatch counts a named macro argument used more than once as
 * one whose side effects may repeat, which a member name has none of. No
 * default: -Wswitch names a layout missing here, so every path sets __ret.
 */
#define VFC_VRING_CALL(vr, ...)						\
({									\
	struct vfc_vring *__vr = (vr);					\
	typeof(VFC_VRING_OP(vfc_vring_split_layout, __vr, __VA_ARGS__)) __ret; \
									\
	switch (__vr->layout) {						\
	case VFC_VRING_SPLIT:						\
		__ret = VFC_VRING_OP(vfc_vring_split_layout, __vr,	\
				     __VA_ARGS__);			\
		break;							\
	case VFC_VRING_PACKED:						\
		__ret = VFC_VRING_OP(vfc_vring_packed_layout, __vr,	\
				     __VA_ARGS__);			\
		break;							\
	}								\
	__ret;								\
})

/* VFC_VRING_CALL() for an operation that returns nothing. */
#define VFC_VRING_CALL_VOID(vr, ...)					\
do {									\
	struct vfc_vring *__vr = (vr);					\
									\
	switch (__vr->layout) {						\
	case VFC_VRING_SPLIT:						\
		VFC_VRING_OP(vfc_vring_split_layout, __vr, __VA_ARGS__); \
		break;							\
	case VFC_VRING_PACKED:						\
		VFC_VRING_OP(vfc_vring_packed_layout, __vr, __VA_ARGS__); \
		break;							\
	}								\
} while (0)

#endif /* _VFC_RING_LAYOUTS_H */
