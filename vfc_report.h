/* SPDX-License-Identifier: GPL-2.0 */
/*
 * virtio_report.c's side of vfc.ko: the conformance report's summary and
 * the debugfs files (the report itself is public: include/vfc/vfc.h).
 */
#ifndef _VFC_REPORT_H
#define _VFC_REPORT_H

struct vfc_device;

void vfc_report_summary(struct vfc_device *vdev);
void vfc_debugfs_add(struct vfc_device *vdev);
void vfc_debugfs_remove(struct vfc_device *vdev);
void vfc_debugfs_init(void);
void vfc_debugfs_exit(void);

#endif /* _VFC_REPORT_H */
