// SPDX-License-Identifier: GPL-2.0
/*
 * vfc_pci: the virtio vendor capabilities of a PCI function
 * (virtio spec, "Virtio Structure PCI Capabilities").
 *
 * Everything here comes from the device and is checked before use: the
 * capability list must stay inside config space and must not loop; each
 * virtio capability must be long enough for its type, name a BAR that
 * exists, lie inside that BAR without overflowing, be aligned as the spec
 * asks and be large enough for the structure it describes. A capability
 * that fails a check is ignored with a message ("The driver MUST ignore any
 * vendor-specific capability structure which has a reserved bar value"),
 * and the first valid one of each type is used.
 */
#include <kunit/visibility.h>
#include <linux/device.h>
#include <linux/log2.h>
#include <linux/module.h>
#include <linux/overflow.h>
#include <linux/pci_regs.h>
#include <linux/stddef.h>
#include <uapi/linux/virtio_pci.h>

#include "virtio_pci_caps.h"

/* Config-space reads from the image, little-endian as PCI is. */
static u8 cfg8(const u8 *cfg, unsigned int pos)
{
	return cfg[pos];
}

static u16 cfg16(const u8 *cfg, unsigned int pos)
{
	return cfg[pos] | (u16)cfg[pos + 1] << 8;
}

static u32 cfg32(const u8 *cfg, unsigned int pos)
{
	return cfg16(cfg, pos) | (u32)cfg16(cfg, pos + 2) << 16;
}

static const char *const cap_names[] = {
	[VIRTIO_PCI_CAP_COMMON_CFG] = "common",
	[VIRTIO_PCI_CAP_NOTIFY_CFG] = "notify",
	[VIRTIO_PCI_CAP_ISR_CFG] = "ISR",
	[VIRTIO_PCI_CAP_DEVICE_CFG] = "device",
};

/* What each structure needs: its alignment and smallest length. */
static const struct {
	u32 align;
	u32 min_len;
} cap_rules[] = {
	/* "offset MUST be 4-byte aligned"; the 6.1 layout up to queue_used_hi */
	[VIRTIO_PCI_CAP_COMMON_CFG] = { 4, sizeof(struct virtio_pci_common_cfg) },
	/* "cap.offset MUST be 2-byte aligned"; "cap.length ... at least 2" */
	[VIRTIO_PCI_CAP_NOTIFY_CFG] = { 2, 2 },
	/* one byte, read as a whole */
	[VIRTIO_PCI_CAP_ISR_CFG] = { 1, 1 },
	/* "MUST be 4-byte aligned"; may be empty for some device types */
	[VIRTIO_PCI_CAP_DEVICE_CFG] = { 4, 0 },
};

/*
 * A capability is ignored: count it, keep why the first was, and say so
 * (quiet without a device).
 */
static __printf(5, 6) void cap_warn(struct vfc_pci_caps *caps,
				    struct device *dev, unsigned int pos,
				    u8 type, const char *fmt, ...)
{
	struct va_format vaf;
	va_list args;

	va_start(args, fmt);
	vaf.fmt = fmt;
	vaf.va = &args;
	if (!caps->ignored++)
		snprintf(caps->ignored_why, sizeof(caps->ignored_why),
			 "%s capability at 0x%02x: %pV", cap_names[type], pos,
			 &vaf);
	if (dev)
		dev_warn(dev, "%s capability at 0x%02x ignored: %pV\n",
			 cap_names[type], pos, &vaf);
	va_end(args);
}

/* Check one virtio structure capability; 0 if it is usable. */
static int check_region(const u8 *cfg, unsigned int pos, u8 type,
			const struct vfc_pci_bar *bars, struct vfc_pci_caps *caps,
			struct vfc_pci_region *r, struct device *dev)
{
	u8 bar = cfg8(cfg, pos + offsetof(struct virtio_pci_cap, bar));
	u32 offset = cfg32(cfg, pos + offsetof(struct virtio_pci_cap, offset));
	u32 length = cfg32(cfg, pos + offsetof(struct virtio_pci_cap, length));
	u64 end = (u64)offset + length;

	if (bar >= VFC_PCI_NUM_BARS) {
		cap_warn(caps, dev, pos, type, "BAR index %u", bar);
		return -EINVAL;
	}
	if (!bars[bar].len) {
		cap_warn(caps, dev, pos, type, "BAR %u not implemented", bar);
		return -EINVAL;
	}
	if (end > bars[bar].len) {
		cap_warn(caps, dev, pos, type, "0x%x+0x%x beyond BAR %u of 0x%llx bytes",
			 offset, length, bar, bars[bar].len);
		return -EINVAL;
	}
	if (!IS_ALIGNED(offset, cap_rules[type].align)) {
		cap_warn(caps, dev, pos, type, "offset 0x%x not %u-byte aligned",
			 offset, cap_rules[type].align);
		return -EINVAL;
	}
	if (length < cap_rules[type].min_len) {
		cap_warn(caps, dev, pos, type, "length %u, needs %u", length,
			 cap_rules[type].min_len);
		return -EINVAL;
	}
	r->present = true;
	r->bar = bar;
	r->offset = offset;
	r->length = length;
	return 0;
}

static int parse_one(const u8 *cfg, unsigned int pos,
		     const struct vfc_pci_bar *bars, struct vfc_pci_caps *caps,
		     struct device *dev)
{
	u8 cap_len = cfg8(cfg, pos + offsetof(struct virtio_pci_cap, cap_len));
	u8 type = cfg8(cfg, pos + offsetof(struct virtio_pci_cap, cfg_type));
	struct vfc_pci_region *r;
	u32 mult;

	switch (type) {
	case VIRTIO_PCI_CAP_COMMON_CFG:
		r = &caps->common;
		break;
	case VIRTIO_PCI_CAP_NOTIFY_CFG:
		r = &caps->notify;
		break;
	case VIRTIO_PCI_CAP_ISR_CFG:
		r = &caps->isr;
		break;
	case VIRTIO_PCI_CAP_DEVICE_CFG:
		r = &caps->device;
		break;
	default:
		/*
		 * "MUST ignore ... a reserved cfg_type value" (and newer types);
		 * the PCI configuration access capability is for drivers that
		 * cannot map the BARs, which vfc_pci always does.
		 */
		return 0;
	}
	/* "SHOULD use the first instance of each virtio structure type" */
	if (r->present)
		return 0;

	if (type == VIRTIO_PCI_CAP_NOTIFY_CFG) {
		if (cap_len < sizeof(struct virtio_pci_notify_cap) ||
		    pos + sizeof(struct virtio_pci_notify_cap) > VFC_PCI_CFG_SPACE) {
			cap_warn(caps, dev, pos, type, "truncated (cap_len %u)", cap_len);
			return 0;
		}
		mult = cfg32(cfg, pos + offsetof(struct virtio_pci_notify_cap,
						 notify_off_multiplier));
		/* "an even power of 2, or ... 0" */
		if (mult && (!is_power_of_2(mult) || mult < 2)) {
			cap_warn(caps, dev, pos, type, "notify_off_multiplier %u", mult);
			return 0;
		}
		if (!check_region(cfg, pos, type, bars, caps, r, dev))
			caps->notify_off_multiplier = mult;
		return 0;
	}

	if (cap_len < sizeof(struct virtio_pci_cap) ||
	    pos + sizeof(struct virtio_pci_cap) > VFC_PCI_CFG_SPACE) {
		cap_warn(caps, dev, pos, type, "truncated (cap_len %u)", cap_len);
		return 0;
	}
	check_region(cfg, pos, type, bars, caps, r, dev);
	return 0;
}

/**
 * vfc_pci_parse_caps() - find the virtio structures of a PCI function
 * @cfg: a copy of its config space, VFC_PCI_CFG_SPACE bytes
 * @bars: the size of each of its VFC_PCI_NUM_BARS BARs
 * @caps: filled with what was found (zeroed first)
 * @dev: for messages, or NULL to keep quiet
 *
 * Context: any context.
 * Return: 0 if the common and notification structures were found;
 * -EINVAL if the capability list is malformed (leaves config space or
 * loops); -ENODEV if a required structure is missing or unusable.
 */
int vfc_pci_parse_caps(const u8 *cfg, const struct vfc_pci_bar *bars,
		       struct vfc_pci_caps *caps, struct device *dev)
{
	DECLARE_BITMAP(seen, VFC_PCI_CFG_SPACE / 4) = { 0 };
	unsigned int pos;

	memset(caps, 0, sizeof(*caps));
	if (!(cfg16(cfg, PCI_STATUS) & PCI_STATUS_CAP_LIST))
		goto missing;

	/* Capabilities are dword aligned and live above the header. */
	for (pos = cfg8(cfg, PCI_CAPABILITY_LIST) & ~3; pos;
	     pos = cfg8(cfg, pos + PCI_CAP_LIST_NEXT) & ~3) {
		if (pos < PCI_STD_HEADER_SIZEOF || pos + 2 > VFC_PCI_CFG_SPACE) {
			if (dev)
				dev_err(dev, "capability pointer 0x%02x out of range\n",
					pos);
			return -EINVAL;
		}
		if (test_and_set_bit(pos / 4, seen)) {
			if (dev)
				dev_err(dev, "capability list loops at 0x%02x\n",
					pos);
			return -EINVAL;
		}
		/* pos <= 0xfc: cap_vndr..cfg_type are inside config space. */
		if (cfg8(cfg, pos + PCI_CAP_LIST_ID) != PCI_CAP_ID_VNDR)
			continue;
		parse_one(cfg, pos, bars, caps, dev);
	}

	if (caps->common.present && caps->notify.present)
		return 0;
missing:
	if (dev)
		dev_err(dev, "no usable %s capability: not a modern virtio device\n",
			caps->common.present ? "notify" : "common");
	return -ENODEV;
}
EXPORT_SYMBOL_IF_KUNIT(vfc_pci_parse_caps);

/**
 * vfc_pci_notify_offset() - where to notify a queue
 * @caps: the parsed capabilities
 * @queue_notify_off: the queue's queue_notify_off, as the device gave it
 * @offset: set to the byte offset in the notification structure
 *
 * "cap.length >= queue_notify_off * notify_off_multiplier + 2" is the
 * device's promise; a device that breaks it would have us write outside
 * the structure, so check it.
 *
 * Context: any context.
 * Return: 0, or -EINVAL if the offset lies beyond the structure.
 */
int vfc_pci_notify_offset(const struct vfc_pci_caps *caps, u16 queue_notify_off,
			  u32 *offset)
{
	u64 off = (u64)queue_notify_off * caps->notify_off_multiplier;

	if (off + 2 > caps->notify.length)
		return -EINVAL;
	*offset = off;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(vfc_pci_notify_offset);
