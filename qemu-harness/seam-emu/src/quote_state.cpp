// SPDX-License-Identifier: GPL-2.0
#include "quote_state.h"

#include <cstdio>
#include <cstdlib>

#include <openssl/rand.h>

namespace seam_emu {

Module::QuoteState::QuoteState() : root_seed_(kRootSeedBytes)
{
	/* Without entropy there is no platform secret: nothing sensible can go on. */
	if (RAND_bytes(root_seed_.data(), int(root_seed_.size())) != 1) {
		std::fprintf(stderr, "seam-emu: RAND_bytes failed: no DICE root seed\n");
		std::abort();
	}
}

void Module::QuoteStateDeleter::operator()(QuoteState *q) const { delete q; }

Module::QuoteStatePtr Module::make_quote_state() { return QuoteStatePtr(new QuoteState()); }

} // namespace seam_emu
