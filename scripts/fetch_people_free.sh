#!/usr/bin/env bash
# People-free photos for the child-image detector (train/people_free.py):
# Debian's wallpaper collections (training negatives; scikit-image's sample
# photos, the held-out test set, come with requirements.txt). Images are never
# committed; they live in the system's share folders. Needs root for apt-get;
# without it, says what to run and exits 0 (training goes on without negatives).
set -euo pipefail
PACKAGES="plasma-workspace-wallpapers mate-backgrounds gnome-backgrounds ukui-wallpapers lomiri-wallpapers lomiri-wallpapers-16.04 lomiri-wallpapers-20.04"
missing=$(for p in $PACKAGES; do dpkg -s "$p" >/dev/null 2>&1 || echo "$p"; done)
if [ -n "$missing" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq --no-install-recommends $missing >/dev/null
  else
    echo "people-free photos: run as root: apt-get install $missing" >&2
  fi
fi
