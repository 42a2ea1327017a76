// SPDX-License-Identifier: GPL-2.0
/*
 * vfc core: the "vfc" bus, which binds virtio device drivers to devices that
 * transports register, negotiates features and walks the device status
 * through the initialization sequence of the virtio spec.
 *
 * Spec references are to virtio v1.4: "2.1 Device Status Field",
 * "2.2 Feature Bits", "2.5 Device Configuration Space" and
 * "3.1 Device Initialization".
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bits.h>
#include <linux/device.h>
#include <linux/idr.h>
#include <linux/module.h>
#include <linux/spinlock.h>
#include <linux/sysfs.h>
#include <uapi/linux/virtio_config.h>
#include <uapi/linux/virtio_ring.h>

#include "vfc_compat.h"
#include <vfc/vfc.h>
#include <vfc/vfc_config.h>
#include <vfc/vfc_ring.h>

#include "vfc_report.h"
#include "vfc_ring_internal.h"

/* The rules of the config generation: "2.5 Device Configuration Space". */
#define VFC_CONFIG_SPACE "Device Configuration Space"

#define CREATE_TRACE_POINTS
#include "vfc_trace.h"

/*
 * Bits VIRTIO_TRANSPORT_F_START..VIRTIO_TRANSPORT_F_END - 1 describe the
 * rings and the transport, which this module implements, not the device
 * type. Drivers do not get a say in them: the core accepts exactly the ones
 * it implements (vfc_vring_transport_features()) and ignores the rest even if a driver lists them
 * ("2.2.1 Driver Requirements: Feature Bits": a driver must not accept a
 * bit that is not supported for the transport).
 */
#define VFC_TRANSPORT_RANGE \
	GENMASK_ULL(VIRTIO_TRANSPORT_F_END - 1, VIRTIO_TRANSPORT_F_START)

/* Device numbers on the bus; a device is named "vfc<index>". */
static DEFINE_IDA(vfc_index_ida);

/* ------------------------------------------------------------------------
 * sysfs attributes of a device
 */

static ssize_t device_show(struct device *dev, struct device_attribute *attr,
			   char *buf)
{
	return sysfs_emit(buf, "0x%04x\n", dev_to_vfc(dev)->id.device);
}
static DEVICE_ATTR_RO(device);

static ssize_t vendor_show(struct device *dev, struct device_attribute *attr,
			   char *buf)
{
	return sysfs_emit(buf, "0x%04x\n", dev_to_vfc(dev)->id.vendor);
}
static DEVICE_ATTR_RO(vendor);

static ssize_t status_show(struct device *dev, struct device_attribute *attr,
			   char *buf)
{
	struct vfc_device *vdev = dev_to_vfc(dev);

	return sysfs_emit(buf, "0x%08x\n", vdev->config->get_status(vdev));
}
static DEVICE_ATTR_RO(status);

/* A bit string, bit 0 first, so that it can grow past 64 bits one day. */
static ssize_t features_show(struct device *dev, struct device_attribute *attr,
			     char *buf)
{
	u64 features = READ_ONCE(dev_to_vfc(dev)->features);
	unsigned int i;
	int len = 0;

	for (i = 0; i < 64; i++)
		len += sysfs_emit_at(buf, len, "%c",
				     features & BIT_ULL(i) ? '1' : '0');
	len += sysfs_emit_at(buf, len, "\n");
	return len;
}
static DEVICE_ATTR_RO(features);

static ssize_t modalias_show(struct device *dev, struct device_attribute *attr,
			     char *buf)
{
	struct vfc_device *vdev = dev_to_vfc(dev);

	return sysfs_emit(buf, "vfc:d%08Xv%08X\n", vdev->id.device,
			  vdev->id.vendor);
}
static DEVICE_ATTR_RO(modalias);

static struct attribute *vfc_dev_attrs[] = {
	&dev_attr_device.attr,
	&dev_attr_vendor.attr,
	&dev_attr_status.attr,
	&dev_attr_features.attr,
	&dev_attr_modalias.attr,
	NULL,
};
ATTRIBUTE_GROUPS(vfc_dev);

/* ------------------------------------------------------------------------
 * Device status
 */

/**
 * vfc_add_status() - set bits in the device status
 * @vdev: the device
 * @status: VIRTIO_CONFIG_S_* bits to add
 *
 * Bits are only ever added: "2.1.1 Driver Requirements: Device Status
 * Field" forbids clearing one; vfc_reset_device() is the way back to 0.
 *
 * Context: process context; may sleep.
 */
void vfc_add_status(struct vfc_device *vdev, u8 status)
{
	u8 old;

	might_sleep();
	old = vdev->config->get_status(vdev);
	trace_vfc_status(vdev, old, old | status);
	vdev->config->set_status(vdev, old | status);
}
EXPORT_SYMBOL_NS_GPL(vfc_add_status, VFC_NS);

/**
 * vfc_reset_device() - reset a device and wait for it to finish
 * @vdev: the device
 *
 * Once this returns 0 the device status reads 0, the device no longer uses
 * its virtqueues, and, if the transport can wait for them, no virtqueue or
 * config callback is still running. Drivers call it in @remove before they
 * free their virtqueues ("3.3 Device Cleanup"). The caller must make sure
 * no kick is in progress on another CPU.
 *
 * Context: process context; may sleep.
 * Return: 0, or the transport's error (-ETIMEDOUT if the device did not
 * finish resetting). Logging is left to the caller.
 */
int vfc_reset_device(struct vfc_device *vdev)
{
	int err;

	might_sleep();
	/* From here on the device must not use its queues: no callbacks. */
	vfc_vring_set_cbs_live(vdev, false);
	if (trace_vfc_status_enabled())
		trace_vfc_status(vdev, vdev->config->get_status(vdev), 0);
	err = vdev->config->reset(vdev);
	if (err)
		return err;

	/* An interrupt taken just before the reset may still be running. */
	if (vdev->config->synchronize_cbs)
		vdev->config->synchronize_cbs(vdev);
	return 0;
}
EXPORT_SYMBOL_NS_GPL(vfc_reset_device, VFC_NS);

/**
 * vfc_device_ready() - tell the device the driver is ready (DRIVER_OK)
 * @vdev: the device, past FEATURES_OK
 *
 * A driver calls this in @probe when it must use its virtqueues before
 * @probe returns ("3.1.1 Driver Requirements: Device Initialization": no
 * notification before DRIVER_OK). Otherwise the core sets DRIVER_OK after a
 * successful @probe. Setting it twice is a driver bug, reported and ignored.
 *
 * Context: process context; may sleep.
 */
void vfc_device_ready(struct vfc_device *vdev)
{
	u8 status;

	might_sleep();
	status = vdev->config->get_status(vdev);
	if (status & VIRTIO_CONFIG_S_DRIVER_OK) {
		dev_err(&vdev->dev, "DRIVER_OK is already set\n");
		return;
	}
	/* The device may use the queues as soon as it sees DRIVER_OK. */
	vfc_vring_set_cbs_live(vdev, true);
	trace_vfc_status(vdev, status, status | VIRTIO_CONFIG_S_DRIVER_OK);
	vdev->config->set_status(vdev, status | VIRTIO_CONFIG_S_DRIVER_OK);
}
EXPORT_SYMBOL_NS_GPL(vfc_device_ready, VFC_NS);

/*
 * Give up on a device ("3.1.1 Driver Requirements: Device Initialization":
 * set FAILED when a step goes irrecoverably wrong). @failed tells the next
 * probe to reset it first, as "2.1.1 Driver Requirements: Device Status
 * Field" demands before initializing it again.
 */
static void vfc_fail(struct vfc_device *vdev)
{
	vfc_add_status(vdev, VIRTIO_CONFIG_S_FAILED);
	vdev->failed = true;
}

/* Bring a device to "found, no driver yet": reset, then ACKNOWLEDGE. */
static int vfc_restart(struct vfc_device *vdev)
{
	int err;

	err = vfc_reset_device(vdev);
	if (err) {
		dev_err(&vdev->dev, "device did not reset: %d\n", err);
		return err;
	}
	vdev->failed = false;
	vfc_add_status(vdev, VIRTIO_CONFIG_S_ACKNOWLEDGE);
	return 0;
}

/* ------------------------------------------------------------------------
 * Config space and config changes
 */

/*
 * Hand a config change to the bound driver; config changes are enabled.
 * A device that set DEVICE_NEEDS_RESET says so with a config change
 * ("2.1.2 Device Requirements: Device Status Field"): it is not the
 * driver's config that changed, the device is reset and restored instead
 * (vfc_needs_reset_work()). All ones: a device that is gone, for the
 * transport to find.
 */
static void __vfc_config_changed(struct vfc_device *vdev)
{
	struct vfc_driver *drv = drv_to_vfc(vdev->dev.driver);
	u8 status;

	lockdep_assert_held(&vdev->config_lock);
	trace_vfc_config_change(vdev);
	status = vdev->config->get_status(vdev);
	if (status != 0xff && status & VIRTIO_CONFIG_S_NEEDS_RESET) {
		queue_work(system_freezable_wq, &vdev->reset_work);
		return;
	}
	if (drv->config_changed)
		drv->config_changed(vdev);
}

/**
 * vfc_config_changed() - report a change of a device's config space
 * @vdev: the device
 *
 * Transports call this on a configuration change notification. The change
 * reaches the driver only between the end of a successful probe and the
 * start of remove: a driver reads its config in @probe anyway, and must not
 * hear of the device once it is being removed. A change that arrives before
 * then is kept and delivered once, right after @probe.
 *
 * Context: any context, including hard interrupt; does not sleep.
 */
void vfc_config_changed(struct vfc_device *vdev)
{
	unsigned long flags;

	spin_lock_irqsave(&vdev->config_lock, flags);
	if (vdev->config_enabled)
		__vfc_config_changed(vdev);
	else
		vdev->config_change_pending = true;
	spin_unlock_irqrestore(&vdev->config_lock, flags);
}
EXPORT_SYMBOL_NS_GPL(vfc_config_changed, VFC_NS);

/* Start delivering config changes, first the one that came in meanwhile. */
static void vfc_config_enable(struct vfc_device *vdev)
{
	spin_lock_irq(&vdev->config_lock);
	vdev->config_enabled = true;
	if (vdev->config_change_pending)
		__vfc_config_changed(vdev);
	vdev->config_change_pending = false;
	spin_unlock_irq(&vdev->config_lock);
}

/*
 * Hold config changes back for now: one that arrives meanwhile waits for
 * vfc_config_enable(). As vfc_config_disable(), none runs once this
 * returns.
 */
static void vfc_config_hold(struct vfc_device *vdev)
{
	spin_lock_irq(&vdev->config_lock);
	vdev->config_enabled = false;
	spin_unlock_irq(&vdev->config_lock);
}

/*
 * Stop delivering config changes and forget a pending one: it belonged to
 * the driver that is going away, and the next driver reads the config in
 * its probe. Taking the lock also waits out a callback that is running on
 * another CPU, so none runs once this returns.
 */
static void vfc_config_disable(struct vfc_device *vdev)
{
	spin_lock_irq(&vdev->config_lock);
	vdev->config_enabled = false;
	vdev->config_change_pending = false;
	spin_unlock_irq(&vdev->config_lock);
}

/**
 * vfc_config_read() - read the device's config space consistently
 * @vdev: the device
 * @offset: byte offset in the device-specific config
 * @buf: where to put the bytes
 * @len: how many bytes
 *
 * Fields wider than 32 bits, or several fields, may change while they are
 * read; the config generation tells. As "2.5.1 Driver Requirements: Device
 * Configuration Space" asks, the read is repeated until the generation is
 * the same after it as before, at most VFC_CONFIG_READ_TRIES times: a
 * device that keeps changing it must not hang the guest. Without a
 * generation counter the transport reads once.
 *
 * Context: any context; does not sleep.
 * Return: 0, or -EAGAIN if the config kept changing (@buf then holds the
 * last, possibly torn, read).
 */
int vfc_config_read(struct vfc_device *vdev, unsigned int offset, void *buf,
		    unsigned int len)
{
	const struct vfc_config_ops *ops = vdev->config;
	unsigned int tries;
	u32 before, after;

	if (!ops->generation) {
		ops->get(vdev, offset, buf, len);
		return 0;
	}

	/* The generation read after one try is the one before the next. */
	before = ops->generation(vdev);
	for (tries = 1; tries <= VFC_CONFIG_READ_TRIES; tries++) {
		ops->get(vdev, offset, buf, len);
		after = ops->generation(vdev);
		if (after == before)
			break;
		before = after;
	}
	if (tries == 1)
		return 0;
	if (tries <= VFC_CONFIG_READ_TRIES) {
		/* Changed meanwhile, as it may: tolerated, and told. */
		vfc_report_deviation(vdev, VFC_CONFIG_SPACE,
				     "config changed during a read",
				     "%u reads at offset %u", tries, offset);
		return 0;
	}

	dev_err_ratelimited(&vdev->dev,
			    "config kept changing during %u reads at offset %u\n",
			    VFC_CONFIG_READ_TRIES, offset);
	vfc_report_violation(vdev, VFC_CONFIG_SPACE,
			     "config generation never settled",
			     "%u reads at offset %u", VFC_CONFIG_READ_TRIES,
			     offset);
	return -EAGAIN;
}
EXPORT_SYMBOL_NS_GPL(vfc_config_read, VFC_NS);

/**
 * vfc_config_write() - write to the device's config space
 * @vdev: the device
 * @offset: byte offset in the device-specific config
 * @buf: the bytes to write
 * @len: how many bytes
 *
 * Only fields the device type defines as writable may be written, and not
 * before FEATURES_OK ("3.1.1 Driver Requirements: Device Initialization").
 *
 * Context: any context; does not sleep.
 */
void vfc_config_write(struct vfc_device *vdev, unsigned int offset,
		      const void *buf, unsigned int len)
{
	vdev->config->set(vdev, offset, buf, len);
}
EXPORT_SYMBOL_NS_GPL(vfc_config_write, VFC_NS);

/* ------------------------------------------------------------------------
 * The bus: matching, probe and remove
 */

static bool vfc_id_match(const struct vfc_device *vdev,
			 const struct vfc_device_id *id)
{
	if (id->device != VFC_DEV_ANY_ID && id->device != vdev->id.device)
		return false;
	return id->vendor == VFC_DEV_ANY_ID || id->vendor == vdev->id.vendor;
}

static int vfc_bus_match(struct device *dev,
			 VFC_BUS_MATCH_CONST struct device_driver *drv)
{
	const struct vfc_driver *vdrv = container_of(drv, const struct vfc_driver,
						     driver);
	const struct vfc_device *vdev = dev_to_vfc(dev);
	const struct vfc_device_id *id;

	for (id = vdrv->id_table; id->device; id++)
		if (vfc_id_match(vdev, id))
			return 1;
	return 0;
}

/* The same string as the modalias attribute, for module autoloading. */
static int vfc_bus_uevent(VFC_BUS_UEVENT_CONST struct device *dev,
			  struct kobj_uevent_env *env)
{
	const struct vfc_device *vdev = container_of(dev, const struct vfc_device,
						     dev);

	return add_uevent_var(env, "MODALIAS=vfc:d%08Xv%08X", vdev->id.device,
			      vdev->id.vendor);
}

/*
 * What the driver may accept: the device-type bits it lists, plus the
 * transport bits the core implements. Numbers were checked at register.
 */
static u64 vfc_driver_features(const struct vfc_driver *drv)
{
	u64 features = 0;
	unsigned int i;

	for (i = 0; i < drv->feature_table_size; i++)
		features |= BIT_ULL(drv->feature_table[i]);
	return (features & ~VFC_TRANSPORT_RANGE) | vfc_vring_transport_features();
}

/*
 * Steps 5 and 6 of "3.1.1 Driver Requirements: Device Initialization":
 * write vdev->features, set FEATURES_OK and read it back. FEATURES_OK is
 * the device's only way to refuse the subset: it does not keep the bit
 * set. Return: 0, the transport's error, or -ENODEV if refused.
 */
static int vfc_features_ok(struct vfc_device *vdev)
{
	u8 status;
	int err;

	err = vdev->config->finalize_features(vdev);
	if (err)
		return err;
	vfc_add_status(vdev, VIRTIO_CONFIG_S_FEATURES_OK);
	status = vdev->config->get_status(vdev);
	if (!(status & VIRTIO_CONFIG_S_FEATURES_OK)) {
		dev_err(&vdev->dev, "device refused features 0x%016llx (status 0x%02x)\n",
			vdev->features, status);
		return -ENODEV;
	}
	return 0;
}

/*
 * Step 8, once the driver set up the device: DRIVER_OK unless the driver
 * set it itself, then config changes flow, one that came in meanwhile
 * first.
 */
static void vfc_driver_ok(struct vfc_device *vdev)
{
	if (!(vdev->config->get_status(vdev) & VIRTIO_CONFIG_S_DRIVER_OK))
		vfc_device_ready(vdev);
	vfc_config_enable(vdev);
}

/*
 * Steps 3 to 8 of "3.1.1 Driver Requirements: Device Initialization"; the
 * device was reset and acknowledged when it was registered or when the
 * previous driver let go of it.
 */
static int vfc_bus_probe(struct device *dev)
{
	struct vfc_device *vdev = dev_to_vfc(dev);
	struct vfc_driver *drv = drv_to_vfc(dev->driver);
	u64 offered, accepted;
	int err;

	if (vdev->failed) {
		err = vfc_restart(vdev);
		if (err)
			goto fail;
	}

	vfc_add_status(vdev, VIRTIO_CONFIG_S_DRIVER);

	offered = vdev->config->get_features(vdev);
	if (!(offered & BIT_ULL(VIRTIO_F_VERSION_1))) {
		dev_err(dev, "legacy devices are not supported (no VIRTIO_F_VERSION_1)\n");
		err = -ENODEV;
		goto fail;
	}

	/*
	 * "2.2.1 Driver Requirements: Feature Bits": accept only what the
	 * device offers and the driver (or the core) understands; anything
	 * else offered is ignored, never a reason to fail.
	 */
	vdev->features = offered & vfc_driver_features(drv);

	if (drv->validate) {
		accepted = vdev->features;
		err = drv->validate(vdev);
		if (err)
			goto fail;
		/* validate() may drop features, never add one. */
		vdev->features &= accepted;
		if (!vfc_has_feature(vdev, VIRTIO_F_VERSION_1)) {
			dev_err(dev, "%s: validate dropped VIRTIO_F_VERSION_1\n",
				drv->driver.name);
			err = -EINVAL;
			goto fail;
		}
	}

	vdev->features_offered = offered;
	vdev->features_wanted = vfc_driver_features(drv);
	trace_vfc_features(vdev, offered, vdev->features_wanted, vdev->features);
	err = vfc_features_ok(vdev);
	if (err)
		goto fail;

	err = drv->probe(vdev);
	if (err)
		goto fail;

	vfc_driver_ok(vdev);
	return 0;

fail:
	/* Every step above is undone by the same: no features, FAILED. */
	vdev->features = 0;
	vfc_fail(vdev);
	return err;
}

static void vfc_bus_remove(struct device *dev)
{
	struct vfc_device *vdev = dev_to_vfc(dev);
	struct vfc_driver *drv = drv_to_vfc(dev->driver);
	u8 status;
	int err = 0;

	vfc_config_disable(vdev);

	drv->remove(vdev);

	/*
	 * The driver should have reset the device before freeing its queues.
	 * One that did not leaves a live device behind: stop it here so that
	 * the next driver starts from a reset device.
	 */
	status = vdev->config->get_status(vdev);
	if (status) {
		dev_notice(dev, "%s left the device running (status 0x%02x), resetting it\n",
			   drv->driver.name, status);
		err = vfc_reset_device(vdev);
	}

	/*
	 * Again: a change reported while the driver was being removed was
	 * meant for it. The device is reset now and reports no more.
	 */
	vfc_config_disable(vdev);
	vdev->features = 0;

	if (err) {
		dev_err(dev, "device did not reset: %d\n", err);
		vfc_fail(vdev);
		return;
	}
	/* Known to the OS again, ready for another driver. */
	vfc_add_status(vdev, VIRTIO_CONFIG_S_ACKNOWLEDGE);
}

/*
 * Reboot, kexec, power off: stop every device a driver is using, so that
 * none goes on writing memory the next kernel owns. The queues break
 * first: a driver's waiter wakes, and nothing is kicked into a device
 * being reset.
 */
static void vfc_bus_shutdown(struct device *dev)
{
	struct vfc_device *vdev = dev_to_vfc(dev);
	int err;

	if (!dev->driver)
		return;
	vfc_config_disable(vdev);
	vfc_break_device(vdev);
	err = vfc_reset_device(vdev);
	if (err)
		dev_err(dev, "device did not reset at shutdown: %d\n", err);
}

static VFC_BUS_TYPE vfc_bus = {
	.name = "vfc",
	.dev_groups = vfc_dev_groups,
	.match = vfc_bus_match,
	.uevent = vfc_bus_uevent,
	.probe = vfc_bus_probe,
	.remove = vfc_bus_remove,
	.shutdown = vfc_bus_shutdown,
};

/* ------------------------------------------------------------------------
 * System sleep
 */

static struct vfc_driver *vfc_bound_driver(struct vfc_device *vdev)
{
	return vdev->dev.driver ? drv_to_vfc(vdev->dev.driver) : NULL;
}

/**
 * vfc_device_freeze() - stop a device's driver for system sleep
 * @vdev: the device
 *
 * Transports call this from their suspend and freeze callbacks. Config
 * changes are held (one that arrives meanwhile is delivered once the
 * device is restored), and the driver's @freeze stops using the device,
 * resets it and frees its virtqueues. A device without a driver has
 * nothing to stop.
 *
 * Context: process context; may sleep.
 * Return: 0; -EOPNOTSUPP if the driver cannot be frozen; or the driver's
 * error. On error the device carries on as before.
 */
int vfc_device_freeze(struct vfc_device *vdev)
{
	struct vfc_driver *drv = vfc_bound_driver(vdev);
	int err;

	if (!drv)
		return 0;
	if (!drv->freeze || !drv->restore) {
		dev_err(&vdev->dev, "%s cannot be frozen: no freeze or restore\n",
			drv->driver.name);
		return -EOPNOTSUPP;
	}
	vfc_config_hold(vdev);
	err = drv->freeze(vdev);
	if (err) {
		dev_err(&vdev->dev, "%s: freeze failed: %d\n", drv->driver.name,
			err);
		vfc_config_enable(vdev);
	}
	return err;
}
EXPORT_SYMBOL_NS_GPL(vfc_device_freeze, VFC_NS);

/*
 * DEVICE_NEEDS_RESET: "The driver SHOULD NOT rely on completion of
 * operations of a device if DEVICE_NEEDS_RESET is set", so the driver lets
 * go of the device as for a sleep (freeze: reset, queues freed, its state
 * kept) and takes it back initialised anew (restore). A driver that cannot
 * be frozen has its queues broken instead: it stops waiting on the device.
 */
static void vfc_needs_reset_work(struct work_struct *work)
{
	struct vfc_device *vdev = container_of(work, struct vfc_device,
					       reset_work);
	struct vfc_driver *drv;
	u8 status;
	int err;

	device_lock(&vdev->dev);
	drv = vfc_bound_driver(vdev);
	status = vdev->config->get_status(vdev);
	if (!drv || status == 0xff || !(status & VIRTIO_CONFIG_S_NEEDS_RESET))
		goto out;
	dev_warn(&vdev->dev, "device needs a reset (DEVICE_NEEDS_RESET, status 0x%02x): resetting it, then restoring %s\n",
		 status, drv->driver.name);
	vfc_report_deviation(vdev, "Device Status Field", "DEVICE_NEEDS_RESET set",
			     "status 0x%02x", status);
	err = vfc_device_freeze(vdev);
	if (err) {
		dev_err(&vdev->dev, "cannot reset a device that needs it (%d): its queues are broken, the device FAILED\n",
			err);
		vfc_break_device(vdev);
		vfc_fail(vdev);
		goto out;
	}
	err = vfc_device_restore(vdev);
	if (err)
		dev_err(&vdev->dev, "device not restored after DEVICE_NEEDS_RESET: %d\n",
			err);
	else
		dev_info(&vdev->dev, "device reset and restored\n");
out:
	device_unlock(&vdev->dev);
}

/**
 * vfc_device_restore() - bring a device and its driver back after sleep
 * @vdev: the device, frozen with vfc_device_freeze(); the platform may
 *	have reset it meanwhile, or not
 *
 * Initialises the device again as a probe does ("3.1.1 Driver
 * Requirements: Device Initialization"), with the features accepted at
 * probe, and hands it to the driver's @restore; then DRIVER_OK, and config
 * changes flow again, one that came in meanwhile first. A device without a
 * driver is reset and acknowledged.
 *
 * Context: process context; may sleep.
 * Return: 0; the transport's error if the device did not reset; -ENODEV if
 * it refused the features it had accepted; or the driver's error. On error
 * the device is left FAILED, to be reset before its next probe.
 */
int vfc_device_restore(struct vfc_device *vdev)
{
	struct vfc_driver *drv = vfc_bound_driver(vdev);
	int err;

	err = vfc_restart(vdev);
	if (err)
		goto fail;
	if (!drv)
		return 0;

	vfc_add_status(vdev, VIRTIO_CONFIG_S_DRIVER);
	err = vfc_features_ok(vdev);
	if (err)
		goto fail;

	err = drv->restore(vdev);
	if (err) {
		dev_err(&vdev->dev, "%s: restore failed: %d\n",
			drv->driver.name, err);
		goto fail;
	}
	vfc_driver_ok(vdev);
	return 0;

fail:
	vfc_fail(vdev);
	return err;
}
EXPORT_SYMBOL_NS_GPL(vfc_device_restore, VFC_NS);

/* ------------------------------------------------------------------------
 * Drivers
 */

/**
 * __vfc_register_driver() - register a driver on the vfc bus
 * @drv: the driver; name, id table, probe and remove must be set
 * @owner: the driver's module
 *
 * Use vfc_register_driver(), which passes THIS_MODULE. The driver binds to
 * matching devices before this returns.
 *
 * Context: process context; may sleep.
 * Return: 0; -EINVAL if @drv lacks a name, id table, probe or remove, or
 * lists a feature number of 64 or more; or the driver core's error.
 */
int __vfc_register_driver(struct vfc_driver *drv, struct module *owner)
{
	unsigned int i;

	if (!drv->driver.name || !drv->id_table || !drv->probe ||
	    !drv->remove ||
	    (drv->feature_table_size && !drv->feature_table)) {
		pr_err("driver %s: name, id_table, probe, remove or feature_table missing\n",
		       drv->driver.name ?: "(unnamed)");
		return -EINVAL;
	}

	for (i = 0; i < drv->feature_table_size; i++) {
		if (drv->feature_table[i] >= 64) {
			pr_err("driver %s: feature %u out of range\n",
			       drv->driver.name, drv->feature_table[i]);
			return -EINVAL;
		}
	}

	drv->driver.bus = &vfc_bus;
	drv->driver.owner = owner;
	return driver_register(&drv->driver);
}
EXPORT_SYMBOL_NS_GPL(__vfc_register_driver, VFC_NS);

/**
 * vfc_unregister_driver() - unregister a driver from the vfc bus
 * @drv: a driver registered with vfc_register_driver()
 *
 * Every device bound to @drv goes through @remove first; the devices stay
 * registered and may bind to another driver.
 *
 * Context: process context; may sleep.
 */
void vfc_unregister_driver(struct vfc_driver *drv)
{
	driver_unregister(&drv->driver);
}
EXPORT_SYMBOL_NS_GPL(vfc_unregister_driver, VFC_NS);

/* ------------------------------------------------------------------------
 * Devices
 */

/**
 * vfc_register_device() - add a transport's device to the vfc bus
 * @vdev: the device; the transport has set @vdev->id, @vdev->config,
 *	@vdev->dev.parent and @vdev->dev.release
 *
 * The transport owns the memory of @vdev and frees it in its release
 * function. This initializes @vdev->dev before anything else, so, as with
 * device_register(), the caller drops @vdev with put_device(&vdev->dev)
 * after a failure, whatever the error; freeing it directly is a bug. After
 * success, vfc_unregister_device() drops that reference instead.
 *
 * The device is reset and acknowledged ("3.1.1 Driver Requirements: Device
 * Initialization", steps 1 and 2), then added; a matching driver may bind
 * before this returns.
 *
 * Context: process context; may sleep.
 * Return: 0; -EINVAL if @vdev->config or one of its mandatory operations is
 * missing; the transport's reset error; or -errno from the driver core.
 */
int vfc_register_device(struct vfc_device *vdev)
{
	const struct vfc_config_ops *ops = vdev->config;
	int err;

	device_initialize(&vdev->dev);

	if (!ops || !ops->get || !ops->set || !ops->get_status ||
	    !ops->set_status || !ops->reset || !ops->find_vqs ||
	    !ops->del_vqs || !ops->get_features || !ops->finalize_features) {
		pr_err("device of %s: mandatory config ops missing\n",
		       vdev->dev.parent ? dev_name(vdev->dev.parent) : "?");
		return -EINVAL;
	}

	err = ida_alloc(&vfc_index_ida, GFP_KERNEL);
	if (err < 0)
		return err;
	vdev->index = err;

	err = dev_set_name(&vdev->dev, "vfc%d", vdev->index);
	if (err)
		goto err_name;

	vdev->dev.bus = &vfc_bus;
	spin_lock_init(&vdev->config_lock);
	INIT_WORK(&vdev->reset_work, vfc_needs_reset_work);
	vdev->config_enabled = false;
	vdev->config_change_pending = false;
	spin_lock_init(&vdev->vqs_list_lock);
	INIT_LIST_HEAD(&vdev->vqs);
	vdev->features = 0;
	vdev->features_offered = 0;
	vdev->features_wanted = 0;
	vdev->failed = false;
	vfc_report_init(vdev);

	err = vfc_restart(vdev);
	if (err)
		goto err_reset;

	/* Before device_add(): a driver's probe may add its own files. */
	vfc_debugfs_add(vdev);
	err = device_add(&vdev->dev);
	if (err)
		goto err_add;
	return 0;

err_add:
	vfc_debugfs_remove(vdev);
err_reset:
	vfc_fail(vdev);
err_name:
	ida_free(&vfc_index_ida, vdev->index);
	return err;
}
EXPORT_SYMBOL_NS_GPL(vfc_register_device, VFC_NS);

/**
 * vfc_unregister_device() - remove a device from the vfc bus
 * @vdev: a device registered with vfc_register_device()
 *
 * The bound driver's @remove runs first. This drops the reference the
 * registration held: @vdev may be freed (by its release function) before
 * this returns, so the caller must not touch it afterwards unless it holds
 * its own reference.
 *
 * Context: process context; may sleep.
 */
void vfc_unregister_device(struct vfc_device *vdev)
{
	/*
	 * Read the index while @vdev surely exists, and give it back only once
	 * the device is off the bus, so that no new device takes the name
	 * while the old one is still in sysfs.
	 */
	int index = vdev->index;

	/* Held until the reset work, which finds no driver now, is done. */
	get_device(&vdev->dev);
	device_unregister(&vdev->dev);
	cancel_work_sync(&vdev->reset_work);
	vfc_debugfs_remove(vdev);
	vfc_report_summary(vdev);
	put_device(&vdev->dev);
	ida_free(&vfc_index_ida, index);
}
EXPORT_SYMBOL_NS_GPL(vfc_unregister_device, VFC_NS);

static int __init vfc_init(void)
{
	int err = bus_register(&vfc_bus);

	if (!err)
		vfc_debugfs_init();
	return err;
}
module_init(vfc_init);

static void __exit vfc_exit(void)
{
	vfc_debugfs_exit();
	bus_unregister(&vfc_bus);
	ida_destroy(&vfc_index_ida);
}
module_exit(vfc_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("vfc: virtio front-end core bus");
