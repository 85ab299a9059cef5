#!/bin/bash
# t0000-rig.t: the rig itself. A bare 3-node rig comes up; every node is a
# separate "machine" (hostname, network, /etc/slurm, /var/lib/vnic-bypass,
# /run, /sys); srun and mpi/pmix work across nodes; the host's /etc, /var
# and /run are untouched; 'rig down' (with a job running) leaves nothing,
# also after a failed or partial 'rig up'.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

require_root
if [ -e "$VNB_RIG_DIR/rig.state" ] || ip link show vnbrig0 >/dev/null 2>&1; then
	plan skip_all "a rig is up ($VNB_RIG_DIR); t0000 brings up and tears down its own"
fi

TMP=$TEST_TMP
HOST_PATHS="/etc/slurm/vnic-bypass.yaml /var/lib/vnic-bypass /run/vnic-bypass
	/run/libvirt /run/libvirtd.pid /var/lib/libvirt /var/cache/libvirt /var/log/libvirt"
host_before=$(for p in $HOST_PATHS; do [ -e "$p" ] && echo "$p"; done)

# Independent of 'rig check': what a rig could leave behind.
# shellcheck disable=SC2317 # called through ok
nothing_left() {
	local bad=0 l
	l=$(ip -o link show | awk -F': ' '{print $2}' | grep -E '^vnb(rig|fab)')
	[ -z "$l" ] || { echo "links: $l"; bad=1; }
	l=$(grep -F "$VNB_RIG_DIR/" /proc/self/mountinfo)
	[ -z "$l" ] || { echo "mounts: $l"; bad=1; }
	l=$(grep -lsaF "$VNB_RIG_DIR/" /proc/[0-9]*/cmdline | cut -d/ -f3 |
		while read -r p; do
			case $(cat "/proc/$p/comm" 2>/dev/null) in
			munged | slurm*) echo "$p" ;;
			esac
		done)
	[ -z "$l" ] || { echo "processes: $l"; bad=1; }
	l=$(for p in /proc/[0-9]*; do
		case $(cat "$p/comm" 2>/dev/null) in
		libvirtd | qemu-system-*)
			grep -qsF "$VNB_RIG_DIR/" "$p/mountinfo" "$p/cmdline" && echo "${p#/proc/}"
			;;
		esac
	done)
	[ -z "$l" ] || { echo "libvirtd or qemu: $l"; bad=1; }
	l=$(grep -lsF "upperdir=$VNB_RIG_DIR/" /proc/[0-9]*/mountinfo)
	[ -z "$l" ] || { echo "processes in node mount namespaces: $l"; bad=1; }
	l=$(find "$VNB_RIG_DIR" -mindepth 1 -maxdepth 1 ! -name guest ! -name capcache 2>/dev/null)
	[ -z "$l" ] || { echo "files: $l"; bad=1; }
	l=$(find /dev -maxdepth 1 -name 'tap[1-9][0-9][0-9][0-9]*' 2>/dev/null)
	[ -z "$l" ] || { echo "devices: $l"; bad=1; }
	return "$bad"
}

plan 56

# ---- refusals that must not start anything
out=$(run_timeout 30 "$RIG" up --build "$TMP/nobuild" 2>&1)
rc=$?
is "$rc" 1 "up without the built binaries fails"
like "$out" "vnb-prolog.*$TMP/nobuild/prolog/vnb-prolog" "... and names the missing vnb-prolog"
like "$out" "vnic_bypass.so" "... and the missing SPANK plugin"
ok "... and starts nothing" nothing_left

# ---- up
t0=$SECONDS
if ! ok "rig up --bare --nodes 3" run_timeout 300 "$RIG" up --bare --nodes 3; then
	rig_diag_logs 25
	run_timeout 300 "$RIG" down
	bail_out "the rig does not come up"
fi
diag "rig up took about $((SECONDS - t0)) s"
eval "$("$RIG" env)"
is "$SLURM_CONF" "$VNB_RIG_DIR/etc/slurm.conf" "rig env exports SLURM_CONF"
ok "rig status: up and healthy" "$RIG" status
out=$(run_timeout 30 "$RIG" up --bare 2>&1)
rc=$?
is "$rc" 1 "a second up is refused"
like "$out" "already up" "... with a clear message"

is "$(run_timeout 30 srun -N3 hostname | sort | tr '\n' ' ')" "n1 n2 n3 " \
	"srun -N3 hostname gives n1 n2 n3"
is "$(run_timeout 30 srun -p beta -N3 -l cat /etc/hostname | sort | tr '\n' ' ')" \
	"0: n1 1: n2 2: n3 " "partition beta spans all nodes; tasks see each node's /etc"

# ---- every node is its own machine
for i in 1 2 3; do
	is "$("$RIG" exec "$i" hostname)" "n$i" "n$i: hostname"
	is "$("$RIG" exec "$i" virsh -q hostname)" "n$i" "n$i: virsh reaches the node's own libvirtd"
	ok "n$i: /etc/slurm/vnic-bypass.yaml is the rig's config" \
		"$RIG" exec "$i" cmp /etc/slurm/vnic-bypass.yaml "$VNB_RIG_DIR/etc/vnic-bypass.yaml"
	links=$("$RIG" exec "$i" ip -o link show | awk -F': ' '{print $1 ":" $2}' | sed 's/@.*//')
	like "$(tr '\n' ' ' <<<"$links")" \
		"${i}000:vnic0 ${i}001:vnic1 ${i}002:vnic2 ${i}003:vnic3 " \
		"n$i: vnic0..3, ifindexes from ${i}000"
	is "$("$RIG" exec "$i" ls /sys/class/net | tr '\n' ' ')" "eth0 lo vnic0 vnic1 vnic2 vnic3 " \
		"n$i: /sys is the node's own sysfs"
done
ok "a task sees its node's vNICs in sysfs" \
	run_timeout 30 srun -w n2 test -e /sys/class/net/vnic3/address
is "$(ip -o link show master vnbfab0 | grep -c 'vnbrig-f')" 12 \
	"the 12 vNICs' peers sit on the fabric bridge vnbfab0"
ok "n1 reaches n3's slurmd over the control network" \
	"$RIG" exec 1 timeout 5 bash -c 'exec 3<>/dev/tcp/10.210.0.13/6818'

ok "write a file in n1's /var/lib/vnic-bypass" \
	"$RIG" exec 1 sh -c 'echo n1 >/var/lib/vnic-bypass/t0000'
ok "... it is in the rig dir's n1 state dir" test -f "$VNB_RIG_DIR/nodes/n1/state/t0000"
fails "... and not in n2's /var/lib/vnic-bypass" "$RIG" exec 2 test -e /var/lib/vnic-bypass/t0000
ok "a job on n1 sees it" run_timeout 30 srun -w n1 test -f /var/lib/vnic-bypass/t0000
ok "write a file in n2's /run/vnic-bypass" \
	"$RIG" exec 2 sh -c 'echo n2 >/run/vnic-bypass/t0000'
fails "... not in n3's /run/vnic-bypass" "$RIG" exec 3 test -e /run/vnic-bypass/t0000

# ---- mpi/pmix across nodes, with a program that does not link PMIx
cat >"$TMP/rank.c" <<'EOF'
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
int main(void)
{
	char host[64] = "";
	const char *rank = getenv("PMIX_RANK");
	gethostname(host, sizeof host);
	printf("%s rank=%s\n", host, rank ? rank : "none");
	return 0;
}
EOF
if ${CC:-cc} -o "$TMP/rank" "$TMP/rank.c" 2>"$TMP/cc.err"; then
	is "$(run_timeout 60 srun --mpi=pmix -N2 -n2 "$TMP/rank" | sort | tr '\n' ' ')" \
		"n1 rank=0 n2 rank=1 " "srun --mpi=pmix -N2 -n2: one rank per node, PMIx env set"
else
	diag "$(cat "$TMP/cc.err")"
	skip "srun --mpi=pmix -N2 -n2" "no C compiler"
fi

# ---- the host is untouched
for p in $HOST_PATHS; do
	if grep -qxF "$p" <<<"$host_before"; then
		skip "host $p not created by the rig" "it existed before the test"
	else
		fails "host $p not created by the rig" test -e "$p"
	fi
done

# ---- down, with a job running
jobid=$(run_timeout 30 sbatch --parsable -N2 -o "$TMP/job.out" --wrap 'srun sleep 300')
ok "a batch job runs on 2 nodes" wait_for 60 sh -c "squeue -h -j '$jobid' -o %T | grep -qx RUNNING"
t0=$SECONDS
ok "rig down" run_timeout 300 "$RIG" down
diag "rig down took about $((SECONDS - t0)) s"
ok "nothing left (independent check)" nothing_left
ok "rig check agrees" "$RIG" check
ok "rig down again is fine" run_timeout 60 "$RIG" down
is "$("$RIG" status; echo "rc=$?")" "rig: down (no rig in $VNB_RIG_DIR)
rc=3" "rig status: down"

# ---- failed and partial ups
fails "up failing after the node namespaces" \
	env VNB_RIG_FAIL_AFTER=nodes timeout -k 5 300 "$RIG" up --bare --nodes 2
ok "... cleans up by itself" nothing_left
fails "up failing after slurmd start, --keep-failed" \
	env VNB_RIG_FAIL_AFTER=slurmd timeout -k 5 300 "$RIG" up --bare --nodes 2 --keep-failed
fails "... leaves a rig that status calls not healthy" "$RIG" status
ok "... rig down removes it" run_timeout 300 "$RIG" down
ok "... nothing left" nothing_left

done_testing
