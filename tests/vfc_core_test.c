// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for the vfc core (virtio_core.c): id matching, the device
 * status sequence, feature negotiation, config reads and config changes,
 * binding and unbinding, and the device's names in sysfs.
 *
 * The fake transport of vfc_test_support.ko keeps the device in memory: a
 * status byte that logs every value written to it, the features it
 * offers, a small config space and its generation counter, with knobs to
 * make the device misbehave (refuse FEATURES_OK, fail to reset, keep
 * changing its config). Test drivers are vfc_driver instances whose
 * callbacks record what the core did to them.
 *
 * The fake ids match no real driver and real devices match no test driver,
 * so the suite can run beside a bound vfc_pci device.
 */
#include <kunit/test.h>
#include <linux/device.h>
#include <linux/irqflags.h>
#include <linux/kobject.h>
#include <linux/slab.h>
#include <linux/stddef.h>
#include <linux/string.h>
#include <uapi/linux/virtio_config.h>
#include <uapi/linux/virtio_ring.h>

#include "vfc_compat.h"
#include <vfc/vfc.h>
#include <vfc/vfc_config.h>

#include "vfc_test_support.h"

#define VFC_TEST_MAX_FAKES	4
#define VFC_TEST_MAX_DRIVERS	4
#define VFC_TEST_MAX_FEATURES	4

#define S_ACK		VIRTIO_CONFIG_S_ACKNOWLEDGE
#define S_DRIVER	VIRTIO_CONFIG_S_DRIVER
#define S_FEATURES_OK	VIRTIO_CONFIG_S_FEATURES_OK
#define S_DRIVER_OK	VIRTIO_CONFIG_S_DRIVER_OK
#define S_FAILED	VIRTIO_CONFIG_S_FAILED
#define S_LIVE		(S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK)

/**
 * struct vfc_test_driver - a test driver: knobs and a record of its calls
 * @drv: the driver on the vfc bus
 * @id_table: its id and the terminating entry
 * @features: its feature table
 * @probe_err: probe returns this
 * @probe_sets_ready: probe calls vfc_device_ready() itself
 * @probe_reports_change: a config change arrives during probe
 * @remove_resets: remove resets the device, as drivers should
 * @remove_reports_change: a config change arrives during remove
 * @validate_err: validate returns this
 * @validate_clears: validate clears @validate_clear_bit
 * @validate_clear_bit: see @validate_clears
 * @validate_adds: validate sets these bits (which it must not)
 * @probes: calls of probe
 * @removes: calls of remove
 * @validates: calls of validate
 * @config_changes: calls of config_changed
 * @changes_seen_in_probe: @config_changes when probe returned
 * @status_at_probe: the device status when probe was called
 * @status_at_validate: the device status when validate was called
 * @status_at_change: the device status when config_changed was called
 * @features_at_validate: vdev->features when validate was called
 * @resets_at_remove: the fake's reset count when remove was called
 * @freeze_err: freeze returns this
 * @restore_err: restore returns this
 * @freezes: calls of freeze
 * @restores: calls of restore
 * @status_at_restore: the device status when restore was called
 * @features_at_restore: what the device was told to use when restore was
 *	called
 */
struct vfc_test_driver {
	struct vfc_driver drv;
	struct vfc_device_id id_table[2];
	unsigned int features[VFC_TEST_MAX_FEATURES];
	int probe_err;
	bool probe_sets_ready;
	bool probe_reports_change;
	bool remove_resets;
	bool remove_reports_change;
	int validate_err;
	bool validate_clears;
	unsigned int validate_clear_bit;
	u64 validate_adds;
	unsigned int probes;
	unsigned int removes;
	unsigned int validates;
	unsigned int config_changes;
	unsigned int changes_seen_in_probe;
	u8 status_at_probe;
	u8 status_at_validate;
	u8 status_at_change;
	u64 features_at_validate;
	unsigned int resets_at_remove;
	int freeze_err;
	int restore_err;
	unsigned int freezes;
	unsigned int restores;
	u8 status_at_restore;
	u64 features_at_restore;
};

/* What each test registered and has not unregistered yet, for exit(). */
struct vfc_test_ctx {
	struct vfc_fake *fakes[VFC_TEST_MAX_FAKES];
	struct vfc_test_driver *drivers[VFC_TEST_MAX_DRIVERS];
};

static struct vfc_test_driver *to_test_driver(struct vfc_device *vdev)
{
	return container_of(drv_to_vfc(vdev->dev.driver),
			    struct vfc_test_driver, drv);
}

/* ------------------------------------------------------------------------
 * Fake devices on the bus
 */

/* Register a fake device; exit() unregisters it if the test does not. */
static void vfc_test_add_fake(struct kunit *test, struct vfc_fake *fake)
{
	struct vfc_test_ctx *ctx = test->priv;
	unsigned int i;
	int err;

	err = vfc_register_device(&fake->vdev);
	if (err)
		put_device(&fake->vdev.dev);
	KUNIT_ASSERT_EQ(test, err, 0);

	for (i = 0; i < VFC_TEST_MAX_FAKES; i++) {
		if (!ctx->fakes[i]) {
			ctx->fakes[i] = fake;
			return;
		}
	}
	vfc_unregister_device(&fake->vdev);
	KUNIT_FAIL(test, "more than %d fake devices", VFC_TEST_MAX_FAKES);
}

static void vfc_test_remove_fake(struct kunit *test, struct vfc_fake *fake)
{
	struct vfc_test_ctx *ctx = test->priv;
	unsigned int i;

	for (i = 0; i < VFC_TEST_MAX_FAKES; i++)
		if (ctx->fakes[i] == fake)
			ctx->fakes[i] = NULL;
	vfc_unregister_device(&fake->vdev);
}

/* ------------------------------------------------------------------------
 * The test driver
 */

static int vfc_test_validate(struct vfc_device *vdev)
{
	struct vfc_test_driver *td = to_test_driver(vdev);

	td->validates++;
	td->features_at_validate = vdev->features;
	td->status_at_validate = to_vfc_fake(vdev)->status;
	if (td->validate_clears)
		__vfc_clear_bit(vdev, td->validate_clear_bit);
	vdev->features |= td->validate_adds;
	return td->validate_err;
}

static int vfc_test_probe(struct vfc_device *vdev)
{
	struct vfc_test_driver *td = to_test_driver(vdev);

	td->probes++;
	td->status_at_probe = to_vfc_fake(vdev)->status;
	if (td->probe_reports_change)
		vfc_config_changed(vdev);
	if (td->probe_sets_ready)
		vfc_device_ready(vdev);
	td->changes_seen_in_probe = td->config_changes;
	return td->probe_err;
}

static void vfc_test_remove(struct vfc_device *vdev)
{
	struct vfc_test_driver *td = to_test_driver(vdev);

	td->removes++;
	td->resets_at_remove = to_vfc_fake(vdev)->resets;
	if (td->remove_reports_change)
		vfc_config_changed(vdev);
	if (td->remove_resets)
		vfc_reset_device(vdev);
}

/* As drivers do: stop using the device, reset it. */
static int vfc_test_freeze(struct vfc_device *vdev)
{
	struct vfc_test_driver *td = to_test_driver(vdev);

	td->freezes++;
	if (td->freeze_err)
		return td->freeze_err;
	return vfc_reset_device(vdev);
}

static int vfc_test_restore(struct vfc_device *vdev)
{
	struct vfc_test_driver *td = to_test_driver(vdev);

	td->restores++;
	td->status_at_restore = to_vfc_fake(vdev)->status;
	td->features_at_restore = to_vfc_fake(vdev)->finalized;
	return td->restore_err;
}

/* Runs with interrupts off: only record. */
static void vfc_test_config_changed(struct vfc_device *vdev)
{
	struct vfc_test_driver *td = to_test_driver(vdev);

	td->config_changes++;
	td->status_at_change = to_vfc_fake(vdev)->status;
}

static struct vfc_test_driver *
vfc_test_new_driver(struct kunit *test, const unsigned int *features,
		    unsigned int nfeatures)
{
	struct vfc_test_driver *td;

	KUNIT_ASSERT_LE(test, nfeatures, VFC_TEST_MAX_FEATURES);
	td = kunit_kzalloc(test, sizeof(*td), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, td);
	td->drv.driver.name = "vfc_core_test";
	td->id_table[0].device = VFC_TEST_DEVICE_ID;
	td->id_table[0].vendor = VFC_TEST_VENDOR_ID;
	td->drv.id_table = td->id_table;
	if (nfeatures)
		memcpy(td->features, features, nfeatures * sizeof(*features));
	td->drv.feature_table = td->features;
	td->drv.feature_table_size = nfeatures;
	td->drv.probe = vfc_test_probe;
	td->drv.remove = vfc_test_remove;
	td->drv.config_changed = vfc_test_config_changed;
	td->drv.freeze = vfc_test_freeze;
	td->drv.restore = vfc_test_restore;
	td->remove_resets = true;
	return td;
}

/*
 * KUnit runs a module's suites while the module is still "coming", before
 * its sysfs directory exists; a driver owned by it would make the driver
 * core link into that missing directory, which warns. So test drivers have
 * no owner: the test module cannot go away while its suites run anyway.
 */
static int vfc_test_register(struct vfc_test_driver *td)
{
	return __vfc_register_driver(&td->drv, NULL);
}

/* Register a test driver; exit() unregisters it if the test does not. */
static void vfc_test_add_driver(struct kunit *test, struct vfc_test_driver *td)
{
	struct vfc_test_ctx *ctx = test->priv;
	unsigned int i;

	for (i = 0; i < VFC_TEST_MAX_DRIVERS; i++) {
		if (!ctx->drivers[i]) {
			KUNIT_ASSERT_EQ(test, vfc_test_register(td), 0);
			ctx->drivers[i] = td;
			return;
		}
	}
	KUNIT_FAIL(test, "more than %d test drivers", VFC_TEST_MAX_DRIVERS);
}

static void vfc_test_remove_driver(struct kunit *test,
				   struct vfc_test_driver *td)
{
	struct vfc_test_ctx *ctx = test->priv;
	unsigned int i;

	for (i = 0; i < VFC_TEST_MAX_DRIVERS; i++)
		if (ctx->drivers[i] == td)
			ctx->drivers[i] = NULL;
	vfc_unregister_driver(&td->drv);
}

/* ------------------------------------------------------------------------
 * Matching
 */

struct vfc_test_match_case {
	const char *name;
	struct vfc_device_id ids[3];
	bool match;
};

static const struct vfc_test_match_case vfc_test_match_cases[] = {
	{ "exact ids",
	  { { VFC_TEST_DEVICE_ID, VFC_TEST_VENDOR_ID } }, true },
	{ "any device id",
	  { { VFC_DEV_ANY_ID, VFC_TEST_VENDOR_ID } }, true },
	{ "any vendor id",
	  { { VFC_TEST_DEVICE_ID, VFC_DEV_ANY_ID } }, true },
	{ "any device and vendor id",
	  { { VFC_DEV_ANY_ID, VFC_DEV_ANY_ID } }, true },
	{ "other device id",
	  { { VFC_TEST_DEVICE_ID + 1, VFC_TEST_VENDOR_ID } }, false },
	{ "other vendor id",
	  { { VFC_TEST_DEVICE_ID, VFC_TEST_VENDOR_ID + 1 } }, false },
	{ "any device id, other vendor id",
	  { { VFC_DEV_ANY_ID, VFC_TEST_VENDOR_ID + 1 } }, false },
	{ "second entry matches",
	  { { VFC_TEST_DEVICE_ID + 1, VFC_TEST_VENDOR_ID },
	    { VFC_TEST_DEVICE_ID, VFC_TEST_VENDOR_ID } }, true },
	{ "entry after the terminator is ignored",
	  { { VFC_TEST_DEVICE_ID + 1, VFC_TEST_VENDOR_ID },
	    { 0, VFC_TEST_VENDOR_ID },
	    { VFC_TEST_DEVICE_ID, VFC_TEST_VENDOR_ID } }, false },
	{ "empty table", { { 0, 0 } }, false },
};

static void vfc_test_match_desc(const struct vfc_test_match_case *c,
				char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(vfc_test_match, vfc_test_match_cases, vfc_test_match_desc);

/*
 * The bus's match function, called directly: binding a wildcard driver
 * would also grab real vfc devices present in the guest.
 */
static void vfc_core_match(struct kunit *test)
{
	const struct vfc_test_match_case *c = test->param_value;
	struct vfc_driver drv = { .id_table = c->ids };
	struct vfc_fake *fake = vfc_fake_new(test, F_V1);
	struct device *dev = &fake->vdev.dev;

	vfc_test_add_fake(test, fake);
	KUNIT_ASSERT_NOT_NULL(test, dev->bus);
	KUNIT_ASSERT_NOT_NULL(test, dev->bus->match);
	KUNIT_EXPECT_EQ(test, !!dev->bus->match(dev, &drv.driver), c->match);
}

/* ------------------------------------------------------------------------
 * Initialization: "3.1.1 Driver Requirements: Device Initialization"
 */

/*
 * Reset, ACKNOWLEDGE (at registration), DRIVER, FEATURES_OK, DRIVER_OK,
 * each write adding one bit to the last ("2.1.1 Driver Requirements:
 * Device Status Field": the driver never clears a bit).
 */
static void vfc_core_status_sequence(struct kunit *test)
{
	static const u8 expected[] = {
		0,
		S_ACK,
		S_ACK | S_DRIVER,
		S_ACK | S_DRIVER | S_FEATURES_OK,
		S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK,
	};
	struct vfc_test_driver *td = vfc_test_new_driver(test, NULL, 0);
	struct vfc_fake *fake = vfc_fake_new(test, F_V1);

	vfc_test_add_fake(test, fake);
	KUNIT_EXPECT_EQ(test, fake->resets, 1U);
	KUNIT_EXPECT_EQ(test, fake->status, S_ACK);

	vfc_test_add_driver(test, td);
	KUNIT_ASSERT_EQ(test, td->probes, 1U);
	KUNIT_EXPECT_PTR_EQ(test, fake->vdev.dev.driver, &td->drv.driver);
	/* The driver sets up its queues after FEATURES_OK, before DRIVER_OK. */
	KUNIT_EXPECT_EQ(test, td->status_at_probe,
			S_ACK | S_DRIVER | S_FEATURES_OK);
	vfc_fake_expect_log(test, fake, 0, expected, ARRAY_SIZE(expected));
	KUNIT_EXPECT_EQ(test, fake->status, S_LIVE);
	KUNIT_EXPECT_FALSE(test, fake->vdev.failed);
}

/* Probing a device when the driver registered first. */
static void vfc_core_probe_on_device_add(struct kunit *test)
{
	struct vfc_test_driver *td = vfc_test_new_driver(test, NULL, 0);
	struct vfc_fake *fake = vfc_fake_new(test, F_V1);

	vfc_test_add_driver(test, td);
	KUNIT_EXPECT_EQ(test, td->probes, 0U);
	vfc_test_add_fake(test, fake);
	KUNIT_EXPECT_EQ(test, td->probes, 1U);
	KUNIT_EXPECT_PTR_EQ(test, fake->vdev.dev.driver, &td->drv.driver);
	KUNIT_EXPECT_EQ(test, fake->status, S_LIVE);
}

struct vfc_test_features_case {
	const char *name;
	u64 offered;
	unsigned int table[VFC_TEST_MAX_FEATURES];
	unsigned int table_size;
	u64 expected;
};

static const struct vfc_test_features_case vfc_test_features_cases[] = {
	{
		.name = "driver table and device offer intersect",
		.offered = F_V1 | BIT_ULL(0) | BIT_ULL(1) | BIT_ULL(2),
		.table = { 1, 2, 3 },
		.table_size = 3,
		.expected = F_V1 | BIT_ULL(1) | BIT_ULL(2),
	},
	{
		.name = "device feature the driver does not list is dropped",
		.offered = F_V1 | BIT_ULL(5) | BIT_ULL(6) | BIT_ULL(50),
		.table = { 5 },
		.table_size = 1,
		.expected = F_V1 | BIT_ULL(5),
	},
	{
		.name = "driver feature the device does not offer is dropped",
		.offered = F_V1 | BIT_ULL(1),
		.table = { 1, 7, 63 },
		.table_size = 3,
		.expected = F_V1 | BIT_ULL(1),
	},
	{
		.name = "transport features vfc supports are kept",
		.offered = F_V1 | BIT_ULL(VIRTIO_F_ACCESS_PLATFORM) |
			   BIT_ULL(VIRTIO_F_ORDER_PLATFORM) |
			   BIT_ULL(VIRTIO_RING_F_INDIRECT_DESC) |
			   BIT_ULL(VIRTIO_RING_F_EVENT_IDX) |
			   BIT_ULL(VIRTIO_F_RING_PACKED),
		.expected = F_V1 | BIT_ULL(VIRTIO_F_ACCESS_PLATFORM) |
			    BIT_ULL(VIRTIO_F_ORDER_PLATFORM) |
			    BIT_ULL(VIRTIO_RING_F_INDIRECT_DESC) |
			    BIT_ULL(VIRTIO_RING_F_EVENT_IDX) |
			    BIT_ULL(VIRTIO_F_RING_PACKED),
	},
	{
		.name = "transport features vfc lacks are dropped",
		.offered = F_V1 | BIT_ULL(VIRTIO_F_IN_ORDER) |
			   BIT_ULL(VIRTIO_F_SR_IOV) |
			   BIT_ULL(VIRTIO_F_RING_RESET),
		.expected = F_V1,
	},
	{
		.name = "driver cannot ask for a transport feature",
		.offered = F_V1 | BIT_ULL(VIRTIO_F_IN_ORDER) | BIT_ULL(2),
		.table = { VIRTIO_F_IN_ORDER, 2 },
		.table_size = 2,
		.expected = F_V1 | BIT_ULL(2),
	},
};

static void vfc_test_features_desc(const struct vfc_test_features_case *c,
				   char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(vfc_test_features, vfc_test_features_cases,
		  vfc_test_features_desc);

/*
 * "2.2.1 Driver Requirements: Feature Bits": accept only offered features
 * the driver understands, and only transport features the core implements.
 */
static void vfc_core_feature_negotiation(struct kunit *test)
{
	const struct vfc_test_features_case *c = test->param_value;
	struct vfc_test_driver *td;
	struct vfc_fake *fake;

	/* Driver first: it is kunit-managed, an unadded fake is not. */
	td = vfc_test_new_driver(test, c->table, c->table_size);
	fake = vfc_fake_new(test, c->offered);
	vfc_test_add_fake(test, fake);
	vfc_test_add_driver(test, td);

	KUNIT_ASSERT_EQ(test, td->probes, 1U);
	KUNIT_EXPECT_EQ(test, fake->vdev.features, c->expected);
	KUNIT_EXPECT_EQ(test, fake->finalize_calls, 1U);
	KUNIT_EXPECT_EQ(test, fake->finalized, c->expected);
	KUNIT_EXPECT_EQ(test, fake->status, S_LIVE);

	vfc_test_remove_driver(test, td);
	KUNIT_EXPECT_EQ(test, fake->vdev.features, 0ULL);
}

/* validate() sees the negotiated set before it reaches the device. */
static void vfc_core_validate_drops_feature(struct kunit *test)
{
	static const unsigned int table[] = { 1, 2 };
	struct vfc_fake *fake;
	struct vfc_test_driver *td;

	td = vfc_test_new_driver(test, table, ARRAY_SIZE(table));
	fake = vfc_fake_new(test, F_V1 | BIT_ULL(1) | BIT_ULL(2));
	td->drv.validate = vfc_test_validate;
	td->validate_clears = true;
	td->validate_clear_bit = 1;
	/* Not offered: validate() may only take features away. */
	td->validate_adds = BIT_ULL(3);
	vfc_test_add_fake(test, fake);
	vfc_test_add_driver(test, td);

	KUNIT_EXPECT_EQ(test, td->validates, 1U);
	KUNIT_EXPECT_EQ(test, td->features_at_validate,
			F_V1 | BIT_ULL(1) | BIT_ULL(2));
	KUNIT_EXPECT_EQ(test, td->status_at_validate, S_ACK | S_DRIVER);
	KUNIT_ASSERT_EQ(test, td->probes, 1U);
	KUNIT_EXPECT_EQ(test, fake->vdev.features, F_V1 | BIT_ULL(2));
	KUNIT_EXPECT_EQ(test, fake->finalized, F_V1 | BIT_ULL(2));
	KUNIT_EXPECT_EQ(test, fake->finalize_calls, 1U);
}

struct vfc_test_fail_case {
	const char *name;
	u64 offered;
	bool refuse_features_ok;
	int validate_err;
	int probe_err;
	unsigned int validates;
	unsigned int finalizes;
	unsigned int probes;
};

static const struct vfc_test_fail_case vfc_test_fail_cases[] = {
	{
		/* Transitional drivers only; vfc is not one. */
		.name = "legacy device without VERSION_1",
		.offered = BIT_ULL(0),
	},
	{
		/* "3.1.1 ...": re-read the status to see FEATURES_OK kept. */
		.name = "device refuses FEATURES_OK",
		.offered = F_V1,
		.refuse_features_ok = true,
		.validates = 1,
		.finalizes = 1,
	},
	{
		.name = "validate fails",
		.offered = F_V1,
		.validate_err = -EINVAL,
		.validates = 1,
	},
	{
		.name = "driver probe fails",
		.offered = F_V1,
		.probe_err = -EIO,
		.validates = 1,
		.finalizes = 1,
		.probes = 1,
	},
};

static void vfc_test_fail_desc(const struct vfc_test_fail_case *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(vfc_test_fail, vfc_test_fail_cases, vfc_test_fail_desc);

/*
 * "3.1.1 Driver Requirements: Device Initialization": when a step goes
 * wrong, set FAILED and stop; the driver is not bound.
 */
static void vfc_core_probe_failure(struct kunit *test)
{
	const struct vfc_test_fail_case *c = test->param_value;
	struct vfc_test_driver *td = vfc_test_new_driver(test, NULL, 0);
	struct vfc_fake *fake = vfc_fake_new(test, c->offered);

	fake->refuse_features_ok = c->refuse_features_ok;
	td->drv.validate = vfc_test_validate;
	td->validate_err = c->validate_err;
	td->probe_err = c->probe_err;
	vfc_test_add_fake(test, fake);
	vfc_test_add_driver(test, td);

	KUNIT_EXPECT_EQ(test, td->validates, c->validates);
	KUNIT_EXPECT_EQ(test, fake->finalize_calls, c->finalizes);
	KUNIT_EXPECT_EQ(test, td->probes, c->probes);
	KUNIT_EXPECT_NULL(test, fake->vdev.dev.driver);
	KUNIT_EXPECT_TRUE(test, fake->status & S_FAILED);
	KUNIT_EXPECT_TRUE(test, fake->vdev.failed);
	KUNIT_EXPECT_EQ(test, fake->vdev.features, 0ULL);
	KUNIT_EXPECT_EQ(test, vfc_fake_writes_with(fake, S_DRIVER_OK), 0U);
	if (!c->finalizes)
		KUNIT_EXPECT_EQ(test, vfc_fake_writes_with(fake, S_FEATURES_OK),
				0U);
}

/*
 * "2.1.1 Driver Requirements: Device Status Field": after FAILED, reset
 * before initializing again. The next driver finds the device reset.
 */
static void vfc_core_failed_device_reset_before_retry(struct kunit *test)
{
	static const u8 retry[] = {
		0,
		S_ACK,
		S_ACK | S_DRIVER,
		S_ACK | S_DRIVER | S_FEATURES_OK,
		S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK,
	};
	struct vfc_test_driver *bad = vfc_test_new_driver(test, NULL, 0);
	struct vfc_test_driver *good = vfc_test_new_driver(test, NULL, 0);
	struct vfc_fake *fake = vfc_fake_new(test, F_V1);
	unsigned int logged;

	bad->probe_err = -EIO;
	vfc_test_add_fake(test, fake);
	vfc_test_add_driver(test, bad);
	KUNIT_ASSERT_TRUE(test, fake->vdev.failed);
	vfc_test_remove_driver(test, bad);

	logged = fake->log_len;
	vfc_test_add_driver(test, good);
	KUNIT_ASSERT_EQ(test, good->probes, 1U);
	KUNIT_EXPECT_EQ(test, good->status_at_probe,
			S_ACK | S_DRIVER | S_FEATURES_OK);
	vfc_fake_expect_log(test, fake, logged, retry, ARRAY_SIZE(retry));
	KUNIT_EXPECT_FALSE(test, fake->vdev.failed);
}

/* A driver that must use its queues in probe sets DRIVER_OK itself. */
static void vfc_core_driver_sets_ready(struct kunit *test)
{
	struct vfc_test_driver *td = vfc_test_new_driver(test, NULL, 0);
	struct vfc_fake *fake = vfc_fake_new(test, F_V1);

	td->probe_sets_ready = true;
	vfc_test_add_fake(test, fake);
	vfc_test_add_driver(test, td);

	KUNIT_ASSERT_EQ(test, td->probes, 1U);
	KUNIT_EXPECT_EQ(test, fake->status, S_LIVE);
	KUNIT_EXPECT_EQ(test, vfc_fake_writes_with(fake, S_DRIVER_OK), 1U);
}

/* ------------------------------------------------------------------------
 * Config changes: "3.2.1 Notification of Device Configuration Changes"
 */

static void vfc_core_config_change_delivered(struct kunit *test)
{
	struct vfc_test_driver *td = vfc_test_new_driver(test, NULL, 0);
	struct vfc_fake *fake = vfc_fake_new(test, F_V1);
	unsigned long flags;

	vfc_test_add_fake(test, fake);
	vfc_test_add_driver(test, td);
	KUNIT_ASSERT_EQ(test, td->probes, 1U);
	KUNIT_EXPECT_EQ(test, td->config_changes, 0U);

	/* Transports report changes from their interrupt handler. */
	local_irq_save(flags);
	vfc_config_changed(&fake->vdev);
	local_irq_restore(flags);
	KUNIT_EXPECT_EQ(test, td->config_changes, 1U);
	KUNIT_EXPECT_EQ(test, td->status_at_change, S_LIVE);

	vfc_config_changed(&fake->vdev);
	KUNIT_EXPECT_EQ(test, td->config_changes, 2U);
}

/*
 * A change during probe is held until the driver is ready (DRIVER_OK),
 * then delivered once.
 */
static void vfc_core_config_change_during_probe(struct kunit *test)
{
	struct vfc_test_driver *td = vfc_test_new_driver(test, NULL, 0);
	struct vfc_fake *fake = vfc_fake_new(test, F_V1);

	td->probe_reports_change = true;
	vfc_test_add_fake(test, fake);
	vfc_test_add_driver(test, td);

	KUNIT_ASSERT_EQ(test, td->probes, 1U);
	KUNIT_EXPECT_EQ(test, td->changes_seen_in_probe, 0U);
	KUNIT_EXPECT_EQ(test, td->config_changes, 1U);
	KUNIT_EXPECT_EQ(test, td->status_at_change, S_LIVE);

	vfc_config_changed(&fake->vdev);
	KUNIT_EXPECT_EQ(test, td->config_changes, 2U);
}

/*
 * A change that arrives once remove has begun is neither delivered to the
 * driver being removed nor kept for the next one.
 */
static void vfc_core_config_change_during_remove(struct kunit *test)
{
	struct vfc_test_driver *old = vfc_test_new_driver(test, NULL, 0);
	struct vfc_test_driver *new = vfc_test_new_driver(test, NULL, 0);
	struct vfc_fake *fake = vfc_fake_new(test, F_V1);

	old->remove_reports_change = true;
	vfc_test_add_fake(test, fake);
	vfc_test_add_driver(test, old);
	KUNIT_ASSERT_EQ(test, old->probes, 1U);

	vfc_test_remove_driver(test, old);
	KUNIT_EXPECT_EQ(test, old->removes, 1U);
	KUNIT_EXPECT_EQ(test, old->config_changes, 0U);

	vfc_test_add_driver(test, new);
	KUNIT_ASSERT_EQ(test, new->probes, 1U);
	KUNIT_EXPECT_EQ(test, new->config_changes, 0U);
}

/* ------------------------------------------------------------------------
 * System sleep and shutdown
 */

/*
 * Freeze, then restore: the driver stops and resets the device; a config
 * change meanwhile waits; restore initialises the device again from reset
 * ("3.1.1 Driver Requirements: Device Initialization") with the features
 * accepted at probe, hands it to the driver before DRIVER_OK, and then
 * delivers the change that waited, once.
 */
static void vfc_core_freeze_restore(struct kunit *test)
{
	static const unsigned int features[] = { 3, 7 };
	/* The driver's reset in freeze, then restore's own. */
	static const u8 expected[] = {
		0,
		0,
		S_ACK,
		S_ACK | S_DRIVER,
		S_ACK | S_DRIVER | S_FEATURES_OK,
		S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK,
	};
	struct vfc_test_driver *td = vfc_test_new_driver(test, features,
						       ARRAY_SIZE(features));
	struct vfc_fake *fake = vfc_fake_new(test, F_V1 | BIT_ULL(3) |
					     BIT_ULL(5) | BIT_ULL(7));
	unsigned int logged;
	u64 accepted;

	vfc_test_add_fake(test, fake);
	vfc_test_add_driver(test, td);
	KUNIT_ASSERT_EQ(test, td->probes, 1U);
	accepted = fake->finalized;
	KUNIT_EXPECT_EQ(test, accepted, F_V1 | BIT_ULL(3) | BIT_ULL(7));

	logged = fake->log_len;
	KUNIT_ASSERT_EQ(test, vfc_device_freeze(&fake->vdev), 0);
	KUNIT_EXPECT_EQ(test, td->freezes, 1U);
	KUNIT_EXPECT_EQ(test, fake->status, 0);
	vfc_config_changed(&fake->vdev);
	KUNIT_EXPECT_EQ(test, td->config_changes, 0U);

	/* The device offers more now; only what was accepted comes back. */
	fake->device_features |= BIT_ULL(6);
	KUNIT_ASSERT_EQ(test, vfc_device_restore(&fake->vdev), 0);
	KUNIT_EXPECT_EQ(test, td->restores, 1U);
	KUNIT_EXPECT_EQ(test, td->probes, 1U);
	KUNIT_EXPECT_EQ(test, td->status_at_restore,
			S_ACK | S_DRIVER | S_FEATURES_OK);
	KUNIT_EXPECT_EQ(test, td->features_at_restore, accepted);
	vfc_fake_expect_log(test, fake, logged, expected, ARRAY_SIZE(expected));
	KUNIT_EXPECT_EQ(test, td->config_changes, 1U);
	KUNIT_EXPECT_EQ(test, td->status_at_change, S_LIVE);
	vfc_config_changed(&fake->vdev);
	KUNIT_EXPECT_EQ(test, td->config_changes, 2U);
}

/*
 * What keeps a device from sleeping, or from coming back: a driver that
 * cannot be frozen (the device carries on), a freeze that fails (the same),
 * a device that refuses the features it had accepted, a restore that
 * fails (both: FAILED, reset before the next probe).
 */
static void vfc_core_freeze_restore_fail(struct kunit *test)
{
	struct vfc_test_driver *td = vfc_test_new_driver(test, NULL, 0);
	struct vfc_fake *fake = vfc_fake_new(test, F_V1);
	unsigned int resets;

	vfc_test_add_fake(test, fake);
	vfc_test_add_driver(test, td);
	KUNIT_ASSERT_EQ(test, td->probes, 1U);

	td->drv.freeze = NULL;
	KUNIT_EXPECT_EQ(test, vfc_device_freeze(&fake->vdev), -EOPNOTSUPP);
	td->drv.freeze = vfc_test_freeze;
	td->freeze_err = -EBUSY;
	KUNIT_EXPECT_EQ(test, vfc_device_freeze(&fake->vdev), -EBUSY);
	KUNIT_EXPECT_EQ(test, fake->status, S_LIVE);
	vfc_config_changed(&fake->vdev);
	KUNIT_EXPECT_EQ(test, td->config_changes, 1U);
	td->freeze_err = 0;

	KUNIT_ASSERT_EQ(test, vfc_device_freeze(&fake->vdev), 0);
	fake->refuse_features_ok = true;
	KUNIT_EXPECT_EQ(test, vfc_device_restore(&fake->vdev), -ENODEV);
	KUNIT_EXPECT_EQ(test, td->restores, 0U);
	KUNIT_EXPECT_TRUE(test, fake->status & S_FAILED);
	KUNIT_EXPECT_TRUE(test, fake->vdev.failed);
	fake->refuse_features_ok = false;

	td->restore_err = -ENOMEM;
	KUNIT_EXPECT_EQ(test, vfc_device_restore(&fake->vdev), -ENOMEM);
	KUNIT_EXPECT_EQ(test, td->restores, 1U);
	KUNIT_EXPECT_TRUE(test, fake->status & S_FAILED);
	KUNIT_EXPECT_FALSE(test, fake->status & S_DRIVER_OK);
	vfc_config_changed(&fake->vdev);
	KUNIT_EXPECT_EQ(test, td->config_changes, 1U);

	/* The next probe starts from a reset device. */
	resets = fake->resets;
	vfc_test_remove_driver(test, td);
	td->restore_err = 0;
	vfc_test_add_driver(test, td);
	KUNIT_EXPECT_EQ(test, td->probes, 2U);
	KUNIT_EXPECT_GT(test, fake->resets, resets);
	KUNIT_EXPECT_EQ(test, fake->status, S_LIVE);
}

/*
 * DEVICE_NEEDS_RESET, which the device tells with a config change: the
 * change does not reach the driver; the device is reset and restored
 * through freeze and restore and is live again. A driver that cannot be
 * frozen is left alone, its queues broken. All ones is a device gone, not
 * one asking for a reset.
 */
/*
 * The conformance report keeps each kind apart, counts it, keeps the first
 * example; kinds beyond what it holds are counted as lost, not dropped
 * silently; clearing empties it.
 */
static void vfc_core_report(struct kunit *test)
{
	static const char *const kinds[VFC_REPORT_ENTRIES + 2] = {
		"k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7", "k8", "k9",
		"k10", "k11", "k12", "k13", "k14", "k15", "k16", "k17",
	};
	struct vfc_device *vdev = vfc_test_vdev_new("vfc-report", F_V1);
	struct vfc_report_entry e;
	unsigned int i;

	KUNIT_ASSERT_NOT_NULL(test, vdev);
	vfc_report_violation(vdev, "S", "k0", "first %d", 1);
	vfc_report_violation(vdev, "S", "k0", "second %d", 2);
	vfc_report_deviation(vdev, "T", "k1", "x");
	KUNIT_ASSERT_TRUE(test, vfc_report_get(vdev, "k0", &e));
	KUNIT_EXPECT_EQ(test, e.count, 2UL);
	KUNIT_EXPECT_STREQ(test, e.example, "first 1");
	KUNIT_EXPECT_TRUE(test, e.violation);
	KUNIT_EXPECT_LE(test, e.first, e.last);
	vfc_expect_report(test, vdev, "k1", "T", false, 1);

	for (i = 0; i < ARRAY_SIZE(kinds); i++)
		vfc_report_deviation(vdev, "S", kinds[i], "%u", i);
	KUNIT_EXPECT_EQ(test, vdev->report.nr, (unsigned int)VFC_REPORT_ENTRIES);
	KUNIT_EXPECT_EQ(test, vdev->report.lost, 2UL);
	KUNIT_EXPECT_FALSE(test, vfc_report_get(vdev, "k17", &e));

	vfc_report_clear(vdev);
	KUNIT_EXPECT_EQ(test, vdev->report.nr, 0U);
	KUNIT_EXPECT_EQ(test, vdev->report.lost, 0UL);
	KUNIT_EXPECT_FALSE(test, vfc_report_get(vdev, "k0", &e));
	put_device(&vdev->dev);
}

static void vfc_core_needs_reset(struct kunit *test)
{
	struct vfc_test_driver *td = vfc_test_new_driver(test, NULL, 0);
	struct vfc_fake *fake = vfc_fake_new(test, F_V1);
	unsigned int resets;

	vfc_test_add_fake(test, fake);
	vfc_test_add_driver(test, td);
	KUNIT_ASSERT_EQ(test, td->probes, 1U);

	resets = fake->resets;
	fake->status |= VIRTIO_CONFIG_S_NEEDS_RESET;
	vfc_config_changed(&fake->vdev);
	flush_work(&fake->vdev.reset_work);
	KUNIT_EXPECT_EQ(test, td->config_changes, 0U);
	KUNIT_EXPECT_EQ(test, td->freezes, 1U);
	KUNIT_EXPECT_EQ(test, td->restores, 1U);
	KUNIT_EXPECT_GT(test, fake->resets, resets);
	KUNIT_EXPECT_EQ(test, fake->status, S_LIVE);
	vfc_config_changed(&fake->vdev);
	KUNIT_EXPECT_EQ(test, td->config_changes, 1U);

	td->drv.freeze = NULL;
	fake->status |= VIRTIO_CONFIG_S_NEEDS_RESET;
	vfc_config_changed(&fake->vdev);
	flush_work(&fake->vdev.reset_work);
	KUNIT_EXPECT_EQ(test, td->freezes, 1U);
	KUNIT_EXPECT_EQ(test, td->restores, 1U);
	KUNIT_EXPECT_EQ(test, td->config_changes, 1U);
	td->drv.freeze = vfc_test_freeze;

	fake->status = 0xff;
	vfc_config_changed(&fake->vdev);
	flush_work(&fake->vdev.reset_work);
	KUNIT_EXPECT_EQ(test, td->freezes, 1U);
	KUNIT_EXPECT_EQ(test, td->config_changes, 2U);
	fake->status = S_LIVE;
	/* Both times in the conformance report: a deviation, handled. */
	vfc_expect_report(test, &fake->vdev, "DEVICE_NEEDS_RESET set",
			  "Device Status Field", false, 2);
}

/*
 * "Device Reset" never completing on the way out: the driver left the
 * device running, the core's reset fails. The device is left FAILED (not
 * acknowledged as ready for the next driver, which resets it first), and
 * remove completes.
 */
static void vfc_core_remove_reset_fails(struct kunit *test)
{
	struct vfc_test_driver *td = vfc_test_new_driver(test, NULL, 0);
	struct vfc_fake *fake = vfc_fake_new(test, F_V1);

	td->remove_resets = false;
	vfc_test_add_fake(test, fake);
	vfc_test_add_driver(test, td);
	KUNIT_ASSERT_EQ(test, td->probes, 1U);

	fake->reset_err = -ETIMEDOUT;
	vfc_test_remove_driver(test, td);
	fake->reset_err = 0;
	KUNIT_EXPECT_EQ(test, td->removes, 1U);
	/* The rest of the status is the device's: it never reset. */
	KUNIT_EXPECT_TRUE(test, fake->status & VIRTIO_CONFIG_S_FAILED);
	KUNIT_EXPECT_EQ(test, fake->vdev.features, 0ULL);
	KUNIT_EXPECT_NULL(test, fake->vdev.dev.driver);
}

/*
 * DEVICE_NEEDS_RESET with a reset that never completes (the driver's
 * freeze resets it): the queues are broken and the device is left FAILED;
 * no restore, no config change delivered, and the work ends.
 */
static void vfc_core_needs_reset_reset_fails(struct kunit *test)
{
	struct vfc_test_driver *td = vfc_test_new_driver(test, NULL, 0);
	struct vfc_fake *fake = vfc_fake_new(test, F_V1);

	vfc_test_add_fake(test, fake);
	vfc_test_add_driver(test, td);
	KUNIT_ASSERT_EQ(test, td->probes, 1U);

	fake->reset_err = -ETIMEDOUT;
	fake->status |= VIRTIO_CONFIG_S_NEEDS_RESET;
	vfc_config_changed(&fake->vdev);
	flush_work(&fake->vdev.reset_work);
	fake->reset_err = 0;
	KUNIT_EXPECT_EQ(test, td->freezes, 1U);
	KUNIT_EXPECT_EQ(test, td->restores, 0U);
	KUNIT_EXPECT_EQ(test, td->config_changes, 0U);
	KUNIT_EXPECT_TRUE(test, fake->status & VIRTIO_CONFIG_S_FAILED);
}

/*
 * Reboot and kexec: shutdown resets a device a driver uses and leaves one
 * without a driver as it is; no config change reaches the driver after.
 */
static void vfc_core_shutdown_resets(struct kunit *test)
{
	struct vfc_test_driver *td = vfc_test_new_driver(test, NULL, 0);
	struct vfc_fake *bound = vfc_fake_new(test, F_V1);
	struct vfc_fake *unbound = vfc_fake_new(test, F_V1);
	unsigned int resets;

	/* An id no test driver serves. */
	unbound->vdev.id.device = VFC_TEST_DEVICE_ID + 1;
	vfc_test_add_fake(test, bound);
	vfc_test_add_fake(test, unbound);
	vfc_test_add_driver(test, td);
	KUNIT_ASSERT_EQ(test, td->probes, 1U);
	KUNIT_ASSERT_NOT_NULL(test, bound->vdev.dev.driver);
	KUNIT_ASSERT_NULL(test, unbound->vdev.dev.driver);

	resets = bound->resets;
	bound->vdev.dev.bus->shutdown(&bound->vdev.dev);
	KUNIT_EXPECT_EQ(test, bound->resets, resets + 1);
	KUNIT_EXPECT_EQ(test, bound->status, 0);
	vfc_config_changed(&bound->vdev);
	KUNIT_EXPECT_EQ(test, td->config_changes, 0U);

	resets = unbound->resets;
	unbound->vdev.dev.bus->shutdown(&unbound->vdev.dev);
	KUNIT_EXPECT_EQ(test, unbound->resets, resets);
	KUNIT_EXPECT_EQ(test, unbound->status, S_ACK);
}

/* ------------------------------------------------------------------------
 * Unbinding: "3.3 Device Cleanup"
 */

struct vfc_test_remove_case {
	const char *name;
	bool driver_resets;
};

static const struct vfc_test_remove_case vfc_test_remove_cases[] = {
	{ "driver resets the device", true },
	{ "driver leaves the device running", false },
};

static void vfc_test_remove_desc(const struct vfc_test_remove_case *c,
				 char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(vfc_test_remove, vfc_test_remove_cases,
		  vfc_test_remove_desc);

/*
 * After remove the device is reset exactly once (by the driver or else by
 * the core, never before remove runs) and acknowledged again.
 */
static void vfc_core_remove_resets(struct kunit *test)
{
	static const u8 tail[] = { 0, S_ACK };
	const struct vfc_test_remove_case *c = test->param_value;
	struct vfc_test_driver *td = vfc_test_new_driver(test, NULL, 0);
	struct vfc_fake *fake = vfc_fake_new(test, F_V1);
	unsigned int resets, logged;

	td->remove_resets = c->driver_resets;
	vfc_test_add_fake(test, fake);
	vfc_test_add_driver(test, td);
	KUNIT_ASSERT_EQ(test, td->probes, 1U);

	resets = fake->resets;
	logged = fake->log_len;
	vfc_test_remove_driver(test, td);

	KUNIT_EXPECT_EQ(test, td->removes, 1U);
	KUNIT_EXPECT_EQ(test, td->resets_at_remove, resets);
	KUNIT_EXPECT_EQ(test, fake->resets, resets + 1);
	vfc_fake_expect_log(test, fake, logged, tail, ARRAY_SIZE(tail));
	KUNIT_EXPECT_EQ(test, fake->status, S_ACK);
	KUNIT_EXPECT_EQ(test, fake->vdev.features, 0ULL);
	KUNIT_EXPECT_NULL(test, fake->vdev.dev.driver);
	KUNIT_EXPECT_TRUE(test, device_is_registered(&fake->vdev.dev));
}

/* Unregistering a driver unbinds its devices; they stay for the next. */
static void vfc_core_unregister_driver_unbinds(struct kunit *test)
{
	struct vfc_test_driver *first = vfc_test_new_driver(test, NULL, 0);
	struct vfc_test_driver *second = vfc_test_new_driver(test, NULL, 0);
	struct vfc_fake *a, *b;

	a = vfc_fake_new(test, F_V1);
	vfc_test_add_fake(test, a);
	b = vfc_fake_new(test, F_V1);
	vfc_test_add_fake(test, b);
	vfc_test_add_driver(test, first);
	KUNIT_ASSERT_EQ(test, first->probes, 2U);

	vfc_test_remove_driver(test, first);
	KUNIT_EXPECT_EQ(test, first->removes, 2U);
	KUNIT_EXPECT_NULL(test, a->vdev.dev.driver);
	KUNIT_EXPECT_NULL(test, b->vdev.dev.driver);
	KUNIT_EXPECT_TRUE(test, device_is_registered(&a->vdev.dev));
	KUNIT_EXPECT_TRUE(test, device_is_registered(&b->vdev.dev));
	KUNIT_EXPECT_EQ(test, a->status, S_ACK);
	KUNIT_EXPECT_EQ(test, b->status, S_ACK);

	vfc_test_add_driver(test, second);
	KUNIT_EXPECT_EQ(test, second->probes, 2U);
	KUNIT_EXPECT_PTR_EQ(test, a->vdev.dev.driver, &second->drv.driver);
	KUNIT_EXPECT_PTR_EQ(test, b->vdev.dev.driver, &second->drv.driver);
	KUNIT_EXPECT_EQ(test, a->status, S_LIVE);
	KUNIT_EXPECT_EQ(test, b->status, S_LIVE);
}

/*
 * Unregistering a bound device runs the driver's remove and drops the
 * registration's reference: the fake is released once ours goes too.
 */
static void vfc_core_unregister_device_removes(struct kunit *test)
{
	struct vfc_test_driver *td = vfc_test_new_driver(test, NULL, 0);
	struct vfc_fake *fake = vfc_fake_new(test, F_V1);
	int releases;

	vfc_test_add_driver(test, td);
	vfc_test_add_fake(test, fake);
	KUNIT_ASSERT_EQ(test, td->probes, 1U);

	get_device(&fake->vdev.dev);
	releases = vfc_fake_releases();
	vfc_test_remove_fake(test, fake);
	KUNIT_EXPECT_EQ(test, td->removes, 1U);
	KUNIT_EXPECT_FALSE(test, device_is_registered(&fake->vdev.dev));
	KUNIT_EXPECT_EQ(test, vfc_fake_releases(), releases);
	put_device(&fake->vdev.dev);
	KUNIT_EXPECT_EQ(test, vfc_fake_releases(), releases + 1);
}

/* ------------------------------------------------------------------------
 * Config space: "2.5.1 Driver Requirements: Device Configuration Space"
 */

struct vfc_test_read_case {
	const char *name;
	bool no_generation;
	unsigned int changes;
	int err;
	unsigned int reads;
};

static const struct vfc_test_read_case vfc_test_read_cases[] = {
	{ "no generation counter", true, 0, 0, 1 },
	{ "stable generation", false, 0, 0, 1 },
	{ "generation settles after two changes", false, 2, 0, 3 },
	{ "generation never settles", false, UINT_MAX, -EAGAIN,
	  VFC_CONFIG_READ_TRIES },
};

static void vfc_test_read_desc(const struct vfc_test_read_case *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(vfc_test_read, vfc_test_read_cases, vfc_test_read_desc);

/* Read until the generation is the same after the read as before it. */
static void vfc_core_config_read(struct kunit *test)
{
	static const u8 expected[4] = { 4, 5, 6, 7 };
	const struct vfc_test_read_case *c = test->param_value;
	struct vfc_fake *fake = vfc_fake_new(test, F_V1);
	u8 buf[4] = { };
	int err;

	if (c->no_generation)
		fake->ops.generation = NULL;
	vfc_test_add_fake(test, fake);

	fake->changes_during_get = c->changes;
	err = vfc_config_read(&fake->vdev, 4, buf, sizeof(buf));
	KUNIT_EXPECT_EQ(test, err, c->err);
	KUNIT_EXPECT_EQ(test, fake->config_reads, c->reads);
	if (c->no_generation)
		KUNIT_EXPECT_EQ(test, fake->generation_reads, 0U);
	else
		KUNIT_EXPECT_GT(test, fake->generation_reads, fake->config_reads);
	KUNIT_EXPECT_EQ(test, memcmp(buf, expected, sizeof(buf)), 0);
}

static void vfc_core_config_write(struct kunit *test)
{
	struct vfc_fake *fake = vfc_fake_new(test, F_V1);
	static const u8 val[2] = { 0xaa, 0x55 };

	vfc_test_add_fake(test, fake);
	vfc_config_write(&fake->vdev, 8, val, sizeof(val));
	KUNIT_EXPECT_EQ(test, fake->config[7], 7);
	KUNIT_EXPECT_EQ(test, fake->config[8], 0xaa);
	KUNIT_EXPECT_EQ(test, fake->config[9], 0x55);
	KUNIT_EXPECT_EQ(test, fake->config[10], 10);
}

/* ------------------------------------------------------------------------
 * Registration
 */

struct vfc_test_op_case {
	const char *name;
	bool no_config;
	size_t offset;
};

#define VFC_TEST_OP(op) { "without " #op, false, \
			  offsetof(struct vfc_config_ops, op) }

static const struct vfc_test_op_case vfc_test_op_cases[] = {
	{ "without config ops", true, 0 },
	VFC_TEST_OP(get),
	VFC_TEST_OP(set),
	VFC_TEST_OP(get_status),
	VFC_TEST_OP(set_status),
	VFC_TEST_OP(reset),
	VFC_TEST_OP(find_vqs),
	VFC_TEST_OP(del_vqs),
	VFC_TEST_OP(get_features),
	VFC_TEST_OP(finalize_features),
};

static void vfc_test_op_desc(const struct vfc_test_op_case *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(vfc_test_op, vfc_test_op_cases, vfc_test_op_desc);

/*
 * Refused before the device is touched; put_device() then frees it, as the
 * kernel-doc of vfc_register_device() tells callers to do.
 */
static void vfc_core_register_missing_op(struct kunit *test)
{
	const struct vfc_test_op_case *c = test->param_value;
	struct vfc_fake *fake = vfc_fake_new(test, F_V1);
	int releases = vfc_fake_releases();
	unsigned int resets;
	int err;

	if (c->no_config)
		fake->vdev.config = NULL;
	else
		memset((u8 *)&fake->ops + c->offset, 0, sizeof(fake->ops.get));

	err = vfc_register_device(&fake->vdev);
	resets = fake->resets;
	put_device(&fake->vdev.dev);

	KUNIT_EXPECT_EQ(test, err, -EINVAL);
	KUNIT_EXPECT_EQ(test, resets, 0U);
	KUNIT_EXPECT_EQ(test, vfc_fake_releases(), releases + 1);
}

/*
 * "3.1.1 Driver Requirements: Device Initialization", step 1: a device
 * that does not reset is not added, and its index is given back.
 */
static void vfc_core_register_reset_fails(struct kunit *test)
{
	struct vfc_fake *fake = vfc_fake_new(test, F_V1);
	int releases = vfc_fake_releases();
	struct vfc_fake *next;
	bool registered;
	int err, index;

	fake->reset_err = -ETIMEDOUT;
	err = vfc_register_device(&fake->vdev);
	index = fake->vdev.index;
	registered = device_is_registered(&fake->vdev.dev);
	put_device(&fake->vdev.dev);

	KUNIT_EXPECT_EQ(test, err, -ETIMEDOUT);
	KUNIT_EXPECT_FALSE(test, registered);
	KUNIT_EXPECT_EQ(test, vfc_fake_releases(), releases + 1);

	/*
	 * The IDA hands out the lowest free index, so a leaked one shows as
	 * the next device getting another number. Assumes no other vfc
	 * device registers meanwhile.
	 */
	next = vfc_fake_new(test, F_V1);
	vfc_test_add_fake(test, next);
	KUNIT_EXPECT_EQ(test, next->vdev.index, index);
}

struct vfc_test_bad_driver_case {
	const char *name;
	unsigned int feature;
	bool no_name, no_id_table, no_probe, no_remove;
};

static const struct vfc_test_bad_driver_case vfc_test_bad_driver_cases[] = {
	{ .name = "feature number 64", .feature = 64 },
	{ .name = "feature number 4096", .feature = 4096 },
	{ .name = "no name", .no_name = true },
	{ .name = "no id table", .no_id_table = true },
	{ .name = "no probe", .no_probe = true },
	{ .name = "no remove", .no_remove = true },
};

static void vfc_test_bad_driver_desc(const struct vfc_test_bad_driver_case *c,
				     char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(vfc_test_bad_driver, vfc_test_bad_driver_cases,
		  vfc_test_bad_driver_desc);

static void vfc_core_register_bad_driver(struct kunit *test)
{
	const struct vfc_test_bad_driver_case *c = test->param_value;
	const unsigned int table[] = { 1, c->feature };
	struct vfc_test_driver *td;
	int err;

	td = vfc_test_new_driver(test, table, c->feature ? 2 : 1);
	if (c->no_name)
		td->drv.driver.name = NULL;
	if (c->no_id_table)
		td->drv.id_table = NULL;
	if (c->no_probe)
		td->drv.probe = NULL;
	if (c->no_remove)
		td->drv.remove = NULL;

	err = vfc_test_register(td);
	if (!err)
		vfc_unregister_driver(&td->drv);
	KUNIT_EXPECT_EQ(test, err, -EINVAL);
}

/* ------------------------------------------------------------------------
 * Names: the device name, sysfs attributes and the uevent
 */

static void vfc_core_name_and_uevent(struct kunit *test)
{
	struct kobj_uevent_env *env;
	struct vfc_fake *a, *b;
	char name[16];

	a = vfc_fake_new(test, F_V1);
	vfc_test_add_fake(test, a);
	b = vfc_fake_new(test, F_V1);
	vfc_test_add_fake(test, b);
	snprintf(name, sizeof(name), "vfc%d", a->vdev.index);
	KUNIT_EXPECT_STREQ(test, dev_name(&a->vdev.dev), name);
	KUNIT_EXPECT_NE(test, a->vdev.index, b->vdev.index);

	env = kunit_kzalloc(test, sizeof(*env), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, env);
	KUNIT_ASSERT_NOT_NULL(test, a->vdev.dev.bus->uevent);
	KUNIT_ASSERT_EQ(test, a->vdev.dev.bus->uevent(&a->vdev.dev, env), 0);
	KUNIT_ASSERT_EQ(test, env->envp_idx, 1);
	KUNIT_EXPECT_STREQ(test, env->envp[0],
			   "MODALIAS=vfc:d0000FC01v00005646");
}

struct vfc_test_attr_case {
	const char *name;
	const char *expected;
};

/* For a bound device with features 0, 3 and VERSION_1 (32). */
static const struct vfc_test_attr_case vfc_test_attr_cases[] = {
	{ "device", "0xfc01\n" },
	{ "vendor", "0x5646\n" },
	{ "status", "0x0000000f\n" },
	/* Bit 0 first: 1 at positions 0, 3 and 32. */
	{ "features",
	  "1001000000000000000000000000000010000000000000000000000000000000\n" },
	{ "modalias", "vfc:d0000FC01v00005646\n" },
};

static void vfc_test_attr_desc(const struct vfc_test_attr_case *c,
			       char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(vfc_test_attr, vfc_test_attr_cases, vfc_test_attr_desc);

static struct device_attribute *vfc_test_find_attr(struct device *dev,
						   const char *name)
{
	const struct attribute_group **group;
	struct attribute **attr;

	for (group = dev->bus->dev_groups; group && *group; group++)
		for (attr = (*group)->attrs; attr && *attr; attr++)
			if (!strcmp((*attr)->name, name))
				return container_of(*attr,
						    struct device_attribute,
						    attr);
	return NULL;
}

/* The bus's device attributes, read through their show functions. */
static void vfc_core_sysfs_attr(struct kunit *test)
{
	static const unsigned int table[] = { 0, 3 };
	const struct vfc_test_attr_case *c = test->param_value;
	struct vfc_fake *fake;
	struct vfc_test_driver *td;
	struct device_attribute *attr;
	char *buf;
	ssize_t len;

	td = vfc_test_new_driver(test, table, ARRAY_SIZE(table));
	fake = vfc_fake_new(test, F_V1 | BIT_ULL(0) | BIT_ULL(3) | BIT_ULL(5));
	vfc_test_add_fake(test, fake);
	vfc_test_add_driver(test, td);
	KUNIT_ASSERT_EQ(test, td->probes, 1U);

	attr = vfc_test_find_attr(&fake->vdev.dev, c->name);
	KUNIT_ASSERT_NOT_NULL(test, attr);
	KUNIT_ASSERT_NOT_NULL(test, attr->show);

	/* sysfs hands show() a page; sysfs_emit() insists on one. */
	buf = kunit_kzalloc(test, PAGE_SIZE, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	len = attr->show(&fake->vdev.dev, attr, buf);
	KUNIT_EXPECT_EQ(test, len, (ssize_t)strlen(c->expected));
	KUNIT_EXPECT_STREQ(test, buf, c->expected);
}

/* ------------------------------------------------------------------------
 * The suite
 */

static int vfc_core_test_init(struct kunit *test)
{
	test->priv = kunit_kzalloc(test, sizeof(struct vfc_test_ctx),
				   GFP_KERNEL);
	return test->priv ? 0 : -ENOMEM;
}

/* Runs after a failed assertion too: leave nothing registered behind. */
static void vfc_core_test_exit(struct kunit *test)
{
	struct vfc_test_ctx *ctx = test->priv;
	unsigned int i;

	if (!ctx)
		return;
	for (i = 0; i < VFC_TEST_MAX_DRIVERS; i++)
		if (ctx->drivers[i])
			vfc_test_remove_driver(test, ctx->drivers[i]);
	for (i = 0; i < VFC_TEST_MAX_FAKES; i++)
		if (ctx->fakes[i])
			vfc_test_remove_fake(test, ctx->fakes[i]);
}

static struct kunit_case vfc_core_test_cases[] = {
	KUNIT_CASE_PARAM(vfc_core_match, vfc_test_match_gen_params),
	KUNIT_CASE(vfc_core_status_sequence),
	KUNIT_CASE(vfc_core_probe_on_device_add),
	KUNIT_CASE_PARAM(vfc_core_feature_negotiation,
			 vfc_test_features_gen_params),
	KUNIT_CASE(vfc_core_validate_drops_feature),
	KUNIT_CASE_PARAM(vfc_core_probe_failure, vfc_test_fail_gen_params),
	KUNIT_CASE(vfc_core_failed_device_reset_before_retry),
	KUNIT_CASE(vfc_core_driver_sets_ready),
	KUNIT_CASE(vfc_core_config_change_delivered),
	KUNIT_CASE(vfc_core_config_change_during_probe),
	KUNIT_CASE(vfc_core_config_change_during_remove),
	KUNIT_CASE_PARAM(vfc_core_remove_resets, vfc_test_remove_gen_params),
	KUNIT_CASE(vfc_core_freeze_restore),
	KUNIT_CASE(vfc_core_freeze_restore_fail),
	KUNIT_CASE(vfc_core_report),
	KUNIT_CASE(vfc_core_needs_reset),
	KUNIT_CASE(vfc_core_needs_reset_reset_fails),
	KUNIT_CASE(vfc_core_remove_reset_fails),
	KUNIT_CASE(vfc_core_shutdown_resets),
	KUNIT_CASE(vfc_core_unregister_driver_unbinds),
	KUNIT_CASE(vfc_core_unregister_device_removes),
	KUNIT_CASE_PARAM(vfc_core_config_read, vfc_test_read_gen_params),
	KUNIT_CASE(vfc_core_config_write),
	KUNIT_CASE_PARAM(vfc_core_register_missing_op,
			 vfc_test_op_gen_params),
	KUNIT_CASE(vfc_core_register_reset_fails),
	KUNIT_CASE_PARAM(vfc_core_register_bad_driver,
			 vfc_test_bad_driver_gen_params),
	KUNIT_CASE(vfc_core_name_and_uevent),
	KUNIT_CASE_PARAM(vfc_core_sysfs_attr, vfc_test_attr_gen_params),
	{}
};

static struct kunit_suite vfc_core_test_suite = {
	.name = "vfc_core",
	.init = vfc_core_test_init,
	.exit = vfc_core_test_exit,
	.test_cases = vfc_core_test_cases,
};

kunit_test_suite(vfc_core_test_suite);

MODULE_IMPORT_NS(VFC_NS);
MODULE_IMPORT_NS(VFC_TEST_NS);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("KUnit tests for the vfc core");
