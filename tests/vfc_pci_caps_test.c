// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for vfc's virtio-PCI capability parser (virtio_pci_caps.c):
 * vfc_pci_parse_caps() and vfc_pci_notify_offset().
 *
 * Each case builds a config-space image and a set of BAR sizes in its
 * fixture and hands them to the parser, as vfc_pci does with a copy of a
 * real function's. The base is QEMU's layout: an MSI-X capability, then the
 * common, ISR, device and notification structures in BAR 4 at 0x0, 0x1000,
 * 0x2000 and 0x3000 with a notify_off_multiplier of 4, then a PCI
 * configuration access capability. Most tables put one capability into that
 * layout in place of the base's own of its type and say whether the parser
 * must use it or ignore it. Each row breaks (or just meets) one rule, so it
 * fails if the check for that rule goes.
 *
 * Spec: virtio 1.2, "Virtio Over PCI Bus" (transport-pci.tex).
 */
#include <kunit/test.h>
#include <linux/device.h>
#include <linux/err.h>
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/minmax.h>
#include <linux/module.h>
#include <linux/pci_ids.h>
#include <linux/pci_regs.h>
#include <linux/sizes.h>
#include <linux/string.h>
#include <linux/types.h>
#include <uapi/linux/virtio_pci.h>

#include "vfc_compat.h"
#include "virtio_pci_caps.h"

/* QEMU's modern virtio-pci function */
#define VFC_PCT_BAR		4	/* 64-bit memory BAR of the structures */
#define VFC_PCT_BAR_LEN		SZ_16K
#define VFC_PCT_MSIX_BAR	1	/* MSI-X table and PBA */
#define VFC_PCT_MSIX_BAR_LEN	SZ_4K
#define VFC_PCT_COMMON		0x0000
#define VFC_PCT_ISR		0x1000
#define VFC_PCT_DEVICE		0x2000
#define VFC_PCT_NOTIFY		0x3000
#define VFC_PCT_LEN		0x1000	/* of each structure */
#define VFC_PCT_MULT		4

#define VFC_PCT_COMMON_LEN	sizeof(struct virtio_pci_common_cfg)
/* A BAR size for the decoys past BAR 5 */
#define VFC_PCT_DECOY_LEN	SZ_1G
/* A pointer into the standard header, below the first legal capability */
#define VFC_PCT_IN_HEADER	(PCI_STD_HEADER_SIZEOF - 4)
/* No cfg_type: vfc_pct_add_base() leaves nothing out */
#define VFC_PCT_NONE		0

/**
 * struct vfc_pct_cap - a virtio vendor capability to put in an image
 * @type: cfg_type
 * @bar: bar
 * @offset: offset
 * @length: length
 * @mult: notify_off_multiplier (written in any capability @cap_len covers)
 * @cap_len: cap_len, or 0 for the size of the structure of @type
 * @pos: where in config space, or 0 for the next free place
 */
struct vfc_pct_cap {
	u8 type;
	u8 bar;
	u32 offset;
	u32 length;
	u32 mult;
	u8 cap_len;
	u8 pos;
};

/* Initialisers for the fields of a struct vfc_pct_cap */
#define VFC_PCT_CAP(t, b, o, l) \
	.type = VIRTIO_PCI_CAP_##t##_CFG, .bar = (b), .offset = (o), .length = (l)
#define VFC_PCT_NOTIFY_CAP(b, o, l, m) \
	VFC_PCT_CAP(NOTIFY, b, o, l), .mult = (m)

/**
 * struct vfc_pct_img - a PCI function as the parser sees it
 * @bars: the sizes of BARs 0-5, then two decoys: large "BARs 6 and 7" that
 *	a parser reading past BAR 5 would find implemented
 * @last: config-space offset of the last capability in the list, 0 if none
 * @free: where the next capability goes
 * @cfg: config space; last, so KASAN sees a read beyond its 256 bytes
 */
struct vfc_pct_img {
	struct vfc_pci_bar bars[VFC_PCI_NUM_BARS + 2];
	unsigned int last;
	unsigned int free;
	u8 cfg[VFC_PCI_CFG_SPACE];
};

/**
 * struct vfc_pct - the fixture
 * @dev: for the parser's messages
 * @caps: what the parser found
 * @img: what it parsed; last, for KASAN
 */
struct vfc_pct {
	struct device *dev;
	struct vfc_pci_caps caps;
	struct vfc_pct_img img;
};

static struct device *vfc_pct_dev;

static const char *const vfc_pct_names[] = {
	[VIRTIO_PCI_CAP_COMMON_CFG] = "common",
	[VIRTIO_PCI_CAP_NOTIFY_CFG] = "notify",
	[VIRTIO_PCI_CAP_ISR_CFG] = "ISR",
	[VIRTIO_PCI_CAP_DEVICE_CFG] = "device",
};

/* ------------------------------------------------------------------------
 * Building config-space images
 */

/* Write @len bytes at @pos; what would lie beyond config space is dropped. */
static void vfc_pct_put(struct vfc_pct_img *img, unsigned int pos,
			const void *src, size_t len)
{
	if (pos >= VFC_PCI_CFG_SPACE)
		return;
	memcpy(img->cfg + pos, src, min_t(size_t, len, VFC_PCI_CFG_SPACE - pos));
}

static void vfc_pct_set_next(struct vfc_pct_img *img, unsigned int pos,
			     unsigned int next)
{
	img->cfg[pos + PCI_CAP_LIST_NEXT] = next;
}

/* Append the capability at @pos to the list. */
static void vfc_pct_link(struct vfc_pct_img *img, unsigned int pos)
{
	if (img->last)
		vfc_pct_set_next(img, img->last, pos);
	else
		img->cfg[PCI_CAPABILITY_LIST] = pos;
	img->last = pos;
}

/* A virtio-net function with a capability list and no capabilities yet. */
static void vfc_pct_img_init(struct vfc_pct_img *img)
{
	put_unaligned_le16(PCI_VENDOR_ID_REDHAT_QUMRANET, img->cfg + PCI_VENDOR_ID);
	put_unaligned_le16(0x1041, img->cfg + PCI_DEVICE_ID);
	put_unaligned_le16(PCI_STATUS_CAP_LIST, img->cfg + PCI_STATUS);
	img->bars[VFC_PCT_MSIX_BAR].len = VFC_PCT_MSIX_BAR_LEN;
	img->bars[VFC_PCT_BAR].len = VFC_PCT_BAR_LEN;
	img->bars[VFC_PCI_NUM_BARS].len = VFC_PCT_DECOY_LEN;
	img->bars[VFC_PCI_NUM_BARS + 1].len = VFC_PCT_DECOY_LEN;
	img->free = PCI_STD_HEADER_SIZEOF;
}

/* Append a capability that is not a virtio one. */
static unsigned int vfc_pct_add_raw(struct vfc_pct_img *img, u8 id,
				    unsigned int len)
{
	unsigned int pos = img->free;

	img->cfg[pos + PCI_CAP_LIST_ID] = id;
	vfc_pct_link(img, pos);
	img->free = pos + ALIGN(len, 4);
	return pos;
}

/* The size of the capability structure of a cfg_type. */
static unsigned int vfc_pct_struct_len(u8 type)
{
	switch (type) {
	case VIRTIO_PCI_CAP_NOTIFY_CFG:
		return sizeof(struct virtio_pci_notify_cap);
	case VIRTIO_PCI_CAP_PCI_CFG:
		return sizeof(struct virtio_pci_cfg_cap);
	default:
		return sizeof(struct virtio_pci_cap);
	}
}

/*
 * Append a virtio vendor capability. It takes the room of its structure or
 * of its cap_len, whichever is larger, and the fields of struct
 * virtio_pci_notify_cap are written as far as that room goes: a notify
 * capability with a short cap_len still has its multiplier behind it.
 */
static unsigned int vfc_pct_add(struct vfc_pct_img *img,
				const struct vfc_pct_cap *c)
{
	unsigned int struct_len = vfc_pct_struct_len(c->type);
	unsigned int cap_len = c->cap_len ?: struct_len;
	unsigned int room = ALIGN(max(cap_len, struct_len), 4);
	unsigned int pos = c->pos ?: img->free;
	const struct virtio_pci_notify_cap cap = {
		.cap = {
			.cap_vndr = PCI_CAP_ID_VNDR,
			.cap_len = cap_len,
			.cfg_type = c->type,
			.bar = c->bar,
			.offset = cpu_to_le32(c->offset),
			.length = cpu_to_le32(c->length),
		},
		.notify_off_multiplier = cpu_to_le32(c->mult),
	};

	vfc_pct_put(img, pos, &cap, min_t(size_t, room, sizeof(cap)));
	vfc_pct_link(img, pos);
	img->free = max(img->free, pos + room);
	return pos;
}

static unsigned int vfc_pct_add_cap(struct vfc_pct_img *img, u8 type, u8 bar,
				    u32 offset, u32 length)
{
	const struct vfc_pct_cap c = {
		.type = type, .bar = bar, .offset = offset, .length = length,
	};

	return vfc_pct_add(img, &c);
}

static unsigned int vfc_pct_add_notify(struct vfc_pct_img *img, u8 bar,
				       u32 offset, u32 length, u32 mult)
{
	const struct vfc_pct_cap c = {
		VFC_PCT_NOTIFY_CAP(bar, offset, length, mult),
	};

	return vfc_pct_add(img, &c);
}

/* QEMU's capabilities, without the one of type @skip (or VFC_PCT_NONE). */
static void vfc_pct_add_base(struct vfc_pct_img *img, u8 skip)
{
	unsigned int msix;

	/* Three vectors; the table at 0 and the PBA at 0x800 of BAR 1. */
	msix = vfc_pct_add_raw(img, PCI_CAP_ID_MSIX, PCI_CAP_MSIX_SIZEOF);
	put_unaligned_le16(3 - 1, img->cfg + msix + PCI_MSIX_FLAGS);
	put_unaligned_le32(VFC_PCT_MSIX_BAR, img->cfg + msix + PCI_MSIX_TABLE);
	put_unaligned_le32(0x800 | VFC_PCT_MSIX_BAR, img->cfg + msix + PCI_MSIX_PBA);

	if (skip != VIRTIO_PCI_CAP_COMMON_CFG)
		vfc_pct_add_cap(img, VIRTIO_PCI_CAP_COMMON_CFG, VFC_PCT_BAR,
				VFC_PCT_COMMON, VFC_PCT_LEN);
	if (skip != VIRTIO_PCI_CAP_ISR_CFG)
		vfc_pct_add_cap(img, VIRTIO_PCI_CAP_ISR_CFG, VFC_PCT_BAR,
				VFC_PCT_ISR, VFC_PCT_LEN);
	if (skip != VIRTIO_PCI_CAP_DEVICE_CFG)
		vfc_pct_add_cap(img, VIRTIO_PCI_CAP_DEVICE_CFG, VFC_PCT_BAR,
				VFC_PCT_DEVICE, VFC_PCT_LEN);
	if (skip != VIRTIO_PCI_CAP_NOTIFY_CFG)
		vfc_pct_add_notify(img, VFC_PCT_BAR, VFC_PCT_NOTIFY, VFC_PCT_LEN,
				   VFC_PCT_MULT);
	/* PCI configuration access, which vfc_pci has no use for. */
	vfc_pct_add_cap(img, VIRTIO_PCI_CAP_PCI_CFG, 0, 0, 0);
}

/* ------------------------------------------------------------------------
 * Checking what the parser found
 */

static const struct vfc_pci_region *
vfc_pct_region(const struct vfc_pci_caps *caps, u8 type)
{
	switch (type) {
	case VIRTIO_PCI_CAP_COMMON_CFG:
		return &caps->common;
	case VIRTIO_PCI_CAP_NOTIFY_CFG:
		return &caps->notify;
	case VIRTIO_PCI_CAP_ISR_CFG:
		return &caps->isr;
	case VIRTIO_PCI_CAP_DEVICE_CFG:
		return &caps->device;
	default:
		return NULL;
	}
}

static void vfc_pct_expect_region(struct kunit *test, u8 type, u8 bar,
				  u32 offset, u32 length)
{
	struct vfc_pct *t = test->priv;
	const struct vfc_pci_region *r = vfc_pct_region(&t->caps, type);
	const char *name = vfc_pct_names[type];

	KUNIT_EXPECT_TRUE_MSG(test, r->present, "%s", name);
	KUNIT_EXPECT_EQ_MSG(test, r->bar, bar, "%s", name);
	KUNIT_EXPECT_EQ_MSG(test, r->offset, offset, "%s", name);
	KUNIT_EXPECT_EQ_MSG(test, r->length, length, "%s", name);
}

/* What the parser found is the base layout, but for type @skip. */
static void vfc_pct_expect_base(struct kunit *test, u8 skip)
{
	struct vfc_pct *t = test->priv;

	if (skip != VIRTIO_PCI_CAP_COMMON_CFG)
		vfc_pct_expect_region(test, VIRTIO_PCI_CAP_COMMON_CFG, VFC_PCT_BAR,
				      VFC_PCT_COMMON, VFC_PCT_LEN);
	if (skip != VIRTIO_PCI_CAP_ISR_CFG)
		vfc_pct_expect_region(test, VIRTIO_PCI_CAP_ISR_CFG, VFC_PCT_BAR,
				      VFC_PCT_ISR, VFC_PCT_LEN);
	if (skip != VIRTIO_PCI_CAP_DEVICE_CFG)
		vfc_pct_expect_region(test, VIRTIO_PCI_CAP_DEVICE_CFG, VFC_PCT_BAR,
				      VFC_PCT_DEVICE, VFC_PCT_LEN);
	if (skip != VIRTIO_PCI_CAP_NOTIFY_CFG) {
		vfc_pct_expect_region(test, VIRTIO_PCI_CAP_NOTIFY_CFG, VFC_PCT_BAR,
				      VFC_PCT_NOTIFY, VFC_PCT_LEN);
		KUNIT_EXPECT_EQ(test, t->caps.notify_off_multiplier, VFC_PCT_MULT);
	}
}

/* The parser used capability @c, or (!@used) ignored it. */
static void vfc_pct_expect_cap(struct kunit *test, const struct vfc_pct_cap *c,
			       bool used)
{
	struct vfc_pct *t = test->priv;

	if (!used) {
		KUNIT_EXPECT_FALSE_MSG(test, vfc_pct_region(&t->caps, c->type)->present,
				       "%s", vfc_pct_names[c->type]);
		/* Not found, so not filled in either */
		if (c->type == VIRTIO_PCI_CAP_NOTIFY_CFG)
			KUNIT_EXPECT_EQ(test, t->caps.notify_off_multiplier, 0);
		return;
	}
	vfc_pct_expect_region(test, c->type, c->bar, c->offset, c->length);
	if (c->type == VIRTIO_PCI_CAP_NOTIFY_CFG)
		KUNIT_EXPECT_EQ(test, t->caps.notify_off_multiplier, c->mult);
}

static int vfc_pct_parse(struct kunit *test, struct device *dev)
{
	struct vfc_pct *t = test->priv;

	return vfc_pci_parse_caps(t->img.cfg, t->img.bars, &t->caps, dev);
}

/* ------------------------------------------------------------------------
 * A valid layout
 */

static void vfc_pci_caps_qemu_layout(struct kunit *test)
{
	struct vfc_pct *t = test->priv;

	vfc_pct_add_base(&t->img, VFC_PCT_NONE);

	KUNIT_ASSERT_EQ(test, vfc_pct_parse(test, t->dev), 0);
	vfc_pct_expect_region(test, VIRTIO_PCI_CAP_COMMON_CFG, 4, 0x0, 0x1000);
	vfc_pct_expect_region(test, VIRTIO_PCI_CAP_ISR_CFG, 4, 0x1000, 0x1000);
	vfc_pct_expect_region(test, VIRTIO_PCI_CAP_DEVICE_CFG, 4, 0x2000, 0x1000);
	vfc_pct_expect_region(test, VIRTIO_PCI_CAP_NOTIFY_CFG, 4, 0x3000, 0x1000);
	KUNIT_EXPECT_EQ(test, t->caps.notify_off_multiplier, 4);
}

/* ------------------------------------------------------------------------
 * One capability in place of the base's own of its type
 */

/**
 * struct vfc_pct_subject_case - a row of vfc_pci_caps_{ignored,accepted}
 * @name: the row's name
 * @cap: the capability under test
 * @bar_len: if not 0, the size of the BAR @cap names
 */
struct vfc_pct_subject_case {
	const char *name;
	struct vfc_pct_cap cap;
	u64 bar_len;
};

static void vfc_pct_subject_desc(const struct vfc_pct_subject_case *row,
				 char *desc)
{
	strscpy(desc, row->name, KUNIT_PARAM_DESC_SIZE);
}

static const struct vfc_pct_subject_case vfc_pct_ignored_cases[] = {
	/*
	 * "Virtio Structure PCI Capabilities": bar "values 0x0 to 0x5
	 * specify a Base Address register ... Any other value is reserved";
	 * "The driver MUST ignore any vendor-specific capability structure
	 * which has a reserved bar value." The image's decoy BARs 6 and 7
	 * are large, so only the BAR index check stands in the way.
	 */
	{ .name = "common in BAR 6",
	  .cap = { VFC_PCT_CAP(COMMON, 6, 0x0, VFC_PCT_LEN) } },
	{ .name = "common in BAR 7",
	  .cap = { VFC_PCT_CAP(COMMON, 7, 0x0, VFC_PCT_LEN) } },
	{ .name = "notify in BAR 6",
	  .cap = { VFC_PCT_NOTIFY_CAP(6, 0x3000, VFC_PCT_LEN, 4) } },
	/* A BAR the function does not implement: even an empty structure. */
	{ .name = "empty device cfg in unimplemented BAR 2",
	  .cap = { VFC_PCT_CAP(DEVICE, 2, 0x0, 0) } },
	/* The structure lies inside its BAR, in 64-bit arithmetic. */
	{ .name = "common at 0xffffff00+0x200, wrapping u32",
	  .cap = { VFC_PCT_CAP(COMMON, 4, 0xffffff00, 0x200) } },
	{ .name = "common ending 4 bytes beyond BAR 4",
	  .cap = { VFC_PCT_CAP(COMMON, 4, VFC_PCT_BAR_LEN - VFC_PCT_COMMON_LEN + 4,
			       VFC_PCT_COMMON_LEN) } },
	{ .name = "empty device cfg 4 bytes beyond BAR 4",
	  .cap = { VFC_PCT_CAP(DEVICE, 4, VFC_PCT_BAR_LEN + 4, 0) } },
	/* "Common configuration structure layout": "offset MUST be 4-byte aligned." */
	{ .name = "common at offset 2",
	  .cap = { VFC_PCT_CAP(COMMON, 4, 0x2, VFC_PCT_LEN) } },
	/* "Notification capability": "The cap.offset MUST be 2-byte aligned." */
	{ .name = "notify at offset 0x3001",
	  .cap = { VFC_PCT_NOTIFY_CAP(4, 0x3001, VFC_PCT_LEN - 2, 4) } },
	/*
	 * "Device-specific configuration": "The offset for the
	 * device-specific configuration MUST be 4-byte aligned."
	 */
	{ .name = "device cfg at offset 0x2002",
	  .cap = { VFC_PCT_CAP(DEVICE, 4, 0x2002, VFC_PCT_LEN - 4) } },
	/*
	 * "Virtio Structure PCI Capabilities": the driver "MAY check that
	 * length is large enough for device operation".
	 */
	{ .name = "common 1 byte shorter than struct virtio_pci_common_cfg",
	  .cap = { VFC_PCT_CAP(COMMON, 4, 0x0, VFC_PCT_COMMON_LEN - 1) } },
	/* "Notification capability": "cap.length ... MUST be at least 2" */
	{ .name = "notify of length 1",
	  .cap = { VFC_PCT_NOTIFY_CAP(4, 0x3000, 1, 4) } },
	/* "ISR status capability": "refers to at least a single byte" */
	{ .name = "ISR of length 0",
	  .cap = { VFC_PCT_CAP(ISR, 4, 0x1000, 0) } },
	/*
	 * "Virtio Structure PCI Capabilities": cap_len is the "Length of
	 * this capability structure, including the whole of struct
	 * virtio_pci_cap, and extra data if any". The fields are all there
	 * in the image; only cap_len says otherwise.
	 */
	{ .name = "common with cap_len 15",
	  .cap = { VFC_PCT_CAP(COMMON, 4, 0x0, VFC_PCT_LEN),
		   .cap_len = sizeof(struct virtio_pci_cap) - 1 } },
	{ .name = "notify with cap_len 19, short of its multiplier",
	  .cap = { VFC_PCT_NOTIFY_CAP(4, 0x3000, VFC_PCT_LEN, 4),
		   .cap_len = sizeof(struct virtio_pci_notify_cap) - 1 } },
	/*
	 * Capabilities running past the 256 bytes of config space: the rest
	 * of their fields would be read from beyond the image.
	 */
	{ .name = "device cfg at 0xf8, offset and length past config space",
	  .cap = { VFC_PCT_CAP(DEVICE, 4, 0x0, 0), .pos = 0xf8 } },
	{ .name = "notify at 0xf0, multiplier past config space",
	  .cap = { VFC_PCT_NOTIFY_CAP(4, 0x3000, VFC_PCT_LEN, 4), .pos = 0xf0 } },
	/*
	 * "Notification capability": "The device MUST either present
	 * notify_off_multiplier as an even power of 2, or present
	 * notify_off_multiplier as 0."
	 */
	{ .name = "notify multiplier 3",
	  .cap = { VFC_PCT_NOTIFY_CAP(4, 0x3000, VFC_PCT_LEN, 3) } },
	{ .name = "notify multiplier 6, even but no power of 2",
	  .cap = { VFC_PCT_NOTIFY_CAP(4, 0x3000, VFC_PCT_LEN, 6) } },
	{ .name = "notify multiplier 1, an odd power of 2",
	  .cap = { VFC_PCT_NOTIFY_CAP(4, 0x3000, VFC_PCT_LEN, 1) } },
};

KUNIT_ARRAY_PARAM(vfc_pct_ignored, vfc_pct_ignored_cases, vfc_pct_subject_desc);

static const struct vfc_pct_subject_case vfc_pct_accepted_cases[] = {
	/* "values 0x0 to 0x5": the first and the last BAR */
	{ .name = "common in BAR 0",
	  .cap = { VFC_PCT_CAP(COMMON, 0, 0x0, VFC_PCT_COMMON_LEN) },
	  .bar_len = SZ_4K },
	{ .name = "common in BAR 5",
	  .cap = { VFC_PCT_CAP(COMMON, 5, 0x0, VFC_PCT_COMMON_LEN) },
	  .bar_len = SZ_4K },
	/* Inside its BAR up to the last byte, and in BARs above 4 GiB */
	{ .name = "common ending at the end of BAR 4",
	  .cap = { VFC_PCT_CAP(COMMON, 4, VFC_PCT_BAR_LEN - VFC_PCT_COMMON_LEN,
			       VFC_PCT_COMMON_LEN) } },
	{ .name = "common ending at 4 GiB in an 8 GiB BAR",
	  .cap = { VFC_PCT_CAP(COMMON, 4, 0xfffff000, 0x1000) },
	  .bar_len = SZ_8G },
	/* "The drivers MUST handle an unexpectedly large length" */
	{ .name = "common as long as BAR 4",
	  .cap = { VFC_PCT_CAP(COMMON, 4, 0x0, VFC_PCT_BAR_LEN) } },
	{ .name = "common exactly as long as struct virtio_pci_common_cfg",
	  .cap = { VFC_PCT_CAP(COMMON, 4, 0x0, VFC_PCT_COMMON_LEN) } },
	/*
	 * "The driver MUST accept a cap_len value which is larger than
	 * specified here."
	 */
	{ .name = "common with cap_len 32",
	  .cap = { VFC_PCT_CAP(COMMON, 4, 0x0, VFC_PCT_LEN), .cap_len = 32 } },
	{ .name = "notify with cap_len 24",
	  .cap = { VFC_PCT_NOTIFY_CAP(4, 0x3000, VFC_PCT_LEN, 4), .cap_len = 24 } },
	/* Ending at the end of config space */
	{ .name = "device cfg at 0xf0",
	  .cap = { VFC_PCT_CAP(DEVICE, 4, 0x2000, VFC_PCT_LEN), .pos = 0xf0 } },
	{ .name = "notify at 0xec",
	  .cap = { VFC_PCT_NOTIFY_CAP(4, 0x3000, VFC_PCT_LEN, 4), .pos = 0xec } },
	/* "Notification capability": 2-byte aligned, at least 2 bytes */
	{ .name = "notify at offset 0x3002",
	  .cap = { VFC_PCT_NOTIFY_CAP(4, 0x3002, VFC_PCT_LEN - 2, 4) } },
	{ .name = "notify of length 2",
	  .cap = { VFC_PCT_NOTIFY_CAP(4, 0x3000, 2, 4) } },
	/* "an even power of 2, or ... 0" */
	{ .name = "notify multiplier 0",
	  .cap = { VFC_PCT_NOTIFY_CAP(4, 0x3000, VFC_PCT_LEN, 0) } },
	{ .name = "notify multiplier 2",
	  .cap = { VFC_PCT_NOTIFY_CAP(4, 0x3000, VFC_PCT_LEN, 2) } },
	{ .name = "notify multiplier 2^31",
	  .cap = { VFC_PCT_NOTIFY_CAP(4, 0x3000, VFC_PCT_LEN, 0x80000000) } },
	/*
	 * "ISR status capability": "The offset for the ISR status has no
	 * alignment requirements."
	 */
	{ .name = "ISR at offset 0x1001",
	  .cap = { VFC_PCT_CAP(ISR, 4, 0x1001, 1) } },
	/* Device types without a device-specific configuration */
	{ .name = "empty device cfg",
	  .cap = { VFC_PCT_CAP(DEVICE, 4, 0x2000, 0) } },
	{ .name = "device cfg in BAR 2",
	  .cap = { VFC_PCT_CAP(DEVICE, 2, 0x0, 0x100) },
	  .bar_len = SZ_4K },
};

KUNIT_ARRAY_PARAM(vfc_pct_accepted, vfc_pct_accepted_cases, vfc_pct_subject_desc);

static void vfc_pct_run_subject(struct kunit *test,
				const struct vfc_pct_subject_case *row,
				bool usable)
{
	struct vfc_pct *t = test->priv;
	const struct vfc_pct_cap *c = &row->cap;
	bool required = c->type == VIRTIO_PCI_CAP_COMMON_CFG ||
			c->type == VIRTIO_PCI_CAP_NOTIFY_CFG;

	if (row->bar_len)
		t->img.bars[c->bar].len = row->bar_len;
	vfc_pct_add_base(&t->img, c->type);
	vfc_pct_add(&t->img, c);

	KUNIT_EXPECT_EQ(test, vfc_pct_parse(test, t->dev),
			usable || !required ? 0 : -ENODEV);
	vfc_pct_expect_base(test, c->type);
	vfc_pct_expect_cap(test, c, usable);
	/* Counted, with why, for the device's conformance report. */
	KUNIT_EXPECT_EQ(test, t->caps.ignored, usable ? 0U : 1U);
	if (!usable)
		KUNIT_EXPECT_TRUE_MSG(test, strstr(t->caps.ignored_why,
						   vfc_pct_names[c->type]),
				      "why: %s", t->caps.ignored_why);
}

static void vfc_pci_caps_ignored(struct kunit *test)
{
	vfc_pct_run_subject(test, test->param_value, false);
}

static void vfc_pci_caps_accepted(struct kunit *test)
{
	vfc_pct_run_subject(test, test->param_value, true);
}

/* ------------------------------------------------------------------------
 * Two capabilities of a type
 */

/**
 * struct vfc_pct_order_case - a row of vfc_pci_caps_first_wins
 * @name: the row's name
 * @first: the first capability in the list
 * @second: the second, of the same type
 * @first_wins: @first is to be used, else @second
 */
struct vfc_pct_order_case {
	const char *name;
	struct vfc_pct_cap first;
	struct vfc_pct_cap second;
	bool first_wins;
};

static void vfc_pct_order_desc(const struct vfc_pct_order_case *row,
			       char *desc)
{
	strscpy(desc, row->name, KUNIT_PARAM_DESC_SIZE);
}

/*
 * "Virtio Structure PCI Capabilities": "The driver SHOULD use the first
 * instance of each virtio structure type they can support."
 */
static const struct vfc_pct_order_case vfc_pct_order_cases[] = {
	{ .name = "two commons: the first",
	  .first = { VFC_PCT_CAP(COMMON, 4, 0x0, VFC_PCT_LEN) },
	  .second = { VFC_PCT_CAP(COMMON, 1, 0x800, VFC_PCT_COMMON_LEN) },
	  .first_wins = true },
	{ .name = "common in BAR 6, then a good one",
	  .first = { VFC_PCT_CAP(COMMON, 6, 0x0, VFC_PCT_LEN) },
	  .second = { VFC_PCT_CAP(COMMON, 4, 0x0, VFC_PCT_LEN) } },
	{ .name = "misaligned common, then a good one",
	  .first = { VFC_PCT_CAP(COMMON, 4, 0x2, VFC_PCT_LEN) },
	  .second = { VFC_PCT_CAP(COMMON, 4, 0x0, VFC_PCT_LEN) } },
	{ .name = "two notifies: the first, with its multiplier",
	  .first = { VFC_PCT_NOTIFY_CAP(4, 0x3000, VFC_PCT_LEN, 4) },
	  .second = { VFC_PCT_NOTIFY_CAP(4, 0x3800, 0x800, 8) },
	  .first_wins = true },
	{ .name = "notify multiplier 3, then a good one",
	  .first = { VFC_PCT_NOTIFY_CAP(4, 0x3000, VFC_PCT_LEN, 3) },
	  .second = { VFC_PCT_NOTIFY_CAP(4, 0x3000, VFC_PCT_LEN, 4) } },
	/* The good one's multiplier, not the bad one's */
	{ .name = "notify beyond BAR 4 with multiplier 8, then a good one with 4",
	  .first = { VFC_PCT_NOTIFY_CAP(4, 0x3000, 2 * VFC_PCT_LEN, 8) },
	  .second = { VFC_PCT_NOTIFY_CAP(4, 0x3000, VFC_PCT_LEN, 4) } },
	{ .name = "two ISRs: the first",
	  .first = { VFC_PCT_CAP(ISR, 4, 0x1000, VFC_PCT_LEN) },
	  .second = { VFC_PCT_CAP(ISR, 4, 0x1800, 0x800) },
	  .first_wins = true },
	{ .name = "two device cfgs: the first",
	  .first = { VFC_PCT_CAP(DEVICE, 4, 0x2000, VFC_PCT_LEN) },
	  .second = { VFC_PCT_CAP(DEVICE, 4, 0x2800, 0x800) },
	  .first_wins = true },
};

KUNIT_ARRAY_PARAM(vfc_pct_order, vfc_pct_order_cases, vfc_pct_order_desc);

static void vfc_pci_caps_first_wins(struct kunit *test)
{
	const struct vfc_pct_order_case *row = test->param_value;
	struct vfc_pct *t = test->priv;

	KUNIT_ASSERT_EQ(test, row->first.type, row->second.type);
	vfc_pct_add_base(&t->img, row->first.type);
	vfc_pct_add(&t->img, &row->first);
	vfc_pct_add(&t->img, &row->second);

	/* Quiet: no device for messages. */
	KUNIT_EXPECT_EQ(test, vfc_pct_parse(test, NULL), 0);
	vfc_pct_expect_base(test, row->first.type);
	if (row->first_wins)
		vfc_pct_expect_cap(test, &row->first, true);
	else
		vfc_pct_expect_cap(test, &row->second, true);
}

/* ------------------------------------------------------------------------
 * cfg_type values the parser does not use
 */

struct vfc_pct_type_case {
	const char *name;
	u8 type;
};

static void vfc_pct_type_desc(const struct vfc_pct_type_case *row, char *desc)
{
	strscpy(desc, row->name, KUNIT_PARAM_DESC_SIZE);
}

/*
 * "Virtio Structure PCI Capabilities": cfg_type "Any other value is reserved
 * for future use."; "The driver MUST ignore any vendor-specific capability
 * structure which has a reserved cfg_type value." Shared memory and vendor
 * data capabilities are not vfc_pci's business either, nor is PCI
 * configuration access, for drivers that cannot map the BARs.
 */
static const struct vfc_pct_type_case vfc_pct_type_cases[] = {
	{ .name = "type 0, reserved", .type = 0 },
	{ .name = "type 6, reserved", .type = 6 },
	{ .name = "type 7, reserved", .type = 7 },
	{ .name = "PCI configuration access", .type = VIRTIO_PCI_CAP_PCI_CFG },
	{ .name = "shared memory", .type = VIRTIO_PCI_CAP_SHARED_MEMORY_CFG },
	{ .name = "vendor data (9)", .type = 9 },
	{ .name = "type 0xff, reserved", .type = 0xff },
};

KUNIT_ARRAY_PARAM(vfc_pct_type, vfc_pct_type_cases, vfc_pct_type_desc);

static void vfc_pci_caps_unknown_type(struct kunit *test)
{
	const struct vfc_pct_type_case *row = test->param_value;
	struct vfc_pct *t = test->priv;
	/* Ahead of the base, and usable as any type the parser knows. */
	const struct vfc_pct_cap decoy = {
		.type = row->type, .bar = VFC_PCT_BAR, .offset = 0x800,
		.length = 0x800, .mult = 8,
		.cap_len = sizeof(struct virtio_pci_notify_cap),
	};

	vfc_pct_add(&t->img, &decoy);
	vfc_pct_add_base(&t->img, VFC_PCT_NONE);

	KUNIT_EXPECT_EQ(test, vfc_pct_parse(test, t->dev), 0);
	vfc_pct_expect_base(test, VFC_PCT_NONE);
}

/* ------------------------------------------------------------------------
 * The capability list
 */

/* Common at A, notify at B, B -> A. */
static void vfc_pct_build_loop(struct vfc_pct_img *img)
{
	unsigned int a, b;

	a = vfc_pct_add_cap(img, VIRTIO_PCI_CAP_COMMON_CFG, VFC_PCT_BAR,
			    VFC_PCT_COMMON, VFC_PCT_LEN);
	b = vfc_pct_add_notify(img, VFC_PCT_BAR, VFC_PCT_NOTIFY, VFC_PCT_LEN,
			       VFC_PCT_MULT);
	vfc_pct_set_next(img, b, a);
}

static void vfc_pct_build_self_loop(struct vfc_pct_img *img)
{
	vfc_pct_add_base(img, VFC_PCT_NONE);
	vfc_pct_set_next(img, img->last, img->last);
}

static void vfc_pct_build_loop_to_head(struct vfc_pct_img *img)
{
	vfc_pct_add_base(img, VFC_PCT_NONE);
	vfc_pct_set_next(img, img->last, img->cfg[PCI_CAPABILITY_LIST]);
}

static void vfc_pct_build_next_in_header(struct vfc_pct_img *img)
{
	vfc_pct_add_base(img, VFC_PCT_NONE);
	vfc_pct_set_next(img, img->last, VFC_PCT_IN_HEADER);
}

static void vfc_pct_build_head_in_header(struct vfc_pct_img *img)
{
	vfc_pct_add_base(img, VFC_PCT_NONE);
	img->cfg[PCI_CAPABILITY_LIST] = VFC_PCT_IN_HEADER;
}

/*
 * PCI: the bottom two bits of a capability pointer are reserved, and
 * "Software must mask these bits off before using the register as a
 * pointer".
 */
static void vfc_pct_build_reserved_bits(struct vfc_pct_img *img)
{
	vfc_pct_add_base(img, VFC_PCT_NONE);
	img->cfg[PCI_CAPABILITY_LIST] |= 3;
	img->cfg[PCI_STD_HEADER_SIZEOF + PCI_CAP_LIST_NEXT] |= 3;
}

static void vfc_pct_build_no_cap_list(struct vfc_pct_img *img)
{
	vfc_pct_add_base(img, VFC_PCT_NONE);
	put_unaligned_le16(0, img->cfg + PCI_STATUS);
}

static void vfc_pct_build_empty(struct vfc_pct_img *img)
{
}

static void vfc_pct_build_no_common(struct vfc_pct_img *img)
{
	vfc_pct_add_base(img, VIRTIO_PCI_CAP_COMMON_CFG);
}

static void vfc_pct_build_no_notify(struct vfc_pct_img *img)
{
	vfc_pct_add_base(img, VIRTIO_PCI_CAP_NOTIFY_CFG);
}

/* Only an MSI-X capability with the bytes of a good common one. */
static void vfc_pct_build_common_not_vendor(struct vfc_pct_img *img)
{
	unsigned int pos;

	vfc_pct_add_base(img, VIRTIO_PCI_CAP_COMMON_CFG);
	pos = vfc_pct_add_cap(img, VIRTIO_PCI_CAP_COMMON_CFG, VFC_PCT_BAR,
			      VFC_PCT_COMMON, VFC_PCT_LEN);
	img->cfg[pos + PCI_CAP_LIST_ID] = PCI_CAP_ID_MSIX;
}

/**
 * struct vfc_pct_list_case - a row of vfc_pci_caps_list
 * @name: the row's name
 * @build: builds the image
 * @ret: what vfc_pci_parse_caps() returns; if 0, the base layout is found
 */
struct vfc_pct_list_case {
	const char *name;
	void (*build)(struct vfc_pct_img *img);
	int ret;
};

static void vfc_pct_list_desc(const struct vfc_pct_list_case *row, char *desc)
{
	strscpy(desc, row->name, KUNIT_PARAM_DESC_SIZE);
}

static const struct vfc_pct_list_case vfc_pct_list_cases[] = {
	{ .name = "loop A->B->A", .build = vfc_pct_build_loop, .ret = -EINVAL },
	{ .name = "last capability points to itself",
	  .build = vfc_pct_build_self_loop, .ret = -EINVAL },
	{ .name = "last capability points to the first",
	  .build = vfc_pct_build_loop_to_head, .ret = -EINVAL },
	{ .name = "next pointer into the header",
	  .build = vfc_pct_build_next_in_header, .ret = -EINVAL },
	{ .name = "list head into the header",
	  .build = vfc_pct_build_head_in_header, .ret = -EINVAL },
	{ .name = "reserved pointer bits set",
	  .build = vfc_pct_build_reserved_bits, .ret = 0 },
	{ .name = "status without PCI_STATUS_CAP_LIST",
	  .build = vfc_pct_build_no_cap_list, .ret = -ENODEV },
	{ .name = "empty list", .build = vfc_pct_build_empty, .ret = -ENODEV },
	/*
	 * "Common configuration structure layout": "The device MUST present
	 * at least one common configuration capability."
	 */
	{ .name = "no common", .build = vfc_pct_build_no_common, .ret = -ENODEV },
	/*
	 * "Notification capability": "The device MUST present at least one
	 * notification capability."
	 */
	{ .name = "no notify", .build = vfc_pct_build_no_notify, .ret = -ENODEV },
	{ .name = "common only in a non-vendor capability",
	  .build = vfc_pct_build_common_not_vendor, .ret = -ENODEV },
};

KUNIT_ARRAY_PARAM(vfc_pct_list, vfc_pct_list_cases, vfc_pct_list_desc);

static void vfc_pci_caps_list(struct kunit *test)
{
	const struct vfc_pct_list_case *row = test->param_value;
	struct vfc_pct *t = test->priv;

	row->build(&t->img);

	KUNIT_EXPECT_EQ(test, vfc_pct_parse(test, t->dev), row->ret);
	if (!row->ret)
		vfc_pct_expect_base(test, VFC_PCT_NONE);
}

/* ------------------------------------------------------------------------
 * vfc_pci_notify_offset()
 */

/**
 * struct vfc_pct_notify_case - a row of vfc_pci_caps_notify_offset
 * @name: the row's name
 * @mult: notify_off_multiplier
 * @length: the notification structure's length
 * @queue_notify_off: the queue's queue_notify_off
 * @ret: what vfc_pci_notify_offset() returns
 * @offset: the offset it gives, if @ret is 0
 */
struct vfc_pct_notify_case {
	const char *name;
	u32 mult;
	u32 length;
	u16 queue_notify_off;
	int ret;
	u32 offset;
};

static void vfc_pct_notify_desc(const struct vfc_pct_notify_case *row,
				char *desc)
{
	strscpy(desc, row->name, KUNIT_PARAM_DESC_SIZE);
}

/*
 * "Notification capability": the address is "cap.offset + queue_notify_off
 * * notify_off_multiplier", and "cap.length >= queue_notify_off *
 * notify_off_multiplier + 2" is the device's promise, checked here.
 */
static const struct vfc_pct_notify_case vfc_pct_notify_cases[] = {
	{ .name = "queue 0", .mult = 4, .length = 0x1000,
	  .queue_notify_off = 0, .ret = 0, .offset = 0 },
	{ .name = "queue 3", .mult = 4, .length = 0x1000,
	  .queue_notify_off = 3, .ret = 0, .offset = 12 },
	{ .name = "last queue in the structure", .mult = 4, .length = 0x1000,
	  .queue_notify_off = 0x3ff, .ret = 0, .offset = 0xffc },
	{ .name = "offset at the end, no room for 2 bytes", .mult = 4,
	  .length = 0x1000, .queue_notify_off = 0x400, .ret = -EINVAL },
	{ .name = "offset 2 bytes before the end", .mult = 4, .length = 0x1002,
	  .queue_notify_off = 0x400, .ret = 0, .offset = 0x1000 },
	/*
	 * "if notifier_off_multiplier is 0, the device uses the same Queue
	 * Notify address for all queues"
	 */
	{ .name = "multiplier 0, queue 0xffff", .mult = 0, .length = 2,
	  .queue_notify_off = 0xffff, .ret = 0, .offset = 0 },
	{ .name = "multiplier 2^16, queue 0xffff", .mult = 0x10000,
	  .length = 0xffffffff, .queue_notify_off = 0xffff, .ret = 0,
	  .offset = 0xffff0000 },
	{ .name = "multiplier 2^31, queue 1", .mult = 0x80000000,
	  .length = 0xffffffff, .queue_notify_off = 1, .ret = 0,
	  .offset = 0x80000000 },
	/* 0xffff * 2^31 is 0x80000000 in u32: it would fit. */
	{ .name = "multiplier 2^31, queue 0xffff: beyond u32", .mult = 0x80000000,
	  .length = 0xffffffff, .queue_notify_off = 0xffff, .ret = -EINVAL },
};

KUNIT_ARRAY_PARAM(vfc_pct_notify, vfc_pct_notify_cases, vfc_pct_notify_desc);

static void vfc_pci_caps_notify_offset(struct kunit *test)
{
	const struct vfc_pct_notify_case *row = test->param_value;
	const struct vfc_pci_caps caps = {
		.common = { .present = true, .bar = VFC_PCT_BAR,
			    .offset = VFC_PCT_COMMON, .length = VFC_PCT_LEN },
		.notify = { .present = true, .bar = VFC_PCT_BAR,
			    .offset = VFC_PCT_NOTIFY, .length = row->length },
		.notify_off_multiplier = row->mult,
	};
	u32 offset = 0;
	int ret;

	ret = vfc_pci_notify_offset(&caps, row->queue_notify_off, &offset);

	KUNIT_EXPECT_EQ(test, ret, row->ret);
	if (!ret && !row->ret)
		KUNIT_EXPECT_EQ(test, offset, row->offset);
}

/* ------------------------------------------------------------------------
 * The suite
 */

static int vfc_pci_caps_suite_init(struct kunit_suite *suite)
{
	/*
	 * No owner: 6.1 runs a module's suites before the module has its
	 * sysfs directory, which an owner link would need (-ENOENT).
	 */
	vfc_pct_dev = __root_device_register("vfc_pci_caps_test", NULL);
	return PTR_ERR_OR_ZERO(vfc_pct_dev);
}

static void vfc_pci_caps_suite_exit(struct kunit_suite *suite)
{
	root_device_unregister(vfc_pct_dev);
}

static int vfc_pci_caps_test_init(struct kunit *test)
{
	struct vfc_pct *t;

	t = kunit_kzalloc(test, sizeof(*t), GFP_KERNEL);
	if (!t)
		return -ENOMEM;
	t->dev = vfc_pct_dev;
	vfc_pct_img_init(&t->img);
	test->priv = t;
	return 0;
}

static struct kunit_case vfc_pci_caps_test_cases[] = {
	KUNIT_CASE(vfc_pci_caps_qemu_layout),
	KUNIT_CASE_PARAM(vfc_pci_caps_ignored, vfc_pct_ignored_gen_params),
	KUNIT_CASE_PARAM(vfc_pci_caps_accepted, vfc_pct_accepted_gen_params),
	KUNIT_CASE_PARAM(vfc_pci_caps_first_wins, vfc_pct_order_gen_params),
	KUNIT_CASE_PARAM(vfc_pci_caps_unknown_type, vfc_pct_type_gen_params),
	KUNIT_CASE_PARAM(vfc_pci_caps_list, vfc_pct_list_gen_params),
	KUNIT_CASE_PARAM(vfc_pci_caps_notify_offset, vfc_pct_notify_gen_params),
	{}
};

static struct kunit_suite vfc_pci_caps_test_suite = {
	.name = "vfc_pci_caps",
	.suite_init = vfc_pci_caps_suite_init,
	.suite_exit = vfc_pci_caps_suite_exit,
	.init = vfc_pci_caps_test_init,
	.test_cases = vfc_pci_caps_test_cases,
};

kunit_test_suite(vfc_pci_caps_test_suite);

MODULE_IMPORT_NS(VFC_KUNIT_NS);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("KUnit tests for vfc's virtio-PCI capability parser");
