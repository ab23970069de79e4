#!/usr/bin/env bash
# ./tg package verify: install tongguan-dispatch into a clean Debian root (mmdebstrap, from
# Debian's own packages), give it data (a user, cases reported by the simulator), upgrade it
# to the build in dist/, remove and purge it; then tongguan-desktop: installed with its Qt
# dependencies from Debian, the wall started from /usr/bin/tongguan (offscreen) until
# complete, the kiosk autostart idle by default, purged. Each step checked. Prints one line
# per check; exit status 1 on the first that fails.
#   ./tg package verify [--from REF | --from-deb FILE]
# The upgrade is from what is installed first: by default the same .deb with its version
# bumped (the schema stays); with --from REF (TG_FROM=REF) REF's own build (built once in a
# temporary git worktree and cached in .cache/previous/: packaging/previous.py), with
# --from-deb FILE (TG_FROM_DEB=FILE) that .deb; then the upgrade must migrate, data kept.
#   TG_DIST=dist  TG_SUITE=bookworm  TG_MIRROR=http://deb.debian.org/debian
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
DIST=${TG_DIST:-$PWD/dist}
SUITE=${TG_SUITE:-bookworm}
from=${TG_FROM:-}
from_deb=${TG_FROM_DEB:-}
while [ $# -gt 0 ]; do
    case "$1" in
        --from) from=${2:?--from needs a git ref}; shift 2 ;;
        --from=*) from=${1#--from=}; shift ;;
        --from-deb) from_deb=${2:?--from-deb needs a .deb file}; shift 2 ;;
        --from-deb=*) from_deb=${1#--from-deb=}; shift ;;
        *) echo "usage: ./tg package verify [--from REF | --from-deb FILE]" >&2; exit 2 ;;
    esac
done
[ -z "$from" ] || [ -z "$from_deb" ] || { echo "--from or --from-deb, not both" >&2; exit 2; }
deb=$(ls -t "$DIST"/tongguan-dispatch_*.deb 2>/dev/null | head -n1)
[ -n "$deb" ] || { echo "no tongguan-dispatch .deb in $DIST: ./tg package first" >&2; exit 1; }
desktop=$(ls -t "$DIST"/tongguan-desktop_*.deb 2>/dev/null | head -n1)
[ -n "$desktop" ] || { echo "no tongguan-desktop .deb in $DIST: ./tg package first" >&2; exit 1; }
if [ -n "$from" ]; then
    from_deb=$(.venv/bin/python packaging/previous.py "$from") || exit 1
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
version=$(dpkg-deb --field "$deb" Version)
if [ -n "$from_deb" ]; then
    [ -f "$from_deb" ] && [ "$(dpkg-deb --field "$from_deb" Package 2>/dev/null)" = tongguan-dispatch ] \
        || { echo "$from_deb: not a tongguan-dispatch .deb" >&2; exit 1; }
    old=$(dpkg-deb --field "$from_deb" Version)
    dpkg --compare-versions "$old" lt "$version" \
        || { echo "$from_deb ($old) is not older than $(basename "$deb") ($version)" >&2; exit 1; }
    cp "$from_deb" "$work/first.deb"
    cp "$deb" "$work/newer.deb"
    upgrade=migrates
else
    # The same package with a newer version: the upgrade.
    dpkg-deb --raw-extract "$deb" "$work/tree"
    sed -i "s/^Version: .*/Version: ${version}.1/" "$work/tree/DEBIAN/control"
    dpkg-deb --root-owner-group -Zgzip --build "$work/tree" "$work/newer.deb" >/dev/null
    rm -rf "$work/tree"
    cp "$deb" "$work/first.deb"
    upgrade=same
fi
cp "$desktop" "$work/desktop.deb"

cat > "$work/steps.sh" <<'STEPS'
set -eu
ok() { echo "ok    $*"; }
fail() { echo "FAIL  $*"; exit 1; }
as() { runuser -u tongguan -- env TONGGUAN_CONFIG=/etc/tongguan/dispatch.toml TONGGUAN_DATA=/var/lib/tongguan tongguan-dispatch "$@"; }
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -qq /tmp/first.deb >/tmp/install.log 2>&1 || { tail -20 /tmp/install.log; fail "install"; }
ok "installed $(dpkg-query -W -f '${Version}' tongguan-dispatch) with its dependencies from Debian"
getent passwd tongguan >/dev/null && ok "system user tongguan" || fail "no user tongguan"
[ "$(stat -c %a /var/lib/tongguan)" = 700 ] && ok "/var/lib/tongguan is 700" || fail "/var/lib/tongguan mode"
[ "$(stat -c '%a %U:%G' /etc/tongguan/dispatch.toml)" = "640 root:tongguan" ] && ok "dispatch.toml 640 root:tongguan" || fail "dispatch.toml mode"
[ -s /var/lib/tongguan/dispatch.db ] && ok "postinst migrated: /var/lib/tongguan/dispatch.db" || fail "no database"
as check --min-free-mb 1 >/tmp/check.txt || { cat /tmp/check.txt; fail "check"; }
ok "tongguan-dispatch check: $(grep -c '^ok' /tmp/check.txt) ok, no FAIL"
as create-user verify-wall --role wall --token-file /var/lib/tongguan/verify.token >/dev/null
ok "a user created"
# Cases through the backend: the simulator for 12 s at 300x, its district clock started two
# hours back (China's time, UTC+8, whatever the root's zone) so that no row is stamped ahead
# of the clock `check` compares with.
start=$(TZ=UTC-8 date -d '-2 hours' +%Y-%m-%dT%H:%M)
runuser -u tongguan -- timeout -s TERM 12 env TONGGUAN_CONFIG=/etc/tongguan/dispatch.toml \
    TONGGUAN_DATA=/var/lib/tongguan tongguan-dispatch serve --simulate --port 0 --speed 300 \
    --no-warm-up --start "$start" >/tmp/serve.log 2>&1 || [ $? = 124 ] || { tail -20 /tmp/serve.log; fail "serve --simulate"; }
cases() { as export --from 2000-01-01 --to 2099-12-31 /var/lib/tongguan/cases.csv 2>>/tmp/export.err | awk '/case\(s\) written/ {print $1}'; }
cases_before=$(cases)
[ "${cases_before:-0}" -gt 0 ] && ok "$cases_before cases reported through the backend (serve --simulate)" || fail "no cases reported"
# check passes, and says the schema is the installed code's newest; the schema then read.
check_schema() { as check --min-free-mb 1 >/tmp/check.txt || { cat /tmp/check.txt; fail "check $1"; }
                 grep -q "^ok    schema .*this code's newest" /tmp/check.txt || { cat /tmp/check.txt; fail "schema not the newest $1"; }; }
schema() { awk '$2 == "schema" {print $3}' /tmp/check.txt | tr -d ,; }
check_schema "before the upgrade"
schema_before=$(schema)
ok "schema $schema_before before the upgrade (check: ok)"
modes() { stat -c '%n %a %U:%G' /var/lib/tongguan /var/lib/tongguan/dispatch.db /etc/tongguan/dispatch.toml; }
modes >/tmp/modes.before
echo '# changed by the operator' >> /etc/tongguan/dispatch.toml
apt-get install -y -qq /tmp/newer.deb >/tmp/upgrade.log 2>&1 || { tail -20 /tmp/upgrade.log; fail "upgrade"; }
ok "upgraded to $(dpkg-query -W -f '${Version}' tongguan-dispatch)"
as users | grep -q verify-wall && ok "the user is still there" || fail "data lost in the upgrade: the user"
cases_after=$(cases)
[ "$cases_after" = "$cases_before" ] && ok "the $cases_after cases are still there" || fail "cases before the upgrade $cases_before, after $cases_after"
grep -q 'changed by the operator' /etc/tongguan/dispatch.toml && ok "the changed conffile kept" || fail "conffile replaced"
modes | cmp -s - /tmp/modes.before && ok "data dir, database and conffile modes and owners unchanged ($(head -n1 /tmp/modes.before))" \
    || { modes; cat /tmp/modes.before; fail "modes changed by the upgrade"; }
check_schema "after the upgrade"
schema_after=$(schema)
if [ "$UPGRADE" = migrates ]; then
    [ "$schema_after" != "$schema_before" ] && ok "postinst migrated: schema $schema_before -> $schema_after, this code's newest (check: ok)" \
        || fail "schema still $schema_after after the upgrade"
else
    [ "$schema_after" = "$schema_before" ] && ok "check after the upgrade: schema $schema_after (the same build)" || fail "schema changed: $schema_after"
fi
dpkg --remove tongguan-dispatch >/tmp/remove.log 2>&1 || { cat /tmp/remove.log; fail "remove"; }
[ ! -e /opt/tongguan/tongguan-dispatch ] && [ -e /etc/tongguan/dispatch.toml ] && ok "removed: the bundle gone, the configuration kept" || fail "remove left the wrong things"
dpkg --purge tongguan-dispatch >/tmp/purge.log 2>&1 || { cat /tmp/purge.log; fail "purge"; }
[ ! -e /etc/tongguan/dispatch.toml ] && ok "purged: the configuration gone" || fail "purge kept the configuration"
[ -s /var/lib/tongguan/dispatch.db ] && ok "purged: the database kept (documented)" || fail "purge deleted the database"

before=$(dpkg-query -W -f '.\n' | wc -l)
apt-get install -y -qq /tmp/desktop.deb >/tmp/desktop.log 2>&1 || { tail -20 /tmp/desktop.log; fail "desktop install"; }
ok "installed tongguan-desktop $(dpkg-query -W -f '${Version}' tongguan-desktop) with $(( $(dpkg-query -W -f '.\n' | wc -l) - before - 1 )) packages from Debian"
for f in /usr/share/applications/tongguan-wall.desktop /usr/share/applications/tongguan-desk.desktop /etc/xdg/autostart/tongguan-wall-kiosk.desktop /etc/tongguan/wall.conf; do
    [ -s "$f" ] || fail "missing $f"
done
ok "menu entries, the kiosk autostart entry and wall.conf in place"
mkdir -p /tmp/wall-home
if HOME=/tmp/wall-home TONGGUAN_DATA=/tmp/wall-data QT_QPA_PLATFORM=offscreen timeout 300 \
        tongguan --tour 0 --report-start /tmp/wall-start.json >/tmp/wall.log 2>&1 \
        && [ -s /tmp/wall-start.json ]; then
    ok "the wall from /usr/bin/tongguan (offscreen, its embedded backend): $(grep -o 'wall complete [0-9.]* s' /tmp/wall.log | head -n1)"
else
    tail -30 /tmp/wall.log; fail "the installed wall did not complete"
fi
HOME=/tmp/wall-home timeout 10 tongguan-wall-kiosk && ok "kiosk autostart idle while wall.conf says KIOSK=no" || fail "kiosk autostart with KIOSK=no"
dpkg --purge tongguan-desktop >/tmp/purge-desktop.log 2>&1 || { cat /tmp/purge-desktop.log; fail "desktop purge"; }
[ ! -e /opt/tongguan/tongguan ] && [ ! -e /etc/tongguan/wall.conf ] && [ ! -e /usr/bin/tongguan ] && ok "desktop purged: the bundle and wall.conf gone" \
    || { find /opt/tongguan/tongguan /etc/tongguan/wall.conf /usr/bin/tongguan 2>/dev/null | head -20; cat /tmp/purge-desktop.log; fail "desktop purge left files"; }
STEPS

echo "[verify] a clean $SUITE root with mmdebstrap (minbase), then the steps inside it" >&2
start=$(date +%s)
status=0
mmdebstrap --quiet --variant=apt --include=ca-certificates "$SUITE" "$work/root" ${TG_MIRROR:-} \
    --customize-hook="cp '$work/first.deb' '$work/newer.deb' '$work/desktop.deb' '$work/steps.sh' \"\$1/tmp/\"" \
    --customize-hook="chroot \"\$1\" env UPGRADE=$upgrade sh /tmp/steps.sh > '$work/steps.out' 2>&1" \
    >"$work/mm.log" 2>&1 || status=$?
cat "$work/steps.out" 2>/dev/null || true
if [ "$status" != 0 ]; then
    tail -n 30 "$work/mm.log" >&2
    echo "FAIL  the clean-root test (mmdebstrap status $status)"
    exit 1
fi
echo "[verify] $(( $(date +%s) - start )) s, $(date -u +%Y-%m-%d), $SUITE, $(dpkg-deb --field "$work/first.deb" Version) -> $(dpkg-deb --field "$work/newer.deb" Version)" >&2
# The unit under a real systemd (systemd-nspawn --boot).
packaging/verify-systemd.sh "$deb"
