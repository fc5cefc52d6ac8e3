#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Independent verifier of DICE-based TDX quotes (docs/quote-format.md), written from that page
with Debian's python3-cbor2 and python3-cryptography only, sharing no code with dice-quote.

usage: independent_verify.py --root root.pem [--report-data HEX] quote.bin
Exit 0 and a short summary when the quote verifies; 1 and one line naming the reason otherwise;
2 for usage or I/O errors.
"""

import argparse
import io
import sys

import cbor2
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.x509.oid import ExtensionOID

TCB_INFO_OID = x509.ObjectIdentifier("2.23.133.5.4.1")
SHA384_OID_DER = bytes.fromhex("0609608648016503040202")
SUBMOD_PLATFORM = "2.16.840.1.113741.1.13.2.1.0"
SUBMOD_TD = "2.16.840.1.113741.1.13.2.4.0"
SUBMOD_SEAM = "2.16.840.1.113741.1.13.2.8.0"

# Measurement keys per submod: label -> expected length (None: the 16-u8 SVN array).
PLATFORM_KEYS = {-83: 48, -125: None}
SEAM_KEYS = {-82: 8, -83: 48, -84: 48, -125: None}
TD_KEYS = {-82: 8, -83: 48, -201: 8, -203: 48, -204: 48, -205: 48,
           -206: 48, -207: 48, -208: 48, -209: 48, -210: 48}


class Invalid(Exception):
    pass


def check_map(value, keys, where):
    if not isinstance(value, dict):
        raise Invalid(f"{where} is not a map")
    for k in value:
        if k not in keys:
            raise Invalid(f"{where}: unknown key {k!r}")
    for k in keys:
        if k not in value:
            raise Invalid(f"{where}: missing key {k!r}")


def check_measurements(item, keys, where):
    if not isinstance(item, cbor2.CBORTag) or item.tag != 571:
        raise Invalid(f"{where} is not a tag-571 measurement map")
    check_map(item.value, keys, where)
    for k, length in keys.items():
        v = item.value[k]
        if length is None:
            if not isinstance(v, list) or len(v) != 16 or not all(
                    isinstance(x, int) and not isinstance(x, bool) and 0 <= x <= 255 for x in v):
                raise Invalid(f"{where}/{k} is not an array of 16 unsigned integers 0..255")
        elif not isinstance(v, bytes) or len(v) != length:
            raise Invalid(f"{where}/{k} is not a {length}-byte byte string")
    return item.value


def check_claims(payload):
    stream = io.BytesIO(payload)
    claims = cbor2.CBORDecoder(stream).decode()
    if stream.tell() != len(payload):
        raise Invalid("bytes after the claims map")
    check_map(claims, [-212, -11], "claims")
    if not isinstance(claims[-212], bytes) or len(claims[-212]) != 64:
        raise Invalid("report_data (-212) is not 64 bytes")
    subs = claims[-11]
    check_map(subs, [SUBMOD_PLATFORM, SUBMOD_TD, SUBMOD_SEAM], "submods (-11)")
    out = {}
    for oid, keys in ((SUBMOD_PLATFORM, PLATFORM_KEYS), (SUBMOD_SEAM, SEAM_KEYS), (SUBMOD_TD, TD_KEYS)):
        check_map(subs[oid], ["origin", "current"], oid)
        out[oid] = {w: check_measurements(subs[oid][w], keys, f"{oid}/{w}") for w in ("origin", "current")}
    return claims[-212], out


# --- a minimal DER reader for the DiceTcbInfo extension value -----------------------------------

def der_items(data):
    """Yields (tag byte, content) of the DER items in data (definite lengths only)."""
    pos = 0
    while pos < len(data):
        if pos + 2 > len(data):
            raise Invalid("DiceTcbInfo: truncated DER")
        tag, length = data[pos], data[pos + 1]
        pos += 2
        if length & 0x80:
            n = length & 0x7F
            if n == 0 or n > 4 or pos + n > len(data):
                raise Invalid("DiceTcbInfo: bad DER length")
            length = int.from_bytes(data[pos:pos + n], "big")
            pos += n
        if pos + length > len(data):
            raise Invalid("DiceTcbInfo: truncated DER")
        yield tag, data[pos:pos + length]
        pos += length


def tcb_info(cert, role):
    try:
        ext = cert.extensions.get_extension_for_oid(TCB_INFO_OID)
    except x509.ExtensionNotFound:
        raise Invalid(f"{role} has no DiceTcbInfo extension") from None
    outer = list(der_items(ext.value.value))
    if len(outer) != 1 or outer[0][0] != 0x30:
        raise Invalid(f"{role}: DiceTcbInfo is not one SEQUENCE")
    fields = {}
    for tag, content in der_items(outer[0][1]):
        if tag in fields:
            raise Invalid(f"{role}: DiceTcbInfo field {tag:#x} twice")
        fields[tag] = content
    allowed = {0x80: "vendor", 0x81: "model", 0x83: "svn", 0x84: "layer", 0xA6: "fwids"}
    for tag in fields:
        if tag not in allowed:
            raise Invalid(f"{role}: DiceTcbInfo field {tag:#x} is not in the format")
    info = {"vendor": fields.get(0x80, b"").decode(), "model": fields.get(0x81, b"").decode()}
    info["layer"] = int.from_bytes(fields.get(0x84, b""), "big", signed=True)
    if 0x83 in fields:
        svn = fields[0x83]
        if svn[0] & 0x80:
            raise Invalid(f"{role}: DiceTcbInfo svn is negative")
        svn = svn.lstrip(b"\0")
        if len(svn) > 16:
            raise Invalid(f"{role}: DiceTcbInfo svn is over 16 bytes")
        info["svn"] = list(svn.rjust(16, b"\0"))
    fwids = list(der_items(fields.get(0xA6, b"")))
    if len(fwids) != 1 or fwids[0][0] != 0x30:
        raise Invalid(f"{role}: DiceTcbInfo must hold exactly one FWID")
    parts = list(der_items(fwids[0][1]))
    if len(parts) != 2 or bytes([parts[0][0], len(parts[0][1])]) + parts[0][1] != SHA384_OID_DER \
            or parts[1][0] != 0x04 or len(parts[1][1]) != 48:
        raise Invalid(f"{role}: the FWID is not {{sha384, 48-byte digest}}")
    info["digest"] = parts[1][1]
    return info


# --- certificates ---------------------------------------------------------------------------------

def p384(cert, role):
    key = cert.public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp384r1":
        raise Invalid(f"{role} does not hold a P-384 key")
    if cert.signature_hash_algorithm is None or cert.signature_hash_algorithm.name != "sha384":
        raise Invalid(f"{role} is not signed with ecdsa-with-SHA384")


def ext_value(cert, oid):
    try:
        return cert.extensions.get_extension_for_oid(oid).value
    except x509.ExtensionNotFound:
        return None


def is_ca(cert):
    bc = ext_value(cert, ExtensionOID.BASIC_CONSTRAINTS)
    return bc is not None and bc.ca


def signed_by(cert, issuer):
    try:
        issuer.public_key().verify(cert.signature, cert.tbs_certificate_bytes,
                                   ec.ECDSA(cert.signature_hash_algorithm))
        return True
    except InvalidSignature:
        return False


def check_issued(cert, role, issuer, issuer_role):
    if cert.issuer != issuer.subject:
        raise Invalid(f"{role}: issuer name is not the subject of {issuer_role}")
    if not is_ca(issuer):
        raise Invalid(f"{issuer_role} issues {role} but is not a CA")
    ku = ext_value(issuer, ExtensionOID.KEY_USAGE)
    if ku is None or not ku.key_cert_sign:
        raise Invalid(f"{issuer_role} issues {role} but lacks keyCertSign")
    if not signed_by(cert, issuer):
        raise Invalid(f"{role} is not signed by {issuer_role}")


def verify(quote, root_pem, expected_report_data):
    root = x509.load_pem_x509_certificate(root_pem)
    p384(root, "the trusted root")
    if root.issuer != root.subject or not signed_by(root, root) or not is_ca(root):
        raise Invalid("the trusted root is not a self-signed CA")

    stream = io.BytesIO(quote)
    try:
        top = cbor2.CBORDecoder(stream).decode()
    except (cbor2.CBORDecodeError, EOFError, ValueError) as e:
        raise Invalid(f"not well-formed CBOR: {e}") from None
    if stream.tell() != len(quote):
        raise Invalid(f"{len(quote) - stream.tell()} trailing bytes")
    if not isinstance(top, cbor2.CBORTag) or top.tag != 61:
        raise Invalid("not a CWT (tag 61)")
    if not isinstance(top.value, cbor2.CBORTag) or top.value.tag != 18:
        raise Invalid("tag 61 does not hold a COSE_Sign1 (tag 18)")
    cose = top.value.value
    if not isinstance(cose, list) or len(cose) != 4:
        raise Invalid("COSE_Sign1 is not an array of 4")
    prot, unprot, payload, sig = cose
    if not isinstance(prot, bytes) or not isinstance(unprot, dict) or not isinstance(payload, bytes) \
            or not isinstance(sig, bytes):
        raise Invalid("COSE_Sign1 items have the wrong types")
    if cbor2.loads(prot) != {1: -35}:
        raise Invalid("protected header is not exactly {1: -35} (ES384)")
    if list(unprot.keys()) != [33] or not isinstance(unprot[33], list) or len(unprot[33]) != 3:
        raise Invalid("unprotected header is not {33: [3 certificates]}")
    if len(sig) != 96:
        raise Invalid(f"signature is {len(sig)} bytes, not 96")

    roles = ["quoting-key certificate", "TDX module certificate", "platform certificate"]
    certs = [x509.load_der_x509_certificate(der) for der in unprot[33]]
    for cert, role in zip(certs, roles):
        p384(cert, role)
    leaf_ku = ext_value(certs[0], ExtensionOID.KEY_USAGE)
    if is_ca(certs[0]) or leaf_ku is None or not leaf_ku.digital_signature:
        raise Invalid("the quoting-key certificate is a CA or lacks digitalSignature")
    for i in range(2):
        check_issued(certs[i], roles[i], certs[i + 1], roles[i + 1])
    check_issued(certs[2], roles[2], root, "the trusted root")

    tbs = cbor2.dumps(["Signature1", prot, b"", payload])
    der_sig = encode_dss_signature(int.from_bytes(sig[:48], "big"), int.from_bytes(sig[48:], "big"))
    try:
        certs[0].public_key().verify(der_sig, tbs, ec.ECDSA(hashes.SHA384()))
    except InvalidSignature:
        raise Invalid("the ES384 signature over the Sig_structure does not verify") from None

    report_data, subs = check_claims(payload)
    plat = tcb_info(certs[2], roles[2])
    mod = tcb_info(certs[1], roles[1])
    if (plat["vendor"], plat["model"], plat["layer"], "svn" in plat) != ("tdx-host", "platform", 1, False) or \
            (mod["vendor"], mod["model"], mod["layer"], "svn" in mod) != ("tdx-host", "TDX module", 2, True):
        raise Invalid("DiceTcbInfo vendor/model/layer/svn are not the format's")
    if plat["digest"] != subs[SUBMOD_PLATFORM]["current"][-83]:
        raise Invalid("platform DiceTcbInfo digest is not the current platform digest")
    if mod["digest"] != subs[SUBMOD_SEAM]["current"][-83] or mod["svn"] != subs[SUBMOD_SEAM]["current"][-125]:
        raise Invalid("module DiceTcbInfo is not the current MRSEAM/TEE_TCB_SVN")
    if expected_report_data is not None and report_data != expected_report_data:
        raise Invalid("report_data is not the expected REPORTDATA")
    return report_data, subs


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", required=True)
    ap.add_argument("--report-data")
    ap.add_argument("quote")
    args = ap.parse_args()
    try:
        expected = bytes.fromhex(args.report_data) if args.report_data else None
        if expected is not None and len(expected) != 64:
            raise ValueError("must be 64 bytes")
    except ValueError as e:
        print(f"independent_verify: bad --report-data: {e}", file=sys.stderr)
        return 2
    try:
        with open(args.root, "rb") as f:
            root_pem = f.read()
        with open(args.quote, "rb") as f:
            quote = f.read()
    except OSError as e:
        print(f"independent_verify: {e}", file=sys.stderr)
        return 2
    try:
        report_data, subs = verify(quote, root_pem, expected)
    except Invalid as e:
        print(f"independent_verify: invalid quote: {e}", file=sys.stderr)
        return 1
    except (ValueError, EOFError, cbor2.CBORDecodeError) as e:  # PEM/DER parsing, CBOR inside bstrs
        print(f"independent_verify: invalid quote: {e}", file=sys.stderr)
        return 1
    print(f"quote: valid; report_data {report_data.hex()}")
    for oid, name in ((SUBMOD_SEAM, "mrseam"), (SUBMOD_TD, "mrtd")):
        print(f"{name}: origin {subs[oid]['origin'][-83].hex()} current {subs[oid]['current'][-83].hex()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
