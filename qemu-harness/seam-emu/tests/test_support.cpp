// SPDX-License-Identifier: GPL-2.0
#include "test_support.h"

#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>

#include <tdx/abi/ext.h>
#include <tdx/abi/quote.h>
#include <tdx/abi/td.h>

namespace seam_emu::test {

RamBuffer::RamBuffer(u64 size) : size_(size)
{
	void *p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		throw std::runtime_error("mmap of test RAM failed");
	data_ = static_cast<u8 *>(p);
}

RamBuffer::~RamBuffer() { munmap(data_, size_); }

std::string profile_path(const std::string &name) { return std::string(SEAM_EMU_PROFILE_DIR) + "/" + name; }

Profile default_profile()
{
	ProfileResult r = load_profile(profile_path("default.json"));
	if (!r.profile)
		throw std::runtime_error(r.error);
	return *r.profile;
}

Profile default_profile_with(const std::function<void(Profile &)> &edit)
{
	Profile p = default_profile();
	edit(p);
	return p;
}

dice_quote::ReportData report_data_of(u8 seed)
{
	dice_quote::ReportData d;
	for (size_t i = 0; i < d.size(); i++)
		d[i] = u8(seed + i);
	return d;
}

RegBlock quote_get_regs(u64 tdr, u64 input, u64 node, u64 pages)
{
	RegBlock r{};
	r.rcx = tdr;
	r.rdx = quote_get_rdx(kQuoteIdDefault);
	r.r8 = input;
	r.r9 = tdreport::kSize;
	r.r10 = node;
	r.r11 = pages * kPageSize;
	return r;
}

std::vector<TdmrReservedArea> rsvd_list(const Profile &p, std::vector<TdmrReservedArea> areas)
{
	areas.resize(p.tdmr.max_reserved_per_tdmr, TdmrReservedArea{0, 0});
	return areas;
}

namespace {

TdmrDesc tdmr(const Profile &p, u64 base, u64 size, u64 pamt_at, std::vector<TdmrReservedArea> rsvd)
{
	TdmrDesc d;
	d.base = base;
	d.size = size;
	u64 at = pamt_at;
	for (PageLevel l : {PageLevel::k4K, PageLevel::k2M, PageLevel::k1G}) {
		u64 sz = (pamt_required_size(p, l, size) + kPageSize - 1) & ~(kPageSize - 1);
		d.pamt_base[unsigned(l)] = at;
		d.pamt_size[unsigned(l)] = sz;
		at += sz;
	}
	d.rsvd = rsvd_list(p, std::move(rsvd));
	return d;
}

} // namespace

TdmrLayout one_tdmr_layout(const Profile &p)
{
	TdmrLayout l;
	l.tdmrs.push_back(tdmr(p, 0, kGiB, 56 * kMiB, {{56 * kMiB, kGiB - 56 * kMiB}}));
	return l;
}

TdmrLayout two_tdmr_layout(const Profile &p)
{
	TdmrLayout l;
	l.tdmrs.push_back(tdmr(p, 0, kGiB, 56 * kMiB, {{48 * kMiB, kGiB - 48 * kMiB}}));
	l.tdmrs.push_back(tdmr(p, kGiB, kGiB, 48 * kMiB, {{0, kGiB}}));
	return l;
}

void write_layout(const GuestMemory &mem, const TdmrLayout &l, const Profile &p)
{
	const u64 stride = tdmr_info_stride(p.tdmr.max_reserved_per_tdmr);
	for (size_t i = 0; i < l.tdmrs.size(); i++) {
		const TdmrDesc &d = l.tdmrs[i];
		TdmrInfo info{};
		info.base = d.base;
		info.size = d.size;
		info.pamt_4k_base = d.pamt_base[0];
		info.pamt_4k_size = d.pamt_size[0];
		info.pamt_2m_base = d.pamt_base[1];
		info.pamt_2m_size = d.pamt_size[1];
		info.pamt_1g_base = d.pamt_base[2];
		info.pamt_1g_size = d.pamt_size[2];
		u64 pa = l.info_pa + i * stride;
		ASSERT_TRUE(mem.write(pa, &info, sizeof(info)));
		ASSERT_TRUE(mem.write(pa + sizeof(info), d.rsvd.data(), d.rsvd.size() * sizeof(TdmrReservedArea)));
		ASSERT_TRUE(mem.write(l.array_pa + i * 8, &pa, 8));
	}
}

ModelTest::ModelTest(u64 ram_size, Profile p)
	: profile_(p), ram_(ram_size), mem_(ram_.data(), ram_.size()), m_(std::make_unique<Module>(profile_, mem_))
{
}

u64 ModelTest::call_rax(u32 lp, u64 rax_in, RegBlock in)
{
	out_ = in;
	return m_->seamcall(lp, rax_in, out_);
}

u64 ModelTest::call(u32 lp, u16 leaf, u64 rcx, u64 rdx, u64 r8)
{
	RegBlock r{};
	r.rcx = rcx;
	r.rdx = rdx;
	r.r8 = r8;
	return call_rax(lp, leaf_rax(leaf), r);
}

void ModelTest::sys_init() { ASSERT_EQ(call(0, leaf::kSysInit), status::kSuccess); }

void ModelTest::lp_init_all()
{
	for (u32 lp = 0; lp < profile_.lps; lp++)
		ASSERT_EQ(call(lp, leaf::kSysLpInit), status::kSuccess) << "lp " << lp;
}

u64 ModelTest::config(const TdmrLayout &l, u64 keyid, u8 version, u64 addons)
{
	write_layout(mem_, l, profile_);
	RegBlock r{};
	r.rcx = l.array_pa;
	r.rdx = l.tdmrs.size();
	r.r8 = keyid;
	r.r9 = addons;
	return call_rax(0, leaf_rax(leaf::kSysConfig, version), r);
}

void ModelTest::key_config_all()
{
	u32 per_pkg = profile_.lps / profile_.packages;
	for (u32 pkg = 0; pkg < profile_.packages; pkg++)
		ASSERT_EQ(call(pkg * per_pkg, leaf::kSysKeyConfig), status::kSuccess) << "package " << pkg;
}

void ModelTest::tdmr_init_all()
{
	for (const auto &t : m_->tdmrs()) {
		u64 base = t.desc.base, end = t.desc.base + t.desc.size;
		for (int guard = 0; guard < 100000; guard++) {
			ASSERT_EQ(call(0, leaf::kSysTdmrInit, base), status::kSuccess);
			if (out_.rdx >= end)
				break;
		}
	}
}

void ModelTest::bring_up()
{
	sys_init();
	lp_init_all();
	ASSERT_EQ(config(one_tdmr_layout(profile_)), status::kSuccess);
	key_config_all();
	tdmr_init_all();
	ASSERT_EQ(m_->state(), SysState::kSysReady);
}

EmulatorTest::EmulatorTest(u64 ram_size, Profile p)
    : ram_(ram_size), mem_(ram_.data(), ram_.size()), profile_(std::move(p)), emu_(profile_, mem_)
{
}

u64 EmulatorTest::serve(u32 lp, u64 rax_in, RegBlock in)
{
	out_ = in;
	return emu_.serve(lp, rax_in, out_);
}

u64 EmulatorTest::serve(u32 lp, u64 rax_in, u64 rcx, u64 rdx, u64 r8)
{
	RegBlock r{};
	r.rcx = rcx;
	r.rdx = rdx;
	r.r8 = r8;
	return serve(lp, rax_in, r);
}

void EmulatorTest::configure(u8 version, u64 addons)
{
	ASSERT_EQ(serve(0, rax(leaf::kSysInit)), status::kSuccess);
	for (u32 lp = 0; lp < profile_.lps; lp++)
		ASSERT_EQ(serve(lp, rax(leaf::kSysLpInit)), status::kSuccess) << "LP " << lp;
	TdmrLayout l = one_tdmr_layout(profile_);
	write_layout(mem_, l, profile_);
	RegBlock r{};
	r.rcx = l.array_pa;
	r.rdx = l.tdmrs.size();
	r.r8 = 32;
	r.r9 = addons;
	ASSERT_EQ(serve(0, rax(leaf::kSysConfig, version), r), status::kSuccess);
	const u32 per_pkg = profile_.lps / profile_.packages;
	for (u32 pkg = 0; pkg < profile_.packages; pkg++)
		ASSERT_EQ(serve(pkg * per_pkg, rax(leaf::kSysKeyConfig)), status::kSuccess) << "package " << pkg;
}

void EmulatorTest::ext_up(u64 list_pa, u64 pool_pa, u32 pages)
{
	ASSERT_LE(pages, kHpaListMaxEntries);
	u64 st;
	if (pages) {
		std::vector<u64> list(kHpaListMaxEntries, ~0ull);
		for (u32 i = 0; i < pages; i++)
			list[i] = pool_pa + i * kPageSize;
		ASSERT_TRUE(mem_.write(list_pa, list.data(), kPageSize));
		RegBlock r{};
		r.rcx = hpa_list_info(list_pa, 0, pages - 1);
		while ((st = serve(0, rax(leaf::kExtMemAdd), r)) == status::kInterruptedResumable)
			r = out_;
		ASSERT_EQ(st, status::kSuccess);
	}
	while ((st = serve(0, rax(leaf::kExtInit))) == status::kInterruptedResumable) {
	}
	ASSERT_EQ(st, status::kSuccess);
}

std::string to_hex(dice_quote::BytesView b)
{
	std::string s;
	char h[3];
	for (u8 v : b) {
		std::snprintf(h, sizeof(h), "%02x", v);
		s += h;
	}
	return s;
}

dice_quote::Bytes from_hex(const std::string &s)
{
	dice_quote::Bytes b(s.size() / 2);
	for (size_t i = 0; i < b.size(); i++)
		b[i] = u8(std::stoul(s.substr(2 * i, 2), nullptr, 16));
	return b;
}

nlohmann::json qe_sign(Emulator &emu, dice_quote::BytesView report)
{
	return control_json(emu, "qe sign " + to_hex(report));
}

int connect_unix(const std::string &path)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	sockaddr_un a{};
	a.sun_family = AF_UNIX;
	std::snprintf(a.sun_path, sizeof(a.sun_path), "%s", path.c_str());
	if (fd < 0 || connect(fd, reinterpret_cast<sockaddr *>(&a), sizeof(a)) != 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

nlohmann::json control_json(Emulator &emu, const std::string &line)
{
	return nlohmann::json::parse(emu.control(line));
}

std::string control_kv(Emulator &emu, const std::string &line)
{
	ControlFormat f = ControlFormat::kKv;
	std::string out = emu.control(line, &f);
	return out.substr(0, out.size() - 1);
}

} // namespace seam_emu::test
