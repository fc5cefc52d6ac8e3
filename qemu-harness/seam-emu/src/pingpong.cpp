// SPDX-License-Identifier: GPL-2.0
// seam-emu-pingpong: the floor of any shared-memory transport on this host, for `make bench`.
//
// Two threads hand a value back and forth through two cache lines, the way a guest CPU and a
// slot thread hand a call over (req_id out, done_id back). Prints the median round trip in ns
// over batches of kBatch round trips ("pingpong_ns=N"). On a VM the figure moves with where the
// hypervisor runs the vCPUs (same core complex or not), which is why the bench prints it next to
// the SEAMCALL round trip.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

namespace {

constexpr unsigned kBatch = 1000;
constexpr unsigned kBatches = 200;

struct alignas(64) Line {
	std::atomic<unsigned long> v{0};
};
Line g_req, g_done;

} // namespace

int main()
{
	const unsigned long total = static_cast<unsigned long>(kBatch) * kBatches;
	std::thread peer([total] {
		for (unsigned long i = 1; i <= total; i++) {
			while (g_req.v.load(std::memory_order_acquire) != i)
				__builtin_ia32_pause();
			g_done.v.store(i, std::memory_order_release);
		}
	});
	std::vector<double> per_trip;
	unsigned long i = 0;
	for (unsigned b = 0; b < kBatches; b++) {
		auto t0 = std::chrono::steady_clock::now();
		for (unsigned k = 0; k < kBatch; k++) {
			i++;
			g_req.v.store(i, std::memory_order_release);
			while (g_done.v.load(std::memory_order_acquire) != i) {
			}
		}
		std::chrono::duration<double, std::nano> d = std::chrono::steady_clock::now() - t0;
		per_trip.push_back(d.count() / kBatch);
	}
	peer.join();
	std::sort(per_trip.begin(), per_trip.end());
	std::printf("pingpong_ns=%.0f\n", per_trip[per_trip.size() / 2]);
	return EXIT_SUCCESS;
}
