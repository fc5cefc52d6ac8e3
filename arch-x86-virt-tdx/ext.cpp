// SPDX-License-Identifier: GPL-2.0
/* Add-on features, HPA_LIST_INFO batches and the extension memory pool (see ext.h). */
#include "ext.h"

#include <kapi/kapi.h>
#include <kstd/new.h>

namespace tdx {

namespace {

struct AddOnName {
	u64 bit;
	const char *name;
};
constexpr AddOnName kAddOnNames[] = {
	{abi::features0::kQuote, "QUOTE"},
};

/* Appends s to buf (NUL-terminated, truncated at size). */
void append(char *buf, usize size, usize &len, const char *s)
{
	for (; *s && len + 1 < size; s++)
		buf[len++] = *s;
	buf[len] = '\0';
}

} // namespace

const char *addon_names(u64 addons, char *buf, usize size)
{
	if (!size)
		return buf;
	usize len = 0;
	buf[0] = '\0';
	for (const AddOnName &n : kAddOnNames) {
		if (!(addons & n.bit))
			continue;
		if (len)
			append(buf, size, len, " ");
		append(buf, size, len, n.name);
	}
	if (!len)
		append(buf, size, len, "none");
	return buf;
}

Status ExtPool::alloc(u64 nr_pages)
{
	reset();
	usize nr = usize(hpa_list_nr_batches(nr_pages));
	if (!nr)
		return error(err::kEINVAL);
	void *mem = kapi_kzalloc(nr * sizeof(Batch));
	if (!mem)
		return error(err::kENOMEM);
	batches_ = static_cast<Batch *>(mem);
	for (usize i = 0; i < nr; i++)
		new (&batches_[i]) Batch();
	nr_batches_ = nr;
	nr_pages_ = nr_pages;
	for (usize i = 0; i < nr; i++) {
		batches_[i].pages = PageRun::alloc(u64(hpa_list_batch(nr_pages, i).nr) * kPageSize);
		if (!batches_[i].pages) {
			reset();
			return error(err::kENOMEM);
		}
		kapi_cond_resched_if_may_sleep();
	}
	return Status::ok();
}

u64 ExtPool::pages_given() const
{
	u64 n = 0;
	for (usize i = 0; i < nr_batches_; i++)
		n += batches_[i].given.pages();
	return n;
}

u64 ExtPool::fill_list(usize i, const PageRun &list) const
{
	const PageRun &run = batches_[i].pages;
	auto *entries = static_cast<u64 *>(list.va());
	u32 nr = u32(run.pages());
	for (u32 k = 0; k < nr; k++)
		entries[k] = (run.pa() + u64(k) * kPageSize).value();
	return hpa_list_info_for(list.pa(), nr);
}

void ExtPool::give(usize i)
{
	batches_[i].given = batches_[i].pages.give_to_module();
}

void ExtPool::free_not_given()
{
	for (usize i = 0; i < nr_batches_; i++)
		batches_[i].pages.reset();
}

void ExtPool::take_back_after_disable()
{
	for (usize i = 0; i < nr_batches_; i++)
		batches_[i].given.take_back_after_disable().reset();
}

u64 ExtPool::abandon_to_module()
{
	u64 bytes = 0;
	for (usize i = 0; i < nr_batches_; i++)
		bytes += batches_[i].given.abandon_to_module();
	return bytes;
}

void ExtPool::reset()
{
	if (!batches_)
		return;
	free_not_given();
	(void)abandon_to_module();
	for (usize i = 0; i < nr_batches_; i++)
		batches_[i].~Batch();
	kapi_kfree(batches_);
	batches_ = nullptr;
	nr_batches_ = 0;
	nr_pages_ = 0;
}

} // namespace tdx
