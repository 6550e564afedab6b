#!/usr/bin/env bash
# Set up camsift's virtual environment on Debian/Ubuntu: the few system
# libraries the wheels need, then the venv with camsift and its dev tools.
# Usage: tools/bootstrap.sh [python] [venv]
set -euo pipefail
python=${1:-python3.11}
venv=${2:-.venv}

# System packages: venv support, the X/GL stubs OpenCV's wheel links against, and ffmpeg, which serves the
# tests' live streams (camsift itself decodes with the FFmpeg libraries inside PyAV's wheel).
need=()
"$python" -c "import ensurepip, venv" 2>/dev/null || need+=(python3-venv)
ldconfig -p 2>/dev/null | grep -q "libGL.so.1" || need+=(libgl1)
ldconfig -p 2>/dev/null | grep -q "libglib-2.0.so.0" || need+=(libglib2.0-0)
command -v ffmpeg >/dev/null || need+=(ffmpeg)
if ((${#need[@]})); then
  echo "bootstrap: installing ${need[*]} with apt-get"
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
fi

[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
"$venv/bin/python" -m pip install -q --upgrade pip
"$venv/bin/python" -m pip install -q -e ".[dev]"
echo "bootstrap: $venv ready ($("$venv/bin/camsift" --version 2>/dev/null || echo camsift))"
