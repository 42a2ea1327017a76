/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vfc: the virtio front-end core's bus, devices and drivers.
 *
 * A transport (vfc_pci.ko) creates a struct vfc_device, fills in its id and
 * config ops and registers it; a device driver (vfc_balloon.ko) registers a
 * struct vfc_driver. The bus "vfc" matches the two by id, negotiates the
 * features they share and walks the device status through the sequence of
 * the virtio spec, "Device Initialization".
 *
 * Nothing here is named like the kernel's own virtio stack: vfc lives beside
 * it in the same guest. Symbols are exported in the VFC namespace; users add
 * MODULE_IMPORT_NS(VFC), or MODULE_IMPORT_NS("VFC") from Linux 6.13 on
 * (vfc's own sources write VFC_NS, from vfc_compat.h).
 */
#ifndef _VFC_VFC_H
#define _VFC_VFC_H

#include <linux/device.h>
#include <linux/list.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/workqueue.h>

struct dentry;
struct vfc_config_ops;

/* Matches any device or vendor id in a struct vfc_device_id. */
#define VFC_DEV_ANY_ID 0xffffffff

/**
 * struct vfc_device_id - the ids a vfc driver binds to
 * @device: virtio device id (VIRTIO_ID_*), or VFC_DEV_ANY_ID; 0 ends a table
 * @vendor: vendor id, or VFC_DEV_ANY_ID
 *
 * vfc has its own id type, not the kernel's struct virtio_device_id, so that
 * no "virtio:" module alias is generated that would load vfc in place of the
 * kernel's drivers. Drivers declare their alias by hand, in the form the
 * modalias attribute shows: MODULE_ALIAS("vfc:d00000005v*").
 */
struct vfc_device_id {
	u32 device;
	u32 vendor;
};

/* Kinds of device behaviour a struct vfc_report keeps apart, at most. */
#define VFC_REPORT_ENTRIES	16
/* The room for one example of each, with its values. */
#define VFC_REPORT_EXAMPLE	128

/**
 * struct vfc_report_entry - one kind of device behaviour the spec forbids
 *	or discourages, as vfc saw it
 * @section: the spec section whose rule it breaks (its title)
 * @what: what the device did, a string constant
 * @violation: it broke a rule, and vfc stopped using what it concerns;
 *	false for a deviation vfc tolerated
 * @count: how many times
 * @first: when it was first seen, in ns of boot time
 * @last: when it was last seen
 * @example: the values of the first time
 */
struct vfc_report_entry {
	const char *section;
	const char *what;
	bool violation;
	unsigned long count;
	u64 first;
	u64 last;
	char example[VFC_REPORT_EXAMPLE];
};

/**
 * struct vfc_report - a device's conformance report (vfc_report_violation())
 * @lock: protects the rest; taken with interrupts off
 * @ready: set up (a device registered, or a test's vfc_report_init())
 * @nr: entries in use
 * @lost: events of kinds beyond VFC_REPORT_ENTRIES
 * @entry: the kinds seen, in the order first seen
 */
struct vfc_report {
	spinlock_t lock;	/* protects the rest */
	bool ready;
	unsigned int nr;
	unsigned long lost;
	struct vfc_report_entry entry[VFC_REPORT_ENTRIES];
};

/**
 * struct vfc_device - a virtio device on the vfc bus
 * @index: unique number on the bus; the device is named "vfc<index>"
 * @failed: the core set FAILED in the status; the next probe resets the
 *	device before initializing it again
 * @config_enabled: config changes are delivered to the driver
 * @config_change_pending: a config change arrived while delivery was off
 * @config_lock: protects @config_enabled and @config_change_pending; taken
 *	with interrupts off, as transports report changes from interrupts
 * @reset_work: resets and restores the device once it set
 *	DEVICE_NEEDS_RESET
 * @vqs_list_lock: protects @vqs
 * @dev: the device model's device; its parent is the transport's device
 * @id: device and vendor id, set by the transport before registering
 * @config: the transport's operations
 * @vqs: the device's virtqueues
 * @features: the negotiated features (valid from probe on)
 * @features_offered: what the device offered at the last probe
 * @features_wanted: what the driver could accept at the last probe
 * @report: what the device did that the spec forbids or discourages
 * @debugfs: the device's directory under debugfs' vfc/, or NULL
 * @priv: for the driver's use
 */
struct vfc_device {
	int index;
	bool failed;
	bool config_enabled;
	bool config_change_pending;
	spinlock_t config_lock;		/* protects the config_ flags */
	struct work_struct reset_work;
	spinlock_t vqs_list_lock;	/* protects vqs */
	struct device dev;
	struct vfc_device_id id;
	const struct vfc_config_ops *config;
	struct list_head vqs;
	u64 features;
	u64 features_offered;
	u64 features_wanted;
	struct vfc_report report;
	struct dentry *debugfs;
	void *priv;
};

static inline struct vfc_device *dev_to_vfc(struct device *dev)
{
	return container_of(dev, struct vfc_device, dev);
}

/**
 * struct vfc_driver - a driver for devices on the vfc bus
 * @driver: the device model's driver (set name and owner)
 * @id_table: the ids served, ended by an entry whose device is 0
 * @feature_table: the feature bits the driver understands (each < 64)
 * @feature_table_size: number of entries in @feature_table
 * @validate: optional; called once features are negotiated, before they
 *	are written to the device and FEATURES_OK is set. May clear bits in
 *	vdev->features with __vfc_clear_bit() (never set one, nor clear
 *	VIRTIO_F_VERSION_1); a non-zero return fails the probe.
 * @probe: bind to a device. Features are negotiated and FEATURES_OK
 *	accepted; the core sets DRIVER_OK afterwards unless @probe did so
 *	with vfc_device_ready(). Return 0 or -errno.
 * @remove: unbind. Config changes are already off; the driver must stop
 *	the device (vfc_reset_device()) and free its virtqueues.
 * @config_changed: optional; the device's config space changed. May be
 *	called in interrupt context, with @config_lock held.
 * @freeze: the system is going to sleep: stop using the device, reset it
 *	(vfc_reset_device()) and free the virtqueues, keeping what must
 *	outlive the sleep. Config changes are already held. Return 0 or
 *	-errno (the sleep is then aborted and the driver carries on). A
 *	driver without @freeze and @restore keeps the system from sleeping.
 * @restore: the system woke up: the device was reset and its features
 *	negotiated again, the ones accepted at probe, up to FEATURES_OK; set
 *	the virtqueues up again and carry on. The core sets DRIVER_OK
 *	afterwards unless @restore did so. Return 0 or -errno; on error no
 *	virtqueue may be left, and @remove still comes later.
 */
struct vfc_driver {
	struct device_driver driver;
	const struct vfc_device_id *id_table;
	const unsigned int *feature_table;
	unsigned int feature_table_size;
	int (*validate)(struct vfc_device *vdev);
	int (*probe)(struct vfc_device *vdev);
	void (*remove)(struct vfc_device *vdev);
	void (*config_changed)(struct vfc_device *vdev);
	int (*freeze)(struct vfc_device *vdev);
	int (*restore)(struct vfc_device *vdev);
};

static inline struct vfc_driver *drv_to_vfc(struct device_driver *drv)
{
	return container_of(drv, struct vfc_driver, driver);
}

int __vfc_register_driver(struct vfc_driver *drv, struct module *owner);
/**
 * vfc_register_driver() - register a driver on the vfc bus
 * @drv: the driver; @drv->driver.name must be set
 *
 * Context: process context; may sleep.
 * Return: 0, or -EINVAL for a driver without name, id table, probe or
 * remove, or with a feature number of 64 or more; or the driver core's
 * error.
 */
#define vfc_register_driver(drv) __vfc_register_driver(drv, THIS_MODULE)
void vfc_unregister_driver(struct vfc_driver *drv);

int vfc_register_device(struct vfc_device *vdev);
void vfc_unregister_device(struct vfc_device *vdev);

void vfc_config_changed(struct vfc_device *vdev);
void vfc_device_ready(struct vfc_device *vdev);
int vfc_device_freeze(struct vfc_device *vdev);
int vfc_device_restore(struct vfc_device *vdev);
int vfc_reset_device(struct vfc_device *vdev);
void vfc_add_status(struct vfc_device *vdev, u8 status);

void vfc_report_init(struct vfc_device *vdev);
__printf(4, 5)
void vfc_report_violation(struct vfc_device *vdev, const char *section,
			  const char *what, const char *fmt, ...);
__printf(4, 5)
void vfc_report_deviation(struct vfc_device *vdev, const char *section,
			  const char *what, const char *fmt, ...);
bool vfc_report_get(struct vfc_device *vdev, const char *what,
		    struct vfc_report_entry *entry);
void vfc_report_clear(struct vfc_device *vdev);

/* vfc_config_read() gives up after this many reads of a changing config. */
#define VFC_CONFIG_READ_TRIES 8

int vfc_config_read(struct vfc_device *vdev, unsigned int offset, void *buf,
		    unsigned int len);
void vfc_config_write(struct vfc_device *vdev, unsigned int offset,
		      const void *buf, unsigned int len);

/**
 * vfc_has_feature() - whether a feature was negotiated
 * @vdev: the device
 * @fbit: the feature bit number, below 64
 *
 * Return: true if @fbit is in the negotiated features.
 */
static inline bool vfc_has_feature(const struct vfc_device *vdev,
				   unsigned int fbit)
{
	return fbit < 64 && (vdev->features & BIT_ULL(fbit));
}

/**
 * __vfc_clear_bit() - drop a feature during validate()
 * @vdev: the device
 * @fbit: the feature bit number, below 64
 */
static inline void __vfc_clear_bit(struct vfc_device *vdev, unsigned int fbit)
{
	if (fbit < 64)
		vdev->features &= ~BIT_ULL(fbit);
}

#endif /* _VFC_VFC_H */
