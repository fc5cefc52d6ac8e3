// SPDX-License-Identifier: GPL-2.0
#include "claims_codec.h"

#include <algorithm>
#include <functional>
#include <new>
#include <set>

#include "cbor_util.h"

namespace dice_quote {
namespace {

using cbor::Item;

/* ---- encoding ---- */

struct Entry {
	std::string name; /* the key as a path component */
	Item key;
	Item value;
};

Item bstr(BytesView b)
{
	return Item(cbor_build_bytestring(b.data(), b.size()));
}

Entry int_entry(std::int64_t key, Item value)
{
	return Entry{std::to_string(key), Item(cbor::build_int(key)), std::move(value)};
}

Entry text_entry(const std::string &key, Item value)
{
	return Entry{key, Item(cbor_build_string(key.c_str())), std::move(value)};
}

Item svn_array(const Svn16 &svn)
{
	Item a(cbor_new_definite_array(svn.size()));
	if (!a)
		return nullptr;
	for (auto b : svn) {
		Item v(cbor_build_uint8(b));
		if (!v || !cbor_array_push(a.get(), v.get()))
			return nullptr;
	}
	return a;
}

class ClaimsEncoder {
public:
	explicit ClaimsEncoder(const testing::ClaimEdits &edits) : edits_(edits) {}

	/* A definite map of the entries after the edits for this path; nullptr on failure. */
	Item map(const std::string &path, std::vector<Entry> entries)
	{
		std::vector<Entry> out;
		for (auto &e : entries) {
			const std::string full = path.empty() ? e.name : path + "/" + e.name;
			if (std::find(edits_.remove.begin(), edits_.remove.end(), full) != edits_.remove.end())
				continue;
			if (auto r = edits_.replace.find(full); r != edits_.replace.end())
				e.value = load(r->second);
			out.push_back(std::move(e));
		}
		for (const auto &[p, k, v] : edits_.extra)
			if (p == path)
				out.push_back(Entry{"", load(k), load(v)});
		Item m(cbor_new_definite_map(out.size()));
		if (!m)
			return nullptr;
		for (auto &e : out)
			if (!e.key || !e.value || !cbor_map_add(m.get(), cbor_pair{e.key.get(), e.value.get()}))
				return nullptr;
		return m;
	}

	Item measurements(const std::string &path, std::vector<Entry> entries)
	{
		Item m = map(path, std::move(entries));
		if (!m || edits_.untagged_measurements)
			return m;
		return Item(cbor_build_tag(kTagMeasurementMap, m.get()));
	}

	template <class M, class F>
	Item submod(const std::string &path, const OriginCurrent<M> &oc, F entries_of)
	{
		std::vector<Entry> e;
		e.push_back(text_entry("origin", measurements(path + "/origin", entries_of(oc.origin))));
		e.push_back(text_entry("current", measurements(path + "/current", entries_of(oc.current))));
		return map(path, std::move(e));
	}

private:
	static Item load(const Bytes &b)
	{
		cbor_load_result r;
		return Item(cbor_load(b.data(), b.size(), &r));
	}

	const testing::ClaimEdits &edits_;
};

std::vector<Entry> platform_entries(const PlatformMeasurements &m)
{
	std::vector<Entry> e;
	e.push_back(int_entry(kLabelDigest, bstr(m.digest)));
	e.push_back(int_entry(kLabelTeeTcbSvn, svn_array(m.tcb_svn)));
	return e;
}

std::vector<Entry> seam_entries(const SeamMeasurements &m)
{
	std::vector<Entry> e;
	e.push_back(int_entry(kLabelAttributes, bstr(m.attributes)));
	e.push_back(int_entry(kLabelDigest, bstr(m.mrseam)));
	e.push_back(int_entry(kLabelMrSignerSeam, bstr(m.mrsignerseam)));
	e.push_back(int_entry(kLabelTeeTcbSvn, svn_array(m.tee_tcb_svn)));
	return e;
}

std::vector<Entry> td_entries(const TdMeasurements &m)
{
	std::vector<Entry> e;
	e.push_back(int_entry(kLabelAttributes, bstr(m.attributes)));
	e.push_back(int_entry(kLabelDigest, bstr(m.mrtd)));
	e.push_back(int_entry(kLabelXfam, bstr(m.xfam)));
	e.push_back(int_entry(kLabelMrConfigId, bstr(m.mrconfigid)));
	e.push_back(int_entry(kLabelMrOwner, bstr(m.mrowner)));
	e.push_back(int_entry(kLabelMrOwnerConfig, bstr(m.mrownerconfig)));
	for (int i = 0; i < 4; i++)
		e.push_back(int_entry(kLabelRtmr0 - i, bstr(m.rtmr[i])));
	e.push_back(int_entry(kLabelMrServiceTd, bstr(m.mrservicetd)));
	return e;
}

/* ---- decoding ---- */

Error claim_error(ErrorCode code, const std::string &path, const std::string &what)
{
	return make_error(code, "claim " + path + ": " + what);
}

/* The entries of a map, by key, after the duplicate/unknown/missing checks. */
template <class Key>
using KeyOf = std::function<std::optional<Key>(const cbor_item_t *)>;

template <class Key>
Result<std::map<Key, const cbor_item_t *>> entries(const cbor_item_t *map, const std::string &path,
						   const std::vector<Key> &keys, KeyOf<Key> key_of,
						   std::function<std::string(const Key &)> name)
{
	if (!cbor_isa_map(map))
		return claim_error(ErrorCode::kBadClaimType, path, "is not a map");
	std::map<Key, const cbor_item_t *> out;
	const struct cbor_pair *h = cbor_map_handle(map);
	for (size_t i = 0; i < cbor_map_size(map); i++) {
		const auto k = key_of(h[i].key);
		if (!k || std::find(keys.begin(), keys.end(), *k) == keys.end())
			return claim_error(ErrorCode::kUnknownClaim, path,
					   k ? "unknown key " + name(*k) : "a key of a type the format does not use");
		if (!out.emplace(*k, h[i].value).second)
			return claim_error(ErrorCode::kDuplicateKey, path, "key " + name(*k) + " appears twice");
	}
	for (const auto &k : keys)
		if (!out.count(k))
			return claim_error(ErrorCode::kMissingClaim, path, "required key " + name(k) + " is missing");
	return out;
}

Result<std::map<std::int64_t, const cbor_item_t *>> int_entries(const cbor_item_t *map, const std::string &path,
								 const std::vector<std::int64_t> &keys)
{
	return entries<std::int64_t>(map, path, keys, cbor::int_value,
				     [](const std::int64_t &k) { return std::to_string(k); });
}

Result<std::map<std::string, const cbor_item_t *>> text_entries(const cbor_item_t *map, const std::string &path,
								 const std::vector<std::string> &keys)
{
	return entries<std::string>(
		map, path, keys,
		[](const cbor_item_t *k) -> std::optional<std::string> {
			if (!cbor_isa_string(k))
				return std::nullopt;
			return cbor::text_of(k);
		},
		[](const std::string &k) { return "\"" + k + "\""; });
}

template <std::size_t N>
Status read_bytes(const cbor_item_t *item, const std::string &path, std::array<std::uint8_t, N> &out)
{
	if (!cbor_isa_bytestring(item))
		return claim_error(ErrorCode::kBadClaimType, path, "is not a byte string");
	if (cbor_bytestring_length(item) != N)
		return claim_error(ErrorCode::kBadClaimLength, path,
				   "has " + std::to_string(cbor_bytestring_length(item)) + " bytes, " +
					   std::to_string(N) + " expected");
	std::copy_n(cbor_bytestring_handle(item), N, out.begin());
	return Ok{};
}

Status read_svn(const cbor_item_t *item, const std::string &path, Svn16 &out)
{
	if (!cbor_isa_array(item))
		return claim_error(ErrorCode::kBadClaimType, path, "is not an array of 16 unsigned integers");
	if (cbor_array_size(item) != out.size())
		return claim_error(ErrorCode::kBadClaimLength, path,
				   "has " + std::to_string(cbor_array_size(item)) + " elements, 16 expected");
	cbor_item_t **h = cbor_array_handle(item);
	for (size_t i = 0; i < out.size(); i++) {
		const auto v = cbor::int_value(h[i]);
		if (!v || *v < 0 || *v > 255)
			return claim_error(ErrorCode::kBadClaimType, path,
					   "element " + std::to_string(i) + " is not an unsigned integer 0..255");
		out[i] = static_cast<std::uint8_t>(*v);
	}
	return Ok{};
}

/* A measurement map: tag 571 around a map with exactly `keys`. */
Result<std::map<std::int64_t, const cbor_item_t *>> measurement_map(const cbor_item_t *item, const std::string &path,
								     const std::vector<std::int64_t> &keys,
								     Item &hold)
{
	if (!cbor_isa_tag(item) || cbor_tag_value(item) != kTagMeasurementMap)
		return claim_error(ErrorCode::kBadClaimType, path, "is not a tag-571 measurement map");
	hold.reset(cbor_tag_item(item));
	return int_entries(hold.get(), path, keys);
}

Status decode_platform(const cbor_item_t *item, const std::string &path, PlatformMeasurements &m)
{
	Item hold;
	auto e = measurement_map(item, path, {kLabelDigest, kLabelTeeTcbSvn}, hold);
	if (!e)
		return e.error();
	auto &v = e.value();
	TRY_STATUS(read_bytes(v[kLabelDigest], path + "/-83", m.digest));
	TRY_STATUS(read_svn(v[kLabelTeeTcbSvn], path + "/-125", m.tcb_svn));
	return Ok{};
}

Status decode_seam(const cbor_item_t *item, const std::string &path, SeamMeasurements &m)
{
	Item hold;
	auto e = measurement_map(item, path, {kLabelAttributes, kLabelDigest, kLabelMrSignerSeam, kLabelTeeTcbSvn}, hold);
	if (!e)
		return e.error();
	auto &v = e.value();
	TRY_STATUS(read_bytes(v[kLabelAttributes], path + "/-82", m.attributes));
	TRY_STATUS(read_bytes(v[kLabelDigest], path + "/-83", m.mrseam));
	TRY_STATUS(read_bytes(v[kLabelMrSignerSeam], path + "/-84", m.mrsignerseam));
	TRY_STATUS(read_svn(v[kLabelTeeTcbSvn], path + "/-125", m.tee_tcb_svn));
	return Ok{};
}

Status decode_td(const cbor_item_t *item, const std::string &path, TdMeasurements &m)
{
	Item hold;
	auto e = measurement_map(item, path,
				 {kLabelAttributes, kLabelDigest, kLabelXfam, kLabelMrConfigId, kLabelMrOwner,
				  kLabelMrOwnerConfig, kLabelRtmr0, kLabelRtmr0 - 1, kLabelRtmr0 - 2, kLabelRtmr0 - 3,
				  kLabelMrServiceTd},
				 hold);
	if (!e)
		return e.error();
	auto &v = e.value();
	TRY_STATUS(read_bytes(v[kLabelAttributes], path + "/-82", m.attributes));
	TRY_STATUS(read_bytes(v[kLabelDigest], path + "/-83", m.mrtd));
	TRY_STATUS(read_bytes(v[kLabelXfam], path + "/-201", m.xfam));
	TRY_STATUS(read_bytes(v[kLabelMrConfigId], path + "/-203", m.mrconfigid));
	TRY_STATUS(read_bytes(v[kLabelMrOwner], path + "/-204", m.mrowner));
	TRY_STATUS(read_bytes(v[kLabelMrOwnerConfig], path + "/-205", m.mrownerconfig));
	for (int i = 0; i < 4; i++)
		TRY_STATUS(read_bytes(v[kLabelRtmr0 - i], path + "/" + std::to_string(kLabelRtmr0 - i), m.rtmr[i]));
	TRY_STATUS(read_bytes(v[kLabelMrServiceTd], path + "/-210", m.mrservicetd));
	return Ok{};
}

template <class M>
Status decode_submod(const cbor_item_t *item, const std::string &path, OriginCurrent<M> &oc,
		     Status (*decode)(const cbor_item_t *, const std::string &, M &))
{
	auto e = text_entries(item, path, {"origin", "current"});
	if (!e)
		return e.error();
	TRY_STATUS(decode(e.value()["origin"], path + "/origin", oc.origin));
	TRY_STATUS(decode(e.value()["current"], path + "/current", oc.current));
	return Ok{};
}

} // namespace

Result<QuoteClaims> decode_claims(BytesView payload)
{
	cbor_load_result r;
	Item top(cbor_load(payload.data(), payload.size(), &r));
	if (!top || r.error.code != CBOR_ERR_NONE)
		return make_error(ErrorCode::kBadPayload, "the payload is not well-formed CBOR");
	if (r.read != payload.size())
		return make_error(ErrorCode::kBadPayload, "the payload has bytes after its claims map");
	if (!cbor::all_definite(top.get()))
		return make_error(ErrorCode::kBadPayload, "the payload holds an indefinite-length item");
	if (!cbor_isa_map(top.get()))
		return make_error(ErrorCode::kBadPayload, "the payload is not a CBOR map");

	QuoteClaims c;
	auto e = int_entries(top.get(), "map", {kLabelReportData, kLabelSubmods});
	if (!e)
		return e.error();
	TRY_STATUS(read_bytes(e.value()[kLabelReportData], "-212 (report_data)", c.report_data));
	auto subs = text_entries(e.value()[kLabelSubmods], "-11", {kSubmodPlatform, kSubmodTd, kSubmodSeam});
	if (!subs)
		return subs.error();
	const std::string s = "-11/";
	TRY_STATUS(decode_submod(subs.value()[kSubmodPlatform], s + kSubmodPlatform, c.platform, decode_platform));
	TRY_STATUS(decode_submod(subs.value()[kSubmodSeam], s + kSubmodSeam, c.seam, decode_seam));
	TRY_STATUS(decode_submod(subs.value()[kSubmodTd], s + kSubmodTd, c.td, decode_td));
	return c;
}

namespace testing {

Result<Bytes> encode_claims(const QuoteClaims &claims, const ClaimEdits &edits)
{
	try {
		ClaimsEncoder enc(edits);
		const std::string s = std::to_string(kLabelSubmods);
		std::vector<Entry> subs;
		/* Platform, TD quote body, SEAM: the order of the submods' OIDs. */
		subs.push_back(text_entry(kSubmodPlatform,
					  enc.submod(s + "/" + kSubmodPlatform, claims.platform, platform_entries)));
		subs.push_back(text_entry(kSubmodTd, enc.submod(s + "/" + kSubmodTd, claims.td, td_entries)));
		subs.push_back(text_entry(kSubmodSeam, enc.submod(s + "/" + kSubmodSeam, claims.seam, seam_entries)));
		std::vector<Entry> top;
		top.push_back(int_entry(kLabelReportData, bstr(claims.report_data)));
		top.push_back(int_entry(kLabelSubmods, enc.map(s, std::move(subs))));
		Item m = enc.map("", std::move(top));
		Bytes out = m ? cbor::serialize(m.get()) : Bytes{};
		if (out.empty())
			return make_error(ErrorCode::kOutOfMemory, "encoding the claims failed");
		return out;
	} catch (const std::bad_alloc &) {
		return make_error(ErrorCode::kOutOfMemory, "out of memory encoding the claims");
	}
}

} // namespace testing
} // namespace dice_quote
