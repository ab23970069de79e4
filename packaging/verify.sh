#!/usr/bin/env bash
# ./tg package verify: install tongguan-dispatch into a clean Debian root (mmdebstrap, from
# Debian's own packages), upgrade it to a newer build, remove and purge it; then
# tongguan-desktop: installed with its Qt dependencies from Debian, the wall started from
# /usr/bin/tongguan (offscreen) until complete, the kiosk autostart idle by default, purged.
# Each step checked. Prints one line per check; exit status 1 on the first that fails.
#   TG_DIST=dist  TG_SUITE=bookworm  TG_MIRROR=http://deb.debian.org/debian
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
DIST=${TG_DIST:-$PWD/dist}
SUITE=${TG_SUITE:-bookworm}
deb=$(ls -t "$DIST"/tongguan-dispatch_*.deb 2>/dev/null | head -n1)
[ -n "$deb" ] || { echo "no tongguan-dispatch .deb in $DIST: ./tg package first" >&2; exit 1; }
desktop=$(ls -t "$DIST"/tongguan-desktop_*.deb 2>/dev/null | head -n1)
[ -n "$desktop" ] || { echo "no tongguan-desktop .deb in $DIST: ./tg package first" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The same package with a newer version: the upgrade.
dpkg-deb --raw-extract "$deb" "$work/tree"
version=$(dpkg-deb --field "$deb" Version)
sed -i "s/^Version: .*/Version: ${version}.1/" "$work/tree/DEBIAN/control"
dpkg-deb --root-owner-group -Zgzip --build "$work/tree" "$work/newer.deb" >/dev/null
rm -rf "$work/tree"
cp "$deb" "$work/first.deb"
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
echo '# changed by the operator' >> /etc/tongguan/dispatch.toml
apt-get install -y -qq /tmp/newer.deb >/tmp/upgrade.log 2>&1 || { tail -20 /tmp/upgrade.log; fail "upgrade"; }
ok "upgraded to $(dpkg-query -W -f '${Version}' tongguan-dispatch)"
as users | grep -q verify-wall && ok "the user is still there" || fail "data lost in the upgrade"
grep -q 'changed by the operator' /etc/tongguan/dispatch.toml && ok "the changed conffile kept" || fail "conffile replaced"
as check --min-free-mb 1 >/tmp/check.txt || { cat /tmp/check.txt; fail "check after the upgrade"; }
ok "check after the upgrade: schema $(awk '$2 == "schema" {print $3}' /tmp/check.txt)"
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
[ ! -e /opt/tongguan/tongguan ] && [ ! -e /etc/tongguan/wall.conf ] && [ ! -e /usr/bin/tongguan ] && ok "desktop purged: the bundle and wall.conf gone" || fail "desktop purge left files"
STEPS

echo "[verify] a clean $SUITE root with mmdebstrap (minbase), then the steps inside it" >&2
start=$(date +%s)
status=0
mmdebstrap --quiet --variant=apt --include=ca-certificates "$SUITE" "$work/root" ${TG_MIRROR:-} \
    --customize-hook="cp '$work/first.deb' '$work/newer.deb' '$work/desktop.deb' '$work/steps.sh' \"\$1/tmp/\"" \
    --customize-hook="chroot \"\$1\" sh /tmp/steps.sh > '$work/steps.out' 2>&1" \
    >"$work/mm.log" 2>&1 || status=$?
cat "$work/steps.out" 2>/dev/null || true
if [ "$status" != 0 ]; then
    tail -n 30 "$work/mm.log" >&2
    echo "FAIL  the clean-root test (mmdebstrap status $status)"
    exit 1
fi
echo "[verify] $(( $(date +%s) - start )) s, $(date -u +%Y-%m-%d), $SUITE, $(basename "$deb")" >&2
# The unit under a real systemd (systemd-nspawn --boot).
packaging/verify-systemd.sh "$deb"
