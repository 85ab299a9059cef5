#!/bin/bash
# t0500-vm-pmix.t: PMIx inside the VMs. srun --mpi=pmix --vnic-bypass runs
# vmpmix (agent/test/vmpmix.c, in the rig's guest image) in the guests of
# two nodes: each rank reads its own vnb.cred (its own queue set of the
# job) and every other rank's published value after a collecting fence,
# relayed through vnb-exec and Slurm's PMIx. The tasks of a step with more
# tasks on a node than queue sets get none, and are told why with both
# numbers; a rank that dies before the fence fails the step in bounded
# time; nothing is left.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

require_root
require_build
[ -x "${VNB_BUILD:-$VNB_SRCDIR/build}/agent/test/vmpmix" ] ||
	plan skip_all "no agent/test/vmpmix in the build (make first)"
rig_up_once


ok "no VM or job state on any node before" all_clean

# Every rank: its own credential, every peer's value.
out=$(run_timeout 300 srun --mpi=pmix -N2 -w "n[1-2]" -n4 --vnic-bypass=vnics=2 \
	-o "$TEST_TMP/out.%t" -e "$TEST_TMP/err.%t" vmpmix 2>&1)
rc=$?
is "$rc" 0 "srun --mpi=pmix -N2 -n4 --vnic-bypass=vnics=2 vmpmix succeeds" ||
	diag "$out" "$(cat "$TEST_TMP"/out.* "$TEST_TMP"/err.* 2>/dev/null)"
peers='peers "rank 0 on n1" "rank 1 on n1" "rank 2 on n2" "rank 3 on n2"'
for t in 0 1 2 3; do
	like "$(cat "$TEST_TMP/out.$t" 2>/dev/null)" \
		"^rank $t ok: size 4, cred vnb1:mac=02:[0-9a-f:]+;vlan=10;q=0;mtu=1500;fs=2048;job=[0-9]+;step=0;rank=$t, $peers\$" \
		"rank $t reads its own vnb.cred and all 4 ranks' values"
done
creds=$(sed -n 's/.*cred \(vnb1:[^,]*\),.*/\1/p' "$TEST_TMP"/out.* 2>/dev/null)
is "$(sed 's/;step=.*//' <<<"$creds" | sort -u | wc -l)" 4 \
	"four different queue sets (MAC, queue)"
is "$(sed -n 's/.*mac=\([^;]*\);.*/\1/p' <<<"$creds" | sort -u | wc -l)" 4 \
	"on four vNICs, two per node"
ok "every node is clean after the step" wait_for 60 all_clean

# More tasks on a node than queue sets: the step fails at launch, before
# any task runs, and says why with both numbers.
out=$(run_timeout 300 srun --mpi=pmix -N2 -n4 --vnic-bypass -l vmpmix 2>&1)
rc=$?
ok "2 tasks per node with 1 queue set per node fail ($rc)" test "$rc" -ne 0 -a "$rc" -ne 124
like "$out" "this step has 2 tasks on this node but the job has 1 queue sets here \(vnics x queues\); ask for more with --vnic-bypass=vnics=N or run fewer tasks per node" \
	"the reason names both numbers: $(grep -m1 -o 'this step has.*' <<<"$out")"
fails "no task ran" grep -q "ok: size\|FAIL" <<<"$out"
run_timeout 300 srun -N2 -n4 --vnic-bypass true >/dev/null 2>&1
rc=$?
ok "so does a step that would not open its queue set ($rc)" test "$rc" -ne 0 -a "$rc" -ne 124
# More tasks than the VM has task channels (one per CPU of the job).
out=$(run_timeout 300 srun -N1 -n3 --overcommit --vnic-bypass=vnics=4 true 2>&1)
rc=$?
ok "3 tasks in a VM with 1 task channel fail ($rc)" test "$rc" -ne 0 -a "$rc" -ne 124
like "$out" "this step has 3 tasks on this node but the job's VM has 1 task channels \(one per CPU of the job here\)" \
	"the reason names both numbers"
ok "every node is clean after it" wait_for 60 all_clean

# A rank that dies before the fence: the step fails, nothing hangs.
t0=$(date +%s)
out=$(VMPMIX_DIE=1 run_timeout 300 srun --mpi=pmix -N2 -n4 \
	--vnic-bypass=vnics=2 vmpmix 2>&1)
rc=$?
t1=$(date +%s)
ok "a step whose rank 1 dies before the fence fails ($rc)" test "$rc" -ne 0 -a "$rc" -ne 124
like "$out" "without PMIx_Finalize" "the reason is said: $(grep -m1 PMIx_Finalize <<<"$out")"
diag "it failed after $((t1 - t0)) s"
fails "no rank passed the fence" grep -q "ok: size" <<<"$out"
ok "every node is clean after it" wait_for 60 all_clean

done_testing
