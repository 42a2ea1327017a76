// SPDX-License-Identifier: GPL-2.0
/*
 * vfc_balloon: the traditional virtio memory balloon (device id 5) on the
 * vfc bus.
 *
 * The device names a target size in its config space (num_pages); the
 * driver follows it by taking pages away from the guest and naming them to
 * the device on the inflate queue, or by naming pages back on the deflate
 * queue and returning them to the guest once the device agreed (at once
 * without VIRTIO_BALLOON_F_MUST_TELL_HOST). One work item does it, a run
 * of requests at a time, and reports the balloon's size in actual after
 * each run: a big move runs in parts on several CPUs, each part one
 * request of at most VFC_BALLOON_ARRAY_LEN entries (vfc_balloon_run()).
 *
 * With VIRTIO_BALLOON_F_STATS_VQ the guest's memory statistics go to the
 * device on the stats queue: a report at probe, and a fresh one each time
 * the device hands the buffer back (vfc_balloon_stats_work()).
 *
 * With VIRTIO_BALLOON_F_DEFLATE_ON_OOM the pages in the balloon stay
 * counted in MemTotal, and the OOM notifier takes 1 MiB out of the
 * balloon each time the guest would otherwise kill a process.
 *
 * With VIRTIO_BALLOON_F_REPORTING the kernel's page reporting hands
 * free blocks to vfc_balloon_report(), which names them to the device on
 * the reporting queue; VIRTIO_BALLOON_F_PAGE_POISON tells the device what
 * those pages hold when the guest poisons or zeroes freed pages.
 *
 * With VIRTIO_BALLOON_F_FREE_PAGE_HINT the device asks, through a command
 * id in its config space, which pages the guest does not need (live
 * migration then skips them): vfc_balloon_hint_work() takes free blocks
 * from the guest, names them on the hinting queue, and keeps them until
 * the device says it is done with them, or the guest needs the memory
 * (the shrinker).
 *
 * A device that leaves a request unanswered is reset, and every page in
 * the balloon goes back to the guest (vfc_balloon_give_up()).
 *
 * The pages in the balloon are movable where the kernel has balloon
 * compaction: compaction moves them through vfc_balloon_migrate(), so a
 * full balloon does not pin memory where it lies.
 *
 * Spec references are to virtio v1.4, "5.5 Traditional Memory Balloon
 * Device" and its subsections.
 */
#include <kunit/visibility.h>
#include <linux/build_bug.h>
#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/device.h>
#include <linux/gfp.h>
#include <linux/jiffies.h>
#include <linux/list.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/notifier.h>
#include <linux/oom.h>
#include <linux/page_reporting.h>
#include <linux/poison.h>
#include <linux/scatterlist.h>
#include <linux/seq_file.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/stddef.h>
#include <linux/timekeeping.h>
#include <linux/vmstat.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <linux/vm_event_item.h>
#include <uapi/linux/virtio_balloon.h>
#include <uapi/linux/virtio_config.h>
#include <uapi/linux/virtio_ids.h>

/* The kernel's balloon page list and compaction, whatever its header. */
#define VFC_COMPAT_BALLOON
/* The hinted blocks' shrinker. */
#define VFC_COMPAT_SHRINKER
#include "vfc_compat.h"
#include <vfc/vfc.h>
#include <vfc/vfc_config.h>
#include <vfc/vfc_ring.h>

#include "vfc_balloon_internal.h"

#define CREATE_TRACE_POINTS
#include "vfc_balloon_trace.h"

/*
 * How long the device has to acknowledge one request. QEMU answers in
 * microseconds even under TCG; a device that takes this long is not coming
 * back, and the work must not sleep on it forever. A variable only so
 * that the KUnit suite vfc_balloon_device can shorten it.
 */
VISIBLE_IF_KUNIT unsigned long vfc_balloon_ack_timeout = 30 * HZ;
EXPORT_SYMBOL_IF_KUNIT(vfc_balloon_ack_timeout);
#define VFC_BALLOON_ACK_TIMEOUT		READ_ONCE(vfc_balloon_ack_timeout)

/*
 * How long remove() spends handing the balloon back through the deflate
 * queue, in all. That is a courtesy: after the reset the device holds no
 * page anyway, so a slow device only makes remove() give up sooner.
 */
#define VFC_BALLOON_REMOVE_TIMEOUT	(30 * HZ)

/*
 * When the guest has no page to spare, or the config could not be read,
 * try again after this long, doubling up to the maximum while it keeps
 * failing: a target the guest cannot meet must not turn into a busy loop
 * of failed allocations.
 */
#define VFC_BALLOON_RETRY_MIN		(HZ / 5)
#define VFC_BALLOON_RETRY_MAX		(5 * HZ)

/*
 * Balloon pages: any page the guest can spare without working hard for it.
 * No retrying reclaim, no OOM killer, no emergency reserves, and no
 * warning when none is left: falling short of the target is normal.
 * Movable where compaction can move them (vfc_balloon_migrate()), so
 * they come from movable page blocks and leave the others whole.
 */
#if VFC_BALLOON_MIGRATION
#define VFC_BALLOON_GFP_BASE	GFP_HIGHUSER_MOVABLE
#else
#define VFC_BALLOON_GFP_BASE	GFP_HIGHUSER
#endif
#define VFC_BALLOON_GFP \
	(VFC_BALLOON_GFP_BASE | __GFP_NORETRY | __GFP_NOWARN | __GFP_NOMEMALLOC)

/*
 * What the balloon leaves the guest, whatever the target: 1/32 of its
 * memory at probe, at least 16 MiB. __GFP_NORETRY alone is not enough: the
 * balloon's own allocations would not wake the OOM killer, but the guest's
 * next fork would, and a guest with nothing to reclaim (an initramfs, say)
 * would then panic with nothing to kill. "A target beyond what the guest
 * can spare" stops short of this instead.
 */
#define VFC_BALLOON_RESERVE_SHIFT	5
#define VFC_BALLOON_RESERVE_MIN		(SZ_16M >> PAGE_SHIFT)

/*
 * "5.5.2 Virtqueues": inflateq and deflateq are queues 0 and 1; the
 * queues of features (statsq, free_page_vq, reporting_vq) exist only where
 * their feature is negotiated, and those that exist follow in that order,
 * numbered on from 2, as QEMU and Linux number them.
 */
enum {
	VFC_BALLOON_VQ_INFLATE,
	VFC_BALLOON_VQ_DEFLATE,
	VFC_BALLOON_NR_VQS,
	VFC_BALLOON_VQ_STATS = VFC_BALLOON_NR_VQS,
	VFC_BALLOON_VQ_HINT,
	VFC_BALLOON_VQ_REPORTING,
	VFC_BALLOON_MAX_VQS,
};

/*
 * The OOM notifier runs before the OOM killer picks a victim, and the
 * kernel's balloon driver with priority 80: the same order, so that a
 * guest running both drivers (each on its own device) tries both first.
 */
#define VFC_BALLOON_OOM_PRIORITY	80

/* The ABI: "5.5.4 Device configuration layout", "5.5.6 Device Operation". */
static_assert(VFC_BALLOON_PFN_SHIFT == VIRTIO_BALLOON_PFN_SHIFT);
static_assert(offsetof(struct virtio_balloon_config, num_pages) == 0);
static_assert(offsetof(struct virtio_balloon_config, actual) == 4);
static_assert(offsetof(struct virtio_balloon_config,
		       free_page_hint_cmd_id) == 8);
static_assert(offsetof(struct virtio_balloon_config, poison_val) == 12);

/**
 * struct vfc_balloon_queue - the inflate or the deflate queue
 * @vq: the virtqueue
 * @lock: serialises adding to, notifying and reaping @vq between the
 *	parts of a run (struct vfc_balloon_part), which use it at once
 */
struct vfc_balloon_queue {
	struct vfc_virtqueue *vq;
	spinlock_t lock;		/* see above */
};

/**
 * struct vfc_balloon_time - where inflating and deflating spend their time
 * @requests: requests sent, per queue (inflate, deflate)
 * @pages: guest pages those requests named
 * @alloc_ns: allocating the pages to inflate (the guest zeroes each page
 *	it hands out where init_on_alloc is on, as Debian's kernels have it)
 * @device_ns: per queue, from adding a request to seeing it used: the
 *	device's work (QEMU discards each 4 KiB page it is given) and the
 *	interrupt's way back
 * @free_ns: giving deflated pages back to the guest
 *
 * Per part, written only by the part's run; debugfs
 * vfc/<device>/balloon shows them, and make bench prints them.
 */
struct vfc_balloon_time {
	u64 requests[2];
	u64 pages[2];
	u64 alloc_ns;
	u64 device_ns[2];
	u64 free_ns;
};

/**
 * struct vfc_balloon_part - one part of a run, and its requests
 * @vb: the balloon
 * @work: runs the part on another CPU (vfc_balloon_run())
 * @frames: per queue, the request's entries, VFC_BALLOON_ARRAY_LEN of
 *	them. Kmalloc'd (the DMA API maps it); the ring maps it while a
 *	request is in flight, which after a timeout lasts until the queue
 *	is reset and the buffer detached, so it is freed only after
 *	vfc_del_vqs().
 * @sent: per queue, the device holds @frames: from the add until the
 *	buffer comes back used (under that queue's lock)
 * @which: this run's queue
 * @want: this run's pages
 * @timeout: how long this run waits for the device
 * @wait: deflate only: wait for the device's acknowledgment before
 *	giving the pages back (VIRTIO_BALLOON_F_MUST_TELL_HOST)
 * @pages: this run's pages: inflate, those allocated; deflate, those
 *	that stay in the balloon after a failure
 * @got: the pages this run named to the device
 * @err: this run's error: see vfc_balloon_inflate_part() and
 *	vfc_balloon_deflate_part()
 * @time: where this part's runs spent their time
 */
struct vfc_balloon_part {
	struct vfc_balloon *vb;
	struct work_struct work;
	__le32 *frames[VFC_BALLOON_NR_VQS];
	bool sent[VFC_BALLOON_NR_VQS];
	unsigned int which;
	unsigned int want;
	unsigned long timeout;
	bool wait;
	struct list_head pages;
	unsigned int got;
	int err;
	struct vfc_balloon_time time;
};

/**
 * struct vfc_balloon - one balloon device
 * @vdev: the device
 * @q: the inflate and deflate queues
 * @parts: the parts a run is split into; [0] runs on the work's CPU
 * @part_wq: runs the other parts, one per CPU. WQ_MEM_RECLAIM: a run
 *	waits for its parts holding @lock, which the OOM notifier takes, so
 *	they must start without a new worker (which needs memory)
 * @acked: the queues' callbacks wake it when the device used a buffer
 * @work: moves the balloon toward its target; on system_freezable_wq
 * @lock: held by whoever moves pages in or out of the balloon (@work, the
 *	OOM notifier, remove()), for one run at a time, and around every
 *	add to and kick of a queue once the device is live, so that
 *	vfc_balloon_give_up(), which holds it, resets a device no one is
 *	notifying
 * @stop_lock: protects @stopped. Taken with interrupts off: the config
 *	change path takes it in interrupt context, inside vdev->config_lock.
 * @stopped: the work must not be queued again: the device is going away
 *	or to sleep, or it broke and the balloon stays as it is until then.
 *	Written under @stop_lock; the work also reads it without the lock, as
 *	a hint to stop early.
 * @has_vqs: the queues exist: from probe to remove, but for a system
 *	sleep (freeze to restore)
 * @retry_delay: the next wait before trying again after falling short
 * @b: the pages in the balloon: the kernel's balloon page list, from
 *	which compaction may isolate a page to move it (b.pages_lock)
 * @nr_pages: the number of pages in the balloon, isolated ones included
 * @managed: pages in the balloon leave the guest's managed page count
 *	(MemTotal); not with VIRTIO_BALLOON_F_DEFLATE_ON_OOM, where they
 *	stay counted as the guest may take them back at any time
 * @reserve: pages of MemAvailable the balloon never takes, set at probe
 * @stats_vq: the stats queue, or NULL without VIRTIO_BALLOON_F_STATS_VQ
 * @stats: the one stats buffer, room for VFC_BALLOON_MAX_STATS entries.
 *	Kmalloc'd (the DMA API maps it); the device holds it between
 *	reports, so it is freed only after vfc_del_vqs(). Every report
 *	carries the same statistics ("Memory Statistics").
 * @stats_work: refills and resends @stats once the device used it, and
 *	retries later if it could not
 * @stats_ours: the device used @stats and it is not yet available again;
 *	only @stats_work touches it
 * @events: the VM event counters, read for a report (too big for a stack)
 * @oom_nb: the OOM notifier, with VIRTIO_BALLOON_F_DEFLATE_ON_OOM
 * @oom_registered: @oom_nb is registered
 * @report_vq: the reporting queue, or NULL without
 *	VIRTIO_BALLOON_F_REPORTING
 * @pr: the page reporting device; the kernel's reporting work calls
 *	vfc_balloon_report() through it
 * @reporting: @pr is registered
 * @hint_vq: the hinting queue (free_page_vq), or NULL without
 *	VIRTIO_BALLOON_F_FREE_PAGE_HINT
 * @hint_wq: runs @hint_work; unbound, as a round may take seconds
 * @hint_work: follows the device's command id (vfc_balloon_hint_work())
 * @hint_cmd: the two command buffers: [0] the round's id, [1] STOP.
 *	Kmalloc'd (the DMA API maps them); freed only after vfc_del_vqs()
 * @hint_cmd_busy: bit i set while @hint_cmd[i] is the device's
 * @hint_id: the id of the round under way or last run; 0 after the
 *	device said STOP or DONE, so that it may use an id again
 * @hint_changed: the config changed since the round last read the id
 * @hint_inflight: blocks on the hinting queue, not yet used
 * @hint_lock: protects @hinted, @nr_hinted and @hint_done
 * @hinted: the hinted blocks the device used, kept until DONE
 * @nr_hinted: the pages on @hinted
 * @hint_done: the device said DONE: blocks coming back are freed at once
 * @shrinker: gives @hinted back when the guest runs short of memory
 * @fail_nth: per context (enum vfc_balloon_ctx), the allocation its next
 *	run makes fail; KUnit's sweep only (vfc_balloon_test_fail_nth())
 * @fail_hit: per context, whether the armed run reached it: 1 or 0, or
 *	-EAGAIN until that run ended
 *
 * Only @hint_work touches @hint_cmd_busy, @hint_id and @hint_inflight.
 * @q, @b (but for compaction's isolation) and @nr_pages are under @lock;
 * only the work uses @retry_delay.
 */
struct vfc_balloon {
	struct vfc_device *vdev;
	struct vfc_balloon_queue q[VFC_BALLOON_NR_VQS];
	struct vfc_balloon_part parts[VFC_BALLOON_MAX_PARTS];
	struct workqueue_struct *part_wq;
	wait_queue_head_t acked;
	struct delayed_work work;
	struct mutex lock;		/* see above */
	spinlock_t stop_lock;		/* protects stopped */
	bool stopped;
	bool has_vqs;
	unsigned long retry_delay;
	struct balloon_dev_info b;
	unsigned int nr_pages;
	bool managed;
	unsigned long reserve;
	struct vfc_virtqueue *stats_vq;
	struct virtio_balloon_stat *stats;
	struct delayed_work stats_work;
	bool stats_ours;
	unsigned long *events;
	struct notifier_block oom_nb;
	bool oom_registered;
	struct vfc_virtqueue *report_vq;
	struct page_reporting_dev_info pr;
	bool reporting;
	struct vfc_virtqueue *hint_vq;
	struct workqueue_struct *hint_wq;
	struct work_struct hint_work;
	__le32 *hint_cmd;
	unsigned long hint_cmd_busy;
	u32 hint_id;
	bool hint_changed;
	unsigned int hint_inflight;
	spinlock_t hint_lock;		/* see above */
	struct list_head hinted;
	unsigned long nr_hinted;
	bool hint_done;
	struct shrinker *shrinker;
#ifdef VFC_BALLOON_FAIL_NTH
	unsigned int fail_nth[VFC_BALLOON_NR_CTX];
	int fail_hit[VFC_BALLOON_NR_CTX];
#endif
};

#ifdef VFC_BALLOON_FAIL_NTH
/*
 * A run of context @ctx begins: arm the kernel's fail-nth in this task if
 * KUnit's sweep asked. Return: whether it did, for vfc_balloon_fail_end().
 */
static bool vfc_balloon_fail_begin(struct vfc_balloon *vb,
				   enum vfc_balloon_ctx ctx)
{
	unsigned int nth = xchg(&vb->fail_nth[ctx], 0);

	if (!nth)
		return false;
	WRITE_ONCE(current->fail_nth, nth);
	return true;
}

static void vfc_balloon_fail_end(struct vfc_balloon *vb,
				 enum vfc_balloon_ctx ctx, bool armed)
{
	if (!armed)
		return;
	/* Pairs with vfc_balloon_test_fail_hit(): the run is over. */
	smp_store_release(&vb->fail_hit[ctx], !READ_ONCE(current->fail_nth));
	WRITE_ONCE(current->fail_nth, 0);
}
#else
static bool vfc_balloon_fail_begin(struct vfc_balloon *vb,
				   enum vfc_balloon_ctx ctx)
{
	return false;
}

static void vfc_balloon_fail_end(struct vfc_balloon *vb,
				 enum vfc_balloon_ctx ctx, bool armed)
{
}
#endif

/*
 * The inflate, deflate and reporting queues' callback: a request came back,
 * and whoever sent it waits for it.
 */
static void vfc_balloon_ack(struct vfc_virtqueue *vq)
{
	struct vfc_balloon *vb = vq->vdev->priv;

	wake_up(&vb->acked);
}

/* The stats queue's callback: the device wants a fresh report. */
static void vfc_balloon_stats_used(struct vfc_virtqueue *vq);

static unsigned long vfc_balloon_hint_release(struct vfc_balloon *vb,
					      unsigned long pages, bool done);

/* ------------------------------------------------------------------------
 * Scheduling the work
 */

/*
 * Run the work after @delay, unless the balloon is stopped. Without a
 * delay (a config change) the work runs now even if a slow retry is
 * pending; with one, a sooner run already pending stays as it is.
 *
 * Context: any context, including hard interrupt with
 * vdev->config_lock held.
 */
static void vfc_balloon_queue(struct vfc_balloon *vb, unsigned long delay)
{
	unsigned long flags;

	spin_lock_irqsave(&vb->stop_lock, flags);
	if (!vb->stopped) {
		if (delay)
			queue_delayed_work(system_freezable_wq, &vb->work,
					   delay);
		else
			mod_delayed_work(system_freezable_wq, &vb->work, 0);
	}
	spin_unlock_irqrestore(&vb->stop_lock, flags);
}

/* The same for the stats work. Context: any. */
static void vfc_balloon_queue_stats(struct vfc_balloon *vb, unsigned long delay)
{
	unsigned long flags;

	spin_lock_irqsave(&vb->stop_lock, flags);
	if (!vb->stopped)
		mod_delayed_work(system_freezable_wq, &vb->stats_work, delay);
	spin_unlock_irqrestore(&vb->stop_lock, flags);
}

/*
 * No more work from now on. Once this returns, vfc_balloon_queue() and
 * vfc_balloon_queue_stats() queue nothing; a run already queued or running
 * is the caller's to cancel.
 */
static void vfc_balloon_set_stopped(struct vfc_balloon *vb)
{
	spin_lock_irq(&vb->stop_lock);
	/* Paired with the lockless READ_ONCE() in the work's loop. */
	WRITE_ONCE(vb->stopped, true);
	spin_unlock_irq(&vb->stop_lock);
}

/* Fell short of the target: try again later, and later still next time. */
static void vfc_balloon_retry(struct vfc_balloon *vb)
{
	unsigned long delay = vb->retry_delay;

	vb->retry_delay = min_t(unsigned long, delay * 2,
				VFC_BALLOON_RETRY_MAX);
	vfc_balloon_queue(vb, delay);
}

/* ------------------------------------------------------------------------
 * Talking to the device
 */

static bool vfc_balloon_broken(const struct vfc_balloon *vb)
{
	return vfc_vq_is_broken(vb->q[VFC_BALLOON_VQ_INFLATE].vq) ||
	       vfc_vq_is_broken(vb->q[VFC_BALLOON_VQ_DEFLATE].vq);
}

/*
 * The wait condition of vfc_balloon_send_report(): the report came back,
 * or it never will. The ring itself is the condition, not a flag the callback
 * sets: wait_event re-checks it after marking the task asleep (a full
 * barrier), and the callback wakes it only after the device published the
 * used entry, so an answer landing between check and sleep is not lost.
 */
static bool vfc_balloon_used(struct vfc_virtqueue *vq, void **token)
{
	unsigned int len;

	/* The device writes nothing into a request: ignore the length. */
	*token = vfc_vq_get_buf(vq, &len);
	return *token || vfc_vq_is_broken(vq);
}

/*
 * Take back every request the device used on queue @which, freeing their
 * parts' arrays. The wait condition of vfc_balloon_wait(): whether @p's
 * array is free, or never will be (the queue broke). The ring itself is
 * the condition, not a flag the callback sets: wait_event re-checks it
 * after marking the task asleep (a full barrier), and the callback wakes
 * it only after the device published the used entry, so an answer landing
 * between check and sleep is not lost.
 */
static bool vfc_balloon_reap(struct vfc_balloon *vb,
			     struct vfc_balloon_part *p, unsigned int which)
{
	struct vfc_balloon_queue *bq = &vb->q[which];
	bool done, others = false;
	unsigned int i, len;
	void *token;

	spin_lock(&bq->lock);
	/* The device writes nothing into a request: ignore the length. */
	while ((token = vfc_vq_get_buf(bq->vq, &len)))
		for (i = 0; i < VFC_BALLOON_MAX_PARTS; i++)
			if (token == vb->parts[i].frames[which]) {
				vb->parts[i].sent[which] = false;
				others |= &vb->parts[i] != p;
			}
	done = !p->sent[which] || vfc_vq_is_broken(bq->vq);
	spin_unlock(&bq->lock);
	/*
	 * Another part's request came back here: its part may be asleep,
	 * and the device interrupts once for several used entries (with
	 * VIRTIO_RING_F_EVENT_IDX, not again until the driver took the
	 * first): wake it, or it sleeps until its timeout.
	 */
	if (others)
		wake_up(&vb->acked);
	return done;
}

/*
 * Wait until the device gave @p's array on queue @which back, if it holds
 * it: the array may then be filled again.
 *
 * Return: 0 once it is free; -EIO if the queue is broken; -ETIMEDOUT if
 * the device did not answer within @timeout. After either the device may
 * still be reading the request: the array and the pages it names stay
 * untouched until the device is reset.
 */
static int vfc_balloon_wait(struct vfc_balloon *vb, struct vfc_balloon_part *p,
			    unsigned int which, unsigned long timeout)
{
	struct vfc_balloon_queue *bq = &vb->q[which];
	bool sent;

	wait_event_timeout(vb->acked, vfc_balloon_reap(vb, p, which), timeout);
	spin_lock(&bq->lock);
	sent = p->sent[which];
	spin_unlock(&bq->lock);
	if (!sent)
		return 0;
	return vfc_vq_is_broken(bq->vq) ? -EIO : -ETIMEDOUT;
}

/*
 * Send the first @n entries of @p's array on queue @which (free: see
 * vfc_balloon_wait()) and, if @wait, wait until the device uses the
 * buffer, its acknowledgment in "5.5.6 Device Operation". Only a run of
 * the work, remove() once the work is stopped, the OOM notifier or
 * compaction's migration calls this, under @lock of struct vfc_balloon.
 *
 * Return: 0 once the device acknowledged the request, or without @wait
 * once it was sent; -ENOMEM if the array could not be mapped, so nothing
 * was sent; else as vfc_balloon_wait().
 */
static int vfc_balloon_tell_host(struct vfc_balloon *vb,
				 struct vfc_balloon_part *p, unsigned int which,
				 unsigned int n, unsigned long timeout, bool wait)
{
	struct vfc_balloon_queue *bq = &vb->q[which];
	__le32 *frames = p->frames[which];
	u64 start = ktime_get_ns();
	struct scatterlist sg;
	bool notify = false;
	int err;

	sg_init_one(&sg, frames, n * sizeof(frames[0]));
	spin_lock(&bq->lock);
	err = vfc_vq_add_outbuf(bq->vq, &sg, 1, frames, GFP_ATOMIC);
	if (!err) {
		p->sent[which] = true;
		notify = vfc_vq_kick_prepare(bq->vq);
	}
	spin_unlock(&bq->lock);
	if (err) {
		/* -ENOSPC: more requests than the ring holds: stop too. */
		err = err == -ENOMEM ? -ENOMEM : -EIO;
		goto out;
	}

	/*
	 * Outside the lock: under TCG the device does its work inside the
	 * notification. A failed one breaks the queue, which the wait sees.
	 */
	if (notify)
		vfc_vq_notify(bq->vq);
	p->time.requests[which]++;
	if (wait)
		err = vfc_balloon_wait(vb, p, which, timeout);
out:
	p->time.device_ns[which] += ktime_get_ns() - start;
	trace_vfc_balloon_request(vb->vdev, which == VFC_BALLOON_VQ_INFLATE, n,
				  ktime_get_ns() - start, err);
	return err;
}

/* "5.5.6.1 Driver Requirements: Device Operation": report every change. */
static void vfc_balloon_update_actual(struct vfc_balloon *vb)
{
	__le32 actual = cpu_to_le32(vfc_balloon_actual(vb->nr_pages));

	vfc_config_write(vb->vdev,
			 offsetof(struct virtio_balloon_config, actual),
			 &actual, sizeof(actual));
}

/*
 * The device's target in 4 KiB frames. Any value is acceptable: it is only
 * a wish, and vfc_balloon_pages_to_move() clamps it.
 *
 * Return: 0, or -EAGAIN if the config kept changing while it was read.
 */
static int vfc_balloon_target(struct vfc_balloon *vb, u32 *num_pages)
{
	__le32 val;
	int err;

	err = vfc_config_read(vb->vdev,
			      offsetof(struct virtio_balloon_config, num_pages),
			      &val, sizeof(val));
	if (err)
		return err;
	*num_pages = le32_to_cpu(val);
	return 0;
}

/*
 * The pages on @list join (@sign 1) or leave (-1) the guest's managed
 * memory: one adjust_managed_page_count() per run of pages in one zone,
 * not one per page.
 */
static void vfc_balloon_managed(struct list_head *list, long sign)
{
	struct page *page, *first = NULL;
	long n = 0;

	list_for_each_entry(page, list, lru) {
		if (n && page_zone(page) != page_zone(first)) {
			adjust_managed_page_count(first, sign * n);
			n = 0;
		}
		if (!n++)
			first = page;
	}
	if (n)
		adjust_managed_page_count(first, sign * n);
}

/*
 * Give back pages that were never named to the device (or no longer are):
 * the balloon holds the only reference of each, and put_pages_list()
 * frees them as one batch.
 */
static void vfc_balloon_free_list(struct list_head *list, bool managed)
{
	if (managed)
		vfc_balloon_managed(list, 1);
	put_pages_list(list);
}

/*
 * Give every page in the balloon back to the guest, once the device holds
 * none: after a reset. Pages compaction has isolated just now are not on
 * the list; they come back to it (or their replacement does) once their
 * move ends, and the next call frees them. Return: the pages freed.
 */
static unsigned int vfc_balloon_release(struct vfc_balloon *vb)
{
	LIST_HEAD(pages);
	unsigned int n;

	n = balloon_page_list_dequeue(&vb->b, &pages, SIZE_MAX);
	vfc_balloon_free_list(&pages, vb->managed);
	/* Every page on the list is counted: a miscount is a bug. */
	WARN_ON_ONCE(n > vb->nr_pages);
	vb->nr_pages -= min(n, vb->nr_pages);
	return n;
}

/* Whether a page is still on the balloon's list or isolated from it. */
static bool vfc_balloon_holds(struct vfc_balloon *vb)
{
	bool holds;

	spin_lock_irq(&vb->b.pages_lock);
	holds = !list_empty(&vb->b.pages) || vb->b.isolated_pages;
	spin_unlock_irq(&vb->b.pages_lock);
	return holds;
}

/*
 * The device did not answer a request on @vq in time, or broke its queue.
 * Without its acknowledgment no page of the request may be used, and no
 * other request may be sent. Reset the device: after that it holds no
 * page and reads no request, so every page in the balloon goes back to
 * the guest at once. The balloon then stays stopped (and empty) until the
 * driver is bound again; a device that would not reset keeps its pages
 * until remove(). Called with @lock held.
 *
 * Return: the pages given back to the guest.
 */
static unsigned int vfc_balloon_give_up(struct vfc_balloon *vb,
					struct vfc_virtqueue *vq, int err)
{
	struct device *dev = &vb->vdev->dev;
	unsigned int n;

	lockdep_assert_held(&vb->lock);
	vfc_balloon_set_stopped(vb);
	if (err == -ETIMEDOUT) {
		dev_err(dev, "%s request not acknowledged in %u ms\n",
			vq->name, jiffies_to_msecs(VFC_BALLOON_ACK_TIMEOUT));
		vfc_report_violation(vb->vdev,
				     "Traditional Memory Balloon Device / Device Operation",
				     "request never acknowledged",
				     "%s queue, %u ms", vq->name,
				     jiffies_to_msecs(VFC_BALLOON_ACK_TIMEOUT));
	} else if (err == -ENOMEM) {
		dev_err(dev, "cannot map a %s request\n", vq->name);
	} else {
		dev_err(dev, "%s queue broken (%s)\n", vq->name,
			vfc_vq_broken_reason(vq) ?: "?");
	}
	/* Wakes whoever waits on another queue: it fails with -EIO. */
	vfc_break_device(vb->vdev);

	err = vfc_reset_device(vb->vdev);
	if (err) {
		dev_err(dev,
			"device did not reset (%d); balloon stopped at %u pages, freed when the device goes away\n",
			err, vb->nr_pages);
		return 0;
	}
	n = vfc_balloon_release(vb);
	/* Hinted blocks too; those still on the queue at remove(). */
	if (vb->hint_vq)
		vfc_balloon_hint_release(vb, ULONG_MAX, true);
	dev_err(dev,
		"device reset; %u balloon pages given back to the guest; balloon stopped until the driver is bound again\n",
		n);
	return n;
}

/* ------------------------------------------------------------------------
 * Inflating and deflating
 */

/*
 * Wait until the device used every deflate request sent without waiting.
 * Return: 0, or as vfc_balloon_wait().
 */
static int vfc_balloon_deflates_back(struct vfc_balloon *vb)
{
	unsigned int i;
	int err;

	for (i = 0; i < VFC_BALLOON_MAX_PARTS; i++) {
		err = vfc_balloon_wait(vb, &vb->parts[i], VFC_BALLOON_VQ_DEFLATE,
				       VFC_BALLOON_ACK_TIMEOUT);
		if (err)
			return err;
	}
	return 0;
}

/*
 * Allocate up to @p->want pages onto @p->pages, their frames into @p's
 * inflate array. Single pages: the balloon and compaction move single
 * pages, and blocks would not be faster, as zeroing (init_on_alloc) is
 * most of an allocation's time.
 *
 * Return: the entries filled.
 */
static unsigned int vfc_balloon_alloc(struct vfc_balloon_part *p)
{
	__le32 *frames = p->frames[VFC_BALLOON_VQ_INFLATE];
	struct page *page;
	unsigned int n = 0;
	int err;

	for (p->got = 0; p->got < p->want; p->got++) {
		page = alloc_page(VFC_BALLOON_GFP);
		if (!page)
			break;
		err = vfc_balloon_page_frames(page_to_pfn(page), &frames[n],
					      VFC_BALLOON_ARRAY_LEN - n);
		if (err < 0) {
			/*
			 * Only a guest with more than 16 TiB can hand out
			 * such a page, and likely more of them: stop here
			 * and let the slow retry try again.
			 */
			dev_warn_once(&p->vb->vdev->dev,
				      "page frame %#lx does not fit the balloon's 32-bit frame numbers; inflating stops short\n",
				      page_to_pfn(page));
			__free_page(page);
			break;
		}
		n += err;
		list_add(&page->lru, &p->pages);
	}
	return n;
}

/*
 * One part of an inflate: allocate, name the pages to the device, wait
 * for its acknowledgment. @p->err: 0 once acknowledged; -ENOMEM if no
 * page could be allocated or the request mapped (the pages on @p->pages,
 * if any, were never named); -EIO or -ETIMEDOUT if the device failed the
 * request (the pages are the device's until it is reset).
 */
static void vfc_balloon_inflate_part(struct vfc_balloon_part *p)
{
	u64 start = ktime_get_ns();
	unsigned int n = vfc_balloon_alloc(p);

	p->time.alloc_ns += ktime_get_ns() - start;
	p->time.pages[VFC_BALLOON_VQ_INFLATE] += p->got;
	p->err = -ENOMEM;
	if (n)
		p->err = vfc_balloon_tell_host(p->vb, p, VFC_BALLOON_VQ_INFLATE,
					       n, p->timeout, true);
}

/*
 * One part of a deflate: take up to @p->want pages off the balloon's
 * list, name them to the device and give them back to the guest: once
 * the device acknowledged the request if @p->wait, at once otherwise.
 * @p->got: the pages given back; @p->err: 0, or the error that left the
 * pages on @p->pages, which go back into the balloon.
 */
static void vfc_balloon_deflate_part(struct vfc_balloon_part *p)
{
	__le32 *frames = p->frames[VFC_BALLOON_VQ_DEFLATE];
	struct vfc_balloon *vb = p->vb;
	unsigned int n = 0, got;
	struct page *page;
	u64 start;
	int err;

	p->got = 0;
	/* The array's last request, if sent without waiting, first. */
	p->err = vfc_balloon_wait(vb, p, VFC_BALLOON_VQ_DEFLATE, p->timeout);
	if (p->err)
		return;
	/* Fewer if compaction is moving some just now. */
	got = balloon_page_list_dequeue(&vb->b, &p->pages, p->want);
	if (!got)
		return;
	list_for_each_entry(page, &p->pages, lru) {
		/* It was named to the device on inflate, so it fits. */
		err = vfc_balloon_page_frames(page_to_pfn(page), &frames[n],
					      VFC_BALLOON_ARRAY_LEN - n);
		if (WARN_ON_ONCE(err < 0)) {
			p->err = -ENOMEM;
			return;
		}
		n += err;
	}

	/*
	 * With VIRTIO_BALLOON_F_MUST_TELL_HOST no page may be used before
	 * the device acknowledged its deflate request, and after a timeout
	 * it still may: they go back into the balloon. Without it "the
	 * driver MAY use pages from the balloon" as soon as it told.
	 */
	p->err = vfc_balloon_tell_host(vb, p, VFC_BALLOON_VQ_DEFLATE, n,
				       p->timeout, p->wait);
	if (p->err)
		return;
	start = ktime_get_ns();
	vfc_balloon_free_list(&p->pages, vb->managed);
	p->time.free_ns += ktime_get_ns() - start;
	p->time.pages[VFC_BALLOON_VQ_DEFLATE] += got;
	p->got = got;
}

static void vfc_balloon_part_work(struct work_struct *work)
{
	struct vfc_balloon_part *p = container_of(work, struct vfc_balloon_part,
						  work);

	if (p->which == VFC_BALLOON_VQ_INFLATE)
		vfc_balloon_inflate_part(p);
	else
		vfc_balloon_deflate_part(p);
}

/* The most pages one run moves, as many parts as there are CPUs. */
static unsigned int vfc_balloon_run_max(void)
{
	return min(num_online_cpus(), VFC_BALLOON_MAX_PARTS) *
	       VFC_BALLOON_BATCH_PAGES;
}

/*
 * Move @want pages (at most VFC_BALLOON_RUN_PAGES) on
 * queue @which in parts: part 0 on this CPU, each other on another online
 * CPU, every part at most one request and, where there are CPUs enough,
 * at least VFC_BALLOON_PART_MIN pages. With @spread false the parts run
 * here one after the other: the OOM notifier must not wait for workers,
 * which may need memory to start. Called with @lock held; the parts do
 * not take it.
 *
 * Return: the number of parts; each has its outcome in got, err, pages.
 */
static unsigned int vfc_balloon_run(struct vfc_balloon *vb, unsigned int which,
				    unsigned int want, unsigned long timeout,
				    bool spread)
{
	unsigned int i, nr, per, cpu = raw_smp_processor_id();
	struct vfc_balloon_part *p;

	lockdep_assert_held(&vb->lock);
	nr = spread ? min(num_online_cpus(),
			  DIV_ROUND_UP(want, VFC_BALLOON_PART_MIN)) : 1;
	nr = clamp(nr, DIV_ROUND_UP(want, VFC_BALLOON_BATCH_PAGES),
		   (unsigned int)VFC_BALLOON_MAX_PARTS);
	per = DIV_ROUND_UP(want, nr);
	for (i = 0; i < nr && i * per < want; i++) {
		p = &vb->parts[i];
		p->which = which;
		p->want = min(per, want - i * per);
		p->timeout = timeout;
		p->wait = which == VFC_BALLOON_VQ_INFLATE ||
			  vfc_has_feature(vb->vdev, VIRTIO_BALLOON_F_MUST_TELL_HOST);
		INIT_LIST_HEAD(&p->pages);
		if (!i || !spread)
			continue;
		cpu = cpumask_next(cpu, cpu_online_mask);
		if (cpu >= nr_cpu_ids)
			cpu = cpumask_first(cpu_online_mask);
		queue_work_on(cpu, vb->part_wq, &p->work);
	}
	nr = i;
	for (i = 0; i < nr; i++) {
		if (!i || !spread)
			vfc_balloon_part_work(&vb->parts[i].work);
		else
			flush_work(&vb->parts[i].work);
	}
	return nr;
}

/*
 * Put up to @want pages into the balloon.
 *
 * Return: the pages added, fewer than @want if the guest had no more to
 * spare (down to the reserve) or a page could not be named in 32 bits;
 * -ENOMEM if not one page could be added, for any of these reasons, or
 * the requests could not be mapped;
 * -EIO or -ETIMEDOUT if the device failed a request.
 */
static int vfc_balloon_inflate(struct vfc_balloon *vb, unsigned int want)
{
	unsigned int i, nr, got = 0;
	struct vfc_balloon_part *p;
	int err = 0;
	long avail;

	avail = si_mem_available();
	if (avail <= (long)vb->reserve)
		return -ENOMEM;
	want = min3((long)want, (long)VFC_BALLOON_RUN_PAGES,
		    avail - (long)vb->reserve);
	/*
	 * A deflate sent without waiting may name a page about to be
	 * allocated again: the device hears of that deflate first.
	 */
	err = vfc_balloon_deflates_back(vb);
	if (err)
		return err;

	nr = vfc_balloon_run(vb, VFC_BALLOON_VQ_INFLATE, want,
			     VFC_BALLOON_ACK_TIMEOUT, true);
	for (i = 0; i < nr; i++) {
		p = &vb->parts[i];
		if (p->err == -ENOMEM) {
			/* Never sent: the pages are still the guest's own. */
			vfc_balloon_free_list(&p->pages, false);
			continue;
		}
		/*
		 * Acknowledged: the pages are the device's, so they leave
		 * the guest's memory as counted in MemTotal (unless the
		 * guest may take them back on OOM, see @managed). Not
		 * acknowledged: the device may hold them until it is reset
		 * ("5.5.6.1 Driver Requirements: Device Operation": no use
		 * of a page between the inflate request and its
		 * acknowledgment), so they are as gone as acknowledged
		 * ones; counting them alike keeps one rule for every page
		 * in the balloon.
		 */
		if (vb->managed)
			vfc_balloon_managed(&p->pages, -1);
		balloon_page_list_enqueue(&vb->b, &p->pages);
		vb->nr_pages += p->got;
		got += p->got;
		if (p->err)
			err = p->err;
	}
	if (err)
		return err;
	if (!got)
		return -ENOMEM;
	vfc_balloon_update_actual(vb);
	return got;
}

/*
 * Take up to @want pages out of the balloon and give them back to the
 * guest, waiting at most @timeout for the device; in parts on several
 * CPUs if @spread (see vfc_balloon_run()).
 *
 * Return: the pages given back; -ENOMEM if no request could be mapped;
 * -EIO or -ETIMEDOUT if the device failed a request. The pages of a
 * request that failed stay in the balloon.
 */
static int vfc_balloon_deflate(struct vfc_balloon *vb, unsigned int want,
			       unsigned long timeout, bool spread)
{
	unsigned int i, nr, got = 0;
	struct vfc_balloon_part *p;
	int err = 0;

	want = min3(want, VFC_BALLOON_RUN_PAGES, vb->nr_pages);
	if (!want)
		return 0;
	nr = vfc_balloon_run(vb, VFC_BALLOON_VQ_DEFLATE, want, timeout, spread);
	for (i = 0; i < nr; i++) {
		p = &vb->parts[i];
		if (p->err) {
			balloon_page_list_enqueue(&vb->b, &p->pages);
			if (err != -EIO && err != -ETIMEDOUT)
				err = p->err;
		}
		vb->nr_pages -= p->got;
		got += p->got;
	}
	if (got)
		vfc_balloon_update_actual(vb);
	if (err == -EIO || err == -ETIMEDOUT || !got)
		return err;
	return got;
}

/*
 * Follow num_pages, one run at a time, until the balloon is on target,
 * falls short (retry later, slowly), or the device fails (stop for good).
 * "5.5.6 Device Operation": inflate while num_pages is above actual,
 * deflate while it is below.
 */
static void vfc_balloon_move(struct vfc_balloon *vb)
{
	struct vfc_balloon_queue *q;
	u32 num_pages;
	s64 delta;
	int want, moved;

	/* A lockless hint: remove() cancels the work after setting it. */
	while (!READ_ONCE(vb->stopped)) {
		/* One request per hold: the OOM notifier may come between. */
		mutex_lock(&vb->lock);
		if (vfc_balloon_broken(vb)) {
			mutex_unlock(&vb->lock);
			break;
		}
		if (vfc_balloon_target(vb, &num_pages)) {
			mutex_unlock(&vb->lock);
			vfc_balloon_retry(vb);
			return;
		}
		delta = vfc_balloon_pages_to_move(num_pages,
						  vfc_balloon_actual(vb->nr_pages));
		if (!delta) {
			/*
			 * On target: nothing stays in flight, and a device
			 * that never takes a deflate is found out now.
			 */
			moved = vfc_balloon_deflates_back(vb);
			if (moved)
				vfc_balloon_give_up(vb, vb->q[VFC_BALLOON_VQ_DEFLATE].vq,
						    moved);
			mutex_unlock(&vb->lock);
			if (moved)
				return;
			break;
		}

		want = min_t(s64, abs(delta), vfc_balloon_run_max());
		if (delta > 0) {
			q = &vb->q[VFC_BALLOON_VQ_INFLATE];
			moved = vfc_balloon_inflate(vb, want);
		} else {
			q = &vb->q[VFC_BALLOON_VQ_DEFLATE];
			moved = vfc_balloon_deflate(vb, want,
						    VFC_BALLOON_ACK_TIMEOUT, true);
		}
		if (moved == -EIO || moved == -ETIMEDOUT)
			vfc_balloon_give_up(vb, q->vq, moved);
		mutex_unlock(&vb->lock);

		if (moved == -EIO || moved == -ETIMEDOUT)
			return;
		if (moved < want) {
			/* Say so once per shortage, not once per retry. */
			if (vb->retry_delay == VFC_BALLOON_RETRY_MIN)
				dev_info(&vb->vdev->dev,
					 "balloon short of its target at %u pages (%lld to go); retrying slowly\n",
					 vb->nr_pages,
					 (long long)(abs(delta) - max(moved, 0)));
			vfc_balloon_retry(vb);
			return;
		}

		vb->retry_delay = VFC_BALLOON_RETRY_MIN;
		/* A big target is many requests: let others run between. */
		cond_resched();
	}
	vb->retry_delay = VFC_BALLOON_RETRY_MIN;
}

static void vfc_balloon_work(struct work_struct *work)
{
	struct vfc_balloon *vb = container_of(to_delayed_work(work),
					      struct vfc_balloon, work);
	bool armed = vfc_balloon_fail_begin(vb, VFC_BALLOON_CTX_WORK);

	vfc_balloon_move(vb);
	vfc_balloon_fail_end(vb, VFC_BALLOON_CTX_WORK, armed);
}

/* ------------------------------------------------------------------------
 * Deflate on OOM ("5.5.6.1 Driver Requirements: Device Operation")
 */

/*
 * The guest is out of memory and about to kill a process for it. With
 * VIRTIO_BALLOON_F_DEFLATE_ON_OOM the driver may use pages from the
 * balloon "if this is required for system stability": give back one
 * MiB (VFC_BALLOON_OOM_PAGES), which the allocation that failed then
 * retries on. Each OOM call takes one such chunk, so a balloon empties
 * only as far as the guest's need goes. The device still hears of every
 * page (first, with MUST_TELL_HOST); a device that does not answer is
 * reset, and then every page comes back at once.
 *
 * Context: the OOM path, a blocking notifier; may sleep.
 */
static int vfc_balloon_oom_notify(struct notifier_block *nb,
				  unsigned long unused, void *parm)
{
	struct vfc_balloon *vb = container_of(nb, struct vfc_balloon, oom_nb);
	unsigned long *freed = parm;
	int moved;

	mutex_lock(&vb->lock);
	if (READ_ONCE(vb->stopped) || vfc_balloon_broken(vb) ||
	    !vb->nr_pages) {
		mutex_unlock(&vb->lock);
		return NOTIFY_OK;
	}
	moved = vfc_balloon_deflate(vb, VFC_BALLOON_OOM_PAGES,
				    VFC_BALLOON_ACK_TIMEOUT, false);
	if (moved == -EIO || moved == -ETIMEDOUT)
		moved = vfc_balloon_give_up(vb, vb->q[VFC_BALLOON_VQ_DEFLATE].vq,
					    moved);
	if (moved > 0) {
		*freed += moved;
		dev_info_ratelimited(&vb->vdev->dev,
				     "out of memory: gave %d pages back from the balloon, %u left\n",
				     moved, vb->nr_pages);
	}
	mutex_unlock(&vb->lock);
	return NOTIFY_OK;
}

#if IS_ENABLED(CONFIG_KUNIT)
/**
 * vfc_balloon_test_oom() - one call of the OOM notifier chain, as far as
 *	the balloon of @vdev takes part in it
 * @vdev: a device vfc_balloon is bound to
 *
 * For the KUnit suite vfc_balloon_device, which cannot run the guest out
 * of memory.
 *
 * Return: the pages the balloon gave back.
 */
unsigned long vfc_balloon_test_oom(struct vfc_device *vdev)
{
	struct vfc_balloon *vb = vdev->priv;
	unsigned long freed = 0;

	if (vb && vb->oom_registered)
		vfc_balloon_oom_notify(&vb->oom_nb, 0, &freed);
	return freed;
}
EXPORT_SYMBOL_IF_KUNIT(vfc_balloon_test_oom);

/**
 * vfc_balloon_test_shrink() - one call of the hinted blocks' shrinker
 * @vdev: a device vfc_balloon is bound to, with free page hinting
 * @pages: the most pages to give back
 *
 * For the KUnit suite vfc_balloon_device, which cannot run the guest
 * short of memory.
 *
 * Return: the pages the balloon gave back to the guest.
 */
unsigned long vfc_balloon_test_shrink(struct vfc_device *vdev,
				      unsigned long pages)
{
	struct vfc_balloon *vb = vdev->priv;

	if (!vb || !vb->shrinker)
		return 0;
	return vfc_balloon_hint_release(vb, pages, false);
}
EXPORT_SYMBOL_IF_KUNIT(vfc_balloon_test_shrink);

/**
 * vfc_balloon_test_fail_nth() - make the next run of a context fail an
 *	allocation
 * @vdev: a device vfc_balloon is bound to
 * @ctx: the context: the inflate and deflate work, the statistics work, or
 *	the free page report
 * @nth: that run's allocation to fail, from 1 (the kernel's fail-nth)
 *
 * For KUnit's allocation-failure sweep (vfc_balloon_device).
 *
 * Return: 0; -EINVAL for no balloon or no such context; -EOPNOTSUPP
 * without CONFIG_FAULT_INJECTION.
 */
int vfc_balloon_test_fail_nth(struct vfc_device *vdev,
			      enum vfc_balloon_ctx ctx, unsigned int nth)
{
#ifdef VFC_BALLOON_FAIL_NTH
	struct vfc_balloon *vb = vdev->priv;

	if (!vb || ctx >= VFC_BALLOON_NR_CTX)
		return -EINVAL;
	WRITE_ONCE(vb->fail_hit[ctx], -EAGAIN);
	/* Ordered after fail_hit: a run that takes it reports afresh. */
	xchg(&vb->fail_nth[ctx], nth);
	return 0;
#else
	return -EOPNOTSUPP;
#endif
}
EXPORT_SYMBOL_IF_KUNIT(vfc_balloon_test_fail_nth);

/**
 * vfc_balloon_test_fail_hit() - what the run armed last saw
 * @vdev: a device vfc_balloon is bound to
 * @ctx: the context vfc_balloon_test_fail_nth() armed
 *
 * Return: 1 if that run reached the allocation and it failed, 0 if it made
 * fewer; -EAGAIN while it has not ended; -EINVAL, -EOPNOTSUPP as
 * vfc_balloon_test_fail_nth().
 */
int vfc_balloon_test_fail_hit(struct vfc_device *vdev,
			      enum vfc_balloon_ctx ctx)
{
#ifdef VFC_BALLOON_FAIL_NTH
	struct vfc_balloon *vb = vdev->priv;

	if (!vb || ctx >= VFC_BALLOON_NR_CTX)
		return -EINVAL;
	/* Pairs with vfc_balloon_fail_end(). */
	return smp_load_acquire(&vb->fail_hit[ctx]);
#else
	return -EOPNOTSUPP;
#endif
}
EXPORT_SYMBOL_IF_KUNIT(vfc_balloon_test_fail_hit);
#endif

/* ------------------------------------------------------------------------
 * Movable balloon pages
 */

#if VFC_BALLOON_MIGRATION
/*
 * Compaction moves a balloon page: @page, isolated from the balloon's
 * list, is to be replaced by @newpage. For the device this is an inflate
 * of @newpage followed by a deflate of @page, each acknowledged before the
 * next step ("5.5.6.1 Driver Requirements: Device Operation"): the device
 * hears of the new page before the old one goes back to the guest.
 * Called with both pages locked.
 *
 * Return: 0 once @newpage is in the balloon and @page is the guest's;
 * -EAGAIN to leave @page where it is (compaction puts it back and may try
 * again): the balloon is busy, stopped, or the device failed.
 */
static int vfc_balloon_migrate(struct balloon_dev_info *b,
			       struct page *newpage, struct page *page,
			       enum migrate_mode mode)
{
	struct vfc_balloon *vb = container_of(b, struct vfc_balloon, b);
	struct vfc_balloon_queue *in = &vb->q[VFC_BALLOON_VQ_INFLATE];
	struct vfc_balloon_queue *out = &vb->q[VFC_BALLOON_VQ_DEFLATE];
	struct vfc_balloon_part *p = &vb->parts[0];
	unsigned long flags;
	int err;

	/*
	 * Never wait for the lock: its holder may be allocating balloon
	 * pages, and compacting memory for them, this very moment.
	 */
	if (!mutex_trylock(&vb->lock))
		return -EAGAIN;
	if (READ_ONCE(vb->stopped) || vfc_balloon_broken(vb)) {
		mutex_unlock(&vb->lock);
		return -EAGAIN;
	}
	/* A deflate sent without waiting may still hold the array. */
	err = vfc_balloon_wait(vb, p, VFC_BALLOON_VQ_DEFLATE,
			       VFC_BALLOON_ACK_TIMEOUT);
	if (!err && vfc_balloon_page_frames(page_to_pfn(newpage),
					    p->frames[VFC_BALLOON_VQ_INFLATE],
					    VFC_BALLOON_ARRAY_LEN) < 0)
		err = -ENOMEM;
	if (!err)
		err = vfc_balloon_tell_host(vb, p, VFC_BALLOON_VQ_INFLATE,
					    VFC_BALLOON_FRAMES_PER_PAGE,
					    VFC_BALLOON_ACK_TIMEOUT, true);
	if (err) {
		/* Not sent (-ENOMEM), or reset: @newpage is free to go. */
		if (err != -ENOMEM)
			vfc_balloon_give_up(vb, in->vq, err);
		mutex_unlock(&vb->lock);
		return -EAGAIN;
	}

	/* The balloon's reference, which @page's drops below. */
	get_page(newpage);
	if (vb->managed && page_zone(page) != page_zone(newpage)) {
		adjust_managed_page_count(page, 1);
		adjust_managed_page_count(newpage, -1);
	}
	spin_lock_irqsave(&b->pages_lock, flags);
	balloon_page_insert(b, newpage);
	b->isolated_pages--;
	__count_vm_event(BALLOON_MIGRATE);
	spin_unlock_irqrestore(&b->pages_lock, flags);

	/* It was named to the device on inflate, so it fits. */
	vfc_balloon_page_frames(page_to_pfn(page),
				p->frames[VFC_BALLOON_VQ_DEFLATE],
				VFC_BALLOON_ARRAY_LEN);
	err = vfc_balloon_tell_host(vb, p, VFC_BALLOON_VQ_DEFLATE,
				    VFC_BALLOON_FRAMES_PER_PAGE,
				    VFC_BALLOON_ACK_TIMEOUT, true);
	/*
	 * MUST_TELL_HOST: @page is the guest's only once the device
	 * acknowledged its deflate, or forgot it in a reset. The reset
	 * costs the balloon, but this is a device that failed a request,
	 * or a mapping that failed for one page, which does not happen.
	 */
	if (err)
		vfc_balloon_give_up(vb, out->vq, err);
	mutex_unlock(&vb->lock);

	balloon_page_finalize(page);
	put_page(page);
	return 0;	/* MIGRATEPAGE_SUCCESS */
}
#endif

/* ------------------------------------------------------------------------
 * Free page reporting ("5.5.6.7 Free Page Reporting")
 */

#if IS_ENABLED(CONFIG_PAGE_REPORTING)
/*
 * The kernel's page reporting isolated @nents free blocks (of at least
 * pageblock order): name them to the device as one device-writable buffer
 * and wait for its acknowledgment, after which the guest may use them
 * again. The device may discard their contents meanwhile, unless it
 * agreed to VIRTIO_BALLOON_F_PAGE_POISON ("Page Poison"). A device that
 * does not answer in time is reset before the pages go back to the free
 * lists: only then can it no longer write to them.
 *
 * Context: the page reporting work; may sleep.
 * Return: 0, or an error, after which the blocks return unreported.
 */
static int vfc_balloon_send_report(struct vfc_balloon *vb,
				   struct scatterlist *sg, unsigned int nents)
{
	struct vfc_virtqueue *vq = vb->report_vq;
	void *token = NULL;
	int err;

	/* Given up on (see vfc_balloon_give_up()): nothing to report to. */
	if (READ_ONCE(vb->stopped))
		return -EIO;
	mutex_lock(&vb->lock);
	/*
	 * Only one report is in flight, and probe checked that the queue
	 * holds PAGE_REPORTING_CAPACITY entries: no indirect table needed,
	 * so no allocation in the page allocator's own work.
	 */
	err = vfc_vq_add_inbuf(vq, sg, nents, vb, GFP_NOWAIT | __GFP_NOWARN);
	if (!err)
		vfc_vq_kick(vq);
	mutex_unlock(&vb->lock);
	if (err) {
		dev_warn_ratelimited(&vb->vdev->dev,
				     "cannot report %u free blocks (%d)\n",
				     nents, err);
		return err == -ENOMEM ? -ENOMEM : -EIO;
	}

	wait_event_timeout(vb->acked, vfc_balloon_used(vq, &token),
			   VFC_BALLOON_ACK_TIMEOUT);
	if (token)
		return 0;

	mutex_lock(&vb->lock);
	if (!READ_ONCE(vb->stopped))
		vfc_balloon_give_up(vb, vq, vfc_vq_is_broken(vq) ? -EIO :
							      -ETIMEDOUT);
	mutex_unlock(&vb->lock);
	return -EIO;
}

static int vfc_balloon_report(struct page_reporting_dev_info *pr,
			      struct scatterlist *sg, unsigned int nents)
{
	struct vfc_balloon *vb = container_of(pr, struct vfc_balloon, pr);
	bool armed = vfc_balloon_fail_begin(vb, VFC_BALLOON_CTX_REPORT);
	int err;

	err = vfc_balloon_send_report(vb, sg, nents);
	vfc_balloon_fail_end(vb, VFC_BALLOON_CTX_REPORT, armed);
	return err;
}

/* Start reporting, if the queue can carry a full report. */
static void vfc_balloon_start_reporting(struct vfc_balloon *vb)
{
	unsigned int size = vfc_vq_get_vring_size(vb->report_vq);
	int err;

	if (size < PAGE_REPORTING_CAPACITY) {
		dev_warn(&vb->vdev->dev,
			 "reporting queue has %u entries, a report needs %u; not reporting free pages\n",
			 size, PAGE_REPORTING_CAPACITY);
		return;
	}
	vb->pr.report = vfc_balloon_report;
	err = page_reporting_register(&vb->pr);
	if (err) {
		/* -EBUSY: another driver reports already; there is one. */
		dev_warn(&vb->vdev->dev,
			 "cannot register for free page reporting (%d); not reporting free pages\n",
			 err);
		return;
	}
	vb->reporting = true;
}

static void vfc_balloon_stop_reporting(struct vfc_balloon *vb)
{
	if (vb->reporting)
		page_reporting_unregister(&vb->pr);
	vb->reporting = false;
}
#else
static void vfc_balloon_start_reporting(struct vfc_balloon *vb) { }
static void vfc_balloon_stop_reporting(struct vfc_balloon *vb) { }
#endif

/* ------------------------------------------------------------------------
 * Free page hinting ("5.5.6.6 Free Page Hinting")
 */

/*
 * A hinted block: a buddy block of pageblock order (2 MiB on x86), which
 * free memory mostly comes in, and few enough buffers that 1 GiB of free
 * memory is 512 of them.
 */
#define VFC_BALLOON_HINT_ORDER		pageblock_order
#define VFC_BALLOON_HINT_PAGES		BIT(VFC_BALLOON_HINT_ORDER)

/*
 * Blocks for hinting are free memory only: no reclaim of any kind, not
 * even waking kswapd, as hinting is not worth the guest's page cache. The
 * allocation stops at the low watermark by itself; the reserve check in
 * vfc_balloon_hint_round() stops it earlier.
 */
#define VFC_BALLOON_HINT_GFP \
	(__GFP_NORETRY | __GFP_NOWARN | __GFP_NOMEMALLOC)

/*
 * Blocks per round at most: as many as the guest can spare, unless the
 * KUnit suite vfc_balloon_device bounds it (a round would otherwise take
 * all of the test guest's free memory).
 */
VISIBLE_IF_KUNIT unsigned long vfc_balloon_hint_max_blocks = ULONG_MAX;
EXPORT_SYMBOL_IF_KUNIT(vfc_balloon_hint_max_blocks);

/* Notify the device after this many blocks, and at the end of a round. */
#define VFC_BALLOON_HINT_KICK_BATCH	32

/*
 * The hinting queue has no callback, so the device does not interrupt
 * for it (as with the kernel's own driver): the work looks at the queue
 * itself, every VFC_BALLOON_HINT_POLL while it waits for buffers. QEMU
 * (7.2) uses hints in its iothread and raises INTx from there; with
 * used-buffer interrupts asked for on this queue, the config interrupts
 * that bring STOP and DONE were seen to go missing for good (packed
 * ring, test_free_page_hint), and the hinted memory with them.
 */
#define VFC_BALLOON_HINT_POLL		max(1, HZ / 100)

/* The two command buffers, indexes into vb->hint_cmd. */
enum {
	VFC_BALLOON_HINT_CMD_ID,
	VFC_BALLOON_HINT_CMD_STOP,
};

static void vfc_balloon_queue_hint(struct vfc_balloon *vb)
{
	unsigned long flags;

	spin_lock_irqsave(&vb->stop_lock, flags);
	if (!vb->stopped)
		queue_work(vb->hint_wq, &vb->hint_work);
	spin_unlock_irqrestore(&vb->stop_lock, flags);
}

/*
 * Give back to the guest up to @pages pages of the hinted blocks the
 * device used; with @done, also every block it uses from now on (the
 * device said DONE, or is gone). Return: the pages given back.
 *
 * Before DONE the device may still drop a hinted page's contents; the
 * spec lets the driver take it back all the same, as long as it treats
 * the contents as uninitialised. A freed block is exactly that: the page
 * allocator zeroes or poisons it on the way in or out where the guest
 * asked for it, and writing it cancels the hint.
 */
static unsigned long vfc_balloon_hint_release(struct vfc_balloon *vb,
					      unsigned long pages, bool done)
{
	struct page *page, *next;
	unsigned long n = 0;
	LIST_HEAD(blocks);

	spin_lock(&vb->hint_lock);
	if (done)
		vb->hint_done = true;
	list_for_each_entry_safe(page, next, &vb->hinted, lru) {
		if (n >= pages)
			break;
		list_move(&page->lru, &blocks);
		n += VFC_BALLOON_HINT_PAGES;
	}
	WRITE_ONCE(vb->nr_hinted, vb->nr_hinted - n);
	spin_unlock(&vb->hint_lock);

	list_for_each_entry_safe(page, next, &blocks, lru) {
		list_del(&page->lru);
		__free_pages(page, VFC_BALLOON_HINT_ORDER);
	}
	return n;
}

/* A block came back from the device, or off the queue after a reset. */
static void vfc_balloon_hint_returned(struct vfc_balloon *vb,
				      struct page *page)
{
	spin_lock(&vb->hint_lock);
	if (!vb->hint_done) {
		list_add(&page->lru, &vb->hinted);
		WRITE_ONCE(vb->nr_hinted,
			   vb->nr_hinted + VFC_BALLOON_HINT_PAGES);
		page = NULL;
	}
	spin_unlock(&vb->hint_lock);
	if (page)
		__free_pages(page, VFC_BALLOON_HINT_ORDER);
}

/* Whether @token is one of the command buffers; which one in @which. */
static bool vfc_balloon_hint_is_cmd(struct vfc_balloon *vb, void *token,
				    unsigned int *which)
{
	unsigned int i;

	for (i = VFC_BALLOON_HINT_CMD_ID; i <= VFC_BALLOON_HINT_CMD_STOP; i++) {
		if (token == &vb->hint_cmd[i]) {
			*which = i;
			return true;
		}
	}
	return false;
}

/*
 * Take back what the device used on the hinting queue: a command buffer
 * is free for the next round, a block joins the hinted ones. The device
 * writes nothing into a hint, so the used length means nothing. Only
 * @hint_work calls this (or remove(), once it is cancelled).
 * Return: the buffers that came back.
 */
static unsigned int vfc_balloon_hint_reap(struct vfc_balloon *vb)
{
	unsigned int len, which, n = 0;
	void *token;

	while ((token = vfc_vq_get_buf(vb->hint_vq, &len))) {
		n++;
		if (vfc_balloon_hint_is_cmd(vb, token, &which)) {
			__clear_bit(which, &vb->hint_cmd_busy);
			continue;
		}
		vb->hint_inflight--;
		vfc_balloon_hint_returned(vb, token);
	}
	return n;
}

/*
 * The command id in the device's config. Clears @hint_changed first, so
 * that a change after the read sets it again.
 * Return: 0, or -EAGAIN if the config kept changing while it was read.
 */
static int vfc_balloon_hint_cmd_id(struct vfc_balloon *vb, u32 *id)
{
	__le32 val;
	int err;

	WRITE_ONCE(vb->hint_changed, false);
	/* Orders the clear before the read; config_changed() sets it after. */
	smp_mb();
	err = vfc_config_read(vb->vdev,
			      offsetof(struct virtio_balloon_config,
				       free_page_hint_cmd_id),
			      &val, sizeof(val));
	if (!err)
		*id = le32_to_cpu(val);
	return err;
}

/*
 * Send command buffer @which holding @id: a 4-byte device-readable buffer,
 * the only kind "Driver Requirements: Free Page Hinting" allows.
 * Return: 0, or the add's error.
 */
static int vfc_balloon_hint_send(struct vfc_balloon *vb, unsigned int which,
				 u32 id)
{
	struct scatterlist sg;
	int err;

	vb->hint_cmd[which] = cpu_to_le32(id);
	sg_init_one(&sg, &vb->hint_cmd[which], sizeof(vb->hint_cmd[which]));
	mutex_lock(&vb->lock);
	err = vfc_vq_add_outbuf(vb->hint_vq, &sg, 1, &vb->hint_cmd[which],
				GFP_KERNEL);
	if (!err)
		vfc_vq_kick(vb->hint_vq);
	mutex_unlock(&vb->lock);
	if (!err)
		__set_bit(which, &vb->hint_cmd_busy);
	return err;
}

/* Whether to stop waiting on the hinting queue, having reaped it. */
static bool vfc_balloon_hint_waited(struct vfc_balloon *vb, bool *came_back)
{
	if (vfc_balloon_hint_reap(vb))
		*came_back = true;
	return *came_back || READ_ONCE(vb->hint_changed) ||
	       READ_ONCE(vb->stopped) || vfc_vq_is_broken(vb->hint_vq);
}

/*
 * Wait until the device used a buffer on the hinting queue, the config
 * changed, or there is nothing to wait for any more, giving up after the
 * ack timeout. A config change wakes the wait; the queue is polled.
 * Return: whether a buffer came back.
 */
static bool vfc_balloon_hint_wait(struct vfc_balloon *vb)
{
	unsigned long end = jiffies + VFC_BALLOON_ACK_TIMEOUT;
	bool came_back = false;

	while (!wait_event_timeout(vb->acked,
				   vfc_balloon_hint_waited(vb, &came_back),
				   VFC_BALLOON_HINT_POLL) &&
	       time_before(jiffies, end))
		;
	return came_back;
}

/*
 * Notify the device of what it holds on the hinting queue, whatever its
 * event suppression says. QEMU 7.2 stops polling the queue when hinting
 * stops and then turns notifications back on without looking at the
 * queue again: buffers made available just then wait for a notification
 * that a kick, seeing nothing new since, does not send. A notification
 * with nothing new is harmless ("Available Buffer Notifications").
 */
static void vfc_balloon_hint_nudge(struct vfc_balloon *vb)
{
	mutex_lock(&vb->lock);
	if (vb->hint_inflight || vb->hint_cmd_busy)
		vfc_vq_notify(vb->hint_vq);
	mutex_unlock(&vb->lock);
}

/*
 * One round of hinting for command @id, the driver's steps in "Free Page
 * Hinting": the id first, then free blocks until the guest has none to
 * spare above its reserve or the device changes the id, then STOP. One
 * queue entry is kept for STOP, which ends every round that began.
 */
static void vfc_balloon_hint_round(struct vfc_balloon *vb, u32 id)
{
	struct vfc_virtqueue *vq = vb->hint_vq;
	const char *why = "no more free memory to spare";
	unsigned long blocks = 0;
	struct scatterlist sg;
	struct page *page;
	u32 now;
	int err;

	/* Never two buffers with the current id, nor two STOPs. */
	while (vb->hint_cmd_busy) {
		vfc_balloon_hint_nudge(vb);
		if (vfc_balloon_hint_wait(vb))
			continue;
		if (READ_ONCE(vb->hint_changed)) {
			/*
			 * The id moved on meanwhile (STOP, DONE, another):
			 * the work, queued again by the change, follows it.
			 */
			if (vfc_balloon_hint_cmd_id(vb, &now) || now != id)
				return;
			continue;
		}
		if (!READ_ONCE(vb->stopped) && !vfc_vq_is_broken(vq))
			dev_warn(&vb->vdev->dev,
				 "the device did not use the last hinting round's commands in %u ms; not hinting for command %u\n",
				 jiffies_to_msecs(VFC_BALLOON_ACK_TIMEOUT), id);
		return;
	}

	vb->hint_id = id;
	spin_lock(&vb->hint_lock);
	vb->hint_done = false;
	spin_unlock(&vb->hint_lock);
	err = vfc_balloon_hint_send(vb, VFC_BALLOON_HINT_CMD_ID, id);
	if (err) {
		if (!vfc_vq_is_broken(vq))
			dev_warn(&vb->vdev->dev,
				 "cannot start hinting for command %u (%d)\n",
				 id, err);
		return;
	}

	while (!READ_ONCE(vb->stopped)) {
		if (READ_ONCE(vb->hint_changed)) {
			if (vfc_balloon_hint_cmd_id(vb, &now)) {
				why = "config unreadable";
				break;
			}
			if (now != id) {
				why = now == VIRTIO_BALLOON_CMD_ID_STOP ? "device said stop" :
				      now == VIRTIO_BALLOON_CMD_ID_DONE ? "device said done" :
				      "new command";
				break;
			}
		}
		if (vq->num_free <= 1) {
			mutex_lock(&vb->lock);
			vfc_vq_kick(vq);
			mutex_unlock(&vb->lock);
			if (!vfc_balloon_hint_wait(vb) &&
			    !READ_ONCE(vb->hint_changed)) {
				why = "device does not take the hints";
				break;
			}
			continue;
		}
		if (global_zone_page_state(NR_FREE_PAGES) <
		    vb->reserve + VFC_BALLOON_HINT_PAGES)
			break;
		if (blocks >= READ_ONCE(vfc_balloon_hint_max_blocks)) {
			why = "bounded";
			break;
		}
		page = alloc_pages(VFC_BALLOON_HINT_GFP, VFC_BALLOON_HINT_ORDER);
		if (!page)
			break;
		sg_init_table(&sg, 1);
		sg_set_page(&sg, page, PAGE_SIZE << VFC_BALLOON_HINT_ORDER, 0);
		mutex_lock(&vb->lock);
		err = vfc_vq_add_inbuf(vq, &sg, 1, page, GFP_KERNEL);
		if (!err && !(++blocks % VFC_BALLOON_HINT_KICK_BATCH))
			vfc_vq_kick(vq);
		mutex_unlock(&vb->lock);
		if (err) {
			__free_pages(page, VFC_BALLOON_HINT_ORDER);
			why = "queue error";
			break;
		}
		vb->hint_inflight++;
		vfc_balloon_hint_reap(vb);
		cond_resched();
	}

	/* "If the driver is unable to supply pages, it MUST ... STOP." */
	err = vfc_balloon_hint_send(vb, VFC_BALLOON_HINT_CMD_STOP,
				    VIRTIO_BALLOON_CMD_ID_STOP);
	if (err && !vfc_vq_is_broken(vq))
		dev_warn(&vb->vdev->dev,
			 "cannot end hinting for command %u (%d)\n", id, err);
	dev_info(&vb->vdev->dev,
		 "free page hinting: command %u, %lu MiB hinted (%s)\n", id,
		 blocks * VFC_BALLOON_HINT_PAGES >> (20 - PAGE_SHIFT), why);
}

/*
 * Follow the device's command id ("Free Page Hinting"): a new id >= 2
 * starts a round; STOP ends it, keeping the hinted blocks; DONE gives them
 * all back to the guest. Queued on every config change.
 */
static void vfc_balloon_hint_work(struct work_struct *work)
{
	struct vfc_balloon *vb = container_of(work, struct vfc_balloon,
					      hint_work);
	unsigned long n;
	u32 id;
	int err;

	vfc_balloon_hint_reap(vb);
	if (READ_ONCE(vb->stopped) || vfc_vq_is_broken(vb->hint_vq))
		return;
	err = vfc_balloon_hint_cmd_id(vb, &id);
	if (err) {
		/* The next config change tries again. */
		dev_warn_ratelimited(&vb->vdev->dev,
				     "cannot read the free page hint command id (%d)\n",
				     err);
		return;
	}

	switch (id) {
	case VIRTIO_BALLOON_CMD_ID_DONE:
		vb->hint_id = 0;
		n = vfc_balloon_hint_release(vb, ULONG_MAX, true);
		if (n)
			dev_info(&vb->vdev->dev,
				 "free page hinting done: %lu MiB given back to the guest\n",
				 n >> (20 - PAGE_SHIFT));
		/* Blocks still out are freed as they come back. */
		while (vb->hint_inflight) {
			vfc_balloon_hint_nudge(vb);
			if (!vfc_balloon_hint_wait(vb))
				break;
		}
		break;
	case VIRTIO_BALLOON_CMD_ID_STOP:
		/* An id may come again once the device said STOP. */
		vb->hint_id = 0;
		vfc_balloon_hint_nudge(vb);
		break;
	default:
		if (id != vb->hint_id)
			vfc_balloon_hint_round(vb, id);
	}
}

/* The shrinker: the hinted blocks go back when the guest needs memory. */
static unsigned long vfc_balloon_hint_count(struct shrinker *s,
					    struct shrink_control *sc)
{
	struct vfc_balloon *vb = vfc_shrinker_private(s);

	return READ_ONCE(vb->nr_hinted);
}

static unsigned long vfc_balloon_hint_scan(struct shrinker *s,
					   struct shrink_control *sc)
{
	struct vfc_balloon *vb = vfc_shrinker_private(s);

	return vfc_balloon_hint_release(vb, sc->nr_to_scan, false) ?:
	       SHRINK_STOP;
}

/* ------------------------------------------------------------------------
 * Memory statistics ("5.5.6.3 Memory Statistics")
 */

/*
 * Every statistic the guest kernel can compute, from the sources
 * /proc/meminfo and /proc/vmstat use: MEMTOT and MEMFREE are MemTotal and
 * MemFree, AVAIL is MemAvailable. Which ones depends only on the kernel
 * (its config and its uapi header's tags), so every report carries the
 * same set. Return: the entries written.
 */
static unsigned int vfc_balloon_fill_stats(struct vfc_balloon *vb)
{
	struct virtio_balloon_stat *st = vb->stats;
	unsigned int n = 0;
	struct sysinfo i;

	si_meminfo(&i);
	vfc_balloon_stat_set(&st[n++], VIRTIO_BALLOON_S_MEMFREE,
			     (u64)i.freeram * i.mem_unit);
	vfc_balloon_stat_set(&st[n++], VIRTIO_BALLOON_S_MEMTOT,
			     (u64)i.totalram * i.mem_unit);
	vfc_balloon_stat_set(&st[n++], VIRTIO_BALLOON_S_AVAIL,
			     (u64)si_mem_available() << PAGE_SHIFT);
	vfc_balloon_stat_set(&st[n++], VIRTIO_BALLOON_S_CACHES,
			     (u64)global_node_page_state(NR_FILE_PAGES) <<
			     PAGE_SHIFT);
#ifdef CONFIG_VM_EVENT_COUNTERS
	all_vm_events(vb->events);
	vfc_balloon_stat_set(&st[n++], VIRTIO_BALLOON_S_SWAP_IN,
			     (u64)vb->events[PSWPIN] << PAGE_SHIFT);
	vfc_balloon_stat_set(&st[n++], VIRTIO_BALLOON_S_SWAP_OUT,
			     (u64)vb->events[PSWPOUT] << PAGE_SHIFT);
	vfc_balloon_stat_set(&st[n++], VIRTIO_BALLOON_S_MAJFLT,
			     vb->events[PGMAJFAULT]);
	vfc_balloon_stat_set(&st[n++], VIRTIO_BALLOON_S_MINFLT,
			     vb->events[PGFAULT]);
#ifdef CONFIG_HUGETLB_PAGE
	vfc_balloon_stat_set(&st[n++], VIRTIO_BALLOON_S_HTLB_PGALLOC,
			     vb->events[HTLB_BUDDY_PGALLOC]);
	vfc_balloon_stat_set(&st[n++], VIRTIO_BALLOON_S_HTLB_PGFAIL,
			     vb->events[HTLB_BUDDY_PGALLOC_FAIL]);
#endif
#ifdef VIRTIO_BALLOON_S_OOM_KILL
	/* The tags 6.10 added: the OOM killer, stalls, reclaim. */
	vfc_balloon_stat_set(&st[n++], VIRTIO_BALLOON_S_OOM_KILL,
			     vb->events[OOM_KILL]);
	vfc_balloon_stat_set(&st[n++], VIRTIO_BALLOON_S_ALLOC_STALL,
			     vfc_balloon_alloc_stalls(vb->events));
	vfc_balloon_stat_set(&st[n++], VIRTIO_BALLOON_S_ASYNC_SCAN,
			     (u64)vb->events[PGSCAN_KSWAPD] << PAGE_SHIFT);
	vfc_balloon_stat_set(&st[n++], VIRTIO_BALLOON_S_DIRECT_SCAN,
			     (u64)vb->events[PGSCAN_DIRECT] << PAGE_SHIFT);
	vfc_balloon_stat_set(&st[n++], VIRTIO_BALLOON_S_ASYNC_RECLAIM,
			     (u64)vb->events[PGSTEAL_KSWAPD] << PAGE_SHIFT);
	vfc_balloon_stat_set(&st[n++], VIRTIO_BALLOON_S_DIRECT_RECLAIM,
			     (u64)vb->events[PGSTEAL_DIRECT] << PAGE_SHIFT);
#endif
#endif
	return n;
}

/*
 * Fill the stats buffer and make it available: at probe (before DRIVER_OK,
 * the kick after it) and each time the device used it. The device holds
 * at most this one buffer. Return: 0 or the add's error.
 */
static int vfc_balloon_add_stats(struct vfc_balloon *vb)
{
	struct scatterlist sg;
	unsigned int n;

	n = vfc_balloon_fill_stats(vb);
	sg_init_one(&sg, vb->stats, n * sizeof(vb->stats[0]));
	return vfc_vq_add_outbuf(vb->stats_vq, &sg, 1, vb->stats, GFP_KERNEL);
}

/* After a failed refill: the device has no buffer to ask with meanwhile. */
#define VFC_BALLOON_STATS_RETRY		HZ

/*
 * The device used the buffer (its request for a report), or probe set the
 * device going: refill and resend the buffer if it is back, and notify.
 * Only this work touches the stats queue once the device is live.
 */
static void vfc_balloon_stats_refill(struct vfc_balloon *vb)
{
	unsigned int len;
	int err = 0;

	mutex_lock(&vb->lock);
	/*
	 * The length the device says it wrote means nothing in a
	 * device-read-only buffer.
	 */
	if (vfc_vq_get_buf(vb->stats_vq, &len))
		vb->stats_ours = true;
	if (vb->stats_ours) {
		err = vfc_balloon_add_stats(vb);
		if (!err)
			vb->stats_ours = false;
	}
	if (!err)
		vfc_vq_kick(vb->stats_vq);
	mutex_unlock(&vb->lock);
	if (err && !vfc_vq_is_broken(vb->stats_vq)) {
		dev_warn_ratelimited(&vb->vdev->dev,
				     "cannot send memory statistics (%d); trying again in %u s\n",
				     err, VFC_BALLOON_STATS_RETRY / HZ);
		vfc_balloon_queue_stats(vb, VFC_BALLOON_STATS_RETRY);
	}
}

static void vfc_balloon_stats_work(struct work_struct *work)
{
	struct vfc_balloon *vb = container_of(to_delayed_work(work),
					      struct vfc_balloon, stats_work);
	bool armed = vfc_balloon_fail_begin(vb, VFC_BALLOON_CTX_STATS);

	vfc_balloon_stats_refill(vb);
	vfc_balloon_fail_end(vb, VFC_BALLOON_CTX_STATS, armed);
}

static void vfc_balloon_stats_used(struct vfc_virtqueue *vq)
{
	vfc_balloon_queue_stats(vq->vdev->priv, 0);
}

/* ------------------------------------------------------------------------
 * The driver
 */

/*
 * The balloon names guest-physical frames to the device, in the requests'
 * payload where no IOMMU translates them; a device that sits behind one
 * would reach other memory than the balloon means.
 */
static int vfc_balloon_validate(struct vfc_device *vdev)
{
	if (vfc_has_feature(vdev, VIRTIO_F_ACCESS_PLATFORM)) {
		dev_err(&vdev->dev,
			"device requires VIRTIO_F_ACCESS_PLATFORM (iommu_platform=on), but the balloon passes guest-physical page numbers the IOMMU would not translate; not binding\n");
		return -EINVAL;
	}

	/*
	 * "5.5.3.1 Driver Requirements: Feature bits": PAGE_POISON only if
	 * the guest writes a value into every page it frees (init_on_free=1
	 * zeroes them, page_poison=1 fills them with PAGE_POISON); and a
	 * guest that does must not accept PAGE_REPORTING without it, as the
	 * device could then hand reported pages back with other contents.
	 */
	if (!want_init_on_free() && !page_poisoning_enabled_static()) {
		__vfc_clear_bit(vdev, VIRTIO_BALLOON_F_PAGE_POISON);
	} else if (!vfc_has_feature(vdev, VIRTIO_BALLOON_F_PAGE_POISON) &&
		   vfc_has_feature(vdev, VIRTIO_BALLOON_F_REPORTING)) {
		dev_info(&vdev->dev,
			 "freed pages are %s but the device cannot keep that (no PAGE_POISON); not reporting free pages\n",
			 want_init_on_free() ? "zeroed" : "poisoned");
		__vfc_clear_bit(vdev, VIRTIO_BALLOON_F_REPORTING);
	}
	if (!IS_ENABLED(CONFIG_PAGE_REPORTING))
		__vfc_clear_bit(vdev, VIRTIO_BALLOON_F_REPORTING);
	return 0;
}

/*
 * "Page Poison": the value freed pages hold, set before DRIVER_OK and
 * never changed while it is set. init_on_free zeroes them; page poisoning
 * fills them with the byte PAGE_POISON (the kernel lets poisoning win
 * when both are asked for, so init_on_free is then off).
 */
static void vfc_balloon_set_poison(struct vfc_balloon *vb)
{
	u32 val = 0;
	__le32 le;

	if (!want_init_on_free())
		memset(&val, PAGE_POISON, sizeof(val));
	le = cpu_to_le32(val);
	vfc_config_write(vb->vdev,
			 offsetof(struct virtio_balloon_config, poison_val),
			 &le, sizeof(le));
}

static const struct vfc_vq_info vfc_balloon_vq_info[VFC_BALLOON_MAX_VQS] = {
	[VFC_BALLOON_VQ_INFLATE] = { .name = "inflate",
				     .callback = vfc_balloon_ack },
	[VFC_BALLOON_VQ_DEFLATE] = { .name = "deflate",
				     .callback = vfc_balloon_ack },
	[VFC_BALLOON_VQ_STATS] = { .name = "stats",
				   .callback = vfc_balloon_stats_used },
	/* Polled: see VFC_BALLOON_HINT_POLL. */
	[VFC_BALLOON_VQ_HINT] = { .name = "free_page" },
	[VFC_BALLOON_VQ_REPORTING] = { .name = "reporting",
				       .callback = vfc_balloon_ack },
};

/* Each queue's feature; the first two have none (always there). */
static const unsigned int vfc_balloon_vq_feature[VFC_BALLOON_MAX_VQS] = {
	[VFC_BALLOON_VQ_STATS] = VIRTIO_BALLOON_F_STATS_VQ,
	[VFC_BALLOON_VQ_HINT] = VIRTIO_BALLOON_F_FREE_PAGE_HINT,
	[VFC_BALLOON_VQ_REPORTING] = VIRTIO_BALLOON_F_REPORTING,
};

/*
 * The queues of the negotiated features, in index order ("5.5.2
 * Virtqueues": a queue whose feature is not negotiated does not exist, and
 * the later ones move up). @which[i] is the VFC_BALLOON_VQ_* of queue i.
 * Return: the number of queues.
 */
static unsigned int vfc_balloon_queues(struct vfc_device *vdev,
				       struct vfc_vq_info info[],
				       unsigned int which[])
{
	unsigned int i, n = 0;

	for (i = 0; i < VFC_BALLOON_MAX_VQS; i++) {
		if (i >= VFC_BALLOON_NR_VQS &&
		    !vfc_has_feature(vdev, vfc_balloon_vq_feature[i]))
			continue;
		which[n] = i;
		info[n++] = vfc_balloon_vq_info[i];
	}
	return n;
}

/*
 * Free page hinting's parts, before the queues exist. Return: 0 or
 * -ENOMEM; vfc_balloon_hint_free() undoes it either way.
 */
static int vfc_balloon_hint_init(struct vfc_balloon *vb)
{
	INIT_WORK(&vb->hint_work, vfc_balloon_hint_work);
	spin_lock_init(&vb->hint_lock);
	INIT_LIST_HEAD(&vb->hinted);
	vb->hint_cmd = kcalloc(VFC_BALLOON_HINT_CMD_STOP + 1,
			       sizeof(*vb->hint_cmd), GFP_KERNEL);
	vb->hint_wq = alloc_workqueue("vfc_balloon_hint",
				      WQ_FREEZABLE | WQ_UNBOUND, 0);
	vb->shrinker = vfc_shrinker_create("vfc_balloon_hint",
					   vfc_balloon_hint_count,
					   vfc_balloon_hint_scan, vb);
	if (!vb->hint_cmd || !vb->hint_wq || !vb->shrinker)
		return -ENOMEM;
	return 0;
}

/* Undo vfc_balloon_hint_init(), once no block is on the queue. */
static void vfc_balloon_hint_exit(struct vfc_balloon *vb)
{
	if (vb->shrinker)
		vfc_shrinker_destroy(vb->shrinker);
	if (vb->hint_wq)
		destroy_workqueue(vb->hint_wq);
	vfc_balloon_hint_release(vb, ULONG_MAX, true);
	kfree(vb->hint_cmd);
}

/*
 * "5.5.5 Device Initialization", up to DRIVER_OK: the queues, the first
 * statistics report and the poison value. At probe and on restore.
 * Return: 0, or -errno with no queue left.
 */
static int vfc_balloon_setup_vqs(struct vfc_balloon *vb)
{
	struct vfc_vq_info info[VFC_BALLOON_MAX_VQS];
	struct vfc_virtqueue *vqs[VFC_BALLOON_MAX_VQS];
	unsigned int which[VFC_BALLOON_MAX_VQS];
	struct vfc_device *vdev = vb->vdev;
	unsigned int i, nvqs;
	int err;

	nvqs = vfc_balloon_queues(vdev, info, which);
	err = vfc_find_vqs(vdev, nvqs, vqs, info);
	if (err)
		return err;
	for (i = 0; i < nvqs; i++) {
		if (which[i] < VFC_BALLOON_NR_VQS)
			vb->q[which[i]].vq = vqs[i];
		else if (which[i] == VFC_BALLOON_VQ_STATS)
			vb->stats_vq = vqs[i];
		else if (which[i] == VFC_BALLOON_VQ_HINT)
			vb->hint_vq = vqs[i];
		else
			vb->report_vq = vqs[i];
	}

	/* The first report, made available before DRIVER_OK. */
	if (vb->stats_vq) {
		vb->stats_ours = false;
		err = vfc_balloon_add_stats(vb);
		if (err) {
			vfc_reset_device(vdev);
			vfc_del_vqs(vdev);
			return err;
		}
	}
	if (vfc_has_feature(vdev, VIRTIO_BALLOON_F_PAGE_POISON))
		vfc_balloon_set_poison(vb);
	vb->has_vqs = true;
	return 0;
}

/*
 * Set the balloon going once the device is live (DRIVER_OK): statistics,
 * deflate on OOM, reporting, hinting, and the work toward the target.
 */
static void vfc_balloon_start(struct vfc_balloon *vb)
{
	struct vfc_device *vdev = vb->vdev;
	int err;

	spin_lock_irq(&vb->stop_lock);
	WRITE_ONCE(vb->stopped, false);
	spin_unlock_irq(&vb->stop_lock);
	vb->retry_delay = VFC_BALLOON_RETRY_MIN;
	/*
	 * The work notifies the device of the first report: it alone uses
	 * the stats queue from now on, and it also finds the buffer if the
	 * device used it before its callback could run.
	 */
	if (vb->stats_vq)
		vfc_balloon_queue_stats(vb, 0);
	if (!vb->managed) {
		vb->oom_nb.notifier_call = vfc_balloon_oom_notify;
		vb->oom_nb.priority = VFC_BALLOON_OOM_PRIORITY;
		err = register_oom_notifier(&vb->oom_nb);
		if (err)
			/* The pages stay in MemTotal all the same. */
			dev_warn(&vdev->dev,
				 "cannot register the OOM notifier (%d); the balloon will not deflate on OOM\n",
				 err);
		vb->oom_registered = !err;
	}
	/* "Device Initialization": reporting begins after DRIVER_OK. */
	if (vb->report_vq)
		vfc_balloon_start_reporting(vb);
	/* The device may have asked for hints already. */
	if (vb->hint_vq) {
		vb->hint_id = 0;
		vb->hint_cmd_busy = 0;
		vb->hint_inflight = 0;
		vfc_balloon_queue_hint(vb);
	}
	vfc_balloon_queue(vb, 0);
}

static int vfc_balloon_alloc_frames(struct vfc_balloon_part *p)
{
	unsigned int q;

	for (q = 0; q < VFC_BALLOON_NR_VQS; q++) {
		p->frames[q] = kmalloc_array(VFC_BALLOON_ARRAY_LEN,
					     sizeof(__le32), GFP_KERNEL);
		if (!p->frames[q])
			return -ENOMEM;
	}
	return 0;
}

static void vfc_balloon_free_frames(struct vfc_balloon_part *p)
{
	unsigned int q;

	for (q = 0; q < VFC_BALLOON_NR_VQS; q++)
		kfree(p->frames[q]);
}

/* debugfs vfc/<device>/balloon: struct vfc_balloon_time, for make bench. */
static int vfc_balloon_time_show(struct seq_file *s, void *unused)
{
	struct vfc_balloon *vb = s->private;
	struct vfc_balloon_time t = {}, *pt;
	unsigned int i, q;

	mutex_lock(&vb->lock);
	for (i = 0; i < VFC_BALLOON_MAX_PARTS; i++) {
		pt = &vb->parts[i].time;
		for (q = 0; q < VFC_BALLOON_NR_VQS; q++) {
			t.requests[q] += pt->requests[q];
			t.pages[q] += pt->pages[q];
			t.device_ns[q] += pt->device_ns[q];
		}
		t.alloc_ns += pt->alloc_ns;
		t.free_ns += pt->free_ns;
	}
	mutex_unlock(&vb->lock);
	seq_printf(s, "inflate requests %llu pages %llu alloc_ns %llu device_ns %llu\n",
		   t.requests[0], t.pages[0], t.alloc_ns, t.device_ns[0]);
	seq_printf(s, "deflate requests %llu pages %llu device_ns %llu free_ns %llu\n",
		   t.requests[1], t.pages[1], t.device_ns[1], t.free_ns);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vfc_balloon_time);

static int vfc_balloon_probe(struct vfc_device *vdev)
{
	struct vfc_balloon *vb;
	unsigned int i;
	int err;

	vb = kzalloc(sizeof(*vb), GFP_KERNEL);
	if (!vb)
		return -ENOMEM;
	vb->vdev = vdev;
	init_waitqueue_head(&vb->acked);
	INIT_DELAYED_WORK(&vb->work, vfc_balloon_work);
	mutex_init(&vb->lock);
	spin_lock_init(&vb->stop_lock);
	balloon_devinfo_init(&vb->b);
#if VFC_BALLOON_MIGRATION
	vb->b.migratepage = vfc_balloon_migrate;
#endif
	vb->managed = !vfc_has_feature(vdev, VIRTIO_BALLOON_F_DEFLATE_ON_OOM);
	INIT_DELAYED_WORK(&vb->stats_work, vfc_balloon_stats_work);
	vb->reserve = max(totalram_pages() >> VFC_BALLOON_RESERVE_SHIFT,
			  (unsigned long)VFC_BALLOON_RESERVE_MIN);
	if (vfc_has_feature(vdev, VIRTIO_BALLOON_F_FREE_PAGE_HINT)) {
		err = vfc_balloon_hint_init(vb);
		if (err)
			goto err_frames;
	}
	if (vfc_has_feature(vdev, VIRTIO_BALLOON_F_STATS_VQ)) {
		vb->stats = kcalloc(VFC_BALLOON_MAX_STATS, sizeof(*vb->stats),
				    GFP_KERNEL);
		vb->events = kcalloc(NR_VM_EVENT_ITEMS, sizeof(*vb->events),
				     GFP_KERNEL);
		if (!vb->stats || !vb->events) {
			err = -ENOMEM;
			goto err_frames;
		}
	}

	for (i = 0; i < VFC_BALLOON_NR_VQS; i++)
		spin_lock_init(&vb->q[i].lock);
	vb->part_wq = alloc_workqueue("vfc_balloon_parts",
				      WQ_MEM_RECLAIM | WQ_HIGHPRI, 0);
	if (!vb->part_wq) {
		err = -ENOMEM;
		goto err_frames;
	}
	for (i = 0; i < VFC_BALLOON_MAX_PARTS; i++) {
		vb->parts[i].vb = vb;
		INIT_WORK(&vb->parts[i].work, vfc_balloon_part_work);
		err = vfc_balloon_alloc_frames(&vb->parts[i]);
		if (err)
			goto err_frames;
	}

	/* The callbacks find the balloon here as soon as the queues exist. */
	vdev->priv = vb;
	err = vfc_balloon_setup_vqs(vb);
	if (err)
		goto err_find_vqs;
	/* The work uses the queues at once, which needs DRIVER_OK first. */
	vfc_device_ready(vdev);
	vfc_balloon_start(vb);
	if (vdev->debugfs)
		debugfs_create_file("balloon", 0444, vdev->debugfs, vb,
				    &vfc_balloon_time_fops);
	return 0;

err_find_vqs:
	vdev->priv = NULL;
err_frames:
	if (vfc_has_feature(vdev, VIRTIO_BALLOON_F_FREE_PAGE_HINT))
		vfc_balloon_hint_exit(vb);
	for (i = 0; i < VFC_BALLOON_MAX_PARTS; i++)
		vfc_balloon_free_frames(&vb->parts[i]);
	if (vb->part_wq)
		destroy_workqueue(vb->part_wq);
	kfree(vb->events);
	kfree(vb->stats);
	kfree(vb);
	return err;
}

/*
 * Hand the balloon back through the deflate queue while the device still
 * answers, within VFC_BALLOON_REMOVE_TIMEOUT in all. Whatever is left
 * when this gives up is freed after the reset.
 */
static void vfc_balloon_deflate_all(struct vfc_balloon *vb)
{
	unsigned long now, deadline = jiffies + VFC_BALLOON_REMOVE_TIMEOUT;
	int moved;

	while (vb->nr_pages && !vfc_balloon_broken(vb)) {
		/* One read of jiffies: a later one could be past @deadline. */
		now = jiffies;
		if (!time_before(now, deadline)) {
			dev_warn(&vb->vdev->dev,
				 "gave up deflating %u pages after %u s; freeing them after the reset\n",
				 vb->nr_pages, VFC_BALLOON_REMOVE_TIMEOUT / HZ);
			return;
		}
		mutex_lock(&vb->lock);
		moved = vfc_balloon_deflate(vb, vb->nr_pages, deadline - now, true);
		if (moved == -EIO || moved == -ETIMEDOUT)
			vfc_balloon_give_up(vb, vb->q[VFC_BALLOON_VQ_DEFLATE].vq,
					    moved);
		mutex_unlock(&vb->lock);
		if (moved == -EIO || moved == -ETIMEDOUT)
			return;
		/* Out of mappings: the reset releases the pages anyway. */
		if (moved < 0)
			return;
		cond_resched();
	}
}

/*
 * Stop everything that uses the device. Neither reports nor OOM calls
 * from here on: both unregisters wait for one in progress. Config changes
 * are already off (the core stopped them before calling remove or
 * freeze); stopping also keeps the work from queueing its own retry.
 * After the cancels nothing but the caller touches the queues.
 */
static void vfc_balloon_halt(struct vfc_balloon *vb)
{
	vfc_balloon_stop_reporting(vb);
	if (vb->oom_registered)
		unregister_oom_notifier(&vb->oom_nb);
	vb->oom_registered = false;
	vfc_balloon_set_stopped(vb);
	/* A hinting round waiting for the device sees the stop. */
	wake_up(&vb->acked);
	cancel_delayed_work_sync(&vb->work);
	cancel_delayed_work_sync(&vb->stats_work);
	if (vb->hint_vq)
		cancel_work_sync(&vb->hint_work);
}

/*
 * Reset the device, take back what it still holds and free the queues:
 * a request never answered, the stats buffer, a report given up on, hint
 * blocks (given back to the guest). The pages in the balloon stay there.
 * Return: 0, or the reset's error (the queues are freed all the same).
 */
static int vfc_balloon_drop_vqs(struct vfc_balloon *vb)
{
	struct vfc_device *vdev = vb->vdev;
	unsigned int i;
	void *token;
	int err;

	err = vfc_reset_device(vdev);
	for (i = 0; i < VFC_BALLOON_NR_VQS; i++)
		while (vfc_vq_detach_unused_buf(vb->q[i].vq))
			;
	for (i = 0; i < VFC_BALLOON_MAX_PARTS; i++)
		memset(vb->parts[i].sent, 0, sizeof(vb->parts[i].sent));
	if (vb->stats_vq)
		while (vfc_vq_detach_unused_buf(vb->stats_vq))
			;
	if (vb->report_vq)
		while (vfc_vq_detach_unused_buf(vb->report_vq))
			;
	if (vb->hint_vq) {
		vfc_balloon_hint_release(vb, ULONG_MAX, true);
		while ((token = vfc_vq_detach_unused_buf(vb->hint_vq)))
			if (!vfc_balloon_hint_is_cmd(vb, token, &i))
				vfc_balloon_hint_returned(vb, token);
	}
	vfc_del_vqs(vdev);
	vb->has_vqs = false;
	return err;
}

/*
 * Unbind ("3.3 Device Cleanup"): no page may stay in the balloon, on any
 * path, including a device that broke or stopped answering, or did not
 * come back from a system sleep.
 */
static void vfc_balloon_remove(struct vfc_device *vdev)
{
	struct vfc_balloon *vb = vdev->priv;
	unsigned int i;
	int err;

	if (vdev->debugfs)
		debugfs_lookup_and_remove("balloon", vdev->debugfs);
	vfc_balloon_halt(vb);
	if (vb->has_vqs) {
		vfc_balloon_deflate_all(vb);
		/*
		 * After the reset the device holds no page and reads no
		 * request. If it would not reset, there is no better moment
		 * to free them: the device can reach all guest memory anyway
		 * (no IOMMU, see validate), and keeping the pages would only
		 * leak them.
		 */
		err = vfc_balloon_drop_vqs(vb);
		if (err)
			dev_err(&vdev->dev,
				"device did not reset (%d); freeing its %u balloon pages anyway\n",
				err, vb->nr_pages);
	}

	/*
	 * Compaction no longer moves a page (the balloon is stopped), but
	 * may still hold one it isolated before: wait for it to come back.
	 */
	for (;;) {
		vfc_balloon_release(vb);
		if (!vfc_balloon_holds(vb))
			break;
		msleep(20);
	}
	WARN_ON_ONCE(vb->nr_pages);

	/* Only now: the ring kept the arrays mapped until the detach. */
	if (vb->hint_vq)
		vfc_balloon_hint_exit(vb);
	for (i = 0; i < VFC_BALLOON_MAX_PARTS; i++)
		vfc_balloon_free_frames(&vb->parts[i]);
	destroy_workqueue(vb->part_wq);
	kfree(vb->events);
	kfree(vb->stats);
	vdev->priv = NULL;
	kfree(vb);
}

/*
 * System sleep: the balloon keeps its pages. The device is reset and the
 * queues go; on restore they come back, the device hears the balloon's
 * size again (actual), and the work follows the target from there.
 */
static int vfc_balloon_freeze(struct vfc_device *vdev)
{
	struct vfc_balloon *vb = vdev->priv;
	int err;

	vfc_balloon_halt(vb);
	err = vfc_balloon_drop_vqs(vb);
	if (err)
		dev_err(&vdev->dev, "device did not reset on freeze (%d)\n", err);
	dev_info(&vdev->dev, "frozen with %u pages in the balloon\n",
		 vb->nr_pages);
	return 0;
}

static int vfc_balloon_restore(struct vfc_device *vdev)
{
	struct vfc_balloon *vb = vdev->priv;
	unsigned int n;
	int err;

	err = vfc_balloon_setup_vqs(vb);
	if (err) {
		/* Without its queues the balloon cannot keep its pages. */
		mutex_lock(&vb->lock);
		n = vfc_balloon_release(vb);
		mutex_unlock(&vb->lock);
		dev_err(&vdev->dev,
			"cannot set the queues up again (%d); %u balloon pages given back to the guest\n",
			err, n);
		return err;
	}
	vfc_device_ready(vdev);
	vfc_balloon_update_actual(vb);
	vfc_balloon_start(vb);
	dev_info(&vdev->dev, "restored with %u pages in the balloon\n",
		 vb->nr_pages);
	return 0;
}

/*
 * A new target. Called in interrupt context with vdev->config_lock held:
 * only queue the work, which reads num_pages itself.
 */
static void vfc_balloon_config_changed(struct vfc_device *vdev)
{
	struct vfc_balloon *vb = vdev->priv;

	vfc_balloon_queue(vb, 0);
	if (vb->hint_vq) {
		/* Paired with the barrier in vfc_balloon_hint_cmd_id(). */
		smp_mb();
		WRITE_ONCE(vb->hint_changed, true);
		wake_up(&vb->acked);
		vfc_balloon_queue_hint(vb);
	}
}

static const struct vfc_device_id vfc_balloon_id_table[] = {
	{ VIRTIO_ID_BALLOON, VFC_DEV_ANY_ID },
	{ 0 },
};

/*
 * "5.5.3.1 Driver Requirements: Feature bits": accept MUST_TELL_HOST when
 * offered. Honouring it costs nothing: pages are never used before the
 * device acknowledged their deflate request, negotiated or not. STATS_VQ:
 * the memory statistics. DEFLATE_ON_OOM: the OOM notifier. PAGE_POISON
 * and PAGE_REPORTING: vfc_balloon_validate() says when. FREE_PAGE_HINT:
 * the hinting rounds and their shrinker.
 */
static const unsigned int vfc_balloon_features[] = {
	VIRTIO_BALLOON_F_MUST_TELL_HOST,
	VIRTIO_BALLOON_F_STATS_VQ,
	VIRTIO_BALLOON_F_DEFLATE_ON_OOM,
	VIRTIO_BALLOON_F_FREE_PAGE_HINT,
	VIRTIO_BALLOON_F_PAGE_POISON,
	VIRTIO_BALLOON_F_REPORTING,
};

static struct vfc_driver vfc_balloon_driver = {
	.driver.name = "vfc_balloon",
	.id_table = vfc_balloon_id_table,
	.feature_table = vfc_balloon_features,
	.feature_table_size = ARRAY_SIZE(vfc_balloon_features),
	.validate = vfc_balloon_validate,
	.probe = vfc_balloon_probe,
	.remove = vfc_balloon_remove,
	.freeze = vfc_balloon_freeze,
	.restore = vfc_balloon_restore,
	.config_changed = vfc_balloon_config_changed,
};

module_driver(vfc_balloon_driver, vfc_register_driver, vfc_unregister_driver);

/* By hand: vfc ids make no "virtio:" alias, see struct vfc_device_id. */
MODULE_ALIAS("vfc:d00000005v*");
MODULE_IMPORT_NS(VFC_NS);
MODULE_DESCRIPTION("vfc: virtio memory balloon driver");
MODULE_LICENSE("GPL");
