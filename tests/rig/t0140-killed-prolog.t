#!/bin/bash
# t0140-killed-prolog.t: a prolog killed at any point leaves a node that
# its epilog (or a reconcile) returns to exactly its state before: no
# domain, claim, record, run dir or macvtap, every vNIC with its MAC from
# before.  The kill points cover the VM's steps too (its journal writes,
# and libvirt's messages when they go through sendmsg).
#
# The kill is real: strace injects SIGKILL into vnb-prolog at its K-th
# durable write (renameat) or K-th netlink message (sendmsg), for every K
# that a full run reaches.  The job is a held one, so that slurmctld knows
# it while no Slurm prolog runs for it.
. "$(dirname "$0")/lib.sh"

require_root
require_build
command -v strace >/dev/null || plan skip_all "strace is not installed"
rig_up_once
B=$VNB_BUILD

id=$(run_timeout 30 sbatch --parsable -H -w n1 -o /dev/null \
	--vnic-bypass=vnics=2 --wrap true)
test_cleanup() { timeout 10 scancel "$id" 2>/dev/null; }
env_of() { # the environment slurmd gives the prolog and epilog of job $1
	echo "SLURM_JOB_ID=$1 SLURM_JOB_UID=0 SLURM_JOB_GID=0 SLURM_JOB_USER=root" \
		"SLURMD_NODENAME=n1" \
		"SLURM_JOB_PARTITION=alpha SLURM_NODELIST=n1" \
		"SPANK_VNIC_BYPASS=v1:vnics=2 SLURM_CONF=$SLURM_CONF"
}
# shellcheck disable=SC2046 # the environment is split into words on purpose
node1() { rig exec 1 env $(env_of "$id") "$@"; }
macs() { rig exec 1 sh -c 'cat /sys/class/net/vnic[0-3]/address' | tr '\n' ' '; }
held() { rig exec 1 "$B/tools/vnbctl" ledger | grep -E " (claimed|dirty) +$id " | wc -l; }
clean() {
	[ "$(held)" = 0 ] && ! rig exec 1 test -e "/var/lib/vnic-bypass/jobs/$id" &&
		[ "$(macs)" = "$before" ] &&
		! rig exec 1 virsh -q list --all --name | grep -q . &&
		! rig exec 1 test -e "/run/vnic-bypass/$id" &&
		[ -z "$(rig exec 1 ls -A /var/lib/vnic-bypass/jobs)" ] &&
		[ -z "$(rig exec 1 sh -c 'ls -A /var/lib/vnic-bypass | grep tmp')" ] &&
		[ -z "$(rig exec 1 ip -o link show type macvtap)" ]
}

before=$(macs)
diag "n1's vNIC MACs before: $before"

# How far a full run goes.
node1 strace -f -qq -o "$TEST_TMP/full" -e trace=renameat,sendmsg "$B/prolog/vnb-prolog" 2>/dev/null
ok "a full prolog run succeeds" test $? = 0
ok "it boots the job's VM" rig exec 1 virsh domstate "vnb-$id"
nren=$(grep -c 'renameat(' "$TEST_TMP/full")
nmsg=$(grep -c 'sendmsg(' "$TEST_TMP/full")
diag "a full run makes $nren durable writes and $nmsg netlink messages"
ok "it makes several of each" test "$nren" -ge 4 -a "$nmsg" -ge 4
ok "its epilog cleans up" node1 "$B/epilog/vnb-epilog"
ok "n1 is as before" clean

for sc in renameat sendmsg; do
	n=$nren
	[ $sc = sendmsg ] && n=$nmsg
	for k in $(seq 1 "$n"); do
		node1 strace -f -qq -o /dev/null \
			-e inject=$sc:signal=KILL:when=$k "$B/prolog/vnb-prolog" >/dev/null 2>&1
		rc=$?
		is "$rc" 137 "prolog killed at $sc #$k"
		ok "epilog after it succeeds" node1 "$B/epilog/vnb-epilog"
		ok "no domain, claim, record or macvtap; MACs as before" clean
		ok "a second epilog is harmless" node1 "$B/epilog/vnb-epilog"
	done
done

# A prolog killed, then its job cancelled: reconcile cleans up for it.
node1 strace -f -qq -o /dev/null \
	-e inject=sendmsg:signal=KILL:when=$((nmsg - 1)) "$B/prolog/vnb-prolog" >/dev/null 2>&1
ok "a killed prolog left claims" test "$(held)" -gt 0
out=$(rig exec 1 "$B/tools/vnbctl" release "$id" 2>&1)
like "$out" "prolog is still at work" \
	"vnbctl release refuses a live job whose record says its prolog is at work"
ok "it left the claims alone" test "$(held)" -gt 0
ok "the job is cancelled" run_timeout 30 scancel "$id"
out=$(rig exec 1 "$B/tools/vnbctl" reconcile)
like "$out" "reconciled 1 job" "vnbctl reconcile cleans the job Slurm no longer runs"
ok "no domain, claim, record or macvtap; MACs as before" clean

# A prolog that died for a job Slurm still runs: release --force.
id=$(run_timeout 30 sbatch --parsable -H -w n1 -o /dev/null \
	--vnic-bypass=vnics=2 --wrap true)
node1 strace -f -qq -o /dev/null \
	-e inject=sendmsg:signal=KILL:when=$((nmsg - 1)) "$B/prolog/vnb-prolog" >/dev/null 2>&1
ok "a killed prolog left claims for held job $id" test "$(held)" -gt 0
like "$(rig exec 1 "$B/tools/vnbctl" release "$id" --force)" "job $id: released" \
	"vnbctl release --force frees them"
ok "no domain, claim, record or macvtap; MACs as before" clean

done_testing
