/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vfc_rng's insides that its KUnit suite (tests/vfc_rng_dev_test.c)
 * reaches.
 */
#ifndef _VFC_RNG_INTERNAL_H
#define _VFC_RNG_INTERNAL_H

#if IS_ENABLED(CONFIG_KUNIT)
struct hwrng;
struct vfc_device;
struct hwrng *vfc_rng_test_hwrng(struct vfc_device *vdev);
#endif

#endif /* _VFC_RNG_INTERNAL_H */
