#!/usr/bin/env bash
# The service under a real systemd (./tg package verify runs it after verify.sh's chroot
# steps): a clean Debian root with systemd (mmdebstrap), tongguan-dispatch installed in it,
# booted with systemd-nspawn (its own network namespace: only its loopback), where a probe
# unit checks that the service started at boot and answers, is started again after kill -9,
# stops cleanly, logs to the journal, and how systemd rates its hardening there. One line per
# check; exit status 1 when one fails.
#   verify-systemd.sh DEB   (TG_SUITE=bookworm  TG_MIRROR=http://deb.debian.org/debian)
set -euo pipefail
deb=$(readlink -f "$1")
SUITE=${TG_SUITE:-bookworm}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cat > "$work/probe.sh" <<'PROBE'
#!/bin/sh
# Runs as tg-probe.service in the booted container; writes /verify.out, then powers off.
out=/verify.out
ok() { echo "ok    $*" >> $out; }
bad() { echo "FAIL  $*" >> $out; }
health() { curl -fsS -m 2 http://127.0.0.1:8765/health >/dev/null 2>&1; }
wait_for() {  # wait_for SECONDS COMMAND...
    n=$(( $1 * 2 )); shift
    while [ $n -gt 0 ]; do "$@" && return 0; sleep 0.5; n=$(( n - 1 )); done
    return 1
}
: > $out
echo "systemd $(systemctl --version | head -n1 | cut -d' ' -f2) in $(. /etc/os-release; echo "$PRETTY_NAME")" >> $out
if systemctl is-enabled -q tongguan-dispatch; then ok "the unit is enabled by the package"; else bad "the unit is not enabled"; fi
if wait_for 90 health; then
    ok "started at boot: $(systemctl show -p ActiveState --value tongguan-dispatch), answering /health on 127.0.0.1:8765"
else
    bad "not answering after boot: $(systemctl show -p ActiveState,Result,ExecMainStatus tongguan-dispatch | tr '\n' ' ')"
    journalctl -u tongguan-dispatch --no-pager | tail -20 >> $out
fi
user=$(ps -o user= -p "$(systemctl show -p MainPID --value tongguan-dispatch)" 2>/dev/null)
[ "$user" = tongguan ] && ok "runs as tongguan" || bad "runs as '$user'"
first=$(systemctl show -p MainPID --value tongguan-dispatch)
kill -9 "$first"
restarted() { p=$(systemctl show -p MainPID --value tongguan-dispatch); [ "$p" != 0 ] && [ "$p" != "$first" ] && health; }
if wait_for 60 restarted; then
    ok "kill -9: restarted by systemd (Restart=on-failure), answering again; restarts $(systemctl show -p NRestarts --value tongguan-dispatch)"
else
    bad "not restarted after kill -9: $(systemctl show -p ActiveState,Result,NRestarts tongguan-dispatch | tr '\n' ' ')"
fi
# The hardening as systemd applies it to the running service.
pid=$(systemctl show -p MainPID --value tongguan-dispatch)
if nsenter -t "$pid" -m sh -c 'touch /opt/tongguan/x' 2>/dev/null; then bad "the service can write /opt"; else ok "ProtectSystem=strict: the service cannot write /opt"; fi
grep -q '^NoNewPrivs:[[:space:]]*1' /proc/"$pid"/status && ok "NoNewPrivileges in force" || bad "NoNewPrivs not set"
grep -q '^CapEff:[[:space:]]*0000000000000000' /proc/"$pid"/status && ok "no capabilities" || bad "capabilities: $(grep CapEff /proc/$pid/status)"
score=$(systemd-analyze security tongguan-dispatch 2>/dev/null | tail -n1)
echo "      systemd-analyze security: ${score#→ }" >> $out
start=$(date +%s.%N)
systemctl stop tongguan-dispatch
took=$(awk "BEGIN { printf \"%.2f\", $(date +%s.%N) - $start }")
result=$(systemctl show -p Result --value tongguan-dispatch)
[ "$result" = success ] && ok "stopped cleanly in $took s (Result=success)" || bad "stop: Result=$result"
lines=$(journalctl -u tongguan-dispatch --no-pager -o cat | wc -l)
[ "$lines" -gt 0 ] && ok "its log in the journal ($lines lines)" || bad "nothing in the journal"
systemctl poweroff
PROBE

cat > "$work/tg-probe.service" <<'UNIT'
[Unit]
Description=./tg package verify: the tongguan-dispatch service under systemd
After=multi-user.target

[Service]
Type=oneshot
ExecStart=/bin/sh /usr/local/sbin/tg-probe

[Install]
WantedBy=multi-user.target
UNIT

cp "$deb" "$work/tongguan-dispatch.deb"
echo "[verify] a clean $SUITE root with systemd, tongguan-dispatch installed; booted by systemd-nspawn" >&2
start=$(date +%s)
mmdebstrap --quiet --variant=apt --include=systemd,systemd-sysv,dbus,ca-certificates,curl,procps,util-linux \
    "$SUITE" "$work/root" ${TG_MIRROR:-} \
    --customize-hook="cp '$work/tongguan-dispatch.deb' \"\$1/tmp/\"" \
    --customize-hook="chroot \"\$1\" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq /tmp/tongguan-dispatch.deb" \
    --customize-hook="cp '$work/probe.sh' \"\$1/usr/local/sbin/tg-probe\"" \
    --customize-hook="cp '$work/tg-probe.service' \"\$1/etc/systemd/system/\"" \
    --customize-hook="chroot \"\$1\" systemctl enable tg-probe.service" \
    > "$work/mm.log" 2>&1 || { tail -30 "$work/mm.log" >&2; echo "FAIL  the systemd root (mmdebstrap)"; exit 1; }
timeout 300 systemd-nspawn --quiet --keep-unit --register=no --private-network -D "$work/root" \
    --boot --console=pipe > "$work/nspawn.log" 2>&1 || true
if [ ! -s "$work/root/verify.out" ]; then
    tail -20 "$work/nspawn.log"
    echo "FAIL  the container wrote no result (systemd-nspawn --boot)"
    exit 1
fi
cat "$work/root/verify.out"
echo "[verify] systemd: $(( $(date +%s) - start )) s" >&2
! grep -q '^FAIL' "$work/root/verify.out"
