// SPDX-License-Identifier: GPL-2.0
/*
 * tdx_td_harness.ko: simulated TDs for tests (test build only; never part of what users install).
 *
 * It creates TDs through the real TD-management SEAMCALLs that tdx_host.ko exports (namespace
 * TDX_HOST: MNG.CREATE, MNG.KEY.CONFIG, MNG.ADDCX, MNG.INIT, MR.EXTEND, MR.FINALIZE, and teardown
 * with MNG.KEY.FREEID, PHYMEM.CACHE.WB and PHYMEM.PAGE.RECLAIM), obtains a TD's TDREPORT with a
 * chosen REPORTDATA through the emulator-only service (a simulated TD has no vCPU to run
 * TDG.MR.REPORT; include/tdx/emu/service.h), and asks tdx_host.ko for quotes through the exported
 * quoting interface, exactly as KVM would.
 *
 * Driven from debugfs, /sys/kernel/debug/tdx_td_harness/:
 *   ctl     write one command:
 *             create ID [tdcs=N] [gpa=ADDR]... [building]
 *                                              a TD: N TDCS pages (default 4), MR.EXTEND of each
 *                                              GPA, then MR.FINALIZE (not with "building": its
 *                                              build stays in progress); its MRCONFIGID is ID's
 *             finalize ID                      MR.FINALIZE of a TD created "building"
 *             hold                             a thread of the harness takes tdx_host's state
 *                                              lock and keeps it until "release" (whatever
 *                                              takes it meanwhile sleeps: a runtime update's
 *                                              prepare, a sysfs read)
 *             hold quote                       the same with tdx_host's quote lock, as a quote
 *                                              request in flight holds it (an update's install
 *                                              waits for it in "transferring")
 *             release                          that thread lets it go
 *             report ID HEX128                 the TD's TDREPORT with that REPORTDATA
 *             quote ID HEX128                  its TDREPORT, then a quote for it
 *             forge ID HEX128 OFFSET           its TDREPORT with the byte at OFFSET flipped, then
 *                                              a quote for that (the module must refuse it)
 *             swap ID OTHER HEX128             TD OTHER's TDREPORT presented as ID's
 *             destroy ID                       teardown, pages reclaimed and freed
 *             poke PA                          flip the first byte of the RAM page at PA (a host
 *                                              write the emulator's pool integrity check must see)
 *             bench ID HEX128 N                its TDREPORT once, then N quotes for it back to
 *                                              back (make bench); a signal stops it early
 *             stopmachine N                    N empty stop_machines timed as tdx_host times
 *                                              its update window (make bench's floor): their
 *                                              median, min and max in ns
 *             updatetiming                     where the time of tdx_host's last update window
 *                                              went: total and each phase in ns (make bench)
 *             storm ID HEX128                  its TDREPORT once, kept for fresh_quote
 *   result  the last command's outcome: "ok ..." or "error ERRNO STATUS what"
 *   report  the last TDREPORT (1024 bytes, binary)
 *   quote   the last quote (binary)
 *   tds     one line per TD
 *   fresh_quote  each open asks tdx_host for a new quote of the "storm" TD's TDREPORT, outside
 *           the harness lock, so several readers make concurrent requests (a quote storm); the
 *           open fails with the request's errno; reads return that quote
 * IDs are 1..kMaxTds. A step that fails undoes what the command did: pages the TDX module took are
 * reclaimed before they are freed; a page it would not give back is left allocated (logged).
 * tdx_td_harness_get_td() lends a finalized TD to another test module (td_harness.h); while it is
 * lent, "destroy ID" fails with -EBUSY.
 */
#include <linux/completion.h>
#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/gfp.h>
#include <linux/hex.h>
#include <linux/io.h>
#include <linux/kthread.h>
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/string.h>
#include <linux/timekeeping.h>
#include <linux/uaccess.h>

#include <tdx/host_api.h>

#include "td_harness.h"

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Simulated TDs for tdx_host tests (test build only)");
TDX_IMPORT_HOST();

#define HARNESS_MAX_TDS 16
#define HARNESS_MAX_TDCS 16
#define HARNESS_MAX_GPAS 16
#define REPORT_BYTES 1024
#define REPORTDATA_BYTES 64

/* include/tdx/emu/service.h and include/tdx/abi/{td,status}.h, restated for C. */
#define EMU_SERVICE_TD_REPORT ((1ull << 62) | 1)
#define TD_PARAMS_ATTRIBUTES 0
#define TD_PARAMS_XFAM 8
#define TD_PARAMS_MAX_VCPUS 16
#define TD_PARAMS_MRCONFIGID 80
#define TD_PARAMS_MROWNER 128
#define TDX_STATUS_CLASS_MASK 0xFFFFFFFF00000000ull
#define TDX_KEY_CONFIGURED_STATUS 0x0000081500000000ull

struct harness_td {
	bool live;
	int keyid;
	struct page *tdr;
	struct page *tdcs[HARNESS_MAX_TDCS];
	unsigned int nr_tdcs;
	bool created;   /* MNG.CREATE succeeded: the module owns the TDR */
	unsigned int tdcs_given; /* TDCS pages the module took */
	bool finalized;
	unsigned int nr_gpas;
	unsigned int lent; /* tdx_td_harness_get_td() references */
};

static DEFINE_MUTEX(harness_lock);
static struct harness_td tds[HARNESS_MAX_TDS + 1];
static char result[512];
static u8 *last_report; /* REPORT_BYTES */
static size_t last_report_len;
static void *last_quote;
static u32 last_quote_len;
static u8 *storm_report; /* REPORT_BYTES: the TDREPORT fresh_quote quotes */
static u64 storm_tdr;    /* its TD's TDR, 0 when no "storm" was set up */
static struct dentry *dir;

static void set_result(const char *fmt, ...) __printf(1, 2);
static void set_result(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vscnprintf(result, sizeof(result), fmt, ap);
	va_end(ap);
}

static int tdx_fail(const char *what, u64 status)
{
	set_result("error %d 0x%016llx %s\n", -EIO, status, what);
	pr_info("tdx_td_harness: %s failed: TDX status 0x%016llx\n", what, status);
	return -EIO;
}

static u64 page_pa(struct page *p)
{
	return page_to_phys(p);
}

/*
 * Teardown: KEY.FREEID, a cache flush, then every page the module took reclaimed before it is
 * freed. A page the module does not give back stays allocated (never reused by the kernel).
 */
static void td_teardown(struct harness_td *td)
{
	bool keep_tdr = false;
	u64 st;
	int i;

	if (td->tdr && storm_tdr == page_pa(td->tdr))
		storm_tdr = 0; /* fresh_quote opens from now on fail with ENOENT */
	if (td->created) {
		st = tdx_host_mng_key_freeid(page_pa(td->tdr));
		if (st)
			pr_warn("tdx_td_harness: KEY.FREEID: 0x%016llx\n", st);
		st = tdx_host_phymem_cache_wb_all();
		if (st)
			pr_warn("tdx_td_harness: CACHE.WB: 0x%016llx\n", st);
	}
	for (i = 0; i < td->nr_tdcs; i++) {
		if (!td->tdcs[i])
			continue;
		if (i < td->tdcs_given) {
			st = tdx_host_phymem_page_reclaim(page_pa(td->tdcs[i]));
			if (st) {
				pr_warn("tdx_td_harness: reclaim of TDCS page %d: 0x%016llx; page kept\n", i, st);
				keep_tdr = true;
				td->tdcs[i] = NULL;
				continue;
			}
		}
		__free_page(td->tdcs[i]);
		td->tdcs[i] = NULL;
	}
	if (td->tdr) {
		if (td->created) {
			st = tdx_host_phymem_page_reclaim(page_pa(td->tdr));
			if (st) {
				pr_warn("tdx_td_harness: reclaim of the TDR: 0x%016llx; page kept\n", st);
				keep_tdr = true;
			}
		}
		if (!keep_tdr)
			__free_page(td->tdr);
		td->tdr = NULL;
	}
	if (td->keyid > 0)
		tdx_host_guest_keyid_free(td->keyid);
	memset(td, 0, sizeof(*td));
}

static struct harness_td *td_get(unsigned int id, bool want_live)
{
	if (id < 1 || id > HARNESS_MAX_TDS) {
		set_result("error %d 0 TD id %u outside 1..%d\n", -EINVAL, id, HARNESS_MAX_TDS);
		return NULL;
	}
	if (tds[id].live != want_live) {
		set_result("error %d 0 TD %u %s\n", want_live ? -ENOENT : -EEXIST, id,
			   want_live ? "does not exist" : "exists already");
		return NULL;
	}
	return &tds[id];
}

/* MR.FINALIZE: the TD's build ends (a runtime update refuses to start while one is in progress). */
static int td_finalize(struct harness_td *td)
{
	u64 st = tdx_host_mr_finalize(page_pa(td->tdr));

	if (st)
		return tdx_fail("TDH.MR.FINALIZE", st);
	td->finalized = true;
	return 0;
}

static int td_create(unsigned int id, char *args)
{
	struct harness_td *td = td_get(id, false);
	u64 gpas[HARNESS_MAX_GPAS];
	unsigned int nr_tdcs = 4, nr_gpas = 0, i;
	bool building = false;
	struct page *params;
	char *tok;
	u8 *p;
	u64 st;
	int ret;

	if (!td)
		return -EINVAL;
	while ((tok = strsep(&args, " ")) != NULL) {
		if (!*tok)
			continue;
		if (!strncmp(tok, "tdcs=", 5)) {
			if (kstrtouint(tok + 5, 0, &nr_tdcs) || nr_tdcs > HARNESS_MAX_TDCS)
				goto bad;
		} else if (!strcmp(tok, "building")) {
			building = true;
		} else if (!strncmp(tok, "gpa=", 4)) {
			if (nr_gpas == HARNESS_MAX_GPAS || kstrtou64(tok + 4, 0, &gpas[nr_gpas]))
				goto bad;
			nr_gpas++;
		} else {
			goto bad;
		}
	}

	memset(td, 0, sizeof(*td));
	td->live = true;
	td->keyid = tdx_host_guest_keyid_alloc();
	if (td->keyid < 0) {
		set_result("error %d 0 no TDX KeyID\n", td->keyid);
		ret = td->keyid;
		td->keyid = 0;
		goto undo;
	}
	td->tdr = alloc_page(GFP_KERNEL | __GFP_ZERO);
	params = alloc_page(GFP_KERNEL | __GFP_ZERO);
	if (!td->tdr || !params) {
		if (params)
			__free_page(params);
		set_result("error %d 0 page allocation\n", -ENOMEM);
		ret = -ENOMEM;
		goto undo;
	}
	for (i = 0; i < nr_tdcs; i++) {
		td->tdcs[i] = alloc_page(GFP_KERNEL | __GFP_ZERO);
		if (!td->tdcs[i]) {
			__free_page(params);
			set_result("error %d 0 page allocation\n", -ENOMEM);
			ret = -ENOMEM;
			goto undo;
		}
		td->nr_tdcs++;
	}

	st = tdx_host_mng_create(page_pa(td->tdr), td->keyid);
	if (st) {
		__free_page(params);
		ret = tdx_fail("TDH.MNG.CREATE", st);
		goto undo;
	}
	td->created = true;
	st = tdx_host_mng_key_config_all(page_pa(td->tdr));
	if (st) {
		__free_page(params);
		ret = tdx_fail("TDH.MNG.KEY.CONFIG", st);
		goto undo;
	}
	for (i = 0; i < nr_tdcs; i++) {
		st = tdx_host_mng_addcx(page_pa(td->tdr), page_pa(td->tdcs[i]));
		if (st) {
			__free_page(params);
			ret = tdx_fail("TDH.MNG.ADDCX", st);
			goto undo;
		}
		td->tdcs_given++;
	}

	/* TD_PARAMS: x87+SSE, one vCPU, MRCONFIGID and MROWNER naming the TD. */
	p = page_address(params);
	*(u64 *)(p + TD_PARAMS_ATTRIBUTES) = 0;
	*(u64 *)(p + TD_PARAMS_XFAM) = 0x3;
	*(u16 *)(p + TD_PARAMS_MAX_VCPUS) = 1;
	memset(p + TD_PARAMS_MRCONFIGID, id, 48);
	memcpy(p + TD_PARAMS_MROWNER, "tdx_td_harness", 14);
	st = tdx_host_mng_init(page_pa(td->tdr), page_pa(params));
	__free_page(params);
	if (st) {
		ret = tdx_fail("TDH.MNG.INIT", st);
		goto undo;
	}
	for (i = 0; i < nr_gpas; i++) {
		st = tdx_host_mr_extend(page_pa(td->tdr), gpas[i]);
		if (st) {
			ret = tdx_fail("TDH.MR.EXTEND", st);
			goto undo;
		}
	}
	td->nr_gpas = nr_gpas;
	if (!building) {
		ret = td_finalize(td);
		if (ret)
			goto undo;
	}
	set_result("ok created %u keyid %d tdr 0x%llx tdcs %u extended %u%s\n", id, td->keyid,
		   page_pa(td->tdr), nr_tdcs, nr_gpas, building ? " building" : "");
	return 0;
bad:
	set_result("error %d 0 bad create argument '%s'\n", -EINVAL, tok);
	return -EINVAL;
undo:
	td_teardown(td);
	return ret;
}

static int parse_reportdata(const char *hex, u8 *out)
{
	if (!hex || strlen(hex) != 2 * REPORTDATA_BYTES || hex2bin(out, hex, REPORTDATA_BYTES)) {
		set_result("error %d 0 REPORTDATA must be %d hex digits\n", -EINVAL, 2 * REPORTDATA_BYTES);
		return -EINVAL;
	}
	return 0;
}

/* The TD's TDREPORT with this REPORTDATA into last_report. */
static int td_report(struct harness_td *td, const u8 *reportdata)
{
	struct page *in, *out;
	u64 st;

	in = alloc_page(GFP_KERNEL | __GFP_ZERO);
	out = alloc_page(GFP_KERNEL | __GFP_ZERO);
	if (!in || !out) {
		if (in)
			__free_page(in);
		if (out)
			__free_page(out);
		set_result("error %d 0 page allocation\n", -ENOMEM);
		return -ENOMEM;
	}
	memcpy(page_address(in), reportdata, REPORTDATA_BYTES);
	st = tdx_host_test_emu_service(EMU_SERVICE_TD_REPORT, page_pa(td->tdr), page_pa(in), page_pa(out));
	if (!st) {
		memcpy(last_report, page_address(out), REPORT_BYTES);
		last_report_len = REPORT_BYTES;
	}
	__free_page(in);
	__free_page(out);
	return st ? tdx_fail("TDREPORT service", st) : 0;
}

/* A quote over last_report for the TD whose TDR is td's; into last_quote. */
static int td_quote(struct harness_td *td)
{
	void *quote = NULL;
	u32 len = 0;
	int ret;

	kvfree(last_quote);
	last_quote = NULL;
	last_quote_len = 0;
	ret = tdx_host_generate_quote(page_pa(td->tdr), last_report, REPORT_BYTES, &quote, &len);
	if (ret) {
		set_result("error %d 0 tdx_host_generate_quote\n", ret);
		return ret;
	}
	last_quote = quote;
	last_quote_len = len;
	set_result("ok quote %u bytes\n", len);
	return 0;
}

/*
 * A host write into a page the kernel gave away (the integrity test of the extension pool): flips
 * the first byte of the RAM page at physical address PA, through the direct map.
 */
static int poke(const char *arg)
{
	u64 pa;
	u8 *p;

	if (kstrtou64(arg, 0, &pa) || !pfn_valid(PHYS_PFN(pa))) {
		set_result("error %d 0 poke wants the physical address of RAM\n", -EINVAL);
		return -EINVAL;
	}
	p = phys_to_virt(pa);
	WRITE_ONCE(*p, READ_ONCE(*p) ^ 0xff);
	set_result("ok poked 0x%llx\n", pa);
	return 0;
}

/*
 * make bench: n quotes over one TDREPORT through the exported interface, timed as a whole. A
 * signal ends the run early (the benchmark's background load is stopped that way); the quotes
 * made so far are reported.
 */
static int td_bench(struct harness_td *td, unsigned int n)
{
	unsigned int done = 0;
	u32 len = 0;
	u64 t0 = ktime_get_ns();
	int ret = 0;

	while (done < n && !signal_pending(current)) {
		void *quote = NULL;

		ret = tdx_host_generate_quote(page_pa(td->tdr), last_report, REPORT_BYTES, &quote, &len);
		if (ret) {
			set_result("error %d 0 tdx_host_generate_quote (after %u quotes)\n", ret, done);
			return ret;
		}
		kvfree(quote);
		done++;
	}
	set_result("ok bench quotes=%u ns=%llu bytes=%u interrupted=%d\n", done, ktime_get_ns() - t0, len,
		   done < n);
	return 0;
}

/* ---- make bench: the update window's timing and the empty stop_machine beside it ---- */

#define HARNESS_MAX_STOPS 1000

static int cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

static int empty_stops(const char *arg)
{
	unsigned int n, i;
	u64 *ns;
	int ret = 0;

	if (kstrtouint(arg, 0, &n) || n == 0 || n > HARNESS_MAX_STOPS) {
		set_result("error %d 0 usage: stopmachine N (1..%d)\n", -EINVAL, HARNESS_MAX_STOPS);
		return -EINVAL;
	}
	ns = kcalloc(n, sizeof(*ns), GFP_KERNEL);
	if (!ns) {
		set_result("error %d 0 no memory\n", -ENOMEM);
		return -ENOMEM;
	}
	for (i = 0; i < n && !ret; i++)
		ret = tdx_host_test_empty_stop_machine(&ns[i]);
	if (ret) {
		set_result("error %d 0 stop_machine\n", ret);
	} else {
		sort(ns, n, sizeof(*ns), cmp_u64, NULL);
		set_result("ok stopmachine runs=%u median_ns=%llu min_ns=%llu max_ns=%llu\n", n, ns[n / 2], ns[0],
			   ns[n - 1]);
	}
	kfree(ns);
	return ret;
}

static int update_timing(void)
{
	struct tdx_host_test_update_timing t;
	size_t len;
	int ret, i;

	ret = tdx_host_test_update_timing(&t);
	if (ret) {
		set_result("error %d 0 no update window yet\n", ret);
		return ret;
	}
	set_result("ok updatetiming windows=%u ok=%d cpus=%u total_ns=%llu", t.windows, t.ok, t.nr_cpus, t.total_ns);
	for (i = 0; i < TDX_HOST_TEST_UPDATE_PHASES; i++) {
		len = strlen(result);
		scnprintf(result + len, sizeof(result) - len, " %s_ns=%llu", t.phase_name[i], t.phase_ns[i]);
	}
	len = strlen(result);
	scnprintf(result + len, sizeof(result) - len, "\n");
	return 0;
}

/* ---- hold / release: tdx_host's state lock held by a thread of the harness ---- */

static struct task_struct *holder;
static DECLARE_COMPLETION(hold_taken);
static DECLARE_COMPLETION(hold_done);
static int hold_ret;
static bool hold_quote; /* the quote lock, not the state lock */

static int holder_fn(void *unused)
{
	if (hold_quote)
		tdx_host_test_hold_quote();
	else
		hold_ret = tdx_host_test_hold_state();
	complete(&hold_taken);
	if (!hold_ret) {
		wait_for_completion(&hold_done);
		if (hold_quote)
			tdx_host_test_release_quote();
		else
			tdx_host_test_release_state();
	}
	while (!kthread_should_stop())
		schedule_timeout_interruptible(HZ / 10);
	return 0;
}

static int hold_state(bool quote)
{
	struct task_struct *t;

	if (holder) {
		set_result("error %d 0 a lock is held already\n", -EBUSY);
		return -EBUSY;
	}
	hold_quote = quote;
	hold_ret = 0;
	reinit_completion(&hold_taken);
	reinit_completion(&hold_done);
	t = kthread_run(holder_fn, NULL, "tdx_harness_hold");
	if (IS_ERR(t)) {
		set_result("error %ld 0 no holder thread\n", PTR_ERR(t));
		return PTR_ERR(t);
	}
	wait_for_completion(&hold_taken);
	if (hold_ret) {
		kthread_stop(t);
		set_result("error %d 0 tdx_host's state lock not taken\n", hold_ret);
		return hold_ret;
	}
	holder = t;
	set_result("ok held\n");
	return 0;
}

static int release_state(void)
{
	if (!holder) {
		set_result("error %d 0 no lock is held\n", -EINVAL);
		return -EINVAL;
	}
	complete(&hold_done);
	kthread_stop(holder);
	holder = NULL;
	set_result("ok released\n");
	return 0;
}

static int run_command(char *line)
{
	char *verb = strsep(&line, " ");
	char *a1 = line ? strsep(&line, " ") : NULL;
	u8 reportdata[REPORTDATA_BYTES];
	struct harness_td *td, *other;
	unsigned int id, other_id, offset;
	int ret;

	if (verb && a1 && !strcmp(verb, "poke"))
		return poke(a1);
	if (verb && !a1 && !strcmp(verb, "hold"))
		return hold_state(false);
	if (verb && a1 && !strcmp(verb, "hold") && !strcmp(a1, "quote"))
		return hold_state(true);
	if (verb && !a1 && !strcmp(verb, "release"))
		return release_state();
	if (verb && a1 && !strcmp(verb, "stopmachine"))
		return empty_stops(a1);
	if (verb && !a1 && !strcmp(verb, "updatetiming"))
		return update_timing();
	if (!verb || !a1 || kstrtouint(a1, 0, &id)) {
		set_result("error %d 0 usage: VERB ID ...\n", -EINVAL);
		return -EINVAL;
	}
	if (!strcmp(verb, "create"))
		return td_create(id, line ? line : (char *)"");
	td = td_get(id, true);
	if (!td)
		return -EINVAL;
	if (!strcmp(verb, "destroy")) {
		if (td->lent) {
			set_result("error %d 0 TD %u is in use by another module\n", -EBUSY, id);
			return -EBUSY;
		}
		td_teardown(td);
		set_result("ok destroyed %u\n", id);
		return 0;
	}
	if (!strcmp(verb, "finalize")) {
		if (td->finalized) {
			set_result("error %d 0 TD %u is finalized already\n", -EINVAL, id);
			return -EINVAL;
		}
		ret = td_finalize(td);
		if (!ret)
			set_result("ok finalized %u\n", id);
		return ret;
	}
	if (!strcmp(verb, "bench")) {
		char *hex = line ? strsep(&line, " ") : NULL;
		unsigned int n;

		if (!line || kstrtouint(line, 0, &n) || n == 0) {
			set_result("error %d 0 usage: bench ID HEX128 N (N > 0)\n", -EINVAL);
			return -EINVAL;
		}
		ret = parse_reportdata(hex, reportdata);
		if (ret)
			return ret;
		ret = td_report(td, reportdata);
		return ret ? ret : td_bench(td, n);
	}
	if (!strcmp(verb, "storm")) {
		ret = parse_reportdata(line, reportdata);
		if (!ret)
			ret = td_report(td, reportdata);
		if (ret)
			return ret;
		memcpy(storm_report, last_report, REPORT_BYTES);
		storm_tdr = page_pa(td->tdr);
		set_result("ok storm td %u\n", id);
		return 0;
	}
	if (!strcmp(verb, "report") || !strcmp(verb, "quote") || !strcmp(verb, "forge")) {
		char *hex = line ? strsep(&line, " ") : NULL;

		ret = parse_reportdata(hex, reportdata);
		if (ret)
			return ret;
		ret = td_report(td, reportdata);
		if (ret)
			return ret;
		if (!strcmp(verb, "report")) {
			set_result("ok report %zu bytes\n", last_report_len);
			return 0;
		}
		if (!strcmp(verb, "forge")) {
			if (!line || kstrtouint(line, 0, &offset) || offset >= REPORT_BYTES) {
				set_result("error %d 0 forge wants an offset below %d\n", -EINVAL, REPORT_BYTES);
				return -EINVAL;
			}
			last_report[offset] ^= 0x01;
		}
		return td_quote(td);
	}
	if (!strcmp(verb, "swap")) {
		char *o = line ? strsep(&line, " ") : NULL;

		if (!o || kstrtouint(o, 0, &other_id)) {
			set_result("error %d 0 usage: swap ID OTHER HEX128\n", -EINVAL);
			return -EINVAL;
		}
		other = td_get(other_id, true);
		if (!other)
			return -EINVAL;
		ret = parse_reportdata(line, reportdata);
		if (ret)
			return ret;
		ret = td_report(other, reportdata);
		return ret ? ret : td_quote(td);
	}
	set_result("error %d 0 unknown command '%s'\n", -EINVAL, verb);
	return -EINVAL;
}

int tdx_td_harness_get_td(unsigned int id, u64 *tdr_pa)
{
	int ret = 0;

	if (id < 1 || id > HARNESS_MAX_TDS)
		return -EINVAL;
	mutex_lock(&harness_lock);
	if (!tds[id].live) {
		ret = -ENOENT;
	} else if (!tds[id].finalized) {
		ret = -EBUSY;
	} else {
		tds[id].lent++;
		*tdr_pa = page_pa(tds[id].tdr);
	}
	mutex_unlock(&harness_lock);
	return ret;
}
EXPORT_SYMBOL_GPL(tdx_td_harness_get_td);

void tdx_td_harness_put_td(unsigned int id)
{
	mutex_lock(&harness_lock);
	if (id >= 1 && id <= HARNESS_MAX_TDS && !WARN_ON(!tds[id].lent))
		tds[id].lent--;
	mutex_unlock(&harness_lock);
}
EXPORT_SYMBOL_GPL(tdx_td_harness_put_td);

static ssize_t ctl_write(struct file *f, const char __user *ubuf, size_t len, loff_t *ppos)
{
	char *buf;
	int ret;

	if (len == 0 || len > 1024)
		return -EINVAL;
	buf = memdup_user_nul(ubuf, len);
	if (IS_ERR(buf))
		return PTR_ERR(buf);
	strim(buf);
	mutex_lock(&harness_lock);
	ret = run_command(buf);
	mutex_unlock(&harness_lock);
	kfree(buf);
	return ret ? ret : len;
}

static ssize_t locked_read(char __user *ubuf, size_t len, loff_t *ppos, const void *data, size_t size)
{
	ssize_t ret;

	mutex_lock(&harness_lock);
	ret = simple_read_from_buffer(ubuf, len, ppos, data, size);
	mutex_unlock(&harness_lock);
	return ret;
}

static ssize_t result_read(struct file *f, char __user *ubuf, size_t len, loff_t *ppos)
{
	return locked_read(ubuf, len, ppos, result, strlen(result));
}

static ssize_t report_read(struct file *f, char __user *ubuf, size_t len, loff_t *ppos)
{
	return locked_read(ubuf, len, ppos, last_report, last_report_len);
}

static ssize_t quote_read(struct file *f, char __user *ubuf, size_t len, loff_t *ppos)
{
	ssize_t ret;

	mutex_lock(&harness_lock);
	ret = last_quote ? simple_read_from_buffer(ubuf, len, ppos, last_quote, last_quote_len) : 0;
	mutex_unlock(&harness_lock);
	return ret;
}

static ssize_t tds_read(struct file *f, char __user *ubuf, size_t len, loff_t *ppos)
{
	char *buf = kzalloc(PAGE_SIZE, GFP_KERNEL);
	size_t n = 0;
	ssize_t ret;
	int i;

	if (!buf)
		return -ENOMEM;
	mutex_lock(&harness_lock);
	for (i = 1; i <= HARNESS_MAX_TDS; i++)
		if (tds[i].live)
			n += scnprintf(buf + n, PAGE_SIZE - n, "%d keyid %d tdr 0x%llx tdcs %u finalized %d\n", i,
				       tds[i].keyid, page_pa(tds[i].tdr), tds[i].nr_tdcs, tds[i].finalized);
	mutex_unlock(&harness_lock);
	ret = simple_read_from_buffer(ubuf, len, ppos, buf, n);
	kfree(buf);
	return ret;
}

struct fresh_quote {
	void *quote;
	u32 len;
};

/* A quote request per open, made without the harness lock: readers run concurrently. */
static int fresh_quote_open(struct inode *inode, struct file *f)
{
	struct fresh_quote *fq;
	u8 *report;
	u64 tdr;
	int ret;

	fq = kzalloc(sizeof(*fq), GFP_KERNEL);
	report = kmalloc(REPORT_BYTES, GFP_KERNEL);
	if (!fq || !report) {
		kfree(fq);
		kfree(report);
		return -ENOMEM;
	}
	mutex_lock(&harness_lock);
	tdr = storm_tdr;
	memcpy(report, storm_report, REPORT_BYTES);
	mutex_unlock(&harness_lock);
	ret = tdr ? tdx_host_generate_quote(tdr, report, REPORT_BYTES, &fq->quote, &fq->len) : -ENOENT;
	kfree(report);
	if (ret) {
		kfree(fq);
		return ret;
	}
	f->private_data = fq;
	return 0;
}

static ssize_t fresh_quote_read(struct file *f, char __user *ubuf, size_t len, loff_t *ppos)
{
	struct fresh_quote *fq = f->private_data;

	return simple_read_from_buffer(ubuf, len, ppos, fq->quote, fq->len);
}

static int fresh_quote_release(struct inode *inode, struct file *f)
{
	struct fresh_quote *fq = f->private_data;

	kvfree(fq->quote);
	kfree(fq);
	return 0;
}

static const struct file_operations ctl_fops = { .owner = THIS_MODULE, .write = ctl_write };
static const struct file_operations result_fops = { .owner = THIS_MODULE, .read = result_read };
static const struct file_operations report_fops = { .owner = THIS_MODULE, .read = report_read };
static const struct file_operations quote_fops = { .owner = THIS_MODULE, .read = quote_read };
static const struct file_operations tds_fops = { .owner = THIS_MODULE, .read = tds_read };
static const struct file_operations fresh_quote_fops = {
	.owner = THIS_MODULE,
	.open = fresh_quote_open,
	.read = fresh_quote_read,
	.release = fresh_quote_release,
};

static int __init harness_init(void)
{
	last_report = kzalloc(REPORT_BYTES, GFP_KERNEL);
	storm_report = kzalloc(REPORT_BYTES, GFP_KERNEL);
	if (!last_report || !storm_report) {
		kfree(last_report);
		kfree(storm_report);
		return -ENOMEM;
	}
	dir = debugfs_create_dir("tdx_td_harness", NULL);
	debugfs_create_file("ctl", 0200, dir, NULL, &ctl_fops);
	debugfs_create_file("result", 0400, dir, NULL, &result_fops);
	debugfs_create_file("report", 0400, dir, NULL, &report_fops);
	debugfs_create_file("quote", 0400, dir, NULL, &quote_fops);
	debugfs_create_file("tds", 0400, dir, NULL, &tds_fops);
	debugfs_create_file("fresh_quote", 0400, dir, NULL, &fresh_quote_fops);
	set_result("ok ready\n");
	return 0;
}

static void __exit harness_exit(void)
{
	int i;

	debugfs_remove_recursive(dir);
	if (holder)
		release_state();
	for (i = 1; i <= HARNESS_MAX_TDS; i++)
		if (tds[i].live)
			td_teardown(&tds[i]);
	kvfree(last_quote);
	kfree(last_report);
	kfree(storm_report);
}

module_init(harness_init);
module_exit(harness_exit);
