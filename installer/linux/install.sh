#!/usr/bin/env bash
# Installs STM Denoise for the current user and adds a desktop-menu entry (freedesktop .desktop file).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
python3 "$root/bootstrap.py" install
apps="${XDG_DATA_HOME:-$HOME/.local/share}/applications"
mkdir -p "$apps"
sed "s|@ROOT@|$root|g" "$root/installer/linux/stmdenoise.desktop.in" > "$apps/stmdenoise.desktop"
echo "Installed; 'STM Denoise' is now in your applications menu."
