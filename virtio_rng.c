// SPDX-License-Identifier: GPL-2.0
/*
 * vfc_rng: the entropy device (device id 4) on the vfc bus, as a hwrng.
 *
 * "5.4 Entropy Device": one queue, requestq; the driver offers writable
 * buffers and the device fills them with random bytes. Its job in vfc is
 * a second, simple device class for the transport: it has MSI-X in QEMU
 * 7.2 (the balloon has not), so the interrupt configurations and
 * hot-unplug are proven with it.
 *
 * One request is in flight at a time. The hwrng core serialises reads
 * (its reading mutex, held around ->read), so the queue is used by ->read
 * alone until remove, which first makes every read return and then
 * unregisters, before it touches the queue.
 */
#include <kunit/visibility.h>
#include <linux/device.h>
#include <linux/hw_random.h>
#include <linux/jiffies.h>
#include <linux/minmax.h>
#include <linux/module.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/wait.h>
#include <uapi/linux/virtio_ids.h>

#include "vfc_compat.h"
#include <vfc/vfc.h>
#include <vfc/vfc_config.h>
#include <vfc/vfc_ring.h>

#include "vfc_rng_internal.h"

/*
 * Bytes asked of the device per request: what the hwrng core asks of a
 * read at most (its buffer is 32 bytes or a cache line), so one request
 * usually serves one read.
 */
#define VFC_RNG_BUF_SIZE	64

/*
 * How long one blocking read waits for the device to answer. QEMU answers
 * at once unless rate-limited (max-bytes/period); a device that has not
 * answered in this long fails the read with -ETIMEDOUT, the request staying
 * in flight for the next read to collect. A signal ends the wait at once.
 */
#define VFC_RNG_READ_TIMEOUT	(20 * HZ)

/**
 * struct vfc_rng - one entropy device
 * @vdev: the device
 * @vq: its requestq
 * @hwrng: what the hwrng core knows of it
 * @name: @hwrng's name, "vfc_rng.<device>"
 * @used: woken when the device used the request, or the device is going
 * @gone: remove has begun: reads fail with -ENODEV
 * @busy: the request is in flight
 * @avail: bytes of @data not yet handed out, from @pos on
 * @pos: the next byte of @data to hand out
 * @data: the request's buffer, which the device writes
 */
struct vfc_rng {
	struct vfc_device *vdev;
	struct vfc_virtqueue *vq;
	struct hwrng hwrng;
	char name[32];
	wait_queue_head_t used;
	bool gone;
	bool busy;
	unsigned int avail;
	unsigned int pos;
	u8 *data;
};

static struct vfc_rng *hwrng_to_vr(struct hwrng *rng)
{
	return container_of(rng, struct vfc_rng, hwrng);
}

/* The requestq's callback: wake the reader; it takes the buffer itself. */
static void vfc_rng_done(struct vfc_virtqueue *vq)
{
	struct vfc_rng *vr = vq->vdev->priv;

	wake_up(&vr->used);
}

/* Offer the whole buffer to the device; 0 or -errno. */
static int vfc_rng_request(struct vfc_rng *vr)
{
	struct scatterlist sg;
	int err;

	sg_init_one(&sg, vr->data, VFC_RNG_BUF_SIZE);
	err = vfc_vq_add_inbuf(vr->vq, &sg, 1, vr->data, GFP_KERNEL);
	if (err)
		return err;
	vr->busy = true;
	vfc_vq_kick(vr->vq);
	return 0;
}

/*
 * Take the request back if the device used it. The ring checked the
 * entry: an id it did not offer or a length beyond the buffer broke the
 * queue instead of coming back here.
 */
static bool vfc_rng_collect(struct vfc_rng *vr)
{
	unsigned int len;

	if (!vfc_vq_get_buf(vr->vq, &len))
		return false;
	vr->busy = false;
	vr->pos = 0;
	vr->avail = len;
	return true;
}

/* The wait condition of a blocking read. */
static bool vfc_rng_ready(struct vfc_rng *vr)
{
	return READ_ONCE(vr->gone) || vfc_vq_is_broken(vr->vq) ||
	       vfc_rng_collect(vr);
}

static int vfc_rng_read(struct hwrng *rng, void *buf, size_t max, bool wait)
{
	struct vfc_rng *vr = hwrng_to_vr(rng);
	unsigned int n;
	long left;
	int err;

	if (READ_ONCE(vr->gone))
		return -ENODEV;
	if (vfc_vq_is_broken(vr->vq))
		return -EIO;

	if (!vr->avail && !vr->busy) {
		err = vfc_rng_request(vr);
		if (err)
			return err;
	}
	left = 1;
	if (vr->busy && wait)
		left = wait_event_interruptible_timeout(vr->used,
							vfc_rng_ready(vr),
							VFC_RNG_READ_TIMEOUT);
	else if (vr->busy)
		vfc_rng_collect(vr);
	if (READ_ONCE(vr->gone))
		return -ENODEV;
	if (vfc_vq_is_broken(vr->vq)) {
		dev_err(&vr->vdev->dev, "requestq broken (%s): no more entropy\n",
			vfc_vq_broken_reason(vr->vq));
		return -EIO;
	}
	if (!left) {
		dev_warn_ratelimited(&vr->vdev->dev, "no answer within %d s\n",
				     VFC_RNG_READ_TIMEOUT / HZ);
		return -ETIMEDOUT;
	}
	/* A signal ended the wait with @avail 0: the hwrng core sees it. */

	n = min_t(size_t, max, vr->avail);
	memcpy(buf, vr->data + vr->pos, n);
	vr->pos += n;
	vr->avail -= n;
	return n;
}

static const struct vfc_vq_info vfc_rng_vq_info[] = {
	{ .name = "requestq", .callback = vfc_rng_done },
};

/*
 * "5.4.5 Device Initialization": the one queue, then DRIVER_OK; then the
 * hwrng core may read. At probe and on restore.
 */
static int vfc_rng_start(struct vfc_rng *vr)
{
	struct vfc_device *vdev = vr->vdev;
	int err;

	vr->gone = false;
	vr->busy = false;
	vr->avail = 0;
	err = vfc_find_vqs(vdev, 1, &vr->vq, vfc_rng_vq_info);
	if (err) {
		vr->vq = NULL;
		return err;
	}
	vfc_device_ready(vdev);

	/* The core may read at once (its fill thread): the queue is live. */
	err = hwrng_register(&vr->hwrng);
	if (err) {
		dev_err(&vdev->dev, "hwrng_register failed: %d\n", err);
		vfc_reset_device(vdev);
		vfc_del_vqs(vdev);
		vr->vq = NULL;
	}
	return err;
}

/*
 * "3.3 Device Cleanup". A reader blocked in ->read holds the hwrng, and
 * hwrng_unregister() waits for it: it is woken first, and finds @gone.
 * At remove and on freeze.
 */
static void vfc_rng_stop(struct vfc_rng *vr)
{
	struct vfc_device *vdev = vr->vdev;
	int err;

	WRITE_ONCE(vr->gone, true);
	wake_up_all(&vr->used);
	hwrng_unregister(&vr->hwrng);

	err = vfc_reset_device(vdev);
	/* The transport stopped the device's DMA if it would not reset. */
	if (err)
		dev_err(&vdev->dev, "device did not reset (%d)\n", err);
	/* The request in flight, if any, is unmapped here. */
	vfc_vq_detach_unused_buf(vr->vq);
	vfc_del_vqs(vdev);
}

static int vfc_rng_probe(struct vfc_device *vdev)
{
	struct vfc_rng *vr;
	int err;

	vr = kzalloc(sizeof(*vr), GFP_KERNEL);
	if (!vr)
		return -ENOMEM;
	/* Its own allocation: the device writes it, so not beside @vr. */
	vr->data = kmalloc(VFC_RNG_BUF_SIZE, GFP_KERNEL);
	if (!vr->data) {
		err = -ENOMEM;
		goto err_data;
	}
	vr->vdev = vdev;
	init_waitqueue_head(&vr->used);
	snprintf(vr->name, sizeof(vr->name), "vfc_rng.%s", dev_name(&vdev->dev));
	vr->hwrng.name = vr->name;
	vr->hwrng.read = vfc_rng_read;

	vdev->priv = vr;
	err = vfc_rng_start(vr);
	if (err)
		goto err_start;
	return 0;

err_start:
	vdev->priv = NULL;
	kfree(vr->data);
err_data:
	kfree(vr);
	return err;
}

static void vfc_rng_remove(struct vfc_device *vdev)
{
	struct vfc_rng *vr = vdev->priv;

	/* Stopped already if freeze succeeded and restore did not. */
	if (vr->vq)
		vfc_rng_stop(vr);
	vdev->priv = NULL;
	kfree(vr->data);
	kfree(vr);
}

/* System sleep: as remove and probe, keeping the buffer and the name. */
static int vfc_rng_freeze(struct vfc_device *vdev)
{
	struct vfc_rng *vr = vdev->priv;

	vfc_rng_stop(vr);
	vr->vq = NULL;
	return 0;
}

static int vfc_rng_restore(struct vfc_device *vdev)
{
	return vfc_rng_start(vdev->priv);
}

#if IS_ENABLED(CONFIG_KUNIT)
/**
 * vfc_rng_test_hwrng() - the hwrng vfc_rng registered for @vdev
 * @vdev: a device vfc_rng is bound to
 *
 * For the KUnit suite vfc_rng_device, which reads through it alone.
 *
 * Return: the hwrng, or NULL if vfc_rng is not bound to @vdev.
 */
struct hwrng *vfc_rng_test_hwrng(struct vfc_device *vdev)
{
	struct vfc_rng *vr = vdev->priv;

	return vr ? &vr->hwrng : NULL;
}
EXPORT_SYMBOL_IF_KUNIT(vfc_rng_test_hwrng);
#endif

static const struct vfc_device_id vfc_rng_id_table[] = {
	{ VIRTIO_ID_RNG, VFC_DEV_ANY_ID },
	{ 0 },
};

static struct vfc_driver vfc_rng_driver = {
	.driver.name = "vfc_rng",
	.id_table = vfc_rng_id_table,
	.probe = vfc_rng_probe,
	.remove = vfc_rng_remove,
	.freeze = vfc_rng_freeze,
	.restore = vfc_rng_restore,
};

module_driver(vfc_rng_driver, vfc_register_driver, vfc_unregister_driver);

/* By hand: vfc ids make no "virtio:" alias, see struct vfc_device_id. */
MODULE_ALIAS("vfc:d00000004v*");
MODULE_IMPORT_NS(VFC_NS);
MODULE_DESCRIPTION("vfc: virtio entropy device driver (hwrng)");
MODULE_LICENSE("GPL");
