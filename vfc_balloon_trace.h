/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vfc_balloon's tracepoints, in vfc's trace system (events/vfc/): each
 * inflate and deflate request and how long the device took to
 * acknowledge it. Defined in vfc_balloon.ko (virtio_balloon.c).
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM vfc

#if !defined(_VFC_BALLOON_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _VFC_BALLOON_TRACE_H

#include <linux/tracepoint.h>

#include "vfc_compat.h"
#include <vfc/vfc.h>

/*
 * A request on the inflate or deflate queue: the 4 KiB frames it named,
 * the ns from adding it to its acknowledgment, and the outcome (0, or
 * -ETIMEDOUT, -EIO, -ENOMEM).
 */
TRACE_EVENT(vfc_balloon_request,
	    TP_PROTO(const struct vfc_device *vdev, bool inflate,
		     unsigned int frames, u64 ack_ns, int err),
	    TP_ARGS(vdev, inflate, frames, ack_ns, err),
	    TP_STRUCT__entry(__string(dev, dev_name(&vdev->dev))
			     __field(bool, inflate)
			     __field(unsigned int, frames)
			     __field(u64, ack_ns)
			     __field(int, err)),
	    TP_fast_assign(vfc_assign_str(dev, dev_name(&vdev->dev));
			   __entry->inflate = inflate;
			   __entry->frames = frames;
			   __entry->ack_ns = ack_ns;
			   __entry->err = err;),
	    TP_printk("%s %s frames %u ack_ns %llu err %d", __get_str(dev),
		      __entry->inflate ? "inflate" : "deflate", __entry->frames,
		      __entry->ack_ns, __entry->err));

#endif /* _VFC_BALLOON_TRACE_H */

/* Out of the kernel tree: the header is beside the sources (Kbuild's -I). */
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE vfc_balloon_trace
#include <trace/define_trace.h>
