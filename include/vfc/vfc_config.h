/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vfc: the operations a transport implements for the vfc core.
 */
#ifndef _VFC_VFC_CONFIG_H
#define _VFC_VFC_CONFIG_H

#include <vfc/vfc.h>

struct vfc_virtqueue;

/* A virtqueue's callback: buffers were used. Runs in interrupt context. */
typedef void vfc_vq_callback_t(struct vfc_virtqueue *vq);

/**
 * struct vfc_vq_info - what a driver asks of one virtqueue in find_vqs
 * @name: the queue's name, for messages; NULL skips the queue
 * @callback: called when the device used buffers, or NULL
 */
struct vfc_vq_info {
	const char *name;
	vfc_vq_callback_t *callback;
};

/**
 * struct vfc_config_ops - a transport's operations on a vfc device
 * @get: read @len bytes of device config at @offset into @buf. Raw access:
 *	callers use vfc_config_read(), which checks the config generation.
 * @set: write @len bytes from @buf to device config at @offset.
 * @generation: optional; the config generation counter.
 * @get_status: read the device status byte.
 * @set_status: write the device status byte (never 0: use @reset).
 * @reset: reset the device and wait, bounded, until it reads back 0.
 *	Returns 0, or -ETIMEDOUT if the device did not finish resetting.
 * @find_vqs: create @nvqs virtqueues as @info describes; on success @vqs
 *	holds them (NULL for a skipped queue). Returns 0 or -errno.
 * @del_vqs: free the virtqueues made by @find_vqs.
 * @synchronize_cbs: optional; wait until no virtqueue or config callback
 *	runs, and make earlier memory operations visible to later ones.
 * @get_features: the 64 feature bits the device offers.
 * @finalize_features: write vdev->features to the device. Returns 0 or
 *	-errno (a transport may refuse a feature it cannot honour).
 *
 * All but the ones marked optional are mandatory: vfc_register_device()
 * refuses a device without them. None of these may be called in atomic
 * context, except @get, @set and @generation, which must not sleep.
 */
struct vfc_config_ops {
	void (*get)(struct vfc_device *vdev, unsigned int offset, void *buf,
		    unsigned int len);
	void (*set)(struct vfc_device *vdev, unsigned int offset,
		    const void *buf, unsigned int len);
	u32 (*generation)(struct vfc_device *vdev);
	u8 (*get_status)(struct vfc_device *vdev);
	void (*set_status)(struct vfc_device *vdev, u8 status);
	int (*reset)(struct vfc_device *vdev);
	int (*find_vqs)(struct vfc_device *vdev, unsigned int nvqs,
			struct vfc_virtqueue *vqs[],
			const struct vfc_vq_info info[]);
	void (*del_vqs)(struct vfc_device *vdev);
	void (*synchronize_cbs)(struct vfc_device *vdev);
	u64 (*get_features)(struct vfc_device *vdev);
	int (*finalize_features)(struct vfc_device *vdev);
};

/**
 * vfc_find_vqs() - create a device's virtqueues
 * @vdev: the device, between FEATURES_OK and DRIVER_OK
 * @nvqs: number of queues
 * @vqs: filled with the queues
 * @info: name and callback of each queue
 *
 * Context: process context; may sleep.
 * Return: 0 or -errno from the transport.
 */
static inline int vfc_find_vqs(struct vfc_device *vdev, unsigned int nvqs,
			       struct vfc_virtqueue *vqs[],
			       const struct vfc_vq_info info[])
{
	return vdev->config->find_vqs(vdev, nvqs, vqs, info);
}

/**
 * vfc_del_vqs() - free the virtqueues made by vfc_find_vqs()
 * @vdev: the device, already reset
 *
 * Context: process context; may sleep.
 */
static inline void vfc_del_vqs(struct vfc_device *vdev)
{
	vdev->config->del_vqs(vdev);
}

#endif /* _VFC_VFC_CONFIG_H */
