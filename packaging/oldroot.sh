#!/usr/bin/env bash
# ./tg package oldroot: the bundles for old intranet Linux, built in the oldest Debian root
# this machine's Debian mirror offers (bullseye, glibc 2.31: buster's 2.28 is no longer on
# the mirror), on the second locked set (packaging/legacy: PySide6 6.9, manylinux_2_28
# wheels), with a CPython built in that root from Debian's source of python3.13 (the mirror's
# upstream tarball; Debian has no 3.12 or 3.13 for bullseye). Into $DIST/legacy/: both
# bundles, and glibc.txt, the newest glibc symbol version each needs (objdump), which is what
# says where they start. The root and its Python are kept in .cache/oldroot (built once,
# ~15 min); the dependencies are installed again only when packaging/legacy/uv.lock changes.
#   TG_DIST=dist  TG_OLD_SUITE=bullseye  TG_MIRROR=http://deb.debian.org/debian
#   TG_OLDROOT_CHECK_ONLY=1: the bundles of the last build checked again, not rebuilt
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
ROOT=$PWD
DIST=${TG_DIST:-$ROOT/dist}
SUITE=${TG_OLD_SUITE:-bullseye}
MIRROR=${TG_MIRROR:-http://deb.debian.org/debian}
PY_VERSION=3.13.5
PY_SHA256=93e583f243454e6e9e4588ca2c2662206ad961659863277afcdb96801647d640
CACHE=$ROOT/.cache/oldroot
R=$CACHE/root-$SUITE
UV=$ROOT/.cache/bootstrap/bin/uv
say() { printf '[oldroot] %s\n' "$*" >&2; }

# What building CPython needs, PyInstaller's tools (binutils), and the Qt runtime libraries
# (so that PyInstaller finds what Qt links against, and the smoke test can start the wall).
DEBS=build-essential,pkg-config,binutils,ca-certificates,curl,xz-utils,libssl-dev,zlib1g-dev,libffi-dev,libsqlite3-dev,libbz2-dev,liblzma-dev,uuid-dev,libncursesw5-dev,libegl1,libgl1,libglib2.0-0,libxkbcommon0,libxkbcommon-x11-0,libfontconfig1,libdbus-1-3,libnss3,libxcomposite1,libxdamage1,libxrandr2,libxtst6,libxshmfence1,libgbm1,libasound2,libxkbfile1,libxcb-cursor0,libxcb-icccm4,libxcb-keysyms1,libxcb-image0,libxcb-render-util0,libxcb-xinerama0,libxcb-shape0,libxcb-xkb1,fonts-wqy-microhei

mounted=()
cleanup() { local m; for m in "${mounted[@]}"; do umount -l "$m" 2>/dev/null || true; done; }
trap cleanup EXIT
enter() {  # run a shell script inside the root, with /proc, /dev and the host's DNS
    if ! mountpoint -q "$R/proc"; then mount -t proc proc "$R/proc"; mounted+=("$R/proc"); fi
    if ! mountpoint -q "$R/dev"; then mount --rbind /dev "$R/dev"; mounted+=("$R/dev"); fi
    cp /etc/resolv.conf "$R/etc/resolv.conf"
    chroot "$R" /usr/bin/env -i PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin HOME=/root \
        LANG=C.UTF-8 /bin/bash -euo pipefail -c "$1"
}

mkdir -p "$CACHE" "$DIST/legacy"
start=$(date +%s)
if [ ! -e "$R/.tg-root" ]; then
    say "a clean $SUITE root with mmdebstrap (buildd, and the Qt runtime libraries)"
    rm -rf "$R"
    mmdebstrap --quiet --variant=buildd --include="$DEBS" "$SUITE" "$R" "$MIRROR" \
        > "$CACHE/mmdebstrap.log" 2>&1 || { tail -30 "$CACHE/mmdebstrap.log" >&2; exit 1; }
    touch "$R/.tg-root"
fi
if [ ! -x "$R/opt/python/bin/python3.13" ]; then
    tarball=$CACHE/python3.13_$PY_VERSION.orig.tar.xz
    if [ ! -f "$tarball" ]; then
        say "CPython $PY_VERSION source from the Debian mirror (python3.13's orig tarball)"
        curl -fsS -o "$tarball.part" "$MIRROR/pool/main/p/python3.13/python3.13_$PY_VERSION.orig.tar.xz"
        mv "$tarball.part" "$tarball"
    fi
    echo "$PY_SHA256  $tarball" | sha256sum -c --quiet
    cp "$tarball" "$R/tmp/python.tar.xz"
    say "building CPython $PY_VERSION in the root (shared, no PGO: minutes)"
    enter 'cd /tmp && rm -rf py && mkdir py && tar -xJf python.tar.xz -C py --strip-components=1
        cd py && ./configure -q --prefix=/opt/python --enable-shared \
            LDFLAGS=-Wl,-rpath,/opt/python/lib > /tmp/configure.log
        nice make -s -j2 > /tmp/make.log 2>&1 || { tail -30 /tmp/make.log; exit 1; }
        make -s install > /tmp/install.log 2>&1 || { tail -30 /tmp/install.log; exit 1; }
        cd / && rm -rf /tmp/py /tmp/python.tar.xz
        /opt/python/bin/python3.13 -c "import ssl, sqlite3, ctypes, lzma, bz2, uuid; print(\"python ok\")"'
fi

# The dependencies: the legacy lock, for this Python, with the lock's hashes checked.
key=$(cat packaging/legacy/uv.lock packaging/build-requirements.txt | sha256sum | cut -c1-16)
if [ "$(cat "$R/opt/venv/.tg-lock" 2>/dev/null)" != "$key" ]; then
    say "the legacy lock's wheels into /opt/venv (pip, hashes checked)"
    "$UV" export -q --frozen --format requirements-txt --all-groups --no-emit-project --no-header \
        --project packaging/legacy -o "$R/tmp/requirements.txt"
    # This machine's CA bundle (pip trusts what the host trusts: a proxy's CA, if any).
    cp /etc/ssl/certs/ca-certificates.crt "$R/etc/ssl/certs/host-ca-certificates.crt"
    enter 'rm -rf /opt/venv && /opt/python/bin/python3.13 -m venv /opt/venv
        /opt/venv/bin/pip install -q --disable-pip-version-check --only-binary=:all: \
            --cert /etc/ssl/certs/host-ca-certificates.crt --require-hashes -r /tmp/requirements.txt'
    echo "$key" > "$R/opt/venv/.tg-lock"
fi

if [ -n "${TG_OLDROOT_CHECK_ONLY:-}" ] && [ -x "$R/out/tongguan/tongguan" ]; then
    say "TG_OLDROOT_CHECK_ONLY: the bundles built last time, checked again"
else
    say "the sources into the root, then PyInstaller there"
    rm -rf "$R/src" "$R/out"
    mkdir -p "$R/src" "$R/out"
    git ls-files -z --cached --others --exclude-standard | xargs -0 cp --parents -t "$R/src" 2>/dev/null || true
    enter 'cd /src && for spec in tongguan-dispatch tongguan; do
            nice /opt/venv/bin/python -m PyInstaller --noconfirm --clean --log-level ERROR \
                --distpath /out --workpath /tmp/pyi-$spec packaging/$spec.spec
            rm -rf /tmp/pyi-$spec
        done'
fi

# Smoke tests in the root; their outcome is written down with the glibc figures (a failure
# of the wall there is a finding about Debian 11's libraries, not a failed build).
say "smoke test in the root: the backend's init-db and check, the wall offscreen until complete"
smoke=$CACHE/smoke.txt
: > "$smoke"
if enter 'export TONGGUAN_DATA=/tmp/smoke HOME=/tmp/smoke-home; rm -rf /tmp/smoke /tmp/smoke-home
        cd /tmp
        /out/tongguan-dispatch/tongguan-dispatch init-db >/dev/null
        /out/tongguan-dispatch/tongguan-dispatch check --min-free-mb 1 | grep -E "^ok +schema"' \
        > "$CACHE/smoke-dispatch.log" 2>&1; then
    echo "in $SUITE: tongguan-dispatch init-db and check: ok" >> "$smoke"
else
    echo "in $SUITE: tongguan-dispatch FAILED: $(tail -n1 "$CACHE/smoke-dispatch.log")" >> "$smoke"
fi
if enter 'export TONGGUAN_DATA=/tmp/smoke HOME=/tmp/smoke-home; cd /tmp
        QT_QPA_PLATFORM=offscreen QTWEBENGINE_DISABLE_SANDBOX=1 timeout 300 /out/tongguan/tongguan \
            --data /tmp/smoke --tour 0 --report-start /tmp/start.json' > "$CACHE/smoke-wall.log" 2>&1; then
    echo "in $SUITE: the wall offscreen: $(grep -o 'wall complete [0-9.]* s' "$CACHE/smoke-wall.log" | head -n1)" >> "$smoke"
else
    echo "in $SUITE: the wall does NOT start: $(grep -E 'Error|error' "$CACHE/smoke-wall.log" | tail -n1)" >> "$smoke"
fi

for name in tongguan-dispatch tongguan; do
    rm -rf "$DIST/legacy/$name"
    cp -a "$R/out/$name" "$DIST/legacy/$name"
done

# The newest glibc symbol version each bundle's files ask for: the oldest glibc it runs on.
{
    cat "$smoke"
    echo "# built $(date -u +%Y-%m-%dT%H:%M:%SZ) in Debian $SUITE ($(chroot "$R" ldd --version | head -n1)), CPython $PY_VERSION, PySide6 $(grep -A1 '^name = "pyside6-essentials"' packaging/legacy/uv.lock | sed -n 's/^version = "\(.*\)"/\1/p')"
    for name in tongguan-dispatch tongguan; do
        newest=$(find "$DIST/legacy/$name" -type f \( -name '*.so*' -o -perm -u+x \) -print0 \
            | xargs -0 objdump -T 2>/dev/null | grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -n1 || true)
        worst=$(find "$DIST/legacy/$name" -type f \( -name '*.so*' -o -perm -u+x \) -print0 \
            | xargs -0 -I{} sh -c "objdump -T '{}' 2>/dev/null | grep -q '$newest' && echo '{}'" \
            | sed "s|$DIST/legacy/||" | head -n 5 | tr '\n' ' ' || true)
        echo "$name: needs $newest ($(du -sm "$DIST/legacy/$name" | cut -f1) MiB; e.g. $worst)"
    done
} | tee "$DIST/legacy/glibc.txt"
say "$(( $(date +%s) - start )) s; bundles in $DIST/legacy"
