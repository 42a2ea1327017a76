/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vfc_balloon: the arithmetic of the traditional memory balloon, private to
 * virtio_balloon.c and its KUnit suite (which includes this file, so that
 * nothing has to be exported for it).
 *
 * The device counts in 4 KiB frames whatever the guest's page size: "5.5.6
 * Device Operation" divides page addresses by 4096, and num_pages and
 * actual in "5.5.4 Device configuration layout" are in the same unit. The
 * driver moves whole guest pages, so one page is PAGE_SIZE / 4096
 * consecutive frame numbers on the wire.
 */
#ifndef _VFC_BALLOON_INTERNAL_H
#define _VFC_BALLOON_INTERNAL_H

#include <linux/build_bug.h>
#include <linux/errno.h>
#include <linux/limits.h>
#include <linux/minmax.h>
#include <linux/sizes.h>
#include <linux/types.h>
#include <linux/mmzone.h>
#include <linux/vm_event_item.h>
#include <linux/virtio_byteorder.h>
#include <uapi/linux/virtio_balloon.h>
#include <asm/byteorder.h>
#include <asm/page.h>

/*
 * The spec's 4096, as a shift: the uapi header's VIRTIO_BALLOON_PFN_SHIFT,
 * which virtio_balloon.c checks this against. Spelt out here so that this
 * header needs no other.
 */
#define VFC_BALLOON_PFN_SHIFT		12

/* How far a guest page frame number is shifted to give 4 KiB frames. */
#define VFC_BALLOON_FRAME_SHIFT		(PAGE_SHIFT - VFC_BALLOON_PFN_SHIFT)

/* 4 KiB frames per guest page: 1 on x86, 16 with 64 KiB pages. */
#define VFC_BALLOON_FRAMES_PER_PAGE \
	((unsigned int)(PAGE_SIZE >> VFC_BALLOON_PFN_SHIFT))

/*
 * Entries in one inflate or deflate request. One request is one device
 * round trip (under TCG about 100 us besides the pages' own cost: the
 * notification, the interrupt, the wakeup); 1024 entries (4 KiB, 4 MiB of
 * guest memory) keep a request one page, mapped as a single buffer, and
 * make the round trips a small part of a move. QEMU takes any length.
 */
#define VFC_BALLOON_ARRAY_LEN		1024U

/* Guest pages per request. */
#define VFC_BALLOON_BATCH_PAGES \
	(VFC_BALLOON_ARRAY_LEN / VFC_BALLOON_FRAMES_PER_PAGE)

/*
 * A big move runs as up to VFC_BALLOON_MAX_PARTS parts at once, one per
 * online CPU, each with its own request of up to VFC_BALLOON_BATCH_PAGES
 * pages: the guest's work (allocating and zeroing pages, freeing them)
 * and the device's (under TCG QEMU's work runs inside the notification,
 * on the notifying CPU) then spread over the guest's CPUs. A part is no
 * smaller than VFC_BALLOON_PART_MIN pages: a small move stays on one CPU.
 */
#define VFC_BALLOON_MAX_PARTS		4U
#define VFC_BALLOON_PART_MIN		64U
/* The most pages one run moves: a request's worth per part. */
#define VFC_BALLOON_RUN_PAGES \
	(VFC_BALLOON_MAX_PARTS * VFC_BALLOON_BATCH_PAGES)

/*
 * Pages the OOM notifier gives back per call (1 MiB on 4 KiB pages), on
 * the notifier's own CPU.
 */
#define VFC_BALLOON_OOM_PAGES		((unsigned int)(SZ_1M >> PAGE_SHIFT))

/*
 * The highest guest pfn whose frames all fit the 32-bit entries of a
 * request: its last frame, ((pfn + 1) << shift) - 1, is then U32_MAX.
 */
#define VFC_BALLOON_MAX_PFN		((u64)U32_MAX >> VFC_BALLOON_FRAME_SHIFT)

/* A page smaller than a frame could not be described at all. */
static_assert(PAGE_SHIFT >= VFC_BALLOON_PFN_SHIFT);
/* Requests carry whole pages. */
static_assert(VFC_BALLOON_BATCH_PAGES >= 1);
static_assert(VFC_BALLOON_ARRAY_LEN % VFC_BALLOON_FRAMES_PER_PAGE == 0);

/**
 * vfc_balloon_pages_to_move() - how far the balloon is from its target
 * @num_pages: the device's target, in 4 KiB frames; untrusted, any value
 * @actual: the frames the balloon holds, as the driver counts them (a
 *	multiple of VFC_BALLOON_FRAMES_PER_PAGE)
 *
 * The target is rounded up to whole guest pages, and then down to the
 * largest number of pages whose frames still fit the 32-bit @actual the
 * driver reports: a balloon that follows this never holds more pages than
 * vfc_balloon_actual() can express. Computed in 64 bits, so no value of
 * either argument overflows.
 *
 * Return: guest pages to inflate by (positive) or to deflate by
 * (negative); 0 when the balloon is on target.
 */
static inline s64 vfc_balloon_pages_to_move(u32 num_pages, u32 actual)
{
	u64 target;

	target = ((u64)num_pages + VFC_BALLOON_FRAMES_PER_PAGE - 1) >>
		 VFC_BALLOON_FRAME_SHIFT;
	target = min_t(u64, target, U32_MAX >> VFC_BALLOON_FRAME_SHIFT);
	return (s64)target - (s64)(actual >> VFC_BALLOON_FRAME_SHIFT);
}

/**
 * vfc_balloon_actual() - the config field actual for a balloon size
 * @pages: guest pages in the balloon, at most U32_MAX >>
 *	VFC_BALLOON_FRAME_SHIFT (vfc_balloon_pages_to_move() never asks for
 *	more)
 *
 * Return: @pages in 4 KiB frames.
 */
static inline u32 vfc_balloon_actual(unsigned int pages)
{
	return pages << VFC_BALLOON_FRAME_SHIFT;
}

/**
 * vfc_balloon_page_frames() - describe one guest page in a request
 * @pfn: the page's frame number, as page_to_pfn() gives it
 * @frames: where the page's entries go
 * @room: entries left at @frames
 *
 * Writes the page's VFC_BALLOON_FRAMES_PER_PAGE consecutive 4 KiB frame
 * numbers, little-endian as "5.5.6 Device Operation" has them (the array
 * is a 32-bit array in a modern device's byte order). A page whose frames
 * do not all fit 32 bits cannot be named to the device; @frames is left
 * untouched on any error.
 *
 * Return: the number of entries written, or -ENOSPC if @room is too small,
 * or -ERANGE if @pfn is above VFC_BALLOON_MAX_PFN.
 */
static inline int vfc_balloon_page_frames(u64 pfn, __le32 *frames,
					  unsigned int room)
{
	unsigned int i;
	u32 first;

	if (room < VFC_BALLOON_FRAMES_PER_PAGE)
		return -ENOSPC;
	if (pfn > VFC_BALLOON_MAX_PFN)
		return -ERANGE;
	first = (u32)pfn << VFC_BALLOON_FRAME_SHIFT;
	for (i = 0; i < VFC_BALLOON_FRAMES_PER_PAGE; i++)
		frames[i] = cpu_to_le32(first + i);
	return VFC_BALLOON_FRAMES_PER_PAGE;
}

/**
 * vfc_balloon_stat_set() - one entry of a memory statistics report
 * @st: the entry ("5.5.6.3 Memory Statistics": a 16-bit tag and a 64-bit
 *	value, little-endian, packed into 10 bytes)
 * @tag: VIRTIO_BALLOON_S_*
 * @val: the value, in bytes for amounts of memory
 */
static inline void vfc_balloon_stat_set(struct virtio_balloon_stat *st,
					u16 tag, u64 val)
{
	/* Modern devices only: little-endian. */
	st->tag = __cpu_to_virtio16(true, tag);
	st->val = __cpu_to_virtio64(true, val);
}

/*
 * The most statistics a report carries: the ten of "Memory Statistics
 * Tags", and the six that Linux 6.10 added where the uapi header has them.
 */
#ifdef VIRTIO_BALLOON_S_OOM_KILL
#define VFC_BALLOON_MAX_STATS	16U
#else
#define VFC_BALLOON_MAX_STATS	10U
#endif
static_assert(VFC_BALLOON_MAX_STATS <= VIRTIO_BALLOON_S_NR);

#ifdef CONFIG_VM_EVENT_COUNTERS
/* Allocation stalls in all zones: ALLOCSTALL_* are one per zone, in order. */
static inline u64 vfc_balloon_alloc_stalls(const unsigned long *events)
{
	u64 sum = 0;
	int z;

	for (z = 0; z < MAX_NR_ZONES; z++)
		sum += events[ALLOCSTALL_NORMAL - ZONE_NORMAL + z];
	return sum;
}
#endif

/*
 * The balloon's own contexts, for KUnit's allocation-failure sweep. The
 * kernel's fail-nth belongs to a task and these run in workers, so the
 * sweep asks the next run of one to arm it there
 * (vfc_balloon_test_fail_nth()) and reads back whether that run reached
 * the failure (vfc_balloon_test_fail_hit()). Only where the kernel has
 * fault injection; elsewhere both say -EOPNOTSUPP.
 */
enum vfc_balloon_ctx {
	VFC_BALLOON_CTX_WORK,		/* inflating and deflating */
	VFC_BALLOON_CTX_STATS,		/* refilling the statistics buffer */
	VFC_BALLOON_CTX_REPORT,		/* a free page report */
	VFC_BALLOON_NR_CTX
};

#if IS_ENABLED(CONFIG_KUNIT)
/* How long a request may go unacknowledged, in jiffies (virtio_balloon.c). */
extern unsigned long vfc_balloon_ack_timeout;
/* Free page hinting's blocks per round at most (virtio_balloon.c). */
extern unsigned long vfc_balloon_hint_max_blocks;
struct vfc_device;
unsigned long vfc_balloon_test_oom(struct vfc_device *vdev);
unsigned long vfc_balloon_test_shrink(struct vfc_device *vdev,
				      unsigned long pages);

int vfc_balloon_test_fail_nth(struct vfc_device *vdev,
			      enum vfc_balloon_ctx ctx, unsigned int nth);
int vfc_balloon_test_fail_hit(struct vfc_device *vdev,
			      enum vfc_balloon_ctx ctx);
#ifdef CONFIG_FAULT_INJECTION
#define VFC_BALLOON_FAIL_NTH
#endif
#endif

#endif /* _VFC_BALLOON_INTERNAL_H */
