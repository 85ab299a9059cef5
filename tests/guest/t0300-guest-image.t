#!/bin/bash
# t0300-guest-image.t: tests/guest/build makes the guest image from Debian
# packages (kernel .deb, busybox-static) with a manifest; a second build is
# a no-op; the image boots under TCG to "vnb-guest: ready", runs a command
# given on the kernel command line (vnb.cmd64=, from tests/guest/boot) and
# shows the guest kernel, its NIC configured from vnb.ip=, the
# /dev/virtio-ports links and bpffs; --add puts a dynamic binary and its
# libraries in. Does not need the rig.
# shellcheck source-path=SCRIPTDIR source=../rig/lib.sh
. "$(dirname "$0")/../rig/lib.sh"

G=$VNB_SRCDIR/tests/guest
command -v qemu-system-x86_64 >/dev/null ||
	plan skip_all "no qemu-system-x86_64 (package qemu-system-x86)"
command -v apt-get >/dev/null || plan skip_all "no apt-get"

# The downloads and the extracted kernel are shared with the rig's image
# in $VNB_RIG_DIR/guest; this test's images are its own, so it never
# changes what the rig boots.
cache=$VNB_RIG_DIR/guest
gdir=$cache/t0300
mf=$gdir/manifest

plan 17

# ---- build
if ! ok "build the image in $gdir" run_timeout 600 "$G/build" --out "$gdir" --cache "$cache"; then
	bail_out "no guest image"
fi
for f in bzImage vmlinux initrd.cpio.gz manifest; do
	ok "... it has $f" test -s "$gdir/$f"
done
m() { sed -n "s/^$1=//p" "$mf"; }
krel=$(m kernel.release)
like "$(m kernel.package) $(m kernel.version)" "^linux-image-$krel [0-9]" \
	"manifest: the kernel package and its version"
like "$(m busybox.version)" '^[0-9:.a-z+~-]+$' "manifest: the busybox-static version"
# shellcheck disable=SC2317 # called through ok
sums_ok() {
	local f
	for f in bzImage vmlinux initrd.cpio.gz; do
		[ "$(sha256sum <"$gdir/$f" | cut -d' ' -f1)" = "$(m "sha256.$f")" ] ||
			{ echo "sha256 of $f differs from the manifest"; return 1; }
	done
}
ok "manifest: the sha256 of every output" sums_ok
is "$(head -c 4 "$gdir/vmlinux" | od -An -c | tr -d ' ')" '177ELF' "vmlinux is an ELF file"

# ---- cached
before=$(stat -c '%i %Y' "$gdir/initrd.cpio.gz" "$mf")
again=$(run_timeout 120 "$G/build" --out "$gdir" --cache "$cache" 2>&1)
like "$again" 'up to date.*nothing to do' "a second build does nothing and says so"
is "$(stat -c '%i %Y' "$gdir/initrd.cpio.gz" "$mf")" "$before" "... and leaves the image alone"

# ---- boot
cmd='uname -r; ip -o -4 addr show dev eth0; ls /dev/virtio-ports; grep -c " /sys/fs/bpf bpf " /proc/mounts'
got=$(run_timeout 300 "$G/boot" --dir "$gdir" --timeout 240 --cmd "$cmd" \
	--append "vnb.ip=10.251.0.7/24 vnb.hostname=t0300" -- \
	-netdev user,id=n0 -device virtio-net-pci,netdev=n0,romfile= \
	-device virtio-serial-pci -chardev null,id=c0 \
	-device virtserialport,chardev=c0,name=org.vnb.t0300 2>"$TEST_TMP/boot.err")
rc=$?
if ! is "$rc" 0 "the guest boots, is ready, runs the command, powers off"; then
	diag "$(cat "$TEST_TMP/boot.err")"
fi
diag "$(grep '^boot:' "$TEST_TMP/boot.err")"
is "$(sed -n 1p <<<"$got")" "$krel" "uname -r in the guest is the packaged kernel"
like "$got" 'eth0 +inet 10\.251\.0\.7/24' "eth0 has the address from vnb.ip="
like "$got" $'(^|\n)org\\.vnb\\.t0300(\n|$)' "/dev/virtio-ports/NAME for the virtio-serial port"
like "$got" $'\n1$' "bpffs is mounted"

# ---- --add: a dynamic binary and its libraries, status of the command
add=$TEST_TMP/guest
stat_bin=$(command -v stat)
if run_timeout 300 "$G/build" -q --out "$add" --cache "$cache" --add "$stat_bin:/usr/local/bin/gstat" >"$TEST_TMP/add.log" 2>&1 &&
	got=$(run_timeout 300 "$G/boot" --dir "$add" --timeout 240 \
		--cmd '/usr/local/bin/gstat --version | head -n 1; exit 7' 2>"$TEST_TMP/boot.err"); then
	rc=0
else
	rc=$?
fi
if ! like "$rc $got" '^7 stat \(GNU coreutils\)' "--add: GNU stat runs in the guest; the command's status comes back"; then
	diag "$(cat "$TEST_TMP/add.log" "$TEST_TMP/boot.err")"
fi

done_testing
