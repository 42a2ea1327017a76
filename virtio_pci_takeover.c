// SPDX-License-Identifier: GPL-2.0
/*
 * vfc_pci's takeover: the virtio PCI functions vfc_pci takes from the
 * kernel's own virtio_pci, and giving them back.
 *
 * vfc_pci has no module device table and binds only functions whose
 * driver_override names it. Where the kernel's virtio_pci is built in
 * (Debian's 6.12) or loaded, it holds every virtio function from boot,
 * hot-plugged ones included. The module parameter takeover= names the
 * virtio device types vfc_pci takes ("balloon,rng", or device ids); for
 * each function of those types vfc_pci
 *  - at load, sets its driver_override to vfc_pci, unbinds it from the
 *    driver it has and probes it again, so that vfc_pci alone matches,
 *    unless an override names another driver than virtio-pci (vfio-pci,
 *    say), which it leaves alone;
 *  - while loaded, sets the override of functions of those types as they
 *    are added (hot-plug), before any driver probes them;
 *  - at unload, clears the override of every function it names vfc_pci
 *    (those moved by hand with guest/vfc-move too) and probes it again, so
 *    that the kernel's virtio_pci takes it back.
 * The device types a guest's disk and network use are never taken unless
 * named: nothing is taken by default.
 */
#include <kunit/visibility.h>
#include <linux/bitops.h>
#include <linux/device.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/notifier.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <uapi/linux/virtio_ids.h>
#include "vfc_compat.h"

#include "vfc_pci_internal.h"

static char *takeover;
module_param(takeover, charp, 0444);
MODULE_PARM_DESC(takeover,
		 "virtio device types to take from other drivers, comma-separated: balloon, rng or device ids 1-63 (default: none)");

/* The device types of takeover=, one bit per virtio device id. */
static u64 vfc_pci_takeover_types;

/* The virtio device id of a virtio PCI function, or -ENODEV. */
int vfc_pci_virtio_id(const struct pci_dev *pdev)
{
	if (pdev->vendor != VFC_PCI_VENDOR ||
	    pdev->device < VFC_PCI_TRANSITIONAL_FIRST ||
	    pdev->device > VFC_PCI_MODERN_LAST)
		return -ENODEV;
	/* Transitional ids carry the virtio device id in the subsystem id. */
	if (pdev->device >= VFC_PCI_MODERN_FIRST)
		return pdev->device - VFC_PCI_MODERN_FIRST;
	return pdev->subsystem_device;
}
EXPORT_SYMBOL_IF_KUNIT(vfc_pci_virtio_id);

/**
 * vfc_pci_takeover_parse() - the device types a takeover= value names
 * @s: the value: comma-separated names (balloon, rng) or virtio device ids
 *     1-63, which a modern virtio PCI device id (0x1040 + id) can carry;
 *     NULL or empty for none
 * @types: set to one bit per device id
 *
 * Return: 0, or -EINVAL with the first bad entry logged.
 */
VISIBLE_IF_KUNIT int vfc_pci_takeover_parse(const char *s, u64 *types)
{
	static const struct { const char *name; unsigned int id; } names[] = {
		{ "balloon", VIRTIO_ID_BALLOON },
		{ "rng", VIRTIO_ID_RNG },
	};
	char *buf, *cur, *tok;
	int err = 0;

	*types = 0;
	if (!s || !*s)
		return 0;
	buf = kstrdup(s, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	cur = strim(buf);
	if (!*cur)
		cur = NULL;	/* blanks only: none */
	while (!err && (tok = strsep(&cur, ","))) {
		unsigned int i, id = 0;

		tok = strim(tok);
		for (i = 0; i < ARRAY_SIZE(names); i++)
			if (!strcmp(tok, names[i].name))
				id = names[i].id;
		if (!id && (kstrtouint(tok, 0, &id) || !id ||
			    id > VFC_PCI_MODERN_LAST - VFC_PCI_MODERN_FIRST))
			id = 0;
		if (!id) {
			pr_err("vfc_pci: takeover=%s: '%s' is not balloon, rng or a virtio device id 1-%d\n",
			       s, tok, VFC_PCI_MODERN_LAST - VFC_PCI_MODERN_FIRST);
			err = -EINVAL;
		}
		*types |= BIT_ULL(id);
	}
	kfree(buf);
	if (err)
		*types = 0;
	return err;
}
EXPORT_SYMBOL_IF_KUNIT(vfc_pci_takeover_parse);

static bool vfc_pci_wanted(const struct pci_dev *pdev)
{
	int id = vfc_pci_virtio_id(pdev);

	return id > 0 && id < 64 && (vfc_pci_takeover_types & BIT_ULL(id));
}

static void vfc_pci_hand_back_one(struct pci_dev *pdev)
{
	int err;

	err = vfc_set_driver_override(pdev, "");
	if (err) {
		pci_err(pdev, "vfc_pci: cannot clear driver_override: %d\n", err);
		return;
	}
	err = device_attach(&pdev->dev);
	if (err > 0)
		pci_info(pdev, "vfc_pci: handed back to %s\n",
			 pdev->dev.driver ? pdev->dev.driver->name : "?");
	else
		pci_info(pdev, "vfc_pci: handed back; no driver took it (%d)\n",
			 err);
}

/* Take one function from the driver that holds it, if any. */
static void vfc_pci_take(struct pci_dev *pdev)
{
	char from[32] = "no driver", override[32];
	int err;

	device_lock(&pdev->dev);
	if (pdev->dev.driver == &vfc_pci_driver.driver) {
		device_unlock(&pdev->dev);
		return;
	}
	if (pdev->dev.driver)
		strscpy(from, pdev->dev.driver->name, sizeof(from));
	device_unlock(&pdev->dev);

	/* Someone gave it to another driver on purpose: leave it there. */
	vfc_driver_override_get(pdev, override, sizeof(override));
	if (*override && strcmp(override, "virtio-pci") &&
	    strcmp(override, vfc_pci_driver.name)) {
		pci_info(pdev, "vfc_pci: driver_override names %s; not taking it\n",
			 override);
		return;
	}

	err = vfc_set_driver_override(pdev, vfc_pci_driver.name);
	if (err) {
		pci_err(pdev, "vfc_pci: cannot set driver_override: %d\n", err);
		return;
	}
	device_release_driver(&pdev->dev);
	err = device_attach(&pdev->dev);
	if (err > 0) {
		pci_info(pdev, "vfc_pci: taken over from %s\n", from);
		return;
	}
	/* vfc_pci refused it: give it back rather than leave it driverless. */
	pci_err(pdev, "vfc_pci: could not take it over (%d)\n", err);
	vfc_pci_hand_back_one(pdev);
}

/* Functions added while vfc_pci is loaded: before any driver probes them. */
static int vfc_pci_bus_notify(struct notifier_block *nb, unsigned long action,
			      void *data)
{
	struct pci_dev *pdev = to_pci_dev(data);
	int err;

	if (action != BUS_NOTIFY_ADD_DEVICE || !vfc_pci_wanted(pdev))
		return NOTIFY_DONE;
	err = vfc_set_driver_override(pdev, vfc_pci_driver.name);
	if (err)
		pci_err(pdev, "vfc_pci: cannot set driver_override: %d\n", err);
	else
		pci_info(pdev, "vfc_pci: added; taking it (takeover=%s)\n",
			 takeover);
	return NOTIFY_DONE;
}

static struct notifier_block vfc_pci_bus_nb = {
	.notifier_call = vfc_pci_bus_notify,
};

int vfc_pci_takeover_init(void)
{
	int err;

	err = vfc_pci_takeover_parse(takeover, &vfc_pci_takeover_types);
	if (err)
		return err;
	if (vfc_pci_takeover_types)
		return bus_register_notifier(&pci_bus_type, &vfc_pci_bus_nb);
	return 0;
}

/* After pci_register_driver(): the functions present now. */
void vfc_pci_takeover_existing(void)
{
	struct pci_dev *pdev = NULL;

	if (!vfc_pci_takeover_types)
		return;
	for_each_pci_dev(pdev)
		if (vfc_pci_wanted(pdev))
			vfc_pci_take(pdev);
}

/* After pci_unregister_driver(): every function left naming vfc_pci. */
void vfc_pci_takeover_exit(void)
{
	struct pci_dev *pdev = NULL;

	if (vfc_pci_takeover_types)
		bus_unregister_notifier(&pci_bus_type, &vfc_pci_bus_nb);
	for_each_pci_dev(pdev)
		if (vfc_driver_override_is(pdev, vfc_pci_driver.name))
			vfc_pci_hand_back_one(pdev);
}
