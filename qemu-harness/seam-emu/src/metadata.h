// SPDX-License-Identifier: GPL-2.0
// Global metadata (TDH.SYS.RD / TDH.SYS.RDALL): the field table and the md_list writer.
#pragma once

#include <vector>

#include <tdx/abi/metadata.h>

#include "guest_memory.h"
#include "profile.h"

namespace seam_emu {

/* One single-element field: canonical id (context 0, no sequence bits) and its value. */
struct MdField {
	u64 id;
	u64 value;
};

class GlobalMetadata {
public:
	GlobalMetadata(const ModuleImage &m, const std::vector<PhysRange> &cmrs);

	struct ReadResult {
		u64 status;
		u64 next_id; /* rdx out: the next field in the context, or kFieldIdNone */
		u64 value;   /* r8 out */
	};
	/* TDH.SYS.RD semantics for one field id (LP/state checks are the caller's). */
	ReadResult read(u64 field_id) const;

	struct DumpResult {
		u64 status;
		u64 next_id; /* r8 out: first field not written, or kFieldIdNone when the context is done */
	};
	/* TDH.SYS.RDALL: write an md_list into `buf` (buf_size bytes) starting at first_id. */
	DumpResult dump(u64 first_id, u8 *buf, u64 buf_size) const;

	const std::vector<MdField> &fields() const { return fields_; }

	/*
	 * Fields whose value the module learns later (EXT_REQUIRED and MEMORY_POOL_REQUIRED_PAGES after
	 * SYS.CONFIG, MAX_QUOTE_SIZE after QUOTE.INIT): until publish()ed they do not exist, so SYS.RD
	 * answers TDX_METADATA_FIELD_ID_INCORRECT and SYS.RDALL leaves them out; withdraw() undoes it.
	 */
	void publish(u64 id, u64 value);
	void withdraw(u64 id);
	bool has(u64 id) const { return find(id) >= 0; }

	/* True if the id is MD_FIELD_ID_NA (context code bits ignored). */
	static bool is_null_id(u64 id);

private:
	int find(u64 field_id) const; /* index by class + field code, or -1 */
	void add(u64 id, u64 value);

	std::vector<MdField> fields_; /* sorted by (class, field code) */
};

} // namespace seam_emu
