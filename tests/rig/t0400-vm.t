#!/bin/bash
# t0400-vm.t: a --vnic-bypass job runs its tasks in the tenant's VM, one
# per node, booted by the prolog through the node's own libvirtd: the
# guest kernel answers, exit codes, signals and stdin cross the VM
# boundary, two jobs on a node get two VMs with different vNICs, a VM
# killed mid-job fails the job cleanly, and the epilog leaves nothing.
. "$(dirname "$0")/lib.sh"

require_root
require_build
rig_up_once

guest_kernel=$(sed -n 's/^kernel\.release=//p' "$VNB_RIG_DIR/guest/manifest" 2>/dev/null)
diag "guest kernel: ${guest_kernel:-unknown}; host kernel: $(uname -r)"

running() { [ "$(squeue -h -j "$1" -o %T 2>/dev/null)" = RUNNING ]; }
gone() { [ -z "$(squeue -h -j "$1" -o %T 2>/dev/null)" ]; }

ok "no VM, run dir, claim or record on any node before" all_clean

# The tasks run in the guests.
out=$(run_timeout 180 srun -N2 -n4 --vnic-bypass=vnics=2 -l uname -r 2>&1)
rc=$?
is "$rc" 0 "srun -N2 -n4 --vnic-bypass=vnics=2 uname -r succeeds" || diag "$out"
is "$(grep -c "^[0-3]: ${guest_kernel:-x}\$" <<<"$out")" 4 \
	"all 4 tasks print the guest kernel ($guest_kernel)"
fails "none prints the host's kernel" grep -q ": $(uname -r)\$" <<<"$out"
# -w: the previous job's nodes may still be completing, and Slurm then
# picks others
is "$(run_timeout 120 srun -N2 -w "n[1-2]" --vnic-bypass -l hostname | sort | tr '\n' ' ')" \
	"0: n1 1: n2 " "the guests are named after their nodes"
ok "every node is clean after the steps" wait_for 30 all_clean

# Exit codes and signals.
run_timeout 120 srun -N1 --vnic-bypass sh -c 'exit 42' >/dev/null 2>&1
is "$?" 42 "a task's exit code 42 is srun's"
out=$(run_timeout 120 srun -N1 --vnic-bypass sh -c 'kill -TERM $$' 2>&1)
rc=$?
like "$out" "Terminated|signal 15" "a task killed by SIGTERM in the VM: srun says so"
ok "and fails ($rc)" test "$rc" -ne 0
out=$(run_timeout 120 srun -N1 --vnic-bypass /no/such/program 2>&1)
is "$?" 127 "a program the VM lacks: 127"
like "$out" "cannot run '/no/such/program' in the VM" "with a message naming it"

# stdin goes to task 0.
is "$(printf 'one\ntwo\n' | run_timeout 120 srun -N1 -n1 --vnic-bypass sh -c 'wc -l')" \
	"2" "stdin reaches task 0 in the VM"

# scancel stops the guest processes.
id=$(run_timeout 30 sbatch --parsable -N1 -w n1 -o "$TEST_TMP/long.out" \
	--vnic-bypass --wrap 'srun sh -c "echo started; sleep 600"')
ok "a long job $id starts" wait_for 120 running "$id"
ok "its task runs in the VM" wait_for 120 grep -q started "$TEST_TMP/long.out"
ok "scancel" run_timeout 30 scancel "$id"
ok "the job ends" wait_for 60 gone "$id"
ok "n1 is clean after it" wait_for 30 node_clean 1

# Two jobs on one node: two VMs with different vNICs.
a=$(run_timeout 30 sbatch --parsable -N1 -w n1 -o /dev/null --vnic-bypass=vnics=2 --wrap 'sleep 300')
b=$(run_timeout 30 sbatch --parsable -N1 -w n1 -o /dev/null --vnic-bypass=vnics=2 --wrap 'sleep 300')
ok "job $a runs" wait_for 120 running "$a"
ok "job $b runs beside it" wait_for 120 running "$b"
is "$(rig exec 1 virsh -q list --name | grep -E "^vnb-($a|$b)\$" | wc -l)" 2 \
	"n1 runs two domains, vnb-$a and vnb-$b"
devs() { rig exec 1 virsh dumpxml "vnb-$1" | sed -n "s/.*<source dev='\([^']*\)' mode='passthrough'.*/\1/p" | sort | tr '\n' ' '; }
da=$(devs "$a")
db=$(devs "$b")
is "$(printf '%s\n' $da $db | sort -u | wc -l)" 4 "each holds 2 vNICs of its own ($da| $db)"
out=$(run_timeout 120 srun --jobid="$a" --vnic-bypass=vnics=2 -N1 cat /sys/class/net/eth0/address /sys/class/net/eth1/address | tr '\n' ' ')
like "$out" "^02:" "the guest's NICs carry the job's MACs ($out)"

# Killing the VM mid-job fails the step cleanly; the epilog cleans up.
run_timeout 180 srun --jobid="$b" --vnic-bypass=vnics=2 -N1 sh -c 'echo up; sleep 600' \
	>"$TEST_TMP/killed.out" 2>&1 &
srun_pid=$!
ok "a step of job $b runs in its VM" wait_for 120 grep -q up "$TEST_TMP/killed.out"
ok "virsh destroy vnb-$b" rig exec 1 virsh destroy "vnb-$b"
wait "$srun_pid"
rc=$?
ok "the step fails ($rc)" test "$rc" -ne 0 -a "$rc" -ne 124
like "$(cat "$TEST_TMP/killed.out")" "lost the VM" "with a message that says the VM went away"
ok "scancel both" run_timeout 30 scancel "$a" "$b"
ok "job $a ends" wait_for 60 gone "$a"
ok "job $b ends" wait_for 60 gone "$b"
ok "n1 is clean: no domain, run dir, claim, record or macvtap" wait_for 30 node_clean 1
ok "every node is clean at the end" all_clean

done_testing
