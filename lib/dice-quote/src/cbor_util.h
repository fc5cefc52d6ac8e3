// SPDX-License-Identifier: GPL-2.0
// libcbor helpers: an owning handle, builders for the integer forms the format uses, and readers.
#pragma once

#include <cbor.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <dice-quote/claims.h>

namespace dice_quote::cbor {

struct Decref {
	void operator()(cbor_item_t *p) const { cbor_decref(&p); }
};
using Item = std::unique_ptr<cbor_item_t, Decref>;

/* An integer item in its shortest encoding. */
cbor_item_t *build_int(std::int64_t v);
/* The value of an integer item, if it fits an int64. */
std::optional<std::int64_t> int_value(const cbor_item_t *item);
/* The encoding of an item; empty on failure (allocation). */
Bytes serialize(const cbor_item_t *item);
/* A definite bstr's contents. */
BytesView bytes_of(const cbor_item_t *item);
std::string text_of(const cbor_item_t *item);
/* Whether an item (and everything in it) is definite-length. */
bool all_definite(const cbor_item_t *item);

} // namespace dice_quote::cbor

/* Returns the error of a failed Status/Result expression from the enclosing function. */
#define TRY_STATUS(expr)                    \
	do {                                \
		auto _s = (expr);           \
		if (!_s)                    \
			return _s.error();  \
	} while (0)
