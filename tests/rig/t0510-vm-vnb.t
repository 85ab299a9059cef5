#!/bin/bash
# t0510-vm-vnb.t: libvnb in the guests of two nodes, bootstrapped only by
# vnb_init() (agent/test/vmvnb): an all-to-all of checksummed messages and
# a ping-pong over the queue sets the prolog handed out (one vNIC per task:
# virtio-net spreads a vNIC's frames over its queues by hash, not by the
# queue set's number); a task cannot open another task's queue set, and a
# forged credential is refused.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

require_root
require_build
[ -x "${VNB_BUILD:-$VNB_SRCDIR/build}/agent/test/vmvnb" ] ||
	plan skip_all "no agent/test/vmvnb in the build (make first)"
rig_up_once

for prov in xdp; do
	out=$(run_timeout 300 srun --mpi=pmix -N2 -n4 \
		--vnic-bypass=vnics=2,provider=$prov -o "$TEST_TMP/$prov.%t" \
		vmvnb 200 2>&1)
	rc=$?
	is "$rc" 0 "vmvnb over $prov on 4 ranks in 2 guests succeeds" ||
		diag "$out" "$(cat "$TEST_TMP/$prov".* 2>/dev/null)"
	for t in 0 1 2 3; do
		f="$TEST_TMP/$prov.$t"
		like "$(grep init "$f" 2>/dev/null)" "^rank $t init [0-9.]+ ms: $prov \\($prov" \
			"rank $t: vnb_init opened its queue set with $prov"
		like "$(grep all-to-all "$f" 2>/dev/null)" \
			"^rank $t all-to-all ok: 24 messages in, 24 out, checksums good" \
			"rank $t: the all-to-all arrived whole"
	done
	like "$(grep pingpong "$TEST_TMP/$prov.0" 2>/dev/null)" \
		"^pingpong 0<->3: 200 round trips" "rank 0 and 3 ping-pong across the nodes"
	diag "$(cat "$TEST_TMP/$prov".* 2>/dev/null | grep -E 'init|pingpong')"
done
ok "every node is clean" wait_for 60 all_clean

# Isolation: a task that names another task's queue set, or another
# job's tag, is refused before anything is opened.
id=$(run_timeout 30 sbatch --parsable -N1 -n2 -o /dev/null \
	--vnic-bypass=vnics=2 --wrap 'sleep 300')
running() { [ "$(squeue -h -j "$1" -o %T 2>/dev/null)" = RUNNING ]; }
ok "a job with 2 queue sets on one node runs" wait_for 300 running "$id"
creds=$(run_timeout 120 srun --jobid="$id" --vnic-bypass=vnics=2 --mpi=pmix -n2 -l vmpmix 2>&1 |
	sed -n 's/.*cred \(vnb1:[^,]*\),.*/\1/p' | sort)
is "$(wc -l <<<"$creds")" 2 "its two tasks have a credential each"
other=$(head -n 1 <<<"$creds") # a credential of some task
forged=${other/;job=$id;/;job=999999;}
out=$(VMVNB_CRED=$forged run_timeout 120 srun --jobid="$id" --vnic-bypass=vnics=2 --mpi=pmix -n1 vmvnb 0 2>&1)
like "$out" "FAIL: vnb_init: vnb_init: the credential for job 999999, vNIC [0-9a-f:]+, queue 0 is not this task's" \
	"a credential with another job's tag is refused"
mine=$(run_timeout 120 srun --jobid="$id" --vnic-bypass=vnics=2 --mpi=pmix -n1 vmpmix 2>&1 |
	sed -n 's/.*cred \(vnb1:[^,]*\),.*/\1/p')
theirs=$(grep -vF "${mine%%;step=*}" <<<"$creds" | head -n 1)
out=$(VMVNB_CRED=$theirs run_timeout 120 srun --jobid="$id" --vnic-bypass=vnics=2 --mpi=pmix -n1 vmvnb 0 2>&1)
like "$out" "is not this task's \\(its queue set is job $id, vNIC ${mine:9:17}, queue 0" \
	"another task's queue set is refused: $(grep -o 'vnb_init: the.*' <<<"$out")"
ok "scancel" run_timeout 30 scancel "$id"
ok "every node is clean at the end" wait_for 60 all_clean

done_testing
