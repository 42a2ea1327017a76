/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vfc's tracepoints, trace system "vfc" (tracefs events/vfc/, trace-cmd
 * record -e vfc): what each queue and device does. Defined in vfc.ko
 * (virtio_core.c creates them); nothing runs while they are off.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM vfc

#if !defined(_VFC_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _VFC_TRACE_H

#include <linux/tracepoint.h>

#include "vfc_compat.h"
#include <vfc/vfc.h>
#include <vfc/vfc_ring.h>

DECLARE_EVENT_CLASS(vfc_vq_event,
		    TP_PROTO(const struct vfc_virtqueue *vq),
		    TP_ARGS(vq),
		    TP_STRUCT__entry(__string(dev, dev_name(&vq->vdev->dev))
				     __field(unsigned int, index)),
		    TP_fast_assign(vfc_assign_str(dev, dev_name(&vq->vdev->dev));
				   __entry->index = vq->index;),
		    TP_printk("%s vq %u", __get_str(dev), __entry->index));

/* The queue's callback runs (after an interrupt that found buffers used). */
DEFINE_EVENT(vfc_vq_event, vfc_vq_callback,
	     TP_PROTO(const struct vfc_virtqueue *vq),
	     TP_ARGS(vq));

/* A buffer is added: its id (first descriptor), entries, indirect or not. */
TRACE_EVENT(vfc_vq_add,
	    TP_PROTO(const struct vfc_virtqueue *vq, unsigned int id,
		     unsigned int entries, bool indirect),
	    TP_ARGS(vq, id, entries, indirect),
	    TP_STRUCT__entry(__string(dev, dev_name(&vq->vdev->dev))
			     __field(unsigned int, index)
			     __field(unsigned int, id)
			     __field(unsigned int, entries)
			     __field(bool, indirect)),
	    TP_fast_assign(vfc_assign_str(dev, dev_name(&vq->vdev->dev));
			   __entry->index = vq->index;
			   __entry->id = id;
			   __entry->entries = entries;
			   __entry->indirect = indirect;),
	    TP_printk("%s vq %u id %u entries %u%s", __get_str(dev),
		      __entry->index, __entry->id, __entry->entries,
		      __entry->indirect ? " indirect" : ""));

/* kick_prepare: whether the device wants a notification. */
TRACE_EVENT(vfc_vq_kick,
	    TP_PROTO(const struct vfc_virtqueue *vq, bool wanted),
	    TP_ARGS(vq, wanted),
	    TP_STRUCT__entry(__string(dev, dev_name(&vq->vdev->dev))
			     __field(unsigned int, index)
			     __field(bool, wanted)),
	    TP_fast_assign(vfc_assign_str(dev, dev_name(&vq->vdev->dev));
			   __entry->index = vq->index;
			   __entry->wanted = wanted;),
	    TP_printk("%s vq %u %s", __get_str(dev), __entry->index,
		      __entry->wanted ? "notify" : "suppressed"));

/* The driver takes back a buffer the device used: its id and length. */
TRACE_EVENT(vfc_vq_used,
	    TP_PROTO(const struct vfc_virtqueue *vq, unsigned int id, u32 len),
	    TP_ARGS(vq, id, len),
	    TP_STRUCT__entry(__string(dev, dev_name(&vq->vdev->dev))
			     __field(unsigned int, index)
			     __field(unsigned int, id)
			     __field(u32, len)),
	    TP_fast_assign(vfc_assign_str(dev, dev_name(&vq->vdev->dev));
			   __entry->index = vq->index;
			   __entry->id = id;
			   __entry->len = len;),
	    TP_printk("%s vq %u id %u len %u", __get_str(dev), __entry->index,
		      __entry->id, __entry->len));

/* A used buffer notification: claimed (something used) or not. */
TRACE_EVENT(vfc_vq_interrupt,
	    TP_PROTO(const struct vfc_virtqueue *vq, bool handled),
	    TP_ARGS(vq, handled),
	    TP_STRUCT__entry(__string(dev, dev_name(&vq->vdev->dev))
			     __field(unsigned int, index)
			     __field(bool, handled)),
	    TP_fast_assign(vfc_assign_str(dev, dev_name(&vq->vdev->dev));
			   __entry->index = vq->index;
			   __entry->handled = handled;),
	    TP_printk("%s vq %u %s", __get_str(dev), __entry->index,
		      __entry->handled ? "handled" : "not claimed"));

/* The device broke the queue's protocol, or the device was broken. */
TRACE_EVENT(vfc_vq_broken,
	    TP_PROTO(const struct vfc_virtqueue *vq, const char *reason),
	    TP_ARGS(vq, reason),
	    TP_STRUCT__entry(__string(dev, dev_name(&vq->vdev->dev))
			     __field(unsigned int, index)
			     __string(reason, reason)),
	    TP_fast_assign(vfc_assign_str(dev, dev_name(&vq->vdev->dev));
			   __entry->index = vq->index;
			   vfc_assign_str(reason, reason);),
	    TP_printk("%s vq %u broken: %s", __get_str(dev), __entry->index,
		      __get_str(reason)));

/* The driver writes the device status. */
TRACE_EVENT(vfc_status,
	    TP_PROTO(const struct vfc_device *vdev, u8 old, u8 status),
	    TP_ARGS(vdev, old, status),
	    TP_STRUCT__entry(__string(dev, dev_name(&vdev->dev))
			     __field(u8, old)
			     __field(u8, status)),
	    TP_fast_assign(vfc_assign_str(dev, dev_name(&vdev->dev));
			   __entry->old = old;
			   __entry->status = status;),
	    TP_printk("%s status 0x%02x -> 0x%02x", __get_str(dev), __entry->old,
		      __entry->status));

/* Feature negotiation at probe. */
TRACE_EVENT(vfc_features,
	    TP_PROTO(const struct vfc_device *vdev, u64 offered, u64 wanted,
		     u64 accepted),
	    TP_ARGS(vdev, offered, wanted, accepted),
	    TP_STRUCT__entry(__string(dev, dev_name(&vdev->dev))
			     __field(u64, offered)
			     __field(u64, wanted)
			     __field(u64, accepted)),
	    TP_fast_assign(vfc_assign_str(dev, dev_name(&vdev->dev));
			   __entry->offered = offered;
			   __entry->wanted = wanted;
			   __entry->accepted = accepted;),
	    TP_printk("%s offered 0x%016llx wanted 0x%016llx accepted 0x%016llx",
		      __get_str(dev), __entry->offered, __entry->wanted,
		      __entry->accepted));

/* The device says its configuration changed. */
TRACE_EVENT(vfc_config_change,
	    TP_PROTO(const struct vfc_device *vdev),
	    TP_ARGS(vdev),
	    TP_STRUCT__entry(__string(dev, dev_name(&vdev->dev))),
	    TP_fast_assign(vfc_assign_str(dev, dev_name(&vdev->dev));),
	    TP_printk("%s config changed", __get_str(dev)));

#endif /* _VFC_TRACE_H */

/* Out of the kernel tree: the header is beside the sources (Kbuild's -I). */
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE vfc_trace
#include <trace/define_trace.h>
