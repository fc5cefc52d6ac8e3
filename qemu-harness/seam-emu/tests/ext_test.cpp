// SPDX-License-Identifier: GPL-2.0
// Module extensions (ABI.md §6, §7): SYS.CONFIG v1, the extensions' metadata, TDH.EXT.MEM.ADD and
// its HPA lists, TDH.EXT.INIT, the pool's integrity record, its release by SYS.DISABLE, and the
// emulator's "ext" control command and fault rules for the two leaves.
#include <set>

#include <nlohmann/json.hpp>

#include <tdx/abi/leaves.h>

#include "emulator.h"
#include "test_support.h"

namespace seam_emu::test {
namespace {

using json = nlohmann::json;

constexpr u64 kRam = 128 * kMiB;
/* one_tdmr_layout(): TDMR_INFO at 64 KiB, PAMTs from 56 MiB. Lists and pool stay clear of both. */
constexpr u64 kListArea = 4 * kMiB;
constexpr u64 kPoolArea = 64 * kMiB; /* room for 16384 pages below the 128 MiB of RAM */
constexpr u64 kPamtPage = 56 * kMiB;
constexpr u64 kNotRam = 200 * kMiB;

struct ExtCfg {
	u32 pool_pages = 64;
	bool required = true;
	bool quote = true;
	u32 add_budget = 64;
	u32 init_budget = 64;
};

Profile ext_profile(ExtCfg c = {})
{
	Profile p = default_profile();
	p.tdx_features0 |= features0::kExt | (c.quote ? features0::kQuote : 0);
	p.ext.required = c.required;
	p.ext.pool_pages = c.pool_pages;
	p.ext.mem_add_budget_entries = c.add_budget;
	p.ext.init_budget_pages = c.init_budget;
	p.quote.max_quote_size = 12345;
	return p;
}

std::vector<u64> consecutive_pages(u64 n, u64 at = kPoolArea)
{
	std::vector<u64> v;
	for (u64 i = 0; i < n; i++)
		v.push_back(at + i * kPageSize);
	return v;
}

/* Writes `pages` as a list page at list_pa; returns the HPA_LIST_INFO for all of them. */
u64 write_list(const GuestMemory &mem, u64 list_pa, const std::vector<u64> &pages)
{
	EXPECT_LE(pages.size(), HpaListInfo::kEntries);
	EXPECT_FALSE(pages.empty());
	std::vector<u64> page(HpaListInfo::kEntries, 0xDEADBEEF000ull);
	std::copy(pages.begin(), pages.end(), page.begin());
	EXPECT_TRUE(mem.write(list_pa, page.data(), kPageSize));
	return HpaListInfo::make(list_pa, 0, unsigned(pages.size() - 1)).raw();
}

bool page_is(const GuestMemory &mem, u64 pa, u64 word)
{
	const u8 *p = mem.ptr(pa, kPageSize);
	for (u64 off = 0; off < kPageSize; off += 8) {
		u64 w;
		std::memcpy(&w, p + off, 8);
		if (w != word)
			return false;
	}
	return true;
}

class Ext : public ModelTest {
protected:
	explicit Ext(ExtCfg c = {}) : ModelTest(kRam, ext_profile(c)) {}

	void remake(const Profile &p)
	{
		profile_ = p;
		m_ = std::make_unique<Module>(profile_, mem_);
	}
	u64 config_v(u8 version, u64 addons, u64 r11 = 0)
	{
		TdmrLayout l = one_tdmr_layout(profile_);
		write_layout(mem_, l, profile_);
		RegBlock r{};
		r.rcx = l.array_pa;
		r.rdx = l.tdmrs.size();
		r.r8 = 32;
		r.r9 = addons;
		r.r11 = r11;
		return call_rax(0, rax(leaf::kSysConfig, version), r);
	}
	/* SYS.INIT .. SYS_READY with SYS.CONFIG v1 and `addons`. */
	void ready(u64 addons = features0::kQuote, u8 version = 1)
	{
		sys_init();
		lp_init_all();
		ASSERT_EQ(config_v(version, addons), status::kSuccess);
		key_config_all();
		ASSERT_EQ(m_->state(), SysState::kSysReady);
	}
	u64 mem_add(u64 info, u32 lp = 0)
	{
		RegBlock r{};
		r.rcx = info;
		return call_rax(lp, rax(leaf::kExtMemAdd), r);
	}
	u64 list_of(const std::vector<u64> &pages, u64 list_pa = kListArea) { return write_list(mem_, list_pa, pages); }
	/* SYS.RD; the status, the value in *v. */
	u64 rd(u64 id, u64 *v = nullptr)
	{
		u64 st = call(0, leaf::kSysRd, 0, id);
		if (v)
			*v = out_.r8;
		return st;
	}

	/* The host's loop: a list page per 512 pages, each re-issued with the module's rcx while resumable. */
	struct AddRun {
		u64 calls = 0;
		u64 status = status::kSuccess;
	};
	AddRun add_pages(const std::vector<u64> &pages, u64 list_at = kListArea)
	{
		AddRun run;
		for (size_t off = 0, li = 0; off < pages.size(); off += HpaListInfo::kEntries, li++) {
			size_t n = std::min<size_t>(HpaListInfo::kEntries, pages.size() - off);
			std::vector<u64> chunk(pages.begin() + off, pages.begin() + off + n);
			RegBlock r{};
			r.rcx = write_list(mem_, list_at + li * kPageSize, chunk);
			for (int guard = 0; guard < 1000; guard++) {
				run.calls++;
				run.status = call_rax(0, rax(leaf::kExtMemAdd), r);
				if (run.status != status::kInterruptedResumable)
					break;
				EXPECT_EQ(HpaListInfo(out_.rcx).list_pa(), HpaListInfo(r.rcx).list_pa());
				r = out_; /* the same registers, rcx as the module rewrote it */
			}
			if (run.status != status::kSuccess)
				return run;
		}
		return run;
	}
	/* EXT.INIT until it is no longer resumable; *calls counts them. */
	u64 ext_init_all(u64 *calls)
	{
		u64 st = status::kSuccess;
		*calls = 0;
		for (int guard = 0; guard < 100000; guard++) {
			++*calls;
			st = call(0, leaf::kExtInit);
			if (st != status::kInterruptedResumable)
				break;
		}
		return st;
	}
	const ExtState &ext() const { return m_->ext(); }
	u64 pool_bytes() const { return m_->pages().bytes(PageOwner::kExtPool); }
};

/* ---- SYS.CONFIG v1 ---------------------------------------------------------------------------- */

class ExtOnly : public Ext {
protected:
	ExtOnly() : Ext(ExtCfg{16, true, false}) {}
};

TEST_F(ExtOnly, SysConfigV1RefusesWhatTheImageDoesNotOffer)
{
	sys_init();
	lp_init_all();
	/* QUOTE is an add-on, but this image does not report it. */
	EXPECT_EQ(config_v(1, features0::kQuote), status::kOperandInvalid | kOperandIdR9);
	/* A bit no module defines. */
	EXPECT_EQ(config_v(1, 1ull << 40), status::kOperandInvalid | kOperandIdR9);
	/* Reported, but not an add-on. */
	ASSERT_TRUE(profile_.tdx_features0 & features0::kTdPreserving);
	EXPECT_EQ(config_v(1, features0::kTdPreserving), status::kOperandInvalid | kOperandIdR9);
	/* r11 (untrusted time) must be 0, with or without add-ons. */
	EXPECT_EQ(config_v(1, 0, 1), status::kOperandInvalid | kOperandIdR11);
	EXPECT_EQ(config_v(1, features0::kExt, ~0ull), status::kOperandInvalid | kOperandIdR11);
	EXPECT_EQ(kOperandIdR11, 11u);
	/* Nothing changed: no state, no PAMT taken, no extension configured. */
	EXPECT_EQ(m_->state(), SysState::kSysinitDone);
	EXPECT_EQ(m_->pages().bytes(), 0u);
	EXPECT_FALSE(ext().configured());
	EXPECT_EQ(rd(field::kExtRequired), status::kMetadataFieldIdIncorrect);

	/* Bit 39 is accepted and has no effect of its own. */
	EXPECT_EQ(config_v(1, features0::kExt), status::kSuccess);
	EXPECT_EQ(m_->addons(), features0::kExt);
	EXPECT_TRUE(ext().configured());
	EXPECT_FALSE(ext().quote_enabled());
}

TEST_F(ExtOnly, SysConfigV0IgnoresR9AndR11)
{
	sys_init();
	lp_init_all();
	EXPECT_EQ(config_v(0, 1ull << 40, 7), status::kSuccess);
	EXPECT_EQ(m_->addons(), 0u);
}

TEST_F(Ext, SysConfigV1WithQuote)
{
	sys_init();
	lp_init_all();
	EXPECT_EQ(config_v(1, features0::kQuote | features0::kExt), status::kSuccess);
	EXPECT_TRUE(ext().quote_enabled());
	EXPECT_TRUE(ext().required());
	EXPECT_EQ(ext().required_pages(), 64u);
}

/* Which add-ons make the extensions needed (profiles/README.md). */
TEST_F(Ext, RequirementsFollowTheAddOns)
{
	struct Case {
		bool profile_required;
		u8 version;
		u64 addons;
		u64 ext_required, pages;
	} cases[] = {
		{false, 0, 0, 0, 0},
		{false, 1, features0::kExt, 0, 0}, /* bit 39 alone: no effect */
		{false, 1, features0::kQuote, 1, 64},
		{false, 1, features0::kQuote | features0::kExt, 1, 64},
		{true, 0, 0, 1, 64},
		{true, 1, features0::kExt, 1, 64},
	};
	for (const Case &c : cases) {
		remake(ext_profile(ExtCfg{64, c.profile_required}));
		sys_init();
		lp_init_all();
		ASSERT_EQ(config_v(c.version, c.addons), status::kSuccess);
		u64 v;
		ASSERT_EQ(rd(field::kExtRequired, &v), status::kSuccess);
		EXPECT_EQ(v, c.ext_required) << c.profile_required << " v" << int(c.version) << " " << c.addons;
		ASSERT_EQ(rd(field::kMemoryPoolRequiredPages, &v), status::kSuccess);
		EXPECT_EQ(v, c.pages) << c.profile_required << " v" << int(c.version) << " " << c.addons;
		EXPECT_EQ(ext().quote_enabled(), bool(c.addons & features0::kQuote));
	}
}

/* ---- metadata --------------------------------------------------------------------------------- */

/* A field's class and code: what identifies it whatever its element size and sequence bits. */
u64 key(u64 id) { return (((id >> kFieldClassShift) & kFieldClassMask) << 24) | (id & kFieldCodeMask); }

class ExtMd : public Ext {
protected:
	/* The fields an RDALL from the beginning returns (each element of a sequence on its own). */
	std::set<u64> rdall()
	{
		const u64 page = 0x30000;
		std::set<u64> ids;
		EXPECT_EQ(call(0, leaf::kSysRdAll, 0, page, kFieldIdNone), status::kSuccess);
		const u8 *p = mem_.ptr(page, kPageSize);
		MdListHeader h;
		std::memcpy(&h, p, sizeof(h));
		u64 off = sizeof(h);
		for (unsigned s = 0; s < h.num_sequences; s++) {
			u64 id;
			std::memcpy(&id, p + off, 8);
			off += 8;
			const u64 n = ((id >> kFieldLastInSeqShift) & kFieldLastInSeqMask) + 1;
			for (u64 k = 0; k < n; k++, off += 8)
				ids.insert(key(id) + k);
		}
		return ids;
	}
};

TEST_F(ExtMd, FieldsReadableOnlyOnceKnown)
{
	sys_init();
	lp_init_all();
	const size_t base_fields = m_->metadata().fields().size();
	/* Before SYS.CONFIG: not fields yet. */
	for (u64 id : {field::kExtRequired, field::kMemoryPoolRequiredPages, field::kMaxQuoteSize})
		EXPECT_EQ(rd(id), status::kMetadataFieldIdIncorrect) << std::hex << id;
	std::set<u64> ids = rdall();
	EXPECT_EQ(ids.size(), base_fields);
	EXPECT_FALSE(ids.count(key(field::kExtRequired)));

	ASSERT_EQ(config_v(1, features0::kQuote), status::kSuccess);
	u64 v;
	EXPECT_EQ(rd(field::kExtRequired, &v), status::kSuccess);
	EXPECT_EQ(v, 1u);
	EXPECT_EQ(rd(field::kMemoryPoolRequiredPages, &v), status::kSuccess);
	EXPECT_EQ(v, 64u);
	/* MAX_QUOTE_SIZE waits for QUOTE.INIT. */
	EXPECT_EQ(rd(field::kMaxQuoteSize), status::kMetadataFieldIdIncorrect);
	ids = rdall();
	EXPECT_EQ(ids.size(), base_fields + 2);
	EXPECT_TRUE(ids.count(key(field::kExtRequired)));
	EXPECT_TRUE(ids.count(key(field::kMemoryPoolRequiredPages)));
	EXPECT_FALSE(ids.count(key(field::kMaxQuoteSize)));
	/* The element sizes of ABI.md §6: the id must say them for RDALL to start there. */
	EXPECT_EQ(call(0, leaf::kSysRdAll, 0, 0x30000, field::kMemoryPoolRequiredPages), status::kSuccess);
	EXPECT_EQ(call(0, leaf::kSysRdAll, 0, 0x30000, field::kExtRequired | (3ull << kFieldElemSizeShift)),
		  status::kMetadataFieldIdIncorrect);

	m_->set_quote_initialized(true);
	EXPECT_EQ(rd(field::kMaxQuoteSize, &v), status::kSuccess);
	EXPECT_EQ(v, 12345u);
	EXPECT_EQ(rdall().size(), base_fields + 3);
	m_->set_quote_initialized(false);
	EXPECT_EQ(rd(field::kMaxQuoteSize), status::kMetadataFieldIdIncorrect);

	/* SYS.DISABLE forgets them; the next bring-up learns them again at its SYS.CONFIG. */
	m_->set_quote_initialized(true);
	ASSERT_EQ(call(0, leaf::kSysDisable), status::kInterruptedResumable);
	ASSERT_EQ(call(0, leaf::kSysDisable), status::kSuccess);
	sys_init();
	lp_init_all();
	for (u64 id : {field::kExtRequired, field::kMemoryPoolRequiredPages, field::kMaxQuoteSize})
		EXPECT_EQ(rd(id), status::kMetadataFieldIdIncorrect) << std::hex << id;
	EXPECT_EQ(m_->metadata().fields().size(), base_fields);
	ASSERT_EQ(config_v(0, 0), status::kSuccess);
	EXPECT_EQ(rd(field::kExtRequired, &v), status::kSuccess);
	EXPECT_EQ(v, 1u); /* this profile's extensions are required */
}

TEST_F(ExtMd, NoFieldsWithoutTheFeatures)
{
	/* The default image reports neither EXT nor QUOTE: the fields never exist. */
	remake(default_profile());
	sys_init();
	lp_init_all();
	ASSERT_EQ(config_v(1, 0), status::kSuccess);
	m_->set_quote_initialized(true);
	for (u64 id : {field::kExtRequired, field::kMemoryPoolRequiredPages, field::kMaxQuoteSize})
		EXPECT_EQ(rd(id), status::kMetadataFieldIdIncorrect) << std::hex << id;

	/* EXT without QUOTE: the pool fields, never MAX_QUOTE_SIZE. */
	remake(ext_profile(ExtCfg{16, true, false}));
	sys_init();
	lp_init_all();
	ASSERT_EQ(config_v(0, 0), status::kSuccess);
	m_->set_quote_initialized(true);
	EXPECT_EQ(rd(field::kExtRequired), status::kSuccess);
	EXPECT_EQ(rd(field::kMaxQuoteSize), status::kMetadataFieldIdIncorrect);
}

/* ---- where the leaves run --------------------------------------------------------------------- */

TEST_F(Ext, LeavesOnlyInSysReady)
{
	const u64 info = list_of({kPoolArea});
	EXPECT_EQ(mem_add(info), status::kSysNotReady);
	EXPECT_EQ(call(0, leaf::kExtInit), status::kSysNotReady);
	sys_init();
	lp_init_all();
	ASSERT_EQ(config_v(1, features0::kQuote), status::kSuccess);
	EXPECT_EQ(mem_add(info), status::kSysNotReady);
	EXPECT_EQ(call(0, leaf::kExtInit), status::kSysNotReady);
	key_config_all();
	EXPECT_EQ(mem_add(info), status::kSuccess);
	EXPECT_EQ(ext().pool().size(), 1u);
}

TEST_F(Ext, UnknownLeavesWithoutExt)
{
	remake(default_profile());
	bring_up();
	EXPECT_EQ(mem_add(list_of({kPoolArea})), status::kOperandInvalid | kOperandIdRax);
	EXPECT_EQ(call(0, leaf::kExtInit), status::kOperandInvalid | kOperandIdRax);
	EXPECT_EQ(m_->pages().bytes(PageOwner::kExtPool), 0u);
	EXPECT_TRUE(Module::implemented(leaf::kExtMemAdd));
	EXPECT_TRUE(Module::implemented(leaf::kExtInit));
}

TEST_F(Ext, NothingToAddWhenNotNeeded)
{
	/* Not required and QUOTE not enabled: no pool; any page is one too many; EXT.INIT has nothing to do. */
	remake(ext_profile(ExtCfg{64, false}));
	ready(0, 0);
	EXPECT_EQ(mem_add(list_of({kPoolArea})), status::kSysStateIncorrect);
	EXPECT_EQ(ext().last_reject(), ExtReject::kPoolFull);
	EXPECT_EQ(ext().pool().size(), 0u);
	EXPECT_EQ(call(0, leaf::kExtInit), status::kSuccess);
	EXPECT_TRUE(ext().init_done());
}

/* ---- TDH.EXT.MEM.ADD: refusals ------------------------------------------------------------------ */

class ExtAdd : public Ext {
protected:
	ExtAdd() : Ext(ExtCfg{8}) {}
	void SetUp() override { ready(); }
	/* A list-level refusal: status, nothing taken, no list counted, rcx unchanged. */
	void expect_list_refused(u64 info, u64 st, ExtReject why)
	{
		const size_t pool = ext().pool().size();
		const u64 lists = ext().lists();
		EXPECT_EQ(mem_add(info), st) << std::hex << info;
		EXPECT_EQ(out_.rcx, info);
		EXPECT_EQ(ext().pool().size(), pool);
		EXPECT_EQ(ext().lists(), lists);
		EXPECT_EQ(ext().last_reject(), why) << ext_reject_name(ext().last_reject());
	}
	/* [good, bad]: the good page is taken, the bad one refused with rcx pointing at it. */
	void expect_entry_refused(u64 good, u64 bad, u64 st, ExtReject why, u64 list_pa = kListArea)
	{
		const size_t pool = ext().pool().size();
		const u64 info = list_of({good, bad}, list_pa);
		EXPECT_EQ(mem_add(info), st) << std::hex << bad;
		EXPECT_EQ(HpaListInfo(out_.rcx).first(), 1u);
		EXPECT_EQ(HpaListInfo(out_.rcx).last(), 1u);
		EXPECT_EQ(HpaListInfo(out_.rcx).list_pa(), list_pa);
		EXPECT_EQ(ext().pool().size(), pool + 1);
		EXPECT_TRUE(ext().in_pool(good));
		EXPECT_EQ(ext().last_reject(), why) << ext_reject_name(ext().last_reject());
		EXPECT_EQ(ext().last_reject_pa(), bad);
	}
};

TEST_F(ExtAdd, ListInfoReservedBitsAndOrder)
{
	const u64 info = list_of({kPoolArea, kPoolArea + kPageSize});
	for (unsigned bit : {0u, 1u, 2u, 52u, 53u, 54u})
		expect_list_refused(info | (1ull << bit), status::kOperandInvalid | kOperandIdRcx, ExtReject::kListInfo);
	/* last < first */
	expect_list_refused(HpaListInfo::make(kListArea, 1, 0).raw(), status::kOperandInvalid | kOperandIdRcx,
			    ExtReject::kListInfo);
	/* first = last is one entry: fine. */
	EXPECT_EQ(mem_add(HpaListInfo::make(kListArea, 1, 1).raw()), status::kSuccess);
	EXPECT_EQ(ext().pool(), std::vector<u64>{kPoolArea + kPageSize});
}

TEST_F(ExtAdd, ListPageNotRamOrOwned)
{
	expect_list_refused(HpaListInfo::make(kNotRam, 0, 0).raw(), status::kOperandAddrRangeError | kOperandIdRcx,
			    ExtReject::kListPageNotRam);
	expect_list_refused(HpaListInfo::make((1ull << 52) - kPageSize, 0, 0).raw(),
			    status::kOperandAddrRangeError | kOperandIdRcx, ExtReject::kListPageNotRam);
	/* A PAMT page, then a pool page, as the list. */
	expect_list_refused(HpaListInfo::make(kPamtPage, 0, 0).raw(), status::kOperandInvalid | kOperandIdRcx,
			    ExtReject::kListPageOwned);
	ASSERT_EQ(mem_add(list_of({kPoolArea})), status::kSuccess);
	expect_list_refused(HpaListInfo::make(kPoolArea, 0, 0).raw(), status::kOperandInvalid | kOperandIdRcx,
			    ExtReject::kListPageOwned);
}

TEST_F(ExtAdd, MisalignedEntries)
{
	expect_entry_refused(kPoolArea, kPoolArea + 0x800, status::kOperandInvalid | kOperandIdRcx,
			     ExtReject::kMisaligned);
	expect_entry_refused(kPoolArea + kPageSize, 1ull << 52, status::kOperandInvalid | kOperandIdRcx,
			     ExtReject::kMisaligned);
}

TEST_F(ExtAdd, EntriesOutsideRam)
{
	expect_entry_refused(kPoolArea, kNotRam, status::kOperandAddrRangeError | kOperandIdRcx, ExtReject::kNotRam);
	expect_entry_refused(kPoolArea + kPageSize, kRam, status::kOperandAddrRangeError | kOperandIdRcx,
			     ExtReject::kNotRam);
}

TEST_F(ExtAdd, DuplicatesOwnedPagesAndTheListItself)
{
	/* Twice in one list, then again in another. */
	expect_entry_refused(kPoolArea, kPoolArea, status::kOperandInvalid | kOperandIdRcx, ExtReject::kDuplicate);
	expect_entry_refused(kPoolArea + kPageSize, kPoolArea, status::kOperandInvalid | kOperandIdRcx,
			     ExtReject::kDuplicate);
	/* A PAMT page: owned by the module in another role. */
	ASSERT_EQ(m_->pages().find(kPamtPage)->owner, PageOwner::kPamt);
	expect_entry_refused(kPoolArea + 2 * kPageSize, kPamtPage, status::kOperandInvalid | kOperandIdRcx,
			     ExtReject::kOwned);
	expect_entry_refused(kPoolArea + 3 * kPageSize, kListArea, status::kOperandInvalid | kOperandIdRcx,
			     ExtReject::kListPage);
	EXPECT_EQ(m_->pages().find(kPamtPage)->owner, PageOwner::kPamt);
	EXPECT_EQ(m_->pages().find(kPoolArea)->owner, PageOwner::kExtPool);
}

TEST_F(ExtAdd, NoMoreThanRequired)
{
	/* 8 required: a list of 10 gives 8, then the 9th is refused with rcx pointing at it. */
	const u64 info = list_of(consecutive_pages(10));
	EXPECT_EQ(mem_add(info), status::kSysStateIncorrect);
	EXPECT_EQ(HpaListInfo(out_.rcx).first(), 8u);
	EXPECT_EQ(ext().pool().size(), 8u);
	EXPECT_EQ(pool_bytes(), 8 * kPageSize);
	EXPECT_EQ(ext().last_reject(), ExtReject::kPoolFull);
	EXPECT_FALSE(m_->pages().find(kPoolArea + 8 * kPageSize));
	/* Full: anything more is refused, even a page that would be refused anyway. */
	EXPECT_EQ(mem_add(list_of({kPoolArea + 0x10})), status::kSysStateIncorrect);
	EXPECT_EQ(ext().pool().size(), 8u);
}

TEST_F(ExtAdd, PagesAreClearedAndOwned)
{
	std::vector<u8> junk(kPageSize, 0x5A);
	mem_.write(kPoolArea, junk.data(), junk.size());
	ASSERT_EQ(mem_add(list_of({kPoolArea})), status::kSuccess);
	EXPECT_TRUE(page_is(mem_, kPoolArea, 0));
	const OwnedRange *r = m_->pages().find(kPoolArea + 100);
	ASSERT_NE(r, nullptr);
	EXPECT_EQ(r->owner, PageOwner::kExtPool);
	EXPECT_STREQ(page_owner_name(r->owner), "ext_pool");
	EXPECT_EQ(r->size, kPageSize);
}

/* ---- resumption and call counts ----------------------------------------------------------------- */

class ExtResume : public Ext {
protected:
	ExtResume() : Ext(ExtCfg{12, true, true, 4, 5}) {}
};

TEST_F(ExtResume, RcxRewrittenAndReissued)
{
	ready();
	const u64 info = list_of(consecutive_pages(10));
	RegBlock r{};
	r.rcx = info;
	ASSERT_EQ(call_rax(0, rax(leaf::kExtMemAdd), r), status::kInterruptedResumable);
	EXPECT_EQ(out_.rcx, HpaListInfo(info).with_first(4).raw());
	EXPECT_EQ(ext().pool().size(), 4u);
	/* The same registers again, on another LP. */
	r = out_;
	ASSERT_EQ(call_rax(1, rax(leaf::kExtMemAdd), r), status::kInterruptedResumable);
	EXPECT_EQ(out_.rcx, HpaListInfo(info).with_first(8).raw());
	EXPECT_EQ(HpaListInfo(out_.rcx).last(), 9u);
	EXPECT_EQ(HpaListInfo(out_.rcx).list_pa(), kListArea);
	r = out_;
	ASSERT_EQ(call_rax(0, rax(leaf::kExtMemAdd), r), status::kSuccess);
	EXPECT_EQ(ext().pool(), consecutive_pages(10));
	EXPECT_EQ(ext().lists(), 1u); /* resumptions are not new lists */
	/* Part of a list (entries 2..3 of another list page) is a list of its own. */
	const u64 part = list_of(consecutive_pages(4, kPoolArea + 10 * kPageSize), kListArea + kPageSize);
	ASSERT_EQ(mem_add(HpaListInfo(part).with_first(2).raw()), status::kSuccess);
	EXPECT_EQ(ext().lists(), 2u);
	EXPECT_EQ(ext().pool().size(), 12u);
	EXPECT_EQ(ext().pool().back(), kPoolArea + 13 * kPageSize);
}

TEST_F(ExtResume, ARefusalEndsTheResumption)
{
	ready();
	std::vector<u64> pages = consecutive_pages(6);
	pages[5] = kPamtPage;
	const u64 info = list_of(pages);
	ASSERT_EQ(mem_add(info), status::kInterruptedResumable);
	RegBlock r = out_;
	ASSERT_EQ(call_rax(0, rax(leaf::kExtMemAdd), r), status::kOperandInvalid | kOperandIdRcx);
	EXPECT_EQ(HpaListInfo(out_.rcx).first(), 5u);
	EXPECT_EQ(ext().pool().size(), 5u);
	EXPECT_EQ(ext().lists(), 1u);
	/* The host fixes the entry and calls with the rcx it got: a fresh call, not a resumption. */
	u64 fixed = kPoolArea + 20 * kPageSize;
	mem_.write(kListArea + 5 * 8, &fixed, 8);
	ASSERT_EQ(mem_add(out_.rcx), status::kSuccess);
	EXPECT_EQ(ext().pool().size(), 6u);
	EXPECT_EQ(ext().lists(), 2u);
}

struct PoolCase {
	u32 pages;
	u64 mem_add_calls; /* 64 entries per call, 512 per list */
	u64 lists;
	u64 init_calls; /* 64 pages per call, at least one call */
};

/* How ctest names the cases (gtest_discover_tests shows the parameter). */
void PrintTo(const PoolCase &c, std::ostream *os) { *os << c.pages << "_pages"; }

class ExtPool : public Ext, public ::testing::WithParamInterface<PoolCase> {
protected:
	ExtPool() : Ext(ExtCfg{GetParam().pages}) {}
};

TEST_P(ExtPool, ExactCallsListsAndInit)
{
	const PoolCase c = GetParam();
	ready();
	u64 pages;
	ASSERT_EQ(rd(field::kMemoryPoolRequiredPages, &pages), status::kSuccess);
	ASSERT_EQ(pages, c.pages);
	/* The host's rule: ceil(n / 512) lists of up to 512 entries. */
	EXPECT_EQ((pages + HpaListInfo::kEntries - 1) / HpaListInfo::kEntries, c.lists);
	/* Before the pool is complete EXT.INIT refuses. */
	if (pages > 0) {
		EXPECT_EQ(call(0, leaf::kExtInit), status::kSysStateIncorrect);
	}
	AddRun run = add_pages(consecutive_pages(pages));
	ASSERT_EQ(run.status, status::kSuccess);
	EXPECT_EQ(run.calls, c.mem_add_calls);
	EXPECT_EQ(ext().lists(), c.lists);
	EXPECT_EQ(ext().pool().size(), pages);
	EXPECT_EQ(pool_bytes(), pages * kPageSize);
	EXPECT_TRUE(ext().pool_complete());
	/* One page more is one too many. */
	EXPECT_EQ(mem_add(list_of({kPoolArea + pages * kPageSize}, kListArea + 100 * kPageSize)),
		  status::kSysStateIncorrect);

	u64 calls;
	EXPECT_EQ(ext_init_all(&calls), status::kSuccess);
	EXPECT_EQ(calls, c.init_calls);
	EXPECT_TRUE(ext().init_done());
	EXPECT_EQ(ext().init_next(), pages);
	if (pages > 0) {
		EXPECT_TRUE(page_is(mem_, kPoolArea, ExtState::kExtInitPattern));
		EXPECT_TRUE(page_is(mem_, kPoolArea + (pages - 1) * kPageSize, ExtState::kExtInitPattern));
	}
	EXPECT_EQ(m_->check_ext_integrity(), 0u);
	EXPECT_EQ(ext().integrity_violations(), 0u);
}

INSTANTIATE_TEST_SUITE_P(Sizes, ExtPool,
			 ::testing::Values(PoolCase{0, 0, 0, 1}, PoolCase{1, 1, 1, 1}, PoolCase{512, 8, 1, 8},
					   PoolCase{513, 9, 2, 9}, PoolCase{12800, 200, 25, 200}),
			 [](const ::testing::TestParamInfo<PoolCase> &i) { return std::to_string(i.param.pages); });

/* ---- TDH.EXT.INIT ------------------------------------------------------------------------------- */

TEST_F(ExtResume, ExtInitInChunks)
{
	ready();
	/* 12 pages required, 5 initialized per call. */
	ASSERT_EQ(add_pages(consecutive_pages(11)).status, status::kSuccess);
	EXPECT_EQ(call(0, leaf::kExtInit), status::kSysStateIncorrect);
	EXPECT_EQ(ext().init_next(), 0u);
	ASSERT_EQ(add_pages(consecutive_pages(1, kPoolArea + 11 * kPageSize), kListArea + kPageSize).status,
		  status::kSuccess);
	for (u64 done : {5u, 10u}) {
		ASSERT_EQ(call(0, leaf::kExtInit), status::kInterruptedResumable);
		EXPECT_EQ(ext().init_next(), done);
		EXPECT_FALSE(ext().init_done());
		EXPECT_TRUE(page_is(mem_, kPoolArea + (done - 1) * kPageSize, ExtState::kExtInitPattern));
		EXPECT_TRUE(page_is(mem_, kPoolArea + done * kPageSize, 0));
	}
	ASSERT_EQ(call(1, leaf::kExtInit), status::kSuccess);
	EXPECT_TRUE(ext().init_done());
	for (u64 pa : consecutive_pages(12))
		EXPECT_TRUE(page_is(mem_, pa, ExtState::kExtInitPattern)) << std::hex << pa;
	/* Done: again is refused, and so is more memory. */
	EXPECT_EQ(call(0, leaf::kExtInit), status::kSysStateIncorrect);
	EXPECT_EQ(mem_add(list_of({kPoolArea + 40 * kPageSize})), status::kSysStateIncorrect);
	EXPECT_EQ(ext().init_next(), 12u);
}

/* ---- integrity ---------------------------------------------------------------------------------- */

class ExtIntegrity : public Ext {
protected:
	ExtIntegrity() : Ext(ExtCfg{4, true, true, 64, 2}) {}
	void SetUp() override
	{
		ready();
		ASSERT_EQ(add_pages(consecutive_pages(4)).status, status::kSuccess);
	}
	void host_write(u64 pa, u8 v = 0x77) { ASSERT_TRUE(mem_.write(pa, &v, 1)); }
};

TEST_F(ExtIntegrity, HostWritesAreFoundOnce)
{
	EXPECT_EQ(m_->check_ext_integrity(), 0u);
	host_write(kPoolArea + 2 * kPageSize + 4095);
	EXPECT_EQ(m_->check_ext_integrity(), 1u);
	EXPECT_EQ(ext().integrity_violations(), 1u);
	EXPECT_EQ(ext().first_violation_pa(), kPoolArea + 2 * kPageSize);
	/* The same page is not counted again... */
	EXPECT_EQ(m_->check_ext_integrity(), 0u);
	host_write(kPoolArea + 2 * kPageSize + 17);
	EXPECT_EQ(m_->check_ext_integrity(), 0u);
	/* ...another one is, and the first stays the first. */
	host_write(kPoolArea + 1 * kPageSize);
	EXPECT_EQ(m_->check_ext_integrity(), 1u);
	EXPECT_EQ(ext().integrity_violations(), 2u);
	EXPECT_EQ(ext().first_violation_pa(), kPoolArea + 2 * kPageSize);
	/* Writing a page back to what the module wrote is no violation (the content is what counts). */
	u8 zero = 0;
	mem_.write(kPoolArea + 3 * kPageSize, &zero, 1);
	EXPECT_EQ(m_->check_ext_integrity(), 0u);
	/* A write outside the pool is none of its business. */
	host_write(kPoolArea + 4 * kPageSize);
	EXPECT_EQ(m_->check_ext_integrity(), 0u);
}

TEST_F(ExtIntegrity, ExtInitFindsWritesBeforeOverwritingAndRecordsItsOwn)
{
	host_write(kPoolArea);
	/* EXT.INIT checks each page before it writes it: found without an explicit check. */
	ASSERT_EQ(call(0, leaf::kExtInit), status::kInterruptedResumable);
	EXPECT_EQ(ext().integrity_violations(), 1u);
	EXPECT_EQ(ext().first_violation_pa(), kPoolArea);
	ASSERT_EQ(call(0, leaf::kExtInit), status::kSuccess);
	/* Its own writes are recorded: no violation from them. */
	EXPECT_EQ(m_->check_ext_integrity(), 0u);
	/* A host write after EXT.INIT, even to the page counted before, counts again. */
	host_write(kPoolArea + 5);
	host_write(kPoolArea + 3 * kPageSize);
	EXPECT_EQ(m_->check_ext_integrity(), 2u);
	EXPECT_EQ(ext().integrity_violations(), 3u);
}

TEST_F(ExtIntegrity, DisableLooksOnceMoreThenReleases)
{
	host_write(kPoolArea + kPageSize);
	ASSERT_EQ(call(0, leaf::kSysDisable), status::kInterruptedResumable);
	EXPECT_EQ(pool_bytes(), 4 * kPageSize); /* not released before it completes */
	ASSERT_EQ(call(0, leaf::kSysDisable), status::kSuccess);
	EXPECT_EQ(ext().integrity_violations(), 1u);
	EXPECT_EQ(ext().first_violation_pa(), kPoolArea + kPageSize);
	/* Released: the host may write the pages now. */
	EXPECT_EQ(pool_bytes(), 0u);
	host_write(kPoolArea + 2 * kPageSize);
	EXPECT_EQ(m_->check_ext_integrity(), 0u);
	EXPECT_EQ(ext().integrity_violations(), 1u); /* counted for the emulator's life */
}

/* ---- SYS.DISABLE -------------------------------------------------------------------------------- */

TEST_F(ExtResume, DisableReleasesThePoolAndResetsTheState)
{
	ready();
	ASSERT_EQ(add_pages(consecutive_pages(12)).status, status::kSuccess);
	ASSERT_EQ(call(0, leaf::kExtInit), status::kInterruptedResumable); /* EXT.INIT half way */
	ASSERT_EQ(call(0, leaf::kSysDisable), status::kInterruptedResumable);
	ASSERT_EQ(call(0, leaf::kSysDisable), status::kSuccess);
	EXPECT_EQ(pool_bytes(), 0u);
	EXPECT_EQ(m_->pages().bytes(), 0u);
	EXPECT_FALSE(ext().configured());
	EXPECT_TRUE(ext().pool().empty());
	EXPECT_EQ(ext().lists(), 0u);
	EXPECT_EQ(ext().init_next(), 0u);
	EXPECT_FALSE(ext().init_done());
	EXPECT_FALSE(ext().in_pool(kPoolArea));

	/* A second bring-up takes the same pages again, from a fresh count; a list left half way by a
	 * disable is not resumed by the next bring-up. */
	ready();
	const u64 info = list_of(consecutive_pages(10));
	ASSERT_EQ(mem_add(info), status::kInterruptedResumable);
	RegBlock half = out_;
	ASSERT_EQ(call(0, leaf::kSysDisable), status::kInterruptedResumable);
	ASSERT_EQ(call(0, leaf::kSysDisable), status::kSuccess);
	ready();
	/* The old resumption rcx is a fresh list now: entries 4..9 only. */
	ASSERT_EQ(call_rax(0, rax(leaf::kExtMemAdd), half), status::kInterruptedResumable);
	ASSERT_EQ(mem_add(out_.rcx), status::kSuccess);
	EXPECT_EQ(ext().lists(), 1u);
	EXPECT_EQ(ext().pool().size(), 6u);
	EXPECT_EQ(ext().pool().front(), kPoolArea + 4 * kPageSize);
	EXPECT_EQ(pool_bytes(), 6 * kPageSize);
}

/* ---- the module's locks ------------------------------------------------------------------------- */

TEST_F(ExtResume, ExtLeavesTakeTheGlobalLock)
{
	ready();
	const u64 info = list_of(consecutive_pages(8));
	std::vector<u64> inside;
	RegBlock r{};
	r.rcx = info;
	/* While a MEM.ADD is inside the module (its work done, its locks held), other LPs meet them. */
	u64 st = m_->seamcall(0, rax(leaf::kExtMemAdd), r, [&] {
		RegBlock o{};
		inside.push_back(m_->seamcall(1, rax(leaf::kExtInit), o));
		o = {};
		o.rcx = info;
		inside.push_back(m_->seamcall(1, rax(leaf::kExtMemAdd), o));
		o = {};
		inside.push_back(m_->seamcall(1, rax(leaf::kSysDisable), o));
		o = {};
		o.rdx = field::kExtRequired;
		inside.push_back(m_->seamcall(1, rax(leaf::kSysRd), o));
	});
	EXPECT_EQ(st, status::kInterruptedResumable);
	EXPECT_EQ(inside, (std::vector<u64>{status::kSysBusy, status::kSysBusy, status::kSysBusy, status::kSuccess}));
	EXPECT_EQ(ext().pool().size(), 4u);
	EXPECT_EQ(ext().lists(), 1u);
}

/* ---- the emulator: control channel and fault rules ------------------------------------------------ */

class ExtEmu : public EmulatorTest {
protected:
	ExtEmu() : EmulatorTest(kRam, ext_profile(ExtCfg{600})) {}
	void ready() { configure(1, features0::kQuote); }
	/* All of `n` pages from kPoolArea, lists of 512. */
	void add(u64 n)
	{
		std::vector<u64> pages = consecutive_pages(n);
		for (size_t off = 0, li = 0; off < n; off += 512, li++) {
			std::vector<u64> chunk(pages.begin() + off, pages.begin() + std::min<size_t>(n, off + 512));
			RegBlock r{};
			r.rcx = write_list(mem_, kListArea + li * kPageSize, chunk);
			u64 st;
			while ((st = serve(0, rax(leaf::kExtMemAdd), r)) == status::kInterruptedResumable)
				r = out_;
			ASSERT_EQ(st, status::kSuccess);
		}
	}
};

TEST_F(ExtEmu, ExtCommand)
{
	json j = ctl("ext");
	ASSERT_EQ(j["ok"], true) << j.dump();
	EXPECT_EQ(j["ext"]["reported"], true);
	EXPECT_EQ(j["ext"]["configured"], false);
	EXPECT_EQ(j["ext"]["pool_pages"], 0);
	ready();
	add(600);
	u64 st;
	while ((st = serve(1, rax(leaf::kExtInit))) == status::kInterruptedResumable) {
	}
	ASSERT_EQ(st, status::kSuccess);
	const std::string s = kv("ext");
	for (const char *want : {"ok ", " pool_pages=600 ", " lists=2 ", " required_pages=600 ", " ext_init_done=1 ",
				 " integrity_violations=0 ", " first_violation_pa=none ", " quote_enabled=1 "})
		EXPECT_NE(s.find(want), std::string::npos) << want << " in " << s;
	EXPECT_EQ(emu_.counter(leaf::kExtMemAdd), 10u); /* 8 + 2 calls of 64 entries */
	EXPECT_EQ(emu_.counter(leaf::kExtInit), 10u);   /* 600 / 64 */

	/* A host write, found by "ext check" (and only there: "ext" reports the last findings). */
	u8 v = 1;
	mem_.write(kPoolArea + 77 * kPageSize, &v, 1);
	EXPECT_EQ(ctl("ext")["ext"]["integrity_violations"], 0);
	j = ctl("ext check");
	ASSERT_EQ(j["ok"], true);
	EXPECT_EQ(j["ext"]["new_violations"], 1);
	EXPECT_EQ(j["ext"]["integrity_violations"], 1);
	EXPECT_EQ(j["ext"]["first_violation_pa"], "0x404d000"); /* kPoolArea + 77 pages */
	static_assert(kPoolArea + 77 * kPageSize == 0x404d000);
	const std::string again = kv("ext check");
	EXPECT_EQ(again.substr(again.rfind(' ')), " new_violations=0") << again;

	for (const char *bad : {"ext please", "ext check now", "ext pool", "ext pool x", "ext pool 600", "ext pool 1 2"})
		EXPECT_EQ(ctl(bad)["ok"], false) << bad;

	/* "ext pool I": the I-th page added, in the order the lists gave them. */
	EXPECT_EQ(kv("ext pool 0"), "ok pool0=0x4000000");
	EXPECT_EQ(ctl("ext pool 599")["pool599"], "0x4257000"); /* kPoolArea + 599 pages */
	static_assert(kPoolArea + 599 * kPageSize == 0x4257000);
}

TEST_F(ExtEmu, RejectionsAreNamed)
{
	ready();
	RegBlock r{};
	r.rcx = write_list(mem_, kListArea, {kPoolArea, kPamtPage});
	EXPECT_EQ(serve(0, rax(leaf::kExtMemAdd), r), status::kOperandInvalid | kOperandIdRcx);
	json j = ctl("ext");
	EXPECT_EQ(j["ext"]["last_reject"], "owned");
	EXPECT_EQ(j["ext"]["last_reject_value"], "0x3800000");
	EXPECT_EQ(j["ext"]["pool_pages"], 1);
}

TEST_F(ExtEmu, FaultsOnBothLeaves)
{
	ready();
	ASSERT_EQ(ctl("fault ext.mem.add 1 status 0xc000010100000001")["ok"], true);
	ASSERT_EQ(ctl("fault TDH.EXT.INIT 2 status 0x8000020200000000")["ok"], true);
	RegBlock r{};
	r.rcx = write_list(mem_, kListArea, {kPoolArea});
	EXPECT_EQ(serve(0, rax(leaf::kExtMemAdd), r), status::kOperandAddrRangeError | kOperandIdRcx);
	EXPECT_EQ(ctl("ext")["ext"]["pool_pages"], 0); /* the leaf did not run */
	EXPECT_EQ(serve(0, rax(leaf::kExtMemAdd), r), status::kSuccess);
	EXPECT_EQ(ctl("ext")["ext"]["pool_pages"], 1);
	/* EXT.INIT: the first call runs (the pool is incomplete), the second is the injected one. */
	EXPECT_EQ(serve(0, rax(leaf::kExtInit)), status::kSysStateIncorrect);
	EXPECT_EQ(serve(0, rax(leaf::kExtInit)), status::kSysBusy);
	EXPECT_EQ(ctl("faults")["faults"].size(), 0u);
	EXPECT_EQ(emu_.counter(leaf::kExtMemAdd), 2u);
	EXPECT_EQ(emu_.counter(leaf::kExtInit), 2u);
}

TEST(ExtEmuDefault, NoExtensions)
{
	RamBuffer ram(64 * kMiB);
	GuestMemory mem(ram.data(), ram.size());
	Emulator emu(default_profile(), mem);
	ControlFormat f = ControlFormat::kKv;
	std::string s = emu.control("ext", &f);
	EXPECT_NE(s.find(" reported=0 "), std::string::npos) << s;
	EXPECT_NE(s.find(" pool_pages=0 "), std::string::npos) << s;
	EXPECT_NE(s.find(" lists=0 "), std::string::npos) << s;
	EXPECT_NE(emu.control("ext check", &f).find(" new_violations=0"), std::string::npos);
}

} // namespace
} // namespace seam_emu::test
