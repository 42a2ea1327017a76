/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vfc: the one place where kernel lines differ.
 *
 * vfc builds from one source against Linux 6.1 and 6.12 (both tested by
 * `make check`: W=1, sparse, checkpatch, KUnit and the scenarios). Every
 * difference between kernel versions is a shim here, guarded by the
 * version that made the change and named after it; the sources use the
 * shim and never test the version themselves.
 *
 * Shims marked "untested" are written from the change's documentation for
 * kernels after 6.12, which cannot be installed where vfc is tested.
 */
#ifndef _VFC_COMPAT_H
#define _VFC_COMPAT_H

#include <linux/device.h>
#include <linux/pci.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/version.h>

/*
 * Linux major.minor or later. The one use of LINUX_VERSION_CODE in vfc
 * (scripts/lint.sh turns checkpatch's LINUX_VERSION_CODE rule off here alone).
 */
#define VFC_LINUX_AT_LEAST(major, minor) \
	(KERNEL_VERSION(major, minor, 0) <= LINUX_VERSION_CODE)

/*
 * 6.12, "move asm/unaligned.h to linux/unaligned.h": the unaligned
 * accessors moved out of asm/.
 */
#if VFC_LINUX_AT_LEAST(6, 12)
#include <linux/unaligned.h>
#else
#include <asm/unaligned.h>
#endif

/*
 * 6.10, 2c92ca849fcc "tracing/treewide: Remove second parameter of
 * __assign_str()": it copies what the __string() field was declared with.
 */
#if VFC_LINUX_AT_LEAST(6, 10)
#define vfc_assign_str(dst, src)		\
	do {					\
		(void)(src);			\
		__assign_str(dst);		\
	} while (0)
#else
#define vfc_assign_str(dst, src) __assign_str(dst, src)
#endif

/*
 * 6.3, 2a81ada32f0e "driver core: make struct bus_type.uevent() take a
 * const *": the bus uevent callback gets a const struct device.
 */
#if VFC_LINUX_AT_LEAST(6, 3)
#define VFC_BUS_UEVENT_CONST const
#else
#define VFC_BUS_UEVENT_CONST
#endif

/*
 * 6.11, d69d80484598 "driver core: have match() callback in struct
 * bus_type take a const *": the bus match callback gets a const struct
 * device_driver.
 */
#if VFC_LINUX_AT_LEAST(6, 11)
#define VFC_BUS_MATCH_CONST const
#else
#define VFC_BUS_MATCH_CONST
#endif

/*
 * 6.4, d492cc2573a0 "driver core: device.h: make struct bus_type a const
 * *" and the series around it (struct bus_type lost its ->p):
 * bus_register(), struct device and struct device_driver take a const
 * struct bus_type, and checkpatch wants vfc's bus const. Up to 6.3
 * bus_register() writes into it. (Old spellings live here: checkpatch's
 * CONST_STRUCT rule is off for this file alone, see scripts/lint.sh.)
 */
#if VFC_LINUX_AT_LEAST(6, 4)
#define VFC_BUS_TYPE const struct bus_type
#else
#define VFC_BUS_TYPE struct bus_type
#endif

/*
 * 6.13, cdd30ebb1b9f "module: Convert symbol namespace to string literal"
 * (untested):
 * EXPORT_SYMBOL_NS*() and MODULE_IMPORT_NS() take the namespace as a string
 * literal; before, as a bare word they stringify themselves. Sources name
 * vfc's namespaces only through these.
 */
#if VFC_LINUX_AT_LEAST(6, 13)
#define VFC_NS		"VFC"
#define VFC_TEST_NS	"VFC_TEST"
#define VFC_KUNIT_NS	"EXPORTED_FOR_KUNIT_TESTING"
#else
#define VFC_NS		VFC
#define VFC_TEST_NS	VFC_TEST
#define VFC_KUNIT_NS	EXPORTED_FOR_KUNIT_TESTING
#endif

/*
 * 6.19, "dma-mapping: remove unused map_page callback" (untested): struct
 * dma_map_ops maps physical addresses, map_phys() and unmap_phys() in place
 * of map_page() and unmap_page(). The KUnit fake DMA device has both forms.
 */
#if VFC_LINUX_AT_LEAST(6, 19)
#define VFC_DMA_OPS_MAP_PHYS
#endif

/*
 * 7.0, "mm: balloon infrastructure cleanups" (untested): the balloon's
 * header is <linux/balloon.h> (was <linux/balloon_compaction.h>), and
 * CONFIG_BALLOON_MIGRATION and CONFIG_BALLOON are what
 * CONFIG_BALLOON_COMPACTION and CONFIG_MEMORY_BALLOON were. For the
 * balloon's movable pages: a file that wants the header defines
 * VFC_COMPAT_BALLOON before including this one.
 */
#if VFC_LINUX_AT_LEAST(7, 0)
#define VFC_BALLOON_MIGRATION	IS_ENABLED(CONFIG_BALLOON_MIGRATION)
#ifdef VFC_COMPAT_BALLOON
#include <linux/balloon.h>
#endif
#else
#define VFC_BALLOON_MIGRATION	IS_ENABLED(CONFIG_BALLOON_COMPACTION)
#ifdef VFC_COMPAT_BALLOON
#include <linux/balloon_compaction.h>
#endif
#endif

/*
 * 6.7, "mm: shrinker: add infrastructure for dynamically allocating
 * shrinker" and the series after it: a shrinker is allocated by
 * shrinker_alloc(), carries its owner in private_data, and is freed by
 * shrinker_free(); register_shrinker() of an embedded one went away. A
 * file that wants a shrinker defines VFC_COMPAT_SHRINKER before including
 * this one, and uses vfc_shrinker_create(), vfc_shrinker_private() and
 * vfc_shrinker_destroy() only.
 */
#ifdef VFC_COMPAT_SHRINKER
#include <linux/shrinker.h>
#include <linux/slab.h>

#if VFC_LINUX_AT_LEAST(6, 7)
static inline struct shrinker *
vfc_shrinker_create(const char *name,
		    unsigned long (*count)(struct shrinker *, struct shrink_control *),
		    unsigned long (*scan)(struct shrinker *, struct shrink_control *),
		    void *priv)
{
	struct shrinker *s = shrinker_alloc(0, "%s", name);

	if (!s)
		return NULL;
	s->count_objects = count;
	s->scan_objects = scan;
	s->private_data = priv;
	shrinker_register(s);
	return s;
}

static inline void *vfc_shrinker_private(struct shrinker *s)
{
	return s->private_data;
}

static inline void vfc_shrinker_destroy(struct shrinker *s)
{
	shrinker_free(s);
}
#else
struct vfc_shrinker {
	struct shrinker s;
	void *priv;
};

static inline struct shrinker *
vfc_shrinker_create(const char *name,
		    unsigned long (*count)(struct shrinker *, struct shrink_control *),
		    unsigned long (*scan)(struct shrinker *, struct shrink_control *),
		    void *priv)
{
	struct vfc_shrinker *v = kzalloc(sizeof(*v), GFP_KERNEL);

	if (!v)
		return NULL;
	v->s.count_objects = count;
	v->s.scan_objects = scan;
	v->s.seeks = DEFAULT_SEEKS;
	v->priv = priv;
	if (register_shrinker(&v->s, "%s", name)) {
		kfree(v);
		return NULL;
	}
	return &v->s;
}

static inline void *vfc_shrinker_private(struct shrinker *s)
{
	return container_of(s, struct vfc_shrinker, s)->priv;
}

static inline void vfc_shrinker_destroy(struct shrinker *s)
{
	unregister_shrinker(s);
	kfree(container_of(s, struct vfc_shrinker, s));
}
#endif
#endif /* VFC_COMPAT_SHRINKER */

/*
 * No shim: modpost wants a MODULE_DESCRIPTION() in every module, with W=1
 * from 6.5 and always from 6.15 ("modpost: require a MODULE_DESCRIPTION()").
 * Every vfc module has one; `make lint` builds with W=1 against 6.12, whose
 * modpost says so if one is missing.
 */

/*
 * "driver core: generic driver_override infrastructure" and "PCI: use
 * generic driver_override infrastructure" (mainline 7.0, and 6.12.y stable
 * from 6.12.94: Debian's 6.12 has it): a device's driver_override moved
 * from struct pci_dev into struct device, behind its own lock and
 * device_set_driver_override(). No version tells which a 6.12 has, so
 * Kbuild looks for the helper in the kernel's headers.
 */
#ifdef VFC_HAVE_DEVICE_DRIVER_OVERRIDE
static inline int vfc_set_driver_override(struct pci_dev *pdev, const char *name)
{
	return device_set_driver_override(&pdev->dev, name);
}

/* The function's driver_override into @buf, "" if none. */
static inline void vfc_driver_override_get(struct pci_dev *pdev, char *buf,
					   size_t len)
{
	spin_lock(&pdev->dev.driver_override.lock);
	strscpy(buf, pdev->dev.driver_override.name ?: "", len);
	spin_unlock(&pdev->dev.driver_override.lock);
}
#else
static inline int vfc_set_driver_override(struct pci_dev *pdev, const char *name)
{
	return driver_set_override(&pdev->dev, &pdev->driver_override, name,
				   strlen(name));
}

static inline void vfc_driver_override_get(struct pci_dev *pdev, char *buf,
					   size_t len)
{
	device_lock(&pdev->dev);
	strscpy(buf, pdev->driver_override ?: "", len);
	device_unlock(&pdev->dev);
}
#endif

/* Whether the function's driver_override names @name. */
static inline bool vfc_driver_override_is(struct pci_dev *pdev,
					  const char *name)
{
	char buf[32];

	vfc_driver_override_get(pdev, buf, sizeof(buf));
	return !strcmp(buf, name);
}

#endif /* _VFC_COMPAT_H */
