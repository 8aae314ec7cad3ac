#!/usr/bin/env bash
# Build dist/avledger_<version>_<arch>.deb from a staged tree with dpkg-deb (no root needed).
#
# The program goes into its own virtual environment under /opt/avledger, made by the target's
# system python3 and filled from requirements/runtime.lock (exact versions, hashes checked);
# the staging prefix is then taken out of every path the environment recorded, so that it runs
# from /opt/avledger. Man pages and bash completion come from the installed command tree.
#
# Environment: PYTHON (default /usr/bin/python3), DIST (default dist), BUILD (default build/deb),
# PIP_CACHE_DIR is honoured (a warm cache saves the downloads).
set -euo pipefail

SRC=$(cd "$(dirname "$0")/.." && pwd)
PYTHON=${PYTHON:-/usr/bin/python3}
DIST=${DIST:-$SRC/dist}
BUILD=${BUILD:-$SRC/build/deb}
STAGE=$BUILD/root
PREFIX=/opt/avledger
VENV=$STAGE$PREFIX
DEB=$SRC/packaging/debian

VERSION=$(sed -n '1s/^avledger (\([^)]*\)).*/\1/p' "$DEB/changelog")
UPSTREAM=${VERSION%-*}
PROJECT=$(sed -n 's/^version = "\(.*\)"/\1/p' "$SRC/pyproject.toml" | head -1)
if [ "$UPSTREAM" != "$PROJECT" ]; then
    echo "build-deb: packaging/debian/changelog says $UPSTREAM, pyproject.toml $PROJECT;" \
         "add a changelog entry" >&2
    exit 1
fi
ARCH=$(dpkg --print-architecture)
OUT=$DIST/avledger_${VERSION}_${ARCH}.deb

rm -rf "$BUILD"
mkdir -p "$STAGE/DEBIAN" "$DIST"

echo "build-deb: virtual environment in $PREFIX ($("$PYTHON" --version))"
"$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --no-compile --require-hashes \
    -r "$SRC/requirements/runtime.lock"
# The project itself from a wheel built out of a copy of what the wheel is made of (the build
# files and src/; nothing is written into the checkout, whatever else lies in it).
WHEEL_SRC=$BUILD/src
mkdir -p "$WHEEL_SRC"
for file in pyproject.toml README.md setup.py setup.cfg MANIFEST.in babel.cfg; do
    if [ -f "$SRC/$file" ]; then cp "$SRC/$file" "$WHEEL_SRC/"; fi
done
(cd "$SRC" && find src \( -name __pycache__ -o -name '*.egg-info' \) -prune -o -type f -print0 \
    | xargs -0 cp --parents -t "$WHEEL_SRC")
"$VENV/bin/python" -m pip wheel --quiet --no-deps -w "$BUILD/wheel" "$WHEEL_SRC"
"$VENV/bin/python" -m pip install --quiet --no-compile --no-deps "$BUILD"/wheel/avledger-*.whl
# Installed from a wheel in the build directory: that path is no part of the package.
INFO=$(echo "$VENV"/lib/python3*/site-packages/avledger-*.dist-info)
rm -f "$INFO/direct_url.json"
sed -i '/direct_url\.json/d' "$INFO/RECORD"

echo "build-deb: man pages and bash completion"
MAN=$STAGE/usr/share/man/man1
LANG=C.UTF-8 LC_ALL=C.UTF-8 "$VENV/bin/python" "$SRC/packaging/manpages.py" "$MAN" \
    --version "$VERSION" --date "$(date -u -d "$(sed -n 's/^ -- .*>  //p' "$DEB/changelog" \
    | head -1)" +%Y-%m-%d)" >/dev/null
COMPLETION=$STAGE/usr/share/bash-completion/completions
mkdir -p "$COMPLETION"
_AVLEDGER_COMPLETE=source_bash LANG=C.UTF-8 "$VENV/bin/python" "$VENV/bin/avledger" \
    > "$COMPLETION/avledger"
grep -q "_AVLEDGER_COMPLETE" "$COMPLETION/avledger"

echo "build-deb: paths fixed up for $PREFIX"
grep -rlIF -- "$VENV" "$VENV" | while read -r file; do
    sed -i "s|$VENV|$PREFIX|g" "$file"
done
sed -i "s|^command = .*|command = $PYTHON -m venv $PREFIX|" "$VENV/pyvenv.cfg"
# The command runs isolated from the caller's environment (PYTHONPATH, user site packages).
sed -i "1s|^#!.*|#!$PREFIX/bin/python3 -I|" "$VENV/bin/avledger"
# No byte-code in the package: postinst compiles it in place (and postrm removes it).
find "$VENV" -name __pycache__ -prune -exec rm -rf {} +
# Shared objects as the wheels ship them, but not executable.
find "$VENV" -name '*.so*' -type f -exec chmod 0644 {} +

echo "build-deb: the rest of the tree"
install -d "$STAGE/usr/bin"
ln -s "$PREFIX/bin/avledger" "$STAGE/usr/bin/avledger"
install -D -m 0644 -t "$STAGE/usr/lib/systemd/system" \
    "$SRC"/systemd/*.service "$SRC"/systemd/*.timer
install -D -m 0644 -t "$STAGE/usr/lib/udev/rules.d" "$SRC/systemd/99-avledger.rules"
install -D -m 0440 "$SRC/packaging/sudoers.d/avledger" "$STAGE/etc/sudoers.d/avledger"
visudo -cf "$STAGE/etc/sudoers.d/avledger" >/dev/null
install -D -m 0644 "$DEB/avledger.yaml" "$STAGE/etc/avledger/avledger.yaml"
install -D -m 0644 -t "$STAGE/etc/avledger/profiles" "$SRC"/config/profiles/*.yaml
DOC=$STAGE/usr/share/doc/avledger
install -D -m 0644 -t "$DOC" "$DEB/copyright" "$SRC/README.md"
install -D -m 0644 -t "$DOC/docs" "$SRC"/docs/*.md
install -D -m 0644 "$SRC/systemd/shared-backends.conf" "$DOC/examples/shared-backends.conf"
install -D -m 0644 "$SRC/config/avledger.example.yaml" "$DOC/examples/avledger.example.yaml"
gzip -9n < "$DEB/changelog" > "$DOC/changelog.Debian.gz"
chmod 0644 "$DOC/changelog.Debian.gz"
install -D -m 0644 "$DEB/lintian-overrides" "$STAGE/usr/share/lintian/overrides/avledger"

echo "build-deb: control"
install -m 0755 -t "$STAGE/DEBIAN" "$DEB/postinst" "$DEB/prerm" "$DEB/postrm"
(cd "$STAGE" && find etc -type f | sort | sed 's|^|/|') > "$STAGE/DEBIAN/conffiles"
SIZE=$(du -sk --exclude=DEBIAN "$STAGE" | cut -f1)
sed -e "s/@VERSION@/$VERSION/" -e "s/@ARCH@/$ARCH/" -e "s/@INSTALLED_SIZE@/$SIZE/" \
    "$DEB/control.in" > "$STAGE/DEBIAN/control"
(cd "$STAGE" && find . -path ./DEBIAN -prune -o -type f -print0 | sort -z \
    | xargs -0 md5sum | sed 's|  \./|  |') > "$STAGE/DEBIAN/md5sums"
chmod 0644 "$STAGE/DEBIAN/control" "$STAGE/DEBIAN/conffiles" "$STAGE/DEBIAN/md5sums"
find "$STAGE" -type d -exec chmod 0755 {} +

dpkg-deb --root-owner-group -Zgzip -z6 --build "$STAGE" "$OUT" >/dev/null
echo "$OUT"
