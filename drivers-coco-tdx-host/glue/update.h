/* SPDX-License-Identifier: GPL-2.0 */
/* Runtime update's sysfs attributes and fw_upload entry (update.c). */
#ifndef TDX_HOST_UPDATE_H
#define TDX_HOST_UPDATE_H

struct device;

/* seamldr_version, num_remaining_updates: visible only while runtime update is offered. */
extern const struct attribute_group tdx_update_group;
/* /sys/class/firmware/tdx_module/ under parent, when runtime update is offered; 0 or -errno. */
int tdx_update_register(struct device *parent);
void tdx_update_unregister(void);

#endif
