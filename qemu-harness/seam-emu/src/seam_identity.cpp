// SPDX-License-Identifier: GPL-2.0
#include "seam_identity.h"

#include <cstring>
#include <string_view>
#include <vector>

#include <openssl/evp.h>

namespace seam_emu {

namespace {

void put_le(std::vector<u8> &buf, u64 v, unsigned bytes)
{
	for (unsigned i = 0; i < bytes; i++)
		buf.push_back(u8(v >> (8 * i)));
}

std::array<u8, 48> sha384(const std::vector<u8> &data)
{
	std::array<u8, 48> out{};
	unsigned len = 0;
	/* EVP_Digest cannot fail for SHA-384 over memory short of an OpenSSL malfunction. */
	if (!EVP_Digest(data.data(), data.size(), out.data(), &len, EVP_sha384(), nullptr) || len != out.size())
		std::abort();
	return out;
}

std::vector<u8> labelled(std::string_view label)
{
	return std::vector<u8>(label.begin(), label.end());
}

} // namespace

SeamIdentity seam_identity(const ModuleImage &image)
{
	std::vector<u8> buf = labelled("seam-emu MRSEAM v1");
	put_le(buf, image.module.major, 2);
	put_le(buf, image.module.minor, 2);
	put_le(buf, image.module.update, 2);
	put_le(buf, image.module.build_num, 2);
	put_le(buf, image.module.build_date, 4);
	put_le(buf, image.tdx_features0, 8);
	SeamIdentity id;
	id.mrseam = image.seamhash ? *image.seamhash : sha384(buf);
	id.tee_tcb_svn[0] = image.svn.minor;
	id.tee_tcb_svn[1] = image.svn.major;
	return id;
}

std::array<u8, 48> platform_measurement(const Platform &platform)
{
	std::vector<u8> buf = labelled("seam-emu platform v1");
	put_le(buf, platform.cpu_signature, 4);
	put_le(buf, platform.lps, 4);
	put_le(buf, platform.packages, 4);
	return sha384(buf);
}

std::array<u8, 16> platform_tcb_svn(const Platform &)
{
	std::array<u8, 16> svn{};
	svn[0] = 1;
	return svn;
}

} // namespace seam_emu
