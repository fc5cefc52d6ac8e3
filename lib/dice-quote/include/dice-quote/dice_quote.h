// SPDX-License-Identifier: GPL-2.0
// DICE-based TDX quotes (docs/quote-format.md): the DICE certificate chain of a platform and TDX
// module, quotes signed by its quoting key, and their verification against a pinned root.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <dice-quote/claims.h>
#include <dice-quote/result.h>

namespace dice_quote {

/* What the DICE layers are derived from (docs/quote-format.md §2). */
struct ChainInputs {
	Bytes root_seed;               /* the unique device secret, at least 32 bytes */
	Digest48 platform_measurement{}; /* layer 1 */
	Digest48 module_measurement{};   /* layer 2: MRSEAM */
	Svn16 module_svn{};              /* layer 2: TEE_TCB_SVN */
};

inline constexpr std::size_t kMinRootSeedBytes = 32;
inline constexpr std::size_t kChainLength = 3; /* certificates in a quote: quoting, module, platform */

struct ChainState; /* keys and certificates (src/chain.h) */

/*
 * The DICE chain: root (self-signed CA) -> layer 1 platform (CA) -> layer 2 TDX module (CA, TcbInfo)
 * -> layer 3 quoting key (end entity). Keys depend only on the seed and the measurements; the
 * certificates' signatures are randomized (ECDSA), so re-creating a chain gives the same keys and
 * names but not byte-identical certificates.
 */
class DiceChain {
public:
	static Result<DiceChain> create(const ChainInputs &inputs);

	DiceChain(DiceChain &&) noexcept;
	DiceChain &operator=(DiceChain &&) noexcept;
	~DiceChain();

	const ChainInputs &inputs() const;
	std::string root_pem() const;
	Bytes root_der() const;
	/* The certificates a quote carries, leaf first: quoting key, TDX module, platform. */
	std::vector<Bytes> chain_der() const;
	/* Uncompressed SEC1 public point (97 bytes) of a layer: 0 root, 1 platform, 2 module, 3 quoting. */
	Bytes public_key(int layer) const;

	const ChainState &state() const { return *state_; }

private:
	explicit DiceChain(std::unique_ptr<ChainState> state);
	friend struct ChainBuilder;
	std::unique_ptr<ChainState> state_;
};

/*
 * Signs a quote for these claims with the chain's quoting key. The claims' current platform
 * digest, MRSEAM and TEE_TCB_SVN must be the chain's (kInvalidArgument otherwise): the layer
 * certificates vouch for exactly those.
 */
Result<Bytes> make_quote(const DiceChain &chain, const QuoteClaims &claims);

struct VerifiedQuote {
	QuoteClaims claims;
	std::vector<Bytes> chain_der; /* as carried, leaf first */
};

/*
 * Verifies a quote (docs/quote-format.md §5) against the trusted root certificate (PEM) and, when
 * given, the expected REPORTDATA. Returns the claims, or the first failure found.
 */
Result<VerifiedQuote> verify_quote(BytesView quote, std::string_view trusted_root_pem,
				   const std::optional<ReportData> &expected_report_data = std::nullopt);

} // namespace dice_quote
