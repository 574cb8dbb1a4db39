#!/usr/bin/env bash
# Installs the STM Denoise bundle (built by installer/build.py) for the current user:
#   the app          -> $PREFIX/lib/stm-denoise/          (a copy: the menu entry never points into a checkout)
#   menu entry       -> $PREFIX/share/applications/stmdenoise.desktop
#   icon (all sizes) -> $PREFIX/share/icons/hicolor/<N>x<N>/apps/stmdenoise.png (rendered from the SVG by build.py)
#   .sxm / Createc .dat MIME types -> $PREFIX/share/mime/packages/stmdenoise.xml
#   commands         -> $PREFIX/bin/stmdenoise-gui, $PREFIX/bin/stmdenoise (links; an existing file is left alone)
# PREFIX is ~/.local (STMDENOISE_PREFIX=/usr/local as root installs for every user).
# Usage: install.sh [BUNDLE_DIR]   default: the bundle this script ships in (BUNDLE/linux/install.sh),
#                                   else dist/STM-Denoise of the checkout.
# Undo with uninstall.sh (the user's settings, logs and models in ~/.local/share/stmdenoise stay).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bundle="${1:-}"
if [ -z "$bundle" ]; then
    if [ -x "$here/../stmdenoise-gui" ]; then bundle="$here/.."; else bundle="$here/../../dist/STM-Denoise"; fi
fi
if [ ! -x "$bundle/stmdenoise-gui" ]; then
    echo "install.sh: no STM Denoise bundle in $bundle (build one: python installer/build.py)" >&2
    exit 1
fi
bundle="$(cd "$bundle" && pwd)"
prefix="${STMDENOISE_PREFIX:-$HOME/.local}"
app="$prefix/lib/stm-denoise"
share="$prefix/share"

# 1. the app: copy beside, then swap, so a failed copy never leaves half an installation
mkdir -p "$prefix/lib"
rm -rf "$app.new" "$app.old"
cp -a "$bundle" "$app.new"
if [ -e "$app" ]; then mv "$app" "$app.old"; fi
mv "$app.new" "$app"
rm -rf "$app.old"

# 2. icons in every rendered size
icons="$app/_internal/resources/icons/hicolor"
if [ ! -d "$icons" ]; then
    echo "install.sh: $icons is missing: the bundle was built without rendered icons" >&2
    exit 1
fi
for dir in "$icons"/*/apps; do
    size="$(basename "$(dirname "$dir")")"
    mkdir -p "$share/icons/hicolor/$size/apps"
    cp "$dir"/stmdenoise.* "$share/icons/hicolor/$size/apps/"
done
if command -v gtk-update-icon-cache >/dev/null 2>&1; then
    gtk-update-icon-cache -q -t "$share/icons/hicolor" || true
fi

# 3. MIME types (.sxm by name and content, Createc .dat by content)
mkdir -p "$share/mime/packages"
cp "$here/stmdenoise-mime.xml" "$share/mime/packages/stmdenoise.xml"
if command -v update-mime-database >/dev/null 2>&1; then
    update-mime-database "$share/mime"
else
    echo "install.sh: note: update-mime-database (package shared-mime-info) is missing; .sxm files are recognised once it runs"
fi

# 4. the menu entry, pointing at the installed copy
mkdir -p "$share/applications"
sed "s|@APP@|$app|g" "$here/stmdenoise.desktop.in" > "$share/applications/stmdenoise.desktop.tmp"
mv "$share/applications/stmdenoise.desktop.tmp" "$share/applications/stmdenoise.desktop"
if command -v update-desktop-database >/dev/null 2>&1; then
    update-desktop-database -q "$share/applications" || true
fi

# 5. commands on PATH (never replacing a file we did not put there)
mkdir -p "$prefix/bin"
for exe in stmdenoise-gui stmdenoise; do
    link="$prefix/bin/$exe"
    if [ -e "$link" ] && [ ! -L "$link" ]; then
        echo "install.sh: $link exists and is not ours; left alone"
        continue
    fi
    ln -sfn "$app/$exe" "$link"
done

echo "Installed STM Denoise in $app: 'STM Denoise' is in the applications menu; .sxm files open with it."
