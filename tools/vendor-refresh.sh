#!/bin/sh
# vendor-refresh.sh - refreshes the console's third-party browser files in
# web/vendor/ from the npm registry, at the versions pinned in
# web/vendor/VERSIONS, and checks every digest recorded there.
#
#   tools/vendor-refresh.sh           fetch the pinned tarballs (npm pack), check
#                                     their sha256, copy the files, check theirs
#   tools/vendor-refresh.sh --check   offline: the files in web/vendor/ match VERSIONS
#   tools/vendor-refresh.sh --pin     after editing a version in VERSIONS: fetch it and
#                                     write the new digests into VERSIONS (review the diff)
#
# Only this script and the browser tests use npm; building and running the
# service never do. The files are copied as published, except that the
# hooks module's bare import of "preact" is pointed at ./preact.js (browsers
# resolve no bare names without an import map, and an import map is an
# inline script the console's CSP refuses).
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
vendor="$root/web/vendor"
versions="$vendor/VERSIONS"
mode=${1:-refresh}

die() { echo "vendor-refresh: $*" >&2; exit 1; }
sha() { sha256sum "$1" | cut -d' ' -f1; }

# The files taken from each package: "package path-in-tarball file-in-vendor".
files() {
    cat <<'LIST'
preact package/dist/preact.module.js preact.js
preact package/hooks/dist/hooks.module.js hooks.js
preact package/LICENSE LICENSE.preact
htm package/dist/htm.module.js htm.js
htm package/LICENSE LICENSE.htm
qrcode-generator package/dist/qrcode.mjs qrcode.js
uplot package/dist/uPlot.esm.js uplot.js
uplot package/dist/uPlot.min.css uplot.css
uplot package/LICENSE LICENSE.uplot
LIST
}

# VERSIONS lines: "package NAME VERSION TARBALL-SHA256 LICENCE" and "file NAME SHA256".
pinned() { awk -v p="$1" '$1 == "package" && $2 == p { print $'"$2"' }' "$versions"; }
file_sha() { awk -v f="$1" '$1 == "file" && $2 == f { print $3 }' "$versions"; }

check_files() {
    status=0
    for f in $(awk '$1 == "file" { print $2 }' "$versions"); do
        want=$(file_sha "$f")
        [ -f "$vendor/$f" ] || { echo "missing: web/vendor/$f" >&2; status=1; continue; }
        got=$(sha "$vendor/$f")
        [ "$got" = "$want" ] || { echo "digest differs: web/vendor/$f ($got, VERSIONS says $want)" >&2; status=1; }
    done
    return $status
}

if [ "$mode" = "--check" ]; then
    check_files || die "web/vendor/ does not match VERSIONS"
    echo "web/vendor/ matches VERSIONS"
    exit 0
fi
[ "$mode" = refresh ] || [ "$mode" = --pin ] || die "usage: $0 [--check|--pin]"
command -v npm >/dev/null || die "npm is needed (apt-get install npm)"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
new="$work/VERSIONS"
grep '^#' "$versions" > "$new" || true

for pkg in $(awk '$1 == "package" { print $2 }' "$versions"); do
    version=$(pinned "$pkg" 3)
    (cd "$work" && npm pack --silent "$pkg@$version" >/dev/null) || die "npm pack $pkg@$version failed"
    tarball="$work/$pkg-$version.tgz"
    got=$(sha "$tarball")
    if [ "$mode" = refresh ] && [ "$got" != "$(pinned "$pkg" 4)" ]; then
        die "$pkg@$version: tarball sha256 $got, VERSIONS says $(pinned "$pkg" 4)"
    fi
    echo "package $pkg $version $got $(pinned "$pkg" 5)" >> "$new"
    mkdir -p "$work/$pkg"
    tar -xzf "$tarball" -C "$work/$pkg"
done

files | while read -r pkg src dst; do
    [ -f "$work/$pkg/$src" ] || die "$pkg has no $src"
    cp "$work/$pkg/$src" "$work/$dst"
    [ "$dst" = hooks.js ] && sed -i 's|from"preact"|from"./preact.js"|g' "$work/$dst"
    echo "file $dst $(sha "$work/$dst")" >> "$new"
done

if [ "$mode" = refresh ]; then
    # Every file must come out exactly as pinned before any is replaced.
    files | while read -r pkg src dst; do
        [ "$(sha "$work/$dst")" = "$(file_sha "$dst")" ] || die "$dst differs from VERSIONS"
    done
fi
files | while read -r pkg src dst; do cp "$work/$dst" "$vendor/$dst"; done
[ "$mode" = --pin ] && cp "$new" "$versions"
check_files
echo "web/vendor/ refreshed from npm and checked"
