// SPDX-License-Identifier: GPL-2.0
// Host libraries (lib/dice-quote, lib/module-image): owning handles for the OpenSSL objects both
// use, and OpenSSL's last error as text. Each library adds its own handles next to these.
#pragma once

#include <memory>
#include <string>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

namespace hostlib::ossl {

template <class T, void (*F)(T *)>
struct Deleter {
	void operator()(T *p) const { F(p); }
};

using Pkey = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using PkeyCtx = std::unique_ptr<EVP_PKEY_CTX, Deleter<EVP_PKEY_CTX, EVP_PKEY_CTX_free>>;
using MdCtx = std::unique_ptr<EVP_MD_CTX, Deleter<EVP_MD_CTX, EVP_MD_CTX_free>>;
using ParamBld = std::unique_ptr<OSSL_PARAM_BLD, Deleter<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free>>;
using Params = std::unique_ptr<OSSL_PARAM, Deleter<OSSL_PARAM, OSSL_PARAM_free>>;
using Bio = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;

/* The newest entry of OpenSSL's error queue, for messages (the queue is cleared). */
inline std::string last_error()
{
	unsigned long e = ERR_peek_last_error();
	std::string s = "no OpenSSL error recorded";
	if (e) {
		char buf[256];
		ERR_error_string_n(e, buf, sizeof(buf));
		s = buf;
	}
	ERR_clear_error();
	return s;
}

} // namespace hostlib::ossl
