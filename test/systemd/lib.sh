# shellcheck shell=bash
# Shared by the systemd guest tiers (tier.sh, v1-tier.sh): the check harness, tsrun's and runc's
# columns, and a bundle under $tmp (made by the caller: $tmp/b from scripts/make-bundle.sh).
pass=0 fail=0
check() { # name, then a command that must succeed
  local name=$1; shift
  if "$@"; then pass=$((pass + 1)); echo "ok - $name"; else fail=$((fail + 1)); echo "not ok - $name"; fi
}
declare -A result
names=()
both() { # runtime, check name, then a command that must succeed
  local rt=$1 name=$2; shift 2
  if "$@"; then result[$rt,$name]=ok; else result[$rt,$name]=FAIL; fi
  # tsrun's results pass or fail the tier; runc's (the reference, 1.1.5 here) are reported
  if [ "$rt" = tsrun ]; then check "$rt: $name" [ "${result[$rt,$name]}" = ok ]; else echo "# $rt: $name: ${result[$rt,$name]}"; fi
  names+=("$name")
}
columns() { # title: the table of both() checks, tsrun's column and runc's
  echo "# $1: check | tsrun | runc"
  local -A seen
  local n
  for n in "${names[@]}"; do
    [ -n "${seen[$n]:-}" ] && continue; seen[$n]=1
    printf '#   %-66s %-5s %s\n' "$n" "${result[tsrun,$n]:--}" "${result[runc,$n]:--}"
  done
}
bundle_for() { # dir, cgroupsPath, then extra JSON merged into the config
  mkdir -p "$1"
  node -e '
    const fs = require("fs"); const c = JSON.parse(fs.readFileSync(process.argv[1] + "/b/config.json"));
    c.linux.cgroupsPath = process.argv[3]; c.root.path = process.argv[1] + "/b/rootfs";
    c.linux.resources = { ...c.linux.resources, memory: { limit: 33554432 }, pids: { limit: 20 }, cpu: { shares: 512, quota: 50000, period: 100000 } };
    Object.assign(c, JSON.parse(process.argv[4] || "{}"));
    fs.writeFileSync(process.argv[2] + "/config.json", JSON.stringify(c));' "$tmp" "$1" "$2" "${3:-}"
}
show() { systemctl show -P "$2" "$1" 2>/dev/null; }
