#!/usr/bin/env bash
# Debian data packages the course reads (optional for a learner: the loaders in utils.data say
# what is missing and how to get it). Installs them when running as root on Debian/Ubuntu.
#   mricron-data: a T1 brain MRI template and aligned region atlases (NIfTI), used by 8.1.
set -euo pipefail
pkgs=()
[ -d /usr/share/mricron/templates ] || pkgs+=(mricron-data)
[ ${#pkgs[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing Debian data packages: ${pkgs[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${pkgs[@]}" >/dev/null
else
  echo "optional data not installed: ${pkgs[*]} (Debian/Ubuntu: sudo apt-get install ${pkgs[*]});" \
       "the sections that need it say so when they run." >&2
fi
