#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# `make demo`: boots the Debian 6.12 kernel under QEMU beside seam-emu and shows each flow
# (qemu-harness/scenarios/demo.sh), in three boots (four parts):
#   1. foundation, with the production tdx_host.ko (build/kmod/distro): bring-up, the device,
#      unload, an injected failure; then an EXT+QUOTE module image brought up by the same module:
#      the memory pool and quoting enabled;
#   2. quoting, with the TEST build (build/kmod/distro-test: tdx_host.ko with test hooks and the
#      test module tdx_td_harness.ko, which simulates TDs) on the EXT+QUOTE profile and
#      tdx-quote-verify in the guest: a TD, a quote for it with a chosen REPORTDATA, verified in
#      the guest against the emulator's root; then scripts/verify-guest-quotes.sh checks that quote
#      again on the host with both verifiers, tampered copies included;
#      getquote, in the same boot (kvm_tdx_quote.ko, the test module tdx_gq_harness.ko, tdx-qgs and
#      tdx-quote-vmm added): a TD's TDG.VP.VMCALL<GetQuote> answered in the kernel (TD A) and
#      through userspace (TD B: the exit, status IN_FLIGHT, the VMM's DONE and the notify vector),
#      both quotes verified in the guest; a private GPA refused;
#   3. runtime update, with the same test build on the update.json profile (a P-SEAMLDR that takes
#      updates), tdx-quote-verify and tdx-module-update in the guest, and two images made here by
#      scripts/update-images.py with tdx-mkimage (in build/demo-update-images/): good-b, the next
#      module version, and one the kernel refuses (DEMO_BAD_IMAGE, untrusted-signer by default; any
#      name update-images.py makes but good-c and pool-grows). A TD and its quote, the bad image
#      refused with its reason, the good one installed through the fw_upload files under the live
#      TD, the TD's quote after it; the host verifies both quotes again.
# Needs `make module module-test emu quote-tools image-tools update-tool qgs-tools`. Extra arguments
# go to every run.sh call (e.g. --verbose, --smp 4); the serial logs are
# ${DEMO_LOGS:-build/logs}/<time>-demo-{foundation,quote,getquote,update}.log. DEMO_PARTS="quote
# update" (any of foundation, quote, getquote, update; run in that order) runs only those parts;
# getquote without quote gets a boot of its own.
set -euo pipefail
cd "$(dirname "$0")/.."

prod_ko="$PWD/build/kmod/distro/tdx_host.ko"
test_kmod="$PWD/build/kmod/distro-test"
verify_bin="$PWD/build/dice-quote/tdx-quote-verify"
qgs_bin="$PWD/build/quote-service/tdx-qgs"
vmm_bin="$PWD/build/quote-service/tdx-quote-vmm"
update_bin="$PWD/build/module-update/tdx-module-update"
mkimage="$PWD/build/module-image/tdx-mkimage"
update_profile=qemu-harness/seam-emu/profiles/update.json
bad_image="${DEMO_BAD_IMAGE:-untrusted-signer}"
logdir="${DEMO_LOGS:-$PWD/build/logs}"
read -r -a parts <<<"${DEMO_PARTS:-foundation quote getquote update}"

want() { # PART: the demo runs that boot
	local p
	for p in "${parts[@]}"; do [ "$p" = "$1" ] && return 0; done
	return 1
}
need() { # FILE MAKE-TARGET
	[ -e "$1" ] || { echo "demo: $1 is missing: run make $2" >&2; exit 2; }
}
for p in "${parts[@]}"; do
	case "$p" in
	foundation | quote | getquote | update) ;;
	*) echo "demo: DEMO_PARTS names '$p'; the parts are foundation, quote, getquote and update" >&2; exit 2 ;;
	esac
done
[ "${#parts[@]}" -gt 0 ] || { echo "demo: DEMO_PARTS is empty" >&2; exit 2; }
if want foundation; then need "$prod_ko" module; fi
if want quote || want getquote || want update; then
	need "$test_kmod/tdx_host.ko" module-test
	need "$test_kmod/tdx_td_harness.ko" module-test
	need "$verify_bin" quote-tools
fi
# The GetQuote part: its modules and the userspace quote service, in the quote boot.
gq_args=()
if want getquote; then
	need "$test_kmod/kvm_tdx_quote.ko" module-test
	need "$test_kmod/tdx_gq_harness.ko" module-test
	need "$qgs_bin" qgs-tools
	need "$vmm_bin" qgs-tools
	gq_args=(--module "$test_kmod/kvm_tdx_quote.ko" --module "$test_kmod/tdx_gq_harness.ko"
		--bin "$qgs_bin" --bin "$vmm_bin")
fi
if want update; then
	need "$mkimage" image-tools
	need "$update_bin" update-tool
fi

stamp="$(date +%Y%m%d-%H%M%S)"
logs=()
failed=()
n=0
boots=${#parts[@]}
if want quote && want getquote; then boots=$((boots - 1)); fi
boot() { # PART TITLE: the banner of the next boot
	n=$((n + 1))
	[ "$n" -eq 1 ] || echo
	echo "==== demo, boot $n of $boots: $2"
	logs+=("$logdir/$stamp-demo-$1.log")
}

if want foundation; then
	boot foundation "the foundation and the module extensions (production tdx_host.ko)"
	qemu-harness/run.sh --kernel distro --module "$prod_ko" --scenario demo "$@" \
		--env DEMO_PART=foundation --log "${logs[-1]}" || failed+=("boot $n (foundation, extensions)")
fi

# The quote boot: the quote part, the GetQuote part, or both.
quote_boot() { # DEMO_PART RUN.SH-ARGS...
	local part=$1
	shift
	qemu-harness/run.sh --kernel distro --module "$test_kmod/tdx_host.ko" --module "$test_kmod/tdx_td_harness.ko" \
		"${gq_args[@]}" --bin "$verify_bin" --profile qemu-harness/seam-emu/profiles/ext-quote.json \
		--scenario demo "$@" --env "DEMO_PART=$part" --log "${logs[-1]}"
}

if want quote; then
	quote_parts=quote
	title="a quote for a TD (test build of tdx_host.ko + the TD harness test module)"
	if want getquote; then
		quote_parts="quote getquote"
		title="$title; then a TD's GetQuote answered in-kernel and through userspace (+ kvm_tdx_quote.ko, the GetQuote harness, tdx-qgs, tdx-quote-vmm)"
	fi
	boot quote "$title"
	if quote_boot "$quote_parts" "$@"; then
		echo
		echo "==== demo: the guest's quote again on the host: tdx-quote-verify and the independent verifier, then tampered copies"
		scripts/verify-guest-quotes.sh "${logs[-1]}" 1 "$verify_bin" || failed+=("host-side verification of the guest's quote")
	else
		failed+=("boot $n ($quote_parts)")
	fi
elif want getquote; then
	boot getquote "a TD's GetQuote answered in-kernel and through userspace (test build + the TD and GetQuote harnesses, kvm_tdx_quote.ko, tdx-qgs, tdx-quote-vmm)"
	quote_boot getquote "$@" || failed+=("boot $n (getquote)")
fi

# The images of the update boot: update-images.py makes them all from the profile's module; the
# guest gets good-b, the bad one, and their lines of the list ("NAME EXPECTED VERSION").
update_images() {
	local dir="$PWD/build/demo-update-images" list
	list="$(/usr/bin/python3 scripts/update-images.py "$update_profile" "$mkimage" lib/module-image/keys "$dir")" ||
		return 1
	case "$bad_image" in
	good-* | pool-grows) echo "demo: DEMO_BAD_IMAGE=$bad_image is not an image the kernel refuses" >&2; return 1 ;;
	esac
	awk -v bad="$bad_image" '$1 == "good-b" || $1 == bad' <<<"$list" >"$dir/images.list"
	[ "$(wc -l <"$dir/images.list")" -eq 2 ] ||
		{ echo "demo: update-images.py made no image '$bad_image'; it made: $(cut -d' ' -f1 <<<"$list" | tr '\n' ' ')" >&2; return 1; }
	update_data=(--data "$dir/good-b.blob" --data "$dir/$bad_image.blob" --data "$dir/images.list")
}

if want update; then
	boot update "a runtime TDX module update under a live TD (test build + the TD harness, the update.json platform)"
	update_data=()
	if ! update_images; then
		failed+=("the update images (scripts/update-images.py)")
	elif qemu-harness/run.sh --kernel distro --module "$test_kmod/tdx_host.ko" --module "$test_kmod/tdx_td_harness.ko" \
		--bin "$verify_bin" --bin "$update_bin" --profile "$update_profile" "${update_data[@]}" \
		--env "EMU_CPU_SIGNATURE=$(sed -n 's/.*"signature": *"\(0x[0-9a-fA-F]*\)".*/\1/p' "$update_profile")" \
		--scenario demo "$@" --env DEMO_PART=update --log "${logs[-1]}"; then
		echo
		echo "==== demo: the TD's quotes from before and after the update again on the host: both verifiers, then tampered copies"
		scripts/verify-guest-quotes.sh "${logs[-1]}" 2 "$verify_bin" || failed+=("host-side verification of the update boot's quotes")
	else
		failed+=("boot $n (update)")
	fi
fi

echo
if [ "${#failed[@]}" -gt 0 ]; then
	printf 'demo: FAILED: %s\n' "${failed[@]}" >&2
	exit 1
fi
echo "demo: every step passed (serial logs: ${logs[*]})"
