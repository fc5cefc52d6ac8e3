// SPDX-License-Identifier: GPL-2.0
// The quoting extension (ABI.md §8; seam-emu README, "Quoting"): TDH.QUOTE.INIT makes the DICE
// chain of the platform and the running module image, TDH.QUOTE.GET turns a genuine TDREPORT into
// a DICE quote (docs/quote-format.md) and writes it, a budget of pages per call, into the buffer
// an HPA linked list describes. With a sign budget (profile quote.sign_budget_us) the signature is
// made beside the calls, none of which waits longer than the budget for it, nor on once the
// caller's CPU has an interrupt pending (as a real module polls for a pending host interrupt).
// Both exist only on an image that reports QUOTE (TDX_FEATURES0 bit 50); elsewhere they are
// unknown leaves. Both run in SYS_READY only (the dispatcher).
// Also the platform's quoting enclave (control "qe sign", the userspace GetQuote path): the same
// check and the same quote for a TDREPORT alone, on any image, in any state.
#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <set>

#include <tdx/abi/quote.h>
#include <tdx/abi/status.h>
#include <tdx/abi/td.h>

#include "quote_state.h"
#include "seam_identity.h"

namespace seam_emu {

namespace {

constexpr u64 kInvalidR10 = status::kOperandInvalid | kOperandIdR10;

bool counts_as_refusal(u64 st) { return st != status::kSuccess && st != status::kInterruptedResumable; }

dice_quote::ChainInputs chain_inputs(const dice_quote::Bytes &seed, const Platform &platform, const ModuleImage &image)
{
	const SeamIdentity id = seam_identity(image);
	dice_quote::ChainInputs in;
	in.root_seed = seed;
	in.platform_measurement = platform_measurement(platform);
	in.module_measurement = id.mrseam;
	in.module_svn = id.tee_tcb_svn;
	return in;
}

/*
 * A quote of `claims` signed by `chain`, then `pad` zero bytes (the control command "quote pad"):
 * the only way a quote is made, but for "quote bench".
 */
dice_quote::Result<dice_quote::Bytes> sign_quote(const dice_quote::DiceChain &chain,
						  const dice_quote::QuoteClaims &claims, u32 pad)
{
	auto quote = dice_quote::make_quote(chain, claims);
	if (quote)
		quote.value().resize(quote.value().size() + pad, 0);
	return quote;
}

/* A page the list names (a data page or the next node): 4 KiB aligned guest RAM the module does not own. */
u64 check_list_page(const GuestMemory &mem, const PageOwners &owned, u64 pa)
{
	const PaCheck pc = check_pa(mem, pa, kPageSize, kPageSize, kOperandIdR10);
	if (!pc.ok())
		return pc.status;
	return owned.overlaps(pa, kPageSize) ? kInvalidR10 : status::kSuccess;
}

/*
 * The quote buffer's HPA linked list from `head` (already checked): its first `nr` data pages into
 * *pages. Reads no further than those (a list may hold more). A list that ends before them →
 * OPERAND_INVALID|R11 (r11 is larger than the buffer); a bad entry, a node visited twice (a loop),
 * a data page named twice or also used as a node → operand R10.
 */
u64 walk_quote_list(const GuestMemory &mem, const PageOwners &owned, u64 head, u64 nr, std::vector<u64> *pages)
{
	std::set<u64> nodes, data;
	for (u64 node = head;;) {
		if (!nodes.insert(node).second || data.count(node))
			return kInvalidR10;
		std::array<u64, kQuoteListEntries> e;
		mem.read(node, e.data(), kPageSize);
		for (u32 i = 0; i < kQuoteListDataPerNode; i++) {
			if (pages->size() == nr)
				return status::kSuccess;
			const u64 pa = e[i];
			if (pa == kQuoteListEnd)
				return status::kOperandInvalid | kOperandIdR11;
			if (const u64 st = check_list_page(mem, owned, pa))
				return st;
			if (!data.insert(pa).second || nodes.count(pa))
				return kInvalidR10;
			pages->push_back(pa);
		}
		if (pages->size() == nr)
			return status::kSuccess;
		node = e[kQuoteListNextEntry];
		if (node == kQuoteListEnd)
			return status::kOperandInvalid | kOperandIdR11;
		if (const u64 st = check_list_page(mem, owned, node))
			return st;
	}
}

} // namespace

/* ---- shared ---------------------------------------------------------------------------------- */

u64 Module::quote_refused(u64 st)
{
	if (counts_as_refusal(st)) {
		quote_->refused++;
		quote_->last_refusal = st;
	}
	return st;
}

/*
 * What both leaves check first: the feature (without it they are unknown leaves, not refusals), the
 * locks, then QUOTE enabled by SYS.CONFIG v1 and, when the extensions are needed, EXT.INIT done.
 */
u64 Module::quote_enter(Call &c)
{
	if (!(image_.tdx_features0 & features0::kQuote))
		return status::kOperandInvalid | kOperandIdRax;
	if (!c.locks.shared(global_lock_) || !c.locks.lock(quote_->lock))
		return quote_refused(status::kSysBusy);
	if (!ext_.quote_enabled() || (ext_.required() && !ext_.init_done()))
		return quote_refused(status::kSysStateIncorrect);
	return status::kSuccess;
}

void Module::reset_quote()
{
	quote_->reset();
	set_quote_initialized(false);
}

Module::QuoteInfo Module::quote_info() const
{
	const QuoteState &q = *quote_;
	QuoteInfo i;
	i.reported = image_.tdx_features0 & features0::kQuote;
	i.initialized = q.chain != nullptr;
	i.init_progress = q.init_progress;
	i.get_in_progress = q.request.has_value();
	i.inits_completed = q.inits_completed;
	i.gets_completed = q.gets_completed;
	i.refused = q.refused;
	i.last_refusal = q.last_refusal;
	i.last_quote_length = q.last_quote_length;
	if (q.chain)
		i.layer2_measurement = q.chain->inputs().module_measurement;
	i.pad = q.pad;
	i.gets_interrupted = q.gets_interrupted;
	i.signer_held = q.signer.held();
	i.signer_policy = q.signer.policy();
	return i;
}

void Module::set_quote_pad(u32 n) { quote_->pad = std::min(n, kMaxQuotePad); }

void Module::set_quote_signer_hold(bool on) { quote_->signer.hold(on); }

int Module::quote_signer_policy() const { return quote_->signer.policy(); }

/*
 * The root key and name depend on the seed alone, so any chain made from it carries a root
 * certificate that verifies every quote of this emulator; the first one made is kept (ECDSA
 * signatures differ between chains, and a verifier pins bytes).
 */
std::string Module::quote_root_pem()
{
	if (quote_->root_pem().empty())
		(void)quote_->chain_for(chain_inputs(quote_->root_seed(), platform_, image_));
	return quote_->root_pem();
}

/* ---- TDH.QUOTE.INIT -------------------------------------------------------------------------- */

/*
 * No operands. init_steps calls (INTERRUPTED_RESUMABLE before the last), then the chain of the
 * platform and the running image replaces any earlier one (a re-key after a runtime update) and
 * MAX_QUOTE_SIZE becomes readable. Until then an earlier chain keeps quoting.
 */
u64 Module::tdh_quote_init(Call &c)
{
	if (const u64 st = quote_enter(c))
		return st;
	QuoteState &q = *quote_;
	if (++q.init_progress < image_.quote.init_steps)
		return status::kInterruptedResumable;
	q.init_progress = 0;
	auto chain = dice_quote::DiceChain::create(chain_inputs(q.root_seed(), platform_, image_));
	if (!chain)
		return quote_refused(kQuoteInternalError);
	q.note_root(chain.value());
	q.chain = std::make_shared<const dice_quote::DiceChain>(std::move(chain.value()));
	q.inits_completed++;
	set_quote_initialized(true);
	return status::kSuccess;
}

/* ---- TDH.QUOTE.GET --------------------------------------------------------------------------- */

/*
 * The first call of a request checks the operands, reads the list and the whole input (it may sit
 * in the buffer's first page: nothing is written before it is read), has the TDREPORT checked and
 * starts the signature. Then that call, and each later call with the same registers, waits for
 * the signature (at most sign_budget_us) and writes up to get_budget_pages pages of the buffer;
 * INTERRUPTED_RESUMABLE while work is left, and the last answers SUCCESS with rcx = the quote's
 * length. Other registers abandon the request in progress and start a new one.
 */
u64 Module::tdh_quote_get(Call &c)
{
	if (const u64 st = quote_enter(c))
		return st;
	if (!quote_->chain)
		return quote_refused(status::kSysStateIncorrect);
	auto &req = quote_->request;
	if (!req || req->regs != QuoteGetRegs::of(c.regs)) {
		req.reset();
		if (const u64 st = quote_get_start(c))
			return quote_refused(st);
	}
	const u64 st = quote_get_continue(c);
	if (counts_as_refusal(st))
		req.reset();
	return quote_refused(st);
}

/* What the quote says: the TDREPORT's, the platform's and the chain's measurements. */
dice_quote::QuoteClaims Module::quote_claims(const ReportedTd &rep) const
{
	dice_quote::QuoteClaims claims;
	claims.report_data = rep.report_data;
	const dice_quote::PlatformMeasurements platform{platform_measurement(platform_), platform_tcb_svn(platform_)};
	claims.platform = {platform, platform};
	claims.seam = {rep.seam_origin, rep.seam_current};
	claims.td = {rep.td_origin, rep.td_current};
	return claims;
}

u64 Module::quote_get_start(Call &c)
{
	const RegBlock &r = c.regs;
	if ((r.rdx & kQuoteGetRdxReservedMask) || ((r.rdx >> kQuoteIdShift) & kQuoteIdMask) != kQuoteIdDefault)
		return status::kOperandInvalid | kOperandIdRdx;
	if (r.r9 != tdreport::kSize)
		return status::kOperandInvalid | kOperandIdR9;
	if (const PaCheck pc = check_pa(mem_, r.r8, kPageSize, r.r9, kOperandIdR8); !pc.ok())
		return pc.status;
	if (const u64 st = check_list_page(mem_, pages_, r.r10))
		return st;
	if (r.r11 == 0 || r.r11 % kPageSize)
		return status::kOperandInvalid | kOperandIdR11;

	QuoteState::Request req;
	req.regs = QuoteGetRegs::of(r);
	if (const u64 st = walk_quote_list(mem_, pages_, r.r10, r.r11 / kPageSize, &req.pages))
		return st;

	/* The whole input is read before anything is written: it may be in the buffer. */
	QuoteState::Work work{r.rcx, {}, r.r11 / kPageSize};
	mem_.read(r.r8, work.report.data(), work.report.size());
	ReportedTd rep;
	if (const u64 st = check_td_report(r.rcx, work.report.data(), &rep))
		return st;
	quote_->last_work = work;

	const dice_quote::QuoteClaims claims = quote_claims(rep);
	if (image_.quote.sign_budget_us == 0) {
		auto quote = sign_quote(*quote_->chain, claims, quote_->pad);
		if (const u64 st = quote_signed(quote, r.r11))
			return st;
		req.quote = std::move(quote.value());
	} else {
		/* The chain is shared with the signing, so a re-key meanwhile leaves it intact. */
		req.signed_fd = std::make_shared<const EventFd>();
		req.signing = quote_->signer.submit(
			[chain = quote_->chain, claims, pad = quote_->pad] { return sign_quote(*chain, claims, pad); },
			req.signed_fd);
	}
	quote_->request = std::move(req);
	return status::kSuccess;
}

/*
 * A signature made (with its pad): refused when it failed or does not fit MAX_QUOTE_SIZE or the
 * buffer (r11), in that order.
 */
u64 Module::quote_signed(const dice_quote::Result<dice_quote::Bytes> &quote, u64 r11) const
{
	/*
	 * MAX_QUOTE_SIZE is a promise to the host, who sized its buffer from it: a module never makes
	 * more, so a longer quote (a padded one too: no clamping) is the module's own failure.
	 */
	if (!quote || quote.value().size() > image_.quote.max_quote_size)
		return kQuoteInternalError;
	if (quote.value().size() > r11)
		return status::kOperandInvalid | kOperandIdR11;
	return status::kSuccess;
}

/*
 * A call that continues the request: while the signature is being made, wait for it at most
 * sign_budget_us, and only while the caller's CPU has no interrupt pending (the wait blocks until
 * the signature, the caller's doorbell or the budget's end); once it is there, write the next
 * get_budget_pages pages of the buffer: the quote, then zeros to the end of the buffer (r11), so
 * nothing of an earlier, longer quote is left behind.
 */
u64 Module::quote_get_continue(Call &c)
{
	QuoteState &q = *quote_;
	QuoteState::Request &req = *q.request;
	if (req.signing.valid()) {
		using clock = std::chrono::steady_clock;
		const clock::time_point deadline = clock::now() + std::chrono::microseconds(image_.quote.sign_budget_us);
		/* While this call waits, the signature is made at the caller's priority (Signer). */
		std::optional<Signer::Urgent> urgent;
		while (req.signing.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
			if (!urgent)
				urgent.emplace(q.signer);
			if (irq_source_ && irq_source_->pending(c.lp)) {
				q.gets_interrupted++;
				return status::kInterruptedResumable;
			}
			const clock::time_point now = clock::now();
			if (now >= deadline)
				return status::kInterruptedResumable;
			if (irq_source_)
				irq_source_->wait(c.lp, req.signed_fd->get(), deadline - now);
			else
				req.signing.wait_for(deadline - now);
		}
		auto quote = req.signing.get();
		if (const u64 st = quote_signed(quote, req.regs.r11))
			return st;
		req.quote = std::move(quote.value());
	}
	const u64 end = std::min<u64>(req.pages.size(), req.next_page + image_.quote.get_budget_pages);
	for (; req.next_page < end; req.next_page++) {
		std::array<u8, kPageSize> page{};
		const u64 off = req.next_page * kPageSize;
		if (off < req.quote.size())
			std::copy_n(req.quote.begin() + off, std::min<u64>(kPageSize, req.quote.size() - off), page.begin());
		mem_.write(req.pages[req.next_page], page.data(), kPageSize);
	}
	if (req.next_page < req.pages.size())
		return status::kInterruptedResumable;
	c.regs.rcx = req.quote.size();
	q.gets_completed++;
	q.last_quote_length = req.quote.size();
	q.request.reset();
	return status::kSuccess;
}

/* ---- the platform's quoting enclave (the control command "qe sign") -------------------------- */

/*
 * A TDREPORT names no TDR: the TD is the one whose TDINFO it carries, among the TDs the module could
 * quote (RUNNABLE, keys configured). TDs with the same TDINFO are one TD to a QE; the first by TDR
 * is taken (their quotes could differ only in the origin of a TD finalized under another module).
 * Then the very check TDH.QUOTE.GET makes, with that TDR. Empty when accepted, else why not.
 */
std::string Module::qe_check_report(const u8 *report, ReportedTd *out) const
{
	if (!td_report_mac_ok(report, report_key_))
		return "bad MAC";
	if (!td_report_hashes_ok(report))
		return "bad hash";
	const Td *td = nullptr;
	for (const auto &[tdr, t] : tds_.all()) {
		const Td *found = nullptr;
		if (!find_runnable_td(tdr, kOperandIdRcx, &found) &&
		    !std::memcmp(found->td_info().data(), report + tdreport::kTdInfo, tdreport::kTdInfoSize)) {
			td = found;
			break;
		}
	}
	if (!td)
		return "unknown TD";
	const u64 st = check_td_report(td->tdr_pa, report, out);
	if (st == status::kSuccess)
		return {};
	/* Genuine and that TD's, so what is left is a report of another module than the running one. */
	if (!(seam_measurements_from_tcb_info(report + tdreport::kTeeTcbInfo) == seam_measurements(seam_identity(image_))))
		return "stale";
	char buf[32];
	std::snprintf(buf, sizeof(buf), "status 0x%llx", static_cast<unsigned long long>(st));
	return buf;
}

/*
 * Checked under the module's lock, signed outside it (as "quote bench"), so SEAMCALLs go on. Needs
 * neither QUOTE nor QUOTE.INIT nor SYS_READY: the QE is the platform's, not the module's.
 */
Module::QeQuote Module::qe_sign(const u8 *report)
{
	QeQuote r;
	std::shared_ptr<const dice_quote::DiceChain> chain;
	dice_quote::QuoteClaims claims;
	u32 pad;
	{
		std::lock_guard<std::mutex> g(mu_);
		ReportedTd rep;
		if (std::string why = qe_check_report(report, &rep); !why.empty()) {
			r.error = "report refused: " + why;
			return r;
		}
		chain = quote_->chain_for(chain_inputs(quote_->root_seed(), platform_, image_));
		claims = quote_claims(rep);
		pad = quote_->pad;
	}
	if (!chain) {
		r.error = "no DICE chain";
		return r;
	}
	auto quote = sign_quote(*chain, claims, pad);
	if (!quote) {
		r.error = "signing failed: " + quote.error().to_string();
		return r;
	}
	r.quote = std::move(quote.value());
	return r;
}

/* ---- the control command "quote bench" ----------------------------------------------------- */

/*
 * The last signed request's work done again `n` times inside the emulator, without the mailbox,
 * without budgets and without a pad (the raw rate): check the TDREPORT, sign, write the buffer's
 * pages (into memory of its own, as the guest's buffer is the host's meanwhile). The signature is
 * made where QUOTE.GET makes it: on the signing thread (waited for, so at normal priority) when the
 * profile has a sign budget, else in the calling thread; so host load slows both alike. Takes
 * state_mutex() itself, for the check only.
 */
Module::QuoteBench Module::quote_bench(u32 n)
{
	QuoteBench b;
	std::shared_ptr<const dice_quote::DiceChain> chain;
	QuoteState::Work work;
	{
		std::lock_guard<std::mutex> g(mu_);
		if (!quote_->chain || !quote_->last_work) {
			b.error = "no quote was signed since QUOTE.INIT: nothing to do again";
			return b;
		}
		chain = quote_->chain;
		work = *quote_->last_work;
	}
	/* The control thread runs this and "quote hold-signer": no hold can begin during the loop. */
	const bool on_signer = image_.quote.sign_budget_us != 0;
	if (on_signer && quote_->signer.held()) {
		b.error = "the signing thread is held (quote hold-signer off first)";
		return b;
	}
	std::vector<u8> buffer(work.pages * kPageSize);
	const auto t0 = std::chrono::steady_clock::now();
	for (u32 i = 0; i < n; i++) {
		ReportedTd rep;
		u64 st;
		dice_quote::QuoteClaims claims;
		{
			std::lock_guard<std::mutex> g(mu_);
			st = check_td_report(work.tdr, work.report.data(), &rep);
			claims = quote_claims(rep);
		}
		if (st != status::kSuccess) {
			b.error = "the TDREPORT of the last request is no longer accepted (status " + std::to_string(st) + ")";
			return b;
		}
		std::optional<Signer::Urgent> urgent; /* waited for, as a QUOTE.GET waits for it */
		if (on_signer)
			urgent.emplace(quote_->signer);
		auto quote = on_signer ? quote_->signer.submit([&] { return dice_quote::make_quote(*chain, claims); }).get()
				       : dice_quote::make_quote(*chain, claims);
		if (quote_signed(quote, buffer.size()) != status::kSuccess) {
			b.error = "signing failed";
			return b;
		}
		std::fill(std::copy(quote.value().begin(), quote.value().end(), buffer.begin()), buffer.end(), u8(0));
		b.quote_bytes = quote.value().size();
		b.quotes++;
	}
	b.ns = u64(std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count());
	return b;
}

} // namespace seam_emu
