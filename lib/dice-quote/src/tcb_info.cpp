// SPDX-License-Identifier: GPL-2.0
// DiceTcbInfo (TCG DICE Attestation Architecture) with OpenSSL's ASN.1 templates:
//   DiceTcbInfo ::= SEQUENCE {
//     vendor [0] IMPLICIT UTF8String OPTIONAL, model [1] IMPLICIT UTF8String OPTIONAL,
//     version [2] IMPLICIT UTF8String OPTIONAL, svn [3] IMPLICIT INTEGER OPTIONAL,
//     layer [4] IMPLICIT INTEGER OPTIONAL, index [5] IMPLICIT INTEGER OPTIONAL,
//     fwids [6] IMPLICIT SEQUENCE OF FWID OPTIONAL, flags [7] IMPLICIT BIT STRING OPTIONAL,
//     vendorInfo [8] IMPLICIT OCTET STRING OPTIONAL, type [9] IMPLICIT OCTET STRING OPTIONAL,
//     flagsMask [10] IMPLICIT BIT STRING OPTIONAL }
//   FWID ::= SEQUENCE { hashAlg OBJECT IDENTIFIER, digest OCTET STRING }
#include "tcb_info.h"

#include <algorithm>

#include <openssl/asn1t.h>

#include "ossl.h"

extern "C" {
typedef struct dq_fwid_st {
	ASN1_OBJECT *hash_alg;
	ASN1_OCTET_STRING *digest;
} DQ_FWID;

typedef struct dq_tcb_info_st {
	ASN1_UTF8STRING *vendor;
	ASN1_UTF8STRING *model;
	ASN1_UTF8STRING *version;
	ASN1_INTEGER *svn;
	ASN1_INTEGER *layer;
	ASN1_INTEGER *index;
	STACK_OF(DQ_FWID) *fwids;
	ASN1_BIT_STRING *flags;
	ASN1_OCTET_STRING *vendor_info;
	ASN1_OCTET_STRING *type;
	ASN1_BIT_STRING *flags_mask;
} DQ_TCB_INFO;
}

DEFINE_STACK_OF(DQ_FWID)
DECLARE_ASN1_FUNCTIONS(DQ_FWID)
DECLARE_ASN1_FUNCTIONS(DQ_TCB_INFO)

ASN1_SEQUENCE(DQ_FWID) = {
	ASN1_SIMPLE(DQ_FWID, hash_alg, ASN1_OBJECT),
	ASN1_SIMPLE(DQ_FWID, digest, ASN1_OCTET_STRING),
} ASN1_SEQUENCE_END(DQ_FWID)
IMPLEMENT_ASN1_FUNCTIONS(DQ_FWID)

ASN1_SEQUENCE(DQ_TCB_INFO) = {
	ASN1_IMP_OPT(DQ_TCB_INFO, vendor, ASN1_UTF8STRING, 0),
	ASN1_IMP_OPT(DQ_TCB_INFO, model, ASN1_UTF8STRING, 1),
	ASN1_IMP_OPT(DQ_TCB_INFO, version, ASN1_UTF8STRING, 2),
	ASN1_IMP_OPT(DQ_TCB_INFO, svn, ASN1_INTEGER, 3),
	ASN1_IMP_OPT(DQ_TCB_INFO, layer, ASN1_INTEGER, 4),
	ASN1_IMP_OPT(DQ_TCB_INFO, index, ASN1_INTEGER, 5),
	ASN1_IMP_SEQUENCE_OF_OPT(DQ_TCB_INFO, fwids, DQ_FWID, 6),
	ASN1_IMP_OPT(DQ_TCB_INFO, flags, ASN1_BIT_STRING, 7),
	ASN1_IMP_OPT(DQ_TCB_INFO, vendor_info, ASN1_OCTET_STRING, 8),
	ASN1_IMP_OPT(DQ_TCB_INFO, type, ASN1_OCTET_STRING, 9),
	ASN1_IMP_OPT(DQ_TCB_INFO, flags_mask, ASN1_BIT_STRING, 10),
} ASN1_SEQUENCE_END(DQ_TCB_INFO)
IMPLEMENT_ASN1_FUNCTIONS(DQ_TCB_INFO)

namespace dice_quote {
namespace {

using TcbInfoPtr = std::unique_ptr<DQ_TCB_INFO, ossl::Deleter<DQ_TCB_INFO, DQ_TCB_INFO_free>>;
using FwidPtr = std::unique_ptr<DQ_FWID, ossl::Deleter<DQ_FWID, DQ_FWID_free>>;

Error bad(const std::string &what)
{
	ERR_clear_error();
	return make_error(ErrorCode::kBadTcbInfo, "DiceTcbInfo: " + what);
}

ASN1_UTF8STRING *utf8(const std::string &s)
{
	ASN1_UTF8STRING *a = ASN1_UTF8STRING_new();
	if (a && !ASN1_STRING_set(a, s.data(), static_cast<int>(s.size()))) {
		ASN1_UTF8STRING_free(a);
		return nullptr;
	}
	return a;
}

std::string text(const ASN1_STRING *a)
{
	return std::string(reinterpret_cast<const char *>(ASN1_STRING_get0_data(a)),
			   static_cast<size_t>(ASN1_STRING_length(a)));
}

} // namespace

Result<Bytes> encode_tcb_info(const TcbInfo &info)
{
	TcbInfoPtr t(DQ_TCB_INFO_new());
	FwidPtr fwid(DQ_FWID_new());
	if (!t || !fwid)
		return ossl::crypto_error("DiceTcbInfo allocation");
	t->vendor = utf8(info.vendor);
	t->model = utf8(info.model);
	t->layer = ASN1_INTEGER_new();
	if (!t->vendor || !t->model || !t->layer || !ASN1_INTEGER_set(t->layer, info.layer))
		return ossl::crypto_error("DiceTcbInfo fields");
	if (info.svn) {
		ossl::Bn bn(BN_bin2bn(info.svn->data(), static_cast<int>(info.svn->size()), nullptr));
		if (!bn || !(t->svn = BN_to_ASN1_INTEGER(bn.get(), nullptr)))
			return ossl::crypto_error("DiceTcbInfo svn");
	}
	ASN1_OBJECT_free(fwid->hash_alg);
	fwid->hash_alg = OBJ_txt2obj(kSha384Oid, 1);
	if (!fwid->hash_alg ||
	    !ASN1_OCTET_STRING_set(fwid->digest, info.fwid_sha384.data(), static_cast<int>(info.fwid_sha384.size())))
		return ossl::crypto_error("DiceTcbInfo fwid");
	t->fwids = sk_DQ_FWID_new_null();
	if (!t->fwids || !sk_DQ_FWID_push(t->fwids, fwid.get()))
		return ossl::crypto_error("DiceTcbInfo fwids");
	fwid.release();

	unsigned char *der = nullptr;
	const int len = i2d_DQ_TCB_INFO(t.get(), &der);
	if (len <= 0)
		return ossl::crypto_error("DiceTcbInfo encoding");
	Bytes out(der, der + len);
	OPENSSL_free(der);
	return out;
}

Result<TcbInfo> decode_tcb_info(BytesView der)
{
	const unsigned char *p = der.data();
	TcbInfoPtr t(d2i_DQ_TCB_INFO(nullptr, &p, static_cast<long>(der.size())));
	if (!t)
		return bad("not a DER DiceTcbInfo");
	if (p != der.data() + der.size())
		return bad("trailing bytes after the SEQUENCE");
	if (t->version || t->index || t->flags || t->vendor_info || t->type || t->flags_mask)
		return bad("carries a field the format does not define (version, index, flags, vendorInfo, type or flagsMask)");
	if (!t->vendor || !t->model || !t->layer || !t->fwids)
		return bad("vendor, model, layer and fwids are required");

	TcbInfo info;
	info.vendor = text(t->vendor);
	info.model = text(t->model);
	int64_t layer = 0;
	if (!ASN1_INTEGER_get_int64(&layer, t->layer) || layer < 0 || layer > 255)
		return bad("layer is not a small non-negative INTEGER");
	info.layer = static_cast<long>(layer);
	if (t->svn) {
		ossl::Bn bn(ASN1_INTEGER_to_BN(t->svn, nullptr));
		if (!bn || BN_is_negative(bn.get()) || BN_num_bytes(bn.get()) > 16)
			return bad("svn is not an unsigned 16-byte INTEGER");
		Svn16 svn{};
		if (BN_bn2binpad(bn.get(), svn.data(), static_cast<int>(svn.size())) != 16)
			return bad("svn conversion");
		info.svn = svn;
	}
	if (sk_DQ_FWID_num(t->fwids) != 1)
		return bad("fwids must hold exactly one FWID");
	const DQ_FWID *fwid = sk_DQ_FWID_value(t->fwids, 0);
	char oid[64];
	if (OBJ_obj2txt(oid, sizeof(oid), fwid->hash_alg, 1) <= 0 || std::string(oid) != kSha384Oid)
		return bad("the FWID's hashAlg is not SHA-384 (2.16.840.1.101.3.4.2.2)");
	if (ASN1_STRING_length(fwid->digest) != static_cast<int>(info.fwid_sha384.size()))
		return bad("the FWID's digest is not 48 bytes");
	std::copy_n(ASN1_STRING_get0_data(fwid->digest), info.fwid_sha384.size(), info.fwid_sha384.begin());
	return info;
}

} // namespace dice_quote
