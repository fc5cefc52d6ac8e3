// SPDX-License-Identifier: GPL-2.0
/*
 * Runtime TDX module update, the tdx_host device's side (ABI.md §10): the P-SEAMLDR's sysfs
 * attributes and the firmware-upload entry /sys/class/firmware/tdx_module/. The core does the
 * work (tdx_core_update: validation, preflight, the stop_machine window); this file maps it onto
 * fw_upload's protocol and error strings.
 */
#include <linux/device.h>
#include <linux/err.h>
#include <linux/firmware.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/sysfs.h>
#include <kapi/compat.h>

#include <kapi/kapi.h>

#include "update.h"

#if TDX_HAVE_FW_UPLOAD_FW_INVALID
#define TDX_FW_INVALID FW_UPLOAD_ERR_FW_INVALID
#else
#define TDX_FW_INVALID FW_UPLOAD_ERR_HW_ERROR
#endif

/* ---- sysfs: seamldr_version, num_remaining_updates (0400, only while an update is offered) ---- */

static ssize_t seamldr_version_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	struct tdx_seamldr_version v;
	int ret = tdx_core_seamldr_version(&v); /* a fresh SEAMLDR.INFO per read */

	if (ret)
		return ret;
	return sysfs_emit(buf, "%u.%u.%02u\n", v.major, v.minor, v.update);
}
static DEVICE_ATTR_ADMIN_RO(seamldr_version);

static ssize_t num_remaining_updates_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	struct tdx_seamldr_version v;
	int ret = tdx_core_seamldr_version(&v);

	if (ret)
		return ret;
	return sysfs_emit(buf, "%u\n", v.num_remaining_updates);
}
static DEVICE_ATTR_ADMIN_RO(num_remaining_updates);

static struct attribute *tdx_update_attrs[] = {
	&dev_attr_seamldr_version.attr,
	&dev_attr_num_remaining_updates.attr,
	NULL,
};

static umode_t tdx_update_visible(struct kobject *kobj, struct attribute *attr, int n)
{
	return tdx_core_update_supported() ? attr->mode : 0;
}

const struct attribute_group tdx_update_group = {
	.attrs = tdx_update_attrs,
	.is_visible = tdx_update_visible,
};

/* ---- fw_upload: tdx_module ---- */

static struct tdx_upload {
	struct fw_upload *fwl;
	struct mutex lock;  /* cancel against the start of the install */
	bool cancelled;     /* asked before the install began */
	bool installing;    /* from here on cancel is refused */
	bool pinned;        /* this upload holds a reference on the module */
} upload = {
	.lock = __MUTEX_INITIALIZER(upload.lock),
};

/* The core's errors as fw_upload's: what `error` shows after "<progress>:". */
static enum fw_upload_err tdx_fw_err(int ret)
{
	switch (ret) {
	case 0:
		return FW_UPLOAD_ERR_NONE;
	case -EBUSY:
	case -EAGAIN:
		return FW_UPLOAD_ERR_BUSY;
	case -EINVAL:
	case -EIO:
		return TDX_FW_INVALID;
	default:
		return FW_UPLOAD_ERR_HW_ERROR;
	}
}

static void tdx_fw_cleanup(struct fw_upload *fwl)
{
	bool pinned;

	tdx_core_update_abort(); /* the prepared update, when it was not installed */
	mutex_lock(&upload.lock);
	pinned = upload.pinned;
	upload.pinned = false;
	upload.installing = false;
	mutex_unlock(&upload.lock);
	if (pinned)
		module_put(THIS_MODULE);
}

static enum fw_upload_err tdx_fw_prepare(struct fw_upload *fwl, const u8 *data, u32 size)
{
	int ret;

	/*
	 * The entry was registered without pinning the module (rmmod works while no update is in
	 * flight); an upload pins it until cleanup.
	 */
	if (!try_module_get(THIS_MODULE))
		return FW_UPLOAD_ERR_BUSY;
	mutex_lock(&upload.lock);
	upload.pinned = true;
	upload.cancelled = false;
	upload.installing = false;
	mutex_unlock(&upload.lock);
	/* Everything that can refuse the image without stopping anything: header, preflight. */
	ret = tdx_core_update_prepare(data, size);
	if (ret)
		tdx_fw_cleanup(fwl); /* fw_upload calls no cleanup after a failed prepare */
	return tdx_fw_err(ret);
}

static enum fw_upload_err tdx_fw_write(struct fw_upload *fwl, const u8 *data, u32 offset, u32 size,
				       u32 *written)
{
	int ret;

	mutex_lock(&upload.lock);
	if (upload.cancelled) {
		mutex_unlock(&upload.lock);
		pr_info("tdx_host: update: cancelled before the install began; nothing changed\n");
		return FW_UPLOAD_ERR_CANCELED;
	}
	upload.installing = true;
	mutex_unlock(&upload.lock);

	/* prepare() checked the whole payload; this one call installs it. */
	ret = tdx_core_update_install();
	*written = size;
	return tdx_fw_err(ret);
}

static enum fw_upload_err tdx_fw_poll_complete(struct fw_upload *fwl)
{
	return FW_UPLOAD_ERR_NONE; /* write() did the install and reported it */
}

static void tdx_fw_cancel(struct fw_upload *fwl)
{
	mutex_lock(&upload.lock);
	if (!upload.installing)
		upload.cancelled = true;
	else
		pr_info("tdx_host: update: cancel refused: the install has begun\n");
	mutex_unlock(&upload.lock);
}

static const struct fw_upload_ops tdx_fw_ops = {
	.prepare = tdx_fw_prepare,
	.write = tdx_fw_write,
	.poll_complete = tdx_fw_poll_complete,
	.cancel = tdx_fw_cancel,
	.cleanup = tdx_fw_cleanup,
};

int tdx_update_register(struct device *parent)
{
	struct fw_upload *fwl;
	const char *why = tdx_core_update_unsupported();

	if (why) {
		pr_info("tdx_host: runtime update not offered: %s\n", why);
		return 0;
	}
	/*
	 * firmware_upload_register() pins its owner until unregister; unregistering happens in our
	 * exit, which a pinned module never reaches. So the registration does not pin (the module
	 * reference is dropped at once) and each upload pins for its own duration (prepare/cleanup).
	 */
	fwl = firmware_upload_register(THIS_MODULE, parent, "tdx_module", &tdx_fw_ops, NULL);
	if (IS_ERR(fwl)) {
		pr_err("tdx_host: update: no firmware upload entry (%ld)\n", PTR_ERR(fwl));
		return PTR_ERR(fwl);
	}
	module_put(THIS_MODULE);
	upload.fwl = fwl;
	return 0;
}

void tdx_update_unregister(void)
{
	if (!upload.fwl)
		return;
	/* firmware_upload_unregister() drops the reference the registration took: give it one. */
	__module_get(THIS_MODULE);
	/* Cancels an upload that has not begun its install, and waits for one in progress. */
	firmware_upload_unregister(upload.fwl);
	upload.fwl = NULL;
}
