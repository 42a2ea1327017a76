// SPDX-License-Identifier: GPL-2.0
/*
 * What vfc sees of a device, for the people who build devices: each
 * device's conformance report (every rule of the spec the device broke,
 * and every deviation vfc tolerated, with the section, a count, first and
 * last time and an example) and, in debugfs, its features and its queues'
 * counters:
 *
 *   /sys/kernel/debug/vfc/<device>/features     offered, wanted, accepted
 *   /sys/kernel/debug/vfc/<device>/queues       one line per queue
 *   /sys/kernel/debug/vfc/<device>/conformance  the report; a write clears it
 *
 * When the device goes away, one kernel log line sums the report up.
 */
#include <linux/debugfs.h>
#include <linux/kernel.h>
#include <linux/seq_file.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/timekeeping.h>
#include <uapi/linux/virtio_config.h>
#include <uapi/linux/virtio_ids.h>

#include "vfc_compat.h"
#include <vfc/vfc.h>
#include <vfc/vfc_ring.h>

#include "vfc_report.h"
#include "vfc_ring_internal.h"

/* ------------------------------------------------------------------------
 * The conformance report
 */

/**
 * vfc_report_init() - start a device's report empty
 * @vdev: the device
 *
 * vfc_register_device() does it; a test's device that is never registered
 * calls it to have a report.
 */
void vfc_report_init(struct vfc_device *vdev)
{
	struct vfc_report *r = &vdev->report;

	spin_lock_init(&r->lock);
	r->nr = 0;
	r->lost = 0;
	r->ready = true;
}
EXPORT_SYMBOL_NS_GPL(vfc_report_init, VFC_NS);

static __printf(5, 0)
void vfc_report_add(struct vfc_device *vdev, bool violation,
		    const char *section, const char *what, const char *fmt,
		    va_list args)
{
	struct vfc_report *r = &vdev->report;
	struct vfc_report_entry *e = NULL;
	u64 now = ktime_get_boottime_ns();
	unsigned long flags;
	unsigned int i;

	if (!r->ready)
		return;
	spin_lock_irqsave(&r->lock, flags);
	for (i = 0; i < r->nr; i++)
		if (!strcmp(r->entry[i].what, what)) {
			e = &r->entry[i];
			break;
		}
	if (!e && r->nr < VFC_REPORT_ENTRIES) {
		e = &r->entry[r->nr++];
		*e = (struct vfc_report_entry) {
			.section = section, .what = what,
			.violation = violation, .first = now,
		};
		vsnprintf(e->example, sizeof(e->example), fmt, args);
	}
	if (e) {
		e->count++;
		e->last = now;
	} else {
		r->lost++;
	}
	spin_unlock_irqrestore(&r->lock, flags);
}

/**
 * vfc_report_violation() - the device broke a rule of the spec
 * @vdev: the device
 * @section: the title of the spec section whose rule it broke
 * @what: what it did, a string constant: the report counts by it
 * @fmt: the values seen, kept for the first time of each @what
 *
 * For a device implementer (debugfs "conformance", and the summary when
 * the device goes away); the caller logs and acts as before.
 *
 * Context: any context.
 */
void vfc_report_violation(struct vfc_device *vdev, const char *section,
			  const char *what, const char *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	vfc_report_add(vdev, true, section, what, fmt, args);
	va_end(args);
}
EXPORT_SYMBOL_NS_GPL(vfc_report_violation, VFC_NS);

/**
 * vfc_report_deviation() - the device did something vfc tolerates but the
 *	spec forbids or discourages
 * @vdev: the device
 * @section: the title of the spec section
 * @what: what it did, a string constant
 * @fmt: the values seen
 *
 * Context: any context.
 */
void vfc_report_deviation(struct vfc_device *vdev, const char *section,
			  const char *what, const char *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	vfc_report_add(vdev, false, section, what, fmt, args);
	va_end(args);
}
EXPORT_SYMBOL_NS_GPL(vfc_report_deviation, VFC_NS);

/**
 * vfc_report_get() - a copy of one entry of a device's report
 * @vdev: the device
 * @what: the entry's @what
 * @entry: set to the entry
 *
 * Context: any context.
 * Return: false if the report has no such entry.
 */
bool vfc_report_get(struct vfc_device *vdev, const char *what,
		    struct vfc_report_entry *entry)
{
	struct vfc_report *r = &vdev->report;
	unsigned long flags;
	bool found = false;
	unsigned int i;

	if (!r->ready)
		return false;
	spin_lock_irqsave(&r->lock, flags);
	for (i = 0; i < r->nr && !found; i++) {
		if (strcmp(r->entry[i].what, what))
			continue;
		*entry = r->entry[i];
		found = true;
	}
	spin_unlock_irqrestore(&r->lock, flags);
	return found;
}
EXPORT_SYMBOL_NS_GPL(vfc_report_get, VFC_NS);

/**
 * vfc_report_clear() - empty a device's report
 * @vdev: the device
 *
 * Context: any context.
 */
void vfc_report_clear(struct vfc_device *vdev)
{
	struct vfc_report *r = &vdev->report;
	unsigned long flags;

	if (!r->ready)
		return;
	spin_lock_irqsave(&r->lock, flags);
	r->nr = 0;
	r->lost = 0;
	spin_unlock_irqrestore(&r->lock, flags);
}
EXPORT_SYMBOL_NS_GPL(vfc_report_clear, VFC_NS);

/* The report in one log line, as the device goes away. */
void vfc_report_summary(struct vfc_device *vdev)
{
	struct vfc_report *r = &vdev->report;
	unsigned int i, violations = 0, deviations = 0;
	char list[192] = "";
	size_t at = 0;

	if (!r->ready)
		return;
	spin_lock_irq(&r->lock);
	for (i = 0; i < r->nr; i++) {
		const struct vfc_report_entry *e = &r->entry[i];

		if (e->violation)
			violations++;
		else
			deviations++;
		if (at < sizeof(list))
			at += scnprintf(list + at, sizeof(list) - at, "%s%s x%lu",
					i ? "; " : ": ", e->what, e->count);
	}
	spin_unlock_irq(&r->lock);
	dev_info(&vdev->dev, "conformance: %u violation%s, %u deviation%s%s%s\n",
		 violations, violations == 1 ? "" : "s", deviations,
		 deviations == 1 ? "" : "s", list,
		 r->lost ? " (and more kinds than the report keeps)" : "");
}

/* ------------------------------------------------------------------------
 * debugfs
 */

static struct dentry *vfc_debugfs_root;

struct vfc_feature_name {
	u32 device;	/* 0: any */
	unsigned int bit;
	const char *name;
};

/*
 * "Reserved Feature Bits" (by number: not every kernel's uapi header names
 * them all), and the device types vfc drives.
 */
static const struct vfc_feature_name vfc_feature_names[] = {
	{ 0, 28, "RING_INDIRECT_DESC" },
	{ 0, 29, "RING_EVENT_IDX" },
	{ 0, 32, "VERSION_1" },
	{ 0, 33, "ACCESS_PLATFORM" },
	{ 0, 34, "RING_PACKED" },
	{ 0, 35, "IN_ORDER" },
	{ 0, 36, "ORDER_PLATFORM" },
	{ 0, 37, "SR_IOV" },
	{ 0, 38, "NOTIFICATION_DATA" },
	{ 0, 24, "NOTIFY_ON_EMPTY" },
	{ 0, 27, "ANY_LAYOUT" },
	{ 0, 39, "NOTIF_CONFIG_DATA" },
	{ 0, 40, "RING_RESET" },
	{ 0, 41, "ADMIN_VQ" },
	{ VIRTIO_ID_BALLOON, 0, "MUST_TELL_HOST" },
	{ VIRTIO_ID_BALLOON, 1, "STATS_VQ" },
	{ VIRTIO_ID_BALLOON, 2, "DEFLATE_ON_OOM" },
	{ VIRTIO_ID_BALLOON, 3, "FREE_PAGE_HINT" },
	{ VIRTIO_ID_BALLOON, 4, "PAGE_POISON" },
	{ VIRTIO_ID_BALLOON, 5, "PAGE_REPORTING" },
};

static void vfc_show_features(struct seq_file *s, struct vfc_device *vdev,
			      const char *which, u64 features)
{
	unsigned int bit, i;

	seq_printf(s, "%-8s 0x%016llx", which, features);
	for (bit = 0; bit < 64; bit++) {
		const char *name = NULL;

		if (!(features & BIT_ULL(bit)))
			continue;
		for (i = 0; i < ARRAY_SIZE(vfc_feature_names) && !name; i++)
			if (vfc_feature_names[i].bit == bit &&
			    (!vfc_feature_names[i].device ||
			     vfc_feature_names[i].device == vdev->id.device))
				name = vfc_feature_names[i].name;
		if (name)
			seq_printf(s, " %s", name);
		else
			seq_printf(s, " %u", bit);
	}
	seq_putc(s, '\n');
}

static int vfc_features_show(struct seq_file *s, void *unused)
{
	struct vfc_device *vdev = s->private;

	vfc_show_features(s, vdev, "offered", vdev->features_offered);
	vfc_show_features(s, vdev, "wanted", vdev->features_wanted);
	vfc_show_features(s, vdev, "accepted", vdev->features);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vfc_features);

static const char *const vfc_layout_name[] = {
	[VFC_VRING_SPLIT] = "split",
	[VFC_VRING_PACKED] = "packed",
};

static int vfc_queues_show(struct seq_file *s, void *unused)
{
	struct vfc_device *vdev = s->private;
	struct vfc_virtqueue *vq;

	seq_puts(s, "index name layout size added used kicks kicks_suppressed interrupts spurious callbacks indirect in_flight max_in_flight broken\n");
	spin_lock_irq(&vdev->vqs_list_lock);
	list_for_each_entry(vq, &vdev->vqs, list) {
		const struct vfc_vring *vr = to_vfc_vring(vq);
		const struct vfc_vring_stats *st = &vr->stats;
		const char *reason = vfc_vq_broken_reason(vq);

		seq_printf(s, "%u %s %s %u %llu %llu %llu %llu %llu %llu %llu %llu %u %u %s\n",
			   vq->index, vq->name,
			   vfc_layout_name[vr->layout],
			   vr->num, READ_ONCE(st->added), READ_ONCE(st->used),
			   READ_ONCE(st->kicks), READ_ONCE(st->kicks_suppressed),
			   READ_ONCE(st->interrupts), READ_ONCE(st->spurious),
			   READ_ONCE(st->callbacks), READ_ONCE(st->indirect),
			   READ_ONCE(vr->in_flight),
			   READ_ONCE(st->max_in_flight),
			   reason ? reason : "-");
	}
	spin_unlock_irq(&vdev->vqs_list_lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vfc_queues);

static int vfc_conformance_show(struct seq_file *s, void *unused)
{
	struct vfc_device *vdev = s->private;
	struct vfc_report *r = &vdev->report;
	struct vfc_report_entry e;
	unsigned int i;

	seq_puts(s, "kind count first_ns last_ns section | what | example\n");
	for (i = 0;; i++) {
		spin_lock_irq(&r->lock);
		if (i >= r->nr) {
			spin_unlock_irq(&r->lock);
			break;
		}
		e = r->entry[i];
		spin_unlock_irq(&r->lock);
		seq_printf(s, "%s %lu %llu %llu %s | %s | %s\n",
			   e.violation ? "violation" : "deviation", e.count,
			   e.first, e.last, e.section, e.what, e.example);
	}
	if (r->lost)
		seq_printf(s, "lost %lu events of kinds beyond the %u kept\n",
			   r->lost, VFC_REPORT_ENTRIES);
	return 0;
}

static int vfc_conformance_open(struct inode *inode, struct file *file)
{
	return single_open(file, vfc_conformance_show, inode->i_private);
}

/* Any write clears the report. */
static ssize_t vfc_conformance_write(struct file *file, const char __user *buf,
				     size_t count, loff_t *ppos)
{
	struct seq_file *s = file->private_data;

	vfc_report_clear(s->private);
	return count;
}

static const struct file_operations vfc_conformance_fops = {
	.owner = THIS_MODULE,
	.open = vfc_conformance_open,
	.read = seq_read,
	.write = vfc_conformance_write,
	.llseek = seq_lseek,
	.release = single_release,
};

/* The device's directory, once it is on the bus. */
void vfc_debugfs_add(struct vfc_device *vdev)
{
	struct dentry *dir;

	if (!vfc_debugfs_root)
		return;
	dir = debugfs_create_dir(dev_name(&vdev->dev), vfc_debugfs_root);
	if (IS_ERR(dir))
		return;
	debugfs_create_file("features", 0444, dir, vdev, &vfc_features_fops);
	debugfs_create_file("queues", 0444, dir, vdev, &vfc_queues_fops);
	debugfs_create_file("conformance", 0644, dir, vdev,
			    &vfc_conformance_fops);
	vdev->debugfs = dir;
}

void vfc_debugfs_remove(struct vfc_device *vdev)
{
	debugfs_remove_recursive(vdev->debugfs);
	vdev->debugfs = NULL;
}

void vfc_debugfs_init(void)
{
	struct dentry *root = debugfs_create_dir("vfc", NULL);

	vfc_debugfs_root = IS_ERR(root) ? NULL : root;
}

void vfc_debugfs_exit(void)
{
	debugfs_remove_recursive(vfc_debugfs_root);
	vfc_debugfs_root = NULL;
}
