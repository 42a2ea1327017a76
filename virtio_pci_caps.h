/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vfc_pci: finding the virtio structures in a PCI function's config space.
 *
 * The parser works on a copy of the config space and the BAR sizes, so it
 * can be tested against images of malformed devices without hardware. Its
 * functions are vfc_pci's own: only the KUnit suite reaches them from
 * outside (EXPORT_SYMBOL_IF_KUNIT).
 */
#ifndef _VFC_VIRTIO_PCI_CAPS_H
#define _VFC_VIRTIO_PCI_CAPS_H

#include <linux/types.h>

struct device;

/* Standard PCI config space: what the parser reads. */
#define VFC_PCI_CFG_SPACE 256
#define VFC_PCI_NUM_BARS 6

/**
 * struct vfc_pci_region - where one virtio structure lives
 * @present: a valid capability was found
 * @bar: the BAR index (0..5)
 * @offset: byte offset in the BAR
 * @length: byte length, checked to lie within the BAR
 */
struct vfc_pci_region {
	bool present;
	u8 bar;
	u32 offset;
	u32 length;
};

/**
 * struct vfc_pci_bar - what the parser needs to know of a BAR
 * @len: its size in bytes, 0 if unimplemented
 */
struct vfc_pci_bar {
	u64 len;
};

/**
 * struct vfc_pci_caps - the virtio structures of a PCI function
 * @common: common configuration (VIRTIO_PCI_CAP_COMMON_CFG), required
 * @notify: notifications (VIRTIO_PCI_CAP_NOTIFY_CFG), required
 * @isr: ISR status (VIRTIO_PCI_CAP_ISR_CFG)
 * @device: device-specific configuration (VIRTIO_PCI_CAP_DEVICE_CFG)
 * @notify_off_multiplier: from the notification capability
 * @ignored: capabilities of those types ignored, as the spec demands
 * @ignored_why: why the first was, for the device's conformance report
 */
struct vfc_pci_caps {
	struct vfc_pci_region common;
	struct vfc_pci_region notify;
	struct vfc_pci_region isr;
	struct vfc_pci_region device;
	u32 notify_off_multiplier;
	unsigned int ignored;
	char ignored_why[96];
};

int vfc_pci_parse_caps(const u8 *cfg, const struct vfc_pci_bar *bars,
		       struct vfc_pci_caps *caps, struct device *dev);
int vfc_pci_notify_offset(const struct vfc_pci_caps *caps, u16 queue_notify_off,
			  u32 *offset);

#endif /* _VFC_VIRTIO_PCI_CAPS_H */
