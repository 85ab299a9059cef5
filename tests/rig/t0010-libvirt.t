#!/bin/bash
# t0010-libvirt.t: every node of the rig has its own libvirtd. Each answers
# qemu:///system (the default URI) inside its node and sees only its own
# domains; a TCG guest on n1 and one on n2, each on its node's vnic0 through
# a passthrough macvtap, get their own /dev/tapN, ping each other across
# the fabric bridge, and give vnic0 its MAC back when destroyed; 'rig down'
# with a guest still running leaves nothing behind.
# shellcheck disable=SC2317 # the functions are called through ok and wait_for
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

require_root
for c in virsh libvirtd qemu-system-x86_64; do
	command -v "$c" >/dev/null ||
		plan skip_all "no $c (tools/install-deps installs it)"
done

GUEST=$VNB_RIG_DIR/guest
if ! [ -r "$GUEST/vmlinux" ] || ! [ -r "$GUEST/initrd.cpio.gz" ]; then
	"$VNB_SRCDIR/tests/guest/build" -q --out "$GUEST" >&2 ||
		plan skip_all "no guest image in $GUEST and tests/guest/build failed"
fi

# Any healthy rig of two nodes or more will do (only n1 and n2 are used,
# and this test takes it down at the end); else a bare one of two: libvirt
# needs neither the build nor the plugin.
if "$RIG" status -q && [ "$(_rig_state nodes)" -ge 2 ]; then
	eval "$("$RIG" env)"
else
	rig_up_once --bare --nodes 2 || bail_out "the rig does not come up"
fi

TMP=$TEST_TMP
NET=10.211.0 # inside the guests only: the fabric has no host address
vexec() { # I VIRSH-ARGS...: virsh with the default URI in node I
	local i=$1
	shift
	run_timeout 60 "$RIG" exec "$i" virsh -q "$@"
}
ms_now() { echo $((${EPOCHREALTIME/./} / 1000)); }

# Domain XML of guest I on node I: TCG, direct kernel boot of the rig's
# image, console to a file, vnic0 as a passthrough macvtap. The guest
# pings the other node's guest until it answers (it may boot seconds
# later: busybox's ping gives up after its count, whatever -w says), up
# to 60 tries, says how that went, and stays up until destroyed.
domain_xml() { # I PEER
	local i=$1 peer=$2 cmd
	cmd="n=0; until ping -c 1 -W 1 $NET.1$peer || [ \$n = 60 ]; do n=\$((n + 1)); done; ping -c 3 -W 2 $NET.1$peer; echo t0010-ping-rc=\$?; sleep 3600"
	cat <<EOF
<domain type='qemu'>
  <name>t0010-g$i</name>
  <memory unit='MiB'>256</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>$GUEST/vmlinux</kernel>
    <initrd>$GUEST/initrd.cpio.gz</initrd>
    <cmdline>console=ttyS0 quiet panic=-1 cryptomgr.notests vnb.hostname=g$i vnb.ip=$NET.1$i/24 vnb.cmd64=$(printf '%s' "$cmd" | base64 -w0)</cmdline>
  </os>
  <features><acpi/></features>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>destroy</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <serial type='file'>
      <source path='$TMP/g$i.console'/>
      <target port='0'/>
    </serial>
    <interface type='direct'>
      <mac address='52:54:00:10:00:0$i'/>
      <source dev='vnic0' mode='passthrough'/>
      <model type='virtio'/>
    </interface>
    <memballoon model='none'/>
  </devices>
</domain>
EOF
}

# Node I's macvtap of vnic0 and its /dev/tap<ifindex>: the device node
# must be this node's macvtap, not another node's with the same ifindex.
tap_is_own() { # I
	local i=$1 line idx name dev want
	line=$("$RIG" exec "$i" ip -o link show type macvtap) || return 1
	idx=${line%%:*}
	name=$(awk -F': ' '{print $2}' <<<"$line")
	name=${name%@*}
	if [ -z "$idx" ] || [ -z "$name" ]; then
		echo "n$i: no macvtap: $line"
		return 1
	fi
	want=$("$RIG" exec "$i" cat "/sys/class/net/$name/macvtap/tap$idx/dev") || return 1
	dev=$(stat -c '%t %T' "/dev/tap$idx") || return 1
	dev=$(printf '%d:%d' "0x${dev% *}" "0x${dev#* }")
	echo "n$i: $name ifindex $idx, /dev/tap$idx is $dev, the macvtap is $want"
	[ "$dev" = "$want" ] && [ "$idx" -ge "${i}000" ] && [ "$idx" -lt "$((i + 1))000" ]
}

mac_of() { "$RIG" exec "$1" cat /sys/class/net/vnic0/address; } # I

gone() { # PID: not running (a zombie PID 1 has not reaped yet is gone)
	local st
	st=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$1/status" 2>/dev/null)
	[ -z "$st" ] || [ "$st" = Z ] || [ "$st" = X ]
}

console_has() { grep -qa "$2" "$TMP/g$1.console" 2>/dev/null; } # I ERE

start_both() { vexec 1 start t0010-g1 && vexec 2 start t0010-g2; }
create_both() { vexec 1 create "$TMP/g1.xml" && vexec 2 create "$TMP/g2.xml"; }
stop_g() { vexec "$1" destroy "t0010-g$1" && vexec "$1" undefine "t0010-g$1"; }

# Wait until both consoles say ready; READY1 and READY2 get the ms from
# T0 (ms) to when the line was seen (polled every 0.1 s).
wait_ready_both() { # T0 SECONDS
	local t0=$1 deadline=$((SECONDS + $2)) i
	READY1="" READY2=""
	while [ -z "$READY1" ] || [ -z "$READY2" ]; do
		for i in 1 2; do
			local v=READY$i
			[ -z "${!v}" ] && console_has "$i" 'vnb-guest: ready' &&
				printf -v "$v" '%s' $(($(ms_now) - t0))
		done
		[ "$SECONDS" -lt "$deadline" ] || return 1
		sleep 0.1
	done
}

test_cleanup() {
	local i
	for i in 1 2; do
		"$RIG" exec "$i" virsh -q destroy "t0010-g$i" >/dev/null 2>&1
		"$RIG" exec "$i" virsh -q undefine "t0010-g$i" >/dev/null 2>&1
	done
}

plan 32

# ---- one libvirtd per node
for i in 1 2; do
	is "$(vexec "$i" uri)" "qemu:///system" "n$i: virsh's default URI is qemu:///system"
	is "$(vexec "$i" hostname)" "n$i" "n$i: ... and its libvirtd runs on n$i"
done
p1=$(cat "$VNB_RIG_DIR/nodes/n1/run/libvirtd.pid")
p2=$(cat "$VNB_RIG_DIR/nodes/n2/run/libvirtd.pid")
ok "two libvirtd processes ($p1, $p2)" test "$p1" != "$p2"
like "$(rig status)" "n2 +pid [0-9]+ libvirtd running" "rig status shows each node's libvirtd"

# ---- a guest on n1 and one on n2
mac1=$(mac_of 1)
mac2=$(mac_of 2)
for i in 1 2; do domain_xml "$i" $((3 - i)) >"$TMP/g$i.xml"; done
ok "define t0010-g1 on n1" vexec 1 define "$TMP/g1.xml"
is "$(vexec 2 list --all --name)" "" "n2's libvirtd does not see n1's domain"
ok "define t0010-g2 on n2" vexec 2 define "$TMP/g2.xml"
is "$(vexec 1 list --all --name)" "t0010-g1" "n1 sees only its own domain"

t0=$(ms_now)
ok "start both guests" start_both
diag "define + start of both: $(($(ms_now) - t0)) ms"
q=$(cat "$VNB_RIG_DIR/nodes/n1/run/libvirt/qemu/t0010-g1.pid")
diag "g1's qemu may run on CPUs $(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' "/proc/$q/status") (libvirtd: $(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' "/proc/$p1/status"))"
ok "n1: /dev/tapN is n1's own macvtap" tap_is_own 1
ok "n2: /dev/tapN is n2's own macvtap" tap_is_own 2
is "$(mac_of 1)" "52:54:00:10:00:01" "n1: vnic0 has g1's MAC while it runs (passthrough)"
is "$(mac_of 2)" "52:54:00:10:00:02" "n2: vnic0 has g2's MAC while it runs"

wait_ready_both "$t0" 120
if is "$?" 0 "both guests boot to ready"; then
	for i in 1 2; do
		r=READY$i
		diag "g$i: ready ${!r} ms after start ($(grep -a -m1 -o 'ready uptime=[0-9.]*' "$TMP/g$i.console"))"
	done
else
	for i in 1 2; do diag "g$i: $(tail -n 20 "$TMP/g$i.console" 2>/dev/null)"; done
fi
for i in 1 2; do
	if ok "g$i pings g$((3 - i)) across nodes" \
		wait_for 120 console_has "$i" 't0010-ping-rc=0'; then
		diag "g$i: $(grep -a 'round-trip' "$TMP/g$i.console")"
	else
		diag "$(tail -n 20 "$TMP/g$i.console" 2>/dev/null)"
	fi
done

# ---- destroy and undefine: vnic0 gets its MAC back
ok "destroy and undefine g1" stop_g 1
ok "destroy and undefine g2" stop_g 2
is "$(mac_of 1)" "$mac1" "n1: vnic0's MAC is restored"
is "$(mac_of 2)" "$mac2" "n2: vnic0's MAC is restored"
is "$("$RIG" exec 1 ip -o link show type macvtap)" "" "n1: the macvtap is gone"

# ---- rig down with guests running, one of them under a dead libvirtd
rm -f "$TMP"/g?.console
ok "start g1 and g2 again, transient" create_both
wait_ready_both "$(ms_now)" 120
is "$?" 0 "... both run"
q1=$(cat "$VNB_RIG_DIR/nodes/n1/run/libvirt/qemu/t0010-g1.pid")
q2=$(cat "$VNB_RIG_DIR/nodes/n2/run/libvirt/qemu/t0010-g2.pid")
ok "kill -9 n2's libvirtd (g2's qemu runs on)" kill -9 "$p2"
ok "... g2's qemu still runs" test -d "/proc/$q2"
t0=$(ms_now)
ok "rig down" run_timeout 300 "$RIG" down
diag "rig down with two guests took $(($(ms_now) - t0)) ms"
ok "... g1's qemu is gone" gone "$q1"
ok "... g2's qemu is gone" gone "$q2"
ok "... nothing is left (rig check)" "$RIG" check
is "$(find /dev -maxdepth 1 -name 'tap[1-9][0-9][0-9][0-9]*')" "" "... no /dev/tapN of a node"

done_testing
