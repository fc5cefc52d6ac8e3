// SPDX-License-Identifier: GPL-2.0
// Owning handles for the OpenSSL objects of the module-image library (the shared ones of
// <hostlib/ossl.h> and a BIGNUM's), and OpenSSL's last error as text.
#pragma once

#include <memory>

#include <openssl/bn.h>

#include <hostlib/ossl.h>

namespace module_image::ossl {

using namespace hostlib::ossl;

using Bn = std::unique_ptr<BIGNUM, Deleter<BIGNUM, BN_free>>;

} // namespace module_image::ossl
