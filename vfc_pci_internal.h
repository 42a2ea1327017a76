/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vfc_pci's private state, shared with its KUnit suite.
 *
 * The register layer reaches the function through its BARs. In a kernel
 * with KUnit, a device may instead have a window: the suite's stand-in for
 * the function, which answers register reads and writes, says whether the
 * function is still present and records bus mastering turned off, so the
 * suite can play a device that refuses vectors, never settles its config
 * generation, never resets or is gone (all-ones). The functions the suite
 * calls are exported to it alone (EXPORT_SYMBOL_IF_KUNIT).
 */
#ifndef _VFC_PCI_INTERNAL_H
#define _VFC_PCI_INTERNAL_H

#include <linux/interrupt.h>
#include <linux/pci.h>
#include <linux/types.h>
#include <uapi/linux/virtio_pci.h>
#include <vfc/vfc.h>
#include <vfc/vfc_config.h>

#include "virtio_pci_caps.h"

struct pci_dev;
struct vfc_pci_device;

/* "vfcN-<queue name>" and the like, for /proc/interrupts. */
#define VFC_PCI_VENDOR 0x1af4
#define VFC_PCI_TRANSITIONAL_FIRST 0x1000
#define VFC_PCI_MODERN_FIRST 0x1040
#define VFC_PCI_MODERN_LAST 0x107f

#define VFC_PCI_IRQ_NAME_LEN 32

/**
 * struct vfc_pci_window_ops - a stand-in for a PCI function (KUnit only)
 * @read: a register read of @width (1, 2 or 4) bytes at @addr, which lies
 *	in one of the device's structures (common, isr, device)
 * @write: a register write of @width bytes
 * @present: whether the function still answers, as pci_device_is_present()
 * @clear_master: bus mastering off, as pci_clear_master()
 * @msix: the function has an MSI-X capability
 * @alloc_vectors: as pci_alloc_irq_vectors(@nvec, @nvec, PCI_IRQ_MSIX)
 * @free_vectors: as pci_free_irq_vectors()
 * @request_irq: as request_irq() for MSI-X vector @vector, or the INTx
 *	line if @vector is negative; sets *@irq, nonzero, for @free_irq
 * @free_irq: as free_irq()
 */
struct vfc_pci_window_ops {
	u32 (*read)(struct vfc_pci_device *vp, const void __iomem *addr,
		    unsigned int width);
	void (*write)(struct vfc_pci_device *vp, void __iomem *addr, u32 val,
		      unsigned int width);
	bool (*present)(struct vfc_pci_device *vp);
	void (*clear_master)(struct vfc_pci_device *vp);
	bool msix;
	int (*alloc_vectors)(struct vfc_pci_device *vp, unsigned int nvec);
	void (*free_vectors)(struct vfc_pci_device *vp);
	int (*request_irq)(struct vfc_pci_device *vp, int vector,
			   irq_handler_t handler, void *data, int *irq);
	void (*free_irq)(struct vfc_pci_device *vp, int irq, void *data);
};

/**
 * struct vfc_pci_vq - a queue's transport state
 * @vq: the queue, NULL if skipped
 * @notify: its address in the notification structure
 * @irq: its own interrupt, or 0 if it has none
 * @irq_name: the name of @irq
 */
struct vfc_pci_vq {
	struct vfc_virtqueue *vq;
	void __iomem *notify;
	int irq;
	char irq_name[VFC_PCI_IRQ_NAME_LEN];
};

/**
 * struct vfc_pci_device - a virtio PCI function driven by vfc
 * @vdev: the vfc device; its parent is the function's device, which maps
 *	rings and buffers
 * @pdev: the PCI function
 * @window: NULL for a real function; the KUnit suite's stand-in otherwise
 * @caps: where its virtio structures are
 * @common: the common configuration structure
 * @isr: the ISR status byte, NULL if the device has none
 * @device: the device-specific configuration, NULL if none
 * @device_len: the mapped length of @device
 * @notify: the notification structure
 * @bars: the BARs requested
 * @config_irq: the config-change interrupt (MSI-X), or 0
 * @shared_irq: the interrupt of all queues (shared MSI-X or INTx), or 0
 * @config_irq_name: name of @config_irq
 * @shared_irq_name: name of @shared_irq
 * @msix_enabled: MSI-X vectors are allocated
 * @gone_generation: what a function that is gone says its config
 *	generation is: a different value each read (vfc_pci_generation())
 * @vqs: the queues' state, @nvqs of them; set before and freed after the
 *	interrupts that walk it
 * @nvqs: entries in @vqs
 */
struct vfc_pci_device {
	struct vfc_device vdev;
	struct pci_dev *pdev;
	const struct vfc_pci_window_ops *window;
	struct vfc_pci_caps caps;
	struct virtio_pci_common_cfg __iomem *common;
	u8 __iomem *isr;
	void __iomem *device;
	size_t device_len;
	void __iomem *notify;
	int bars;
	int config_irq;
	int shared_irq;
	char config_irq_name[VFC_PCI_IRQ_NAME_LEN];
	char shared_irq_name[VFC_PCI_IRQ_NAME_LEN];
	bool msix_enabled;
	atomic_t gone_generation;
	struct vfc_pci_vq *vqs;
	unsigned int nvqs;
};

extern struct pci_driver vfc_pci_driver;
int vfc_pci_virtio_id(const struct pci_dev *pdev);

/* The device-specific config vfc maps at most; config fields are small. */
#define VFC_PCI_DEVICE_CFG_MAX	PAGE_SIZE

/* What vfc_pci maps of each structure: vfc_pci_map_lengths(). */
struct vfc_pci_map_lens {
	size_t common;
	size_t isr;
	size_t device;
	size_t notify;
};

/* virtio_pci_takeover.c */
int vfc_pci_takeover_init(void);
void vfc_pci_takeover_existing(void);
void vfc_pci_takeover_exit(void);

#if IS_ENABLED(CONFIG_KUNIT)
void vfc_pci_map_lengths(const struct vfc_pci_caps *caps,
			 struct vfc_pci_map_lens *len);
int vfc_pci_takeover_parse(const char *s, u64 *types);
extern const struct vfc_config_ops vfc_pci_config_ops;
int vfc_pci_setup_vq(struct vfc_pci_device *vp, unsigned int index,
		     const struct vfc_vq_info *info, u16 vector);
irqreturn_t vfc_pci_config_interrupt(int irq, void *data);
irqreturn_t vfc_pci_vq_interrupt(int irq, void *data);
irqreturn_t vfc_pci_vqs_interrupt(int irq, void *data);
irqreturn_t vfc_pci_intx_interrupt(int irq, void *data);
#endif

#endif /* _VFC_PCI_INTERNAL_H */
