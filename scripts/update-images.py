#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Builds the TDX module images the runtime-update scenarios upload.

From the running profile's "module" object (an emulator profile, e.g. ext-quote.json) it writes
manifests for tdx-mkimage and runs it: two good updates (1.5.a -> 1.5.b as v1, then -> 1.5.c as
v2), and one image per refusal the kernel or the P-SEAMLDR makes. Prints one line per image:
"NAME EXPECTED VERSION", EXPECTED being what the upload must end with ("ok", the refusal code the
kernel logs, or "window-fails"), VERSION the image's module version. Usage: update-images.py PROFILE TDX-MKIMAGE KEYS-DIR OUT-DIR
"""
import copy
import json
import os
import subprocess
import sys


def manifest(module, minor_svn, major_svn=1, cpuid=("0x806f0", "0xc06f0"), debug=False):
    return {
        "module": module,
        "sigstruct": {"major_svn": major_svn, "minor_svn": minor_svn, "debug": debug,
                      "date": "0x20260101", "cpuid": list(cpuid)},
    }


def main():
    profile_path, mkimage, keys, out = sys.argv[1:5]
    with open(profile_path) as f:
        running = json.load(f)["module"]
    os.makedirs(out, exist_ok=True)
    run_svn = running.get("svn", {"major": 1, "minor": running["update"]})
    hv = running["handoff"]["module_hv"]

    def version(update, svn_minor, module_hv, min_hv):
        m = copy.deepcopy(running)
        m["update"] = update
        m["build_num"] = running["build_num"] + update - running["update"]
        if "svn" in m:
            m["svn"] = {"major": run_svn["major"], "minor": svn_minor}
        m["handoff"]["module_hv"] = module_hv
        m["handoff"]["min_update_hv"] = min_hv
        return m

    b, c = running["update"] + 1, running["update"] + 2
    first = version(b, run_svn["minor"] + 1, hv + 1, hv)
    second = version(c, run_svn["minor"] + 2, hv + 2, hv + 1)
    images = []  # (name, manifest, format, key, corrupt, expected)
    good = manifest(first, run_svn["minor"] + 1)
    images.append(("good-b", good, "v1", "test-signer.pem", None, "ok"))
    images.append(("good-c", manifest(second, run_svn["minor"] + 2), "v2", "test-signer.pem", None, "ok"))
    # The kernel's header checks.
    for corrupt, code in [("checksum", "bad-checksum"), ("signature-string", "bad-signature-string"),
                          ("version", "bad-version"), ("reserved", "reserved-not-zero"),
                          ("truncate", "truncated"), ("oversize", "bad-length"),
                          ("too-many-pages", "too-many-pages"), ("misaligned-offset", "bad-offset")]:
        images.append((corrupt, good, "v1", "test-signer.pem", corrupt, code))
    # The preflight: what the P-SEAMLDR would refuse after the old module is gone.
    images.append(("rsa-signature", good, "v1", "test-signer.pem", "rsa-signature", "bad-rsa-signature"))
    images.append(("sigstruct-header", good, "v1", "test-signer.pem", "sigstruct-header", "bad-sigstruct"))
    images.append(("hash", good, "v1", "test-signer.pem", "hash", "bad-hash"))
    images.append(("untrusted-signer", good, "v1", "other-signer.pem", None, "untrusted-signer"))
    images.append(("svn-downgrade", manifest(first, run_svn["minor"] - 1), "v1", "test-signer.pem", None,
                   "svn-downgrade"))
    images.append(("major-change", manifest(first, run_svn["minor"] + 1, major_svn=run_svn["major"] + 1), "v1",
                   "test-signer.pem", None, "major-svn-change"))
    images.append(("unsupported-cpu", manifest(first, run_svn["minor"] + 1, cpuid=("0x906a0",)), "v1",
                   "test-signer.pem", None, "unsupported-cpu"))
    images.append(("debug-image", manifest(first, run_svn["minor"] + 1, debug=True), "v1", "test-signer.pem",
                   None, "debug-image"))
    images.append(("incompatible-handoff", manifest(version(b, run_svn["minor"] + 1, hv + 2, hv + 1),
                                                    run_svn["minor"] + 1), "v1", "test-signer.pem", None,
                   "incompatible-handoff"))
    # Passes every check before the window, then fails inside it: the new module wants more pool.
    # It follows the two good updates (the scenario's last upload): version, SVN and handoff after them.
    d = running["update"] + 3
    grow = version(d, run_svn["minor"] + 3, hv + 3, hv + 2)
    if "ext" in grow:
        grow["ext"]["pool_pages"] = grow["ext"]["pool_pages"] * 2
        images.append(("pool-grows", manifest(grow, run_svn["minor"] + 3), "v1", "test-signer.pem", None,
                       "window-fails"))

    for name, man, fmt, key, corrupt, expected in images:
        mpath = os.path.join(out, name + ".json")
        with open(mpath, "w") as f:
            json.dump(man, f, indent=1)
        cmd = [mkimage, "--manifest", mpath, "--key", os.path.join(keys, key), "--format", fmt,
               "-o", os.path.join(out, name + ".blob")]
        if corrupt:
            cmd += ["--corrupt", corrupt]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        m = man["module"]
        print(name, expected, "%u.%u.%02u" % (m["major"], m["minor"], m["update"]))


if __name__ == "__main__":
    main()
