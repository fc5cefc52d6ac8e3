// SPDX-License-Identifier: GPL-2.0
#include "cbor_util.h"

#include <cstdlib>
#include <limits>

namespace dice_quote::cbor {

cbor_item_t *build_int(std::int64_t v)
{
	const bool neg = v < 0;
	/* CBOR major type 1 holds -1 - n. */
	const std::uint64_t n = neg ? static_cast<std::uint64_t>(-(v + 1)) : static_cast<std::uint64_t>(v);
	if (n <= 0xff)
		return neg ? cbor_build_negint8(static_cast<std::uint8_t>(n)) : cbor_build_uint8(static_cast<std::uint8_t>(n));
	if (n <= 0xffff)
		return neg ? cbor_build_negint16(static_cast<std::uint16_t>(n)) : cbor_build_uint16(static_cast<std::uint16_t>(n));
	if (n <= 0xffffffffu)
		return neg ? cbor_build_negint32(static_cast<std::uint32_t>(n)) : cbor_build_uint32(static_cast<std::uint32_t>(n));
	return neg ? cbor_build_negint64(n) : cbor_build_uint64(n);
}

std::optional<std::int64_t> int_value(const cbor_item_t *item)
{
	if (!cbor_isa_uint(item) && !cbor_isa_negint(item))
		return std::nullopt;
	const std::uint64_t n = cbor_get_int(item);
	if (n > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
		return std::nullopt;
	const auto s = static_cast<std::int64_t>(n);
	return cbor_isa_negint(item) ? -1 - s : s;
}

Bytes serialize(const cbor_item_t *item)
{
	unsigned char *buf = nullptr;
	size_t cap = 0;
	const size_t len = cbor_serialize_alloc(item, &buf, &cap);
	Bytes out;
	if (len)
		out.assign(buf, buf + len);
	std::free(buf);
	return out;
}

BytesView bytes_of(const cbor_item_t *item)
{
	return BytesView(cbor_bytestring_handle(item), cbor_bytestring_length(item));
}

std::string text_of(const cbor_item_t *item)
{
	return std::string(reinterpret_cast<const char *>(cbor_string_handle(item)), cbor_string_length(item));
}

bool all_definite(const cbor_item_t *item)
{
	switch (cbor_typeof(item)) {
	case CBOR_TYPE_BYTESTRING:
		return cbor_bytestring_is_definite(item);
	case CBOR_TYPE_STRING:
		return cbor_string_is_definite(item);
	case CBOR_TYPE_ARRAY: {
		if (!cbor_array_is_definite(item))
			return false;
		cbor_item_t **h = cbor_array_handle(item);
		for (size_t i = 0; i < cbor_array_size(item); i++)
			if (!all_definite(h[i]))
				return false;
		return true;
	}
	case CBOR_TYPE_MAP: {
		if (!cbor_map_is_definite(item))
			return false;
		struct cbor_pair *h = cbor_map_handle(item);
		for (size_t i = 0; i < cbor_map_size(item); i++)
			if (!all_definite(h[i].key) || !all_definite(h[i].value))
				return false;
		return true;
	}
	case CBOR_TYPE_TAG: {
		Item inner(cbor_tag_item(item));
		return all_definite(inner.get());
	}
	default:
		return true;
	}
}

} // namespace dice_quote::cbor
