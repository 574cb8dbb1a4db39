#!/usr/bin/env bash
# Removes what install.sh installed (same STMDENOISE_PREFIX, default ~/.local).
# The user's settings, logs and own models (~/.local/share/stmdenoise) are kept.
set -euo pipefail
prefix="${STMDENOISE_PREFIX:-$HOME/.local}"
app="$prefix/lib/stm-denoise"
share="$prefix/share"
for exe in stmdenoise-gui stmdenoise; do
    link="$prefix/bin/$exe"
    if [ -L "$link" ] && [ "$(readlink "$link")" = "$app/$exe" ]; then rm -f "$link"; fi
done
rm -f "$share/applications/stmdenoise.desktop"
if command -v update-desktop-database >/dev/null 2>&1; then update-desktop-database -q "$share/applications" || true; fi
if [ -f "$share/mime/packages/stmdenoise.xml" ]; then
    rm -f "$share/mime/packages/stmdenoise.xml"
    if command -v update-mime-database >/dev/null 2>&1; then update-mime-database "$share/mime"; fi
fi
for icon in "$share"/icons/hicolor/*/apps/stmdenoise.png "$share"/icons/hicolor/*/apps/stmdenoise.svg; do
    if [ -e "$icon" ]; then rm -f "$icon"; fi
done
if command -v gtk-update-icon-cache >/dev/null 2>&1; then gtk-update-icon-cache -q -t "$share/icons/hicolor" || true; fi
rm -rf "$app"
echo "STM Denoise removed from $prefix (your settings and models in ${XDG_DATA_HOME:-$HOME/.local/share}/stmdenoise are kept)."
