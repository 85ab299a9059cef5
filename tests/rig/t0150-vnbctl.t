#!/bin/bash
# t0150-vnbctl.t: the admin tool. check-config names file:line:column and
# the key of what is wrong; ledger prints a table and JSON; release frees
# a running job's vNICs at once.
. "$(dirname "$0")/lib.sh"

require_root
require_build
rig_up_once
vnbctl=$VNB_BUILD/tools/vnbctl
cfg=$TEST_TMP/c.yaml

out=$("$vnbctl" check-config "$VNB_SRCDIR/etc/vnic-bypass.yaml")
ok "check-config accepts the shipped example" test $? = 0
like "$out" "OK: 2 pool\(s\), 2 tenant\(s\)" "and summarises it"
ok "check-config accepts the rig's file" "$vnbctl" check-config "$VNB_RIG_DIR/etc/vnic-bypass.yaml"

# broken YAML-TEXT ERE DESC: check-config fails and prints file:line:col.
broken() {
	printf '%b' "$1" >"$cfg"
	out=$("$vnbctl" check-config "$cfg" 2>&1)
	rc=$?
	is "$rc" 1 "$3: exit status 1"
	like "$out" "^vnic-bypass: $cfg:$2" "$3: $out"
	is "$(wc -l <<<"$out")" 1 "$3: one line"
}
base='pools:\n  - {name: f, backend: macvtap, devices: [v0]}\ntenants:\n'
t='  - name: a\n    partitions: [p]\n    images: [{name: i, kernel: /k}]\n'
broken "${base}${t}    vlan: 5000\n" "7:11: tenants\[0\]\.vlan" "VLAN out of range"
broken "${base}${t}    colour: blue\n" "7:5: tenants\[0\]\.colour" "unknown key"
broken "${base}${t}${t}" "7:[0-9]+: tenants\[1\]\.name" "duplicate tenant"
broken "${base}${t}  - name: b\n    partitions: [p]\n    images: [{name: i, kernel: /k}]\n" \
	"8:[0-9]+: tenants\[1\]\.partitions\[0\]" "partition mapped twice"
broken "${base}${t}    vlan: 7\n  - name: b\n    partitions: [q]\n    vlan: 7\n    images: [{name: i, kernel: /k}]\n" \
	"10:[0-9]+: tenants\[1\]\.vlan" "VLAN shared between tenants"
broken "${base}${t}    vnics: {default: x}\n" "7:[0-9]+: tenants\[0\]\.vnics\.default" "wrong type"
broken "pools: [\n" "[0-9]+:[0-9]+:" "YAML syntax error"
out=$("$vnbctl" check-config "$TEST_TMP/missing.yaml" 2>&1)
like "$out" "missing.yaml" "a missing file is named"

# ledger, table and JSON, and release.
id=$(run_timeout 30 sbatch --parsable -N1 -w n2 -o /dev/null --vnic-bypass=vnics=3 --wrap 'sleep 120')
ok "job $id runs" wait_for 60 sh -c "[ \"\$(squeue -h -j $id -o %T)\" = RUNNING ]"
# Slurm says RUNNING while the prolog still boots the VM: wait for it.
ok "its prolog is done" wait_for 120 rig exec 2 grep -qx 'state ready' "/var/lib/vnic-bypass/jobs/$id"
out=$(rig exec 2 "$vnbctl" ledger)
is "$(grep -c " claimed  $id " <<<"$out")" 3 "ledger: 3 rows claimed by job $id"
like "$(head -1 <<<"$out")" "^VNIC +POOL +STATE +JOB +SINCE" "ledger: a header"
json=$(rig exec 2 "$vnbctl" ledger --json)
ok "ledger --json is valid JSON" python3 -c 'import json,sys; json.loads(sys.stdin.read())' <<<"$json"
is "$(python3 -c 'import json,sys; print(sum(1 for e in json.loads(sys.stdin.read()) if e["job"] == '"$id"'))' <<<"$json")" \
	3 "ledger --json: 3 entries of job $id"
like "$(rig exec 2 "$vnbctl" release "$id")" "job $id: released" "release"
is "$(rig exec 2 "$vnbctl" ledger | grep -cE ' (claimed|dirty) ')" 0 "release freed them"
fails "release of a bad job id" rig exec 2 "$vnbctl" release x
fails "an unknown command" "$vnbctl" frobnicate
ok "scancel" run_timeout 30 scancel "$id"
ok "the job ends (its epilog finds nothing left to do)" \
	wait_for 60 sh -c "[ -z \"\$(squeue -h -j $id)\" ]"
ok "no node drained" sh -c "! sinfo -h -N -o %T | grep -qiE 'drain|down'"

done_testing
