#!/usr/bin/env bash
# Installs everything mmdualtoken needs into the active Python environment.
# Idempotent: each step first checks what is already there, so a second run
# installs and builds nothing. The mmcv wheel (built from source, since PyPI
# ships none) is cached per torch version and Python tag, so another
# environment on the same machine does not compile it again.
#   bash tools/install_deps.sh [--check] [--with-optional]
# --check only says what is present and what would be installed, changes
# nothing, and exits 1 when something is missing. --with-optional also
# installs requirements/optional.txt (timm, onnx, onnxruntime).
set -euo pipefail

CHECK_ONLY=0
WITH_OPTIONAL=0
for arg in "$@"; do
    case $arg in
        --check) CHECK_ONLY=1 ;;
        --with-optional) WITH_OPTIONAL=1 ;;
        *) echo "usage: $0 [--check] [--with-optional]" >&2; exit 2 ;;
    esac
done
WOULD_CHANGE=0

PYTHON=$(command -v "${PYTHON:-python}")
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# What mmdualtoken accepts is stated once, in requirements/*.txt: whatever
# satisfies it is kept (a CUDA torch, an mmcv built by hand). What is
# missing is installed; torch and mmcv at the tested versions below.
TORCH_VERSION=2.14.1
TORCHVISION_VERSION=0.29.1
MMCV_VERSION=2.1.0
CACHE_DIR=${MMDUALTOKEN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mmdualtoken}

log() { printf '[install] %s\n' "$*"; }

requirements() { sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$ROOT/requirements/$1.txt"; }
TORCH_REQ=$(requirements runtime | grep '^torch')
MMCV_REQ=$(requirements mminstall | grep '^mmcv')
mapfile -t MMENGINE_REQ < <(requirements mminstall | grep -v '^mmcv')
mapfile -t TASK_REQS < <(requirements tasks)

# Prints the installed versions of the named distributions (NAME VERSION,
# comma-separated) and exits non-zero if one is missing or not accepted.
satisfied() {
    "$PYTHON" - "$@" <<'PY'
import sys
from importlib import metadata
from packaging.requirements import Requirement
ok, found = True, []
for spec in sys.argv[1:]:
    req = Requirement(spec)
    try:
        version = metadata.version(req.name)
    except metadata.PackageNotFoundError:
        ok = False
        continue
    found.append(f'{req.name} {version}')
    ok &= req.specifier.contains(version, prereleases=True)
print(', '.join(found))
sys.exit(0 if ok else 1)
PY
}

pip_install() { "$PYTHON" -m pip install --no-input "$@"; }

# Says what is missing; installs it unless --check.
plan() {
    WOULD_CHANGE=1
    if [ "$CHECK_ONLY" = 1 ]; then
        log "would install: $*"
        return 1
    fi
    log "installing: $*"
}

# ensure ACCEPTED... [-- TO_INSTALL...]: keeps what satisfies ACCEPTED and
# says which versions it found; otherwise installs TO_INSTALL (by default
# ACCEPTED itself).
ensure() {
    local accepted=() found
    while [ $# -gt 0 ] && [ "$1" != -- ]; do accepted+=("$1"); shift; done
    [ "${1:-}" = -- ] && shift
    [ $# -gt 0 ] || set -- "${accepted[@]}"
    if found=$(satisfied "${accepted[@]}"); then
        log "present: $found"
    elif plan "$@"; then
        pip_install "$@"
    fi
}

"$PYTHON" -c 'import packaging' 2>/dev/null || { plan packaging && pip_install packaging; }
# setuptools: torch needs >= 77.0.3; mmcv's setup.py and mmengine's pkg:: lookup
# import pkg_resources, which setuptools 81 removed.
ensure 'setuptools>=77,<81' wheel ninja
ensure "$TORCH_REQ" torchvision -- "torch==$TORCH_VERSION" "torchvision==$TORCHVISION_VERSION"

# The OpenMMLab releases that accept mmcv 2.1.0, plus what mmseg imports
# without declaring it; opencv is held below 5, which mmcv 2.1 predates.
ensure "${MMENGINE_REQ[@]}" "${TASK_REQS[@]}" \
    addict yapf ftfy regex 'opencv-python<5' pycocotools pytest

# mmengine and mmcv require opencv-python, whose cv2 needs libGL; servers often
# lack it, so the headless build of the same release provides cv2 instead.
if "$PYTHON" -c 'import cv2' 2>/dev/null; then
    log "present: cv2"
elif plan "opencv-python-headless (cv2 does not import)"; then
    cv_version=$("$PYTHON" -c 'from importlib.metadata import version; print(version("opencv-python"))')
    log "cv2 does not import (no libGL?): installing opencv-python-headless==$cv_version"
    pip_install --no-deps --force-reinstall "opencv-python-headless==$cv_version"
fi

if [ "$WITH_OPTIONAL" = 1 ]; then
    mapfile -t OPTIONAL_REQS < <(requirements optional)
    ensure "${OPTIONAL_REQS[@]}"
fi

mmcv_ok() {
    satisfied "$MMCV_REQ" >/dev/null &&
        "$PYTHON" -c 'from mmcv.ops import nms, RoIAlign' 2>/dev/null
}

if mmcv_ok; then
    log "present: $(satisfied "$MMCV_REQ") with ops"
elif plan "mmcv==$MMCV_VERSION with ops (built from source, cached)"; then
    pytag=$("$PYTHON" -c 'import sys; print(f"cp{sys.version_info[0]}{sys.version_info[1]}")')
    cuda=$("$PYTHON" -c 'import torch; print("cuda" if torch.cuda.is_available() else "cpu")')
    torch_version=$("$PYTHON" -c 'import torch; print(torch.__version__.split("+")[0])')
    wheel_dir="$CACHE_DIR/wheels/mmcv-$MMCV_VERSION-torch$torch_version-$pytag-$cuda"
    if ! ls "$wheel_dir"/mmcv-*.whl >/dev/null 2>&1; then
        log "building mmcv $MMCV_VERSION with ops (several minutes, once per machine)"
        build=$(mktemp -d)
        trap 'rm -rf "$build"' EXIT
        "$PYTHON" -m pip download --no-deps --no-binary :all: --no-build-isolation \
            -d "$build" "mmcv==$MMCV_VERSION"
        tar -xzf "$build"/mmcv-$MMCV_VERSION.tar.gz -C "$build"
        # torch >= 2.10 headers need C++20; mmcv 2.1.0 hard-codes C++17
        # (open-mmlab/mmcv#3341).
        sed -i 's/-std=c++17/-std=c++20/g' "$build/mmcv-$MMCV_VERSION/setup.py"
        [ "$cuda" = cuda ] && export FORCE_CUDA=1
        MMCV_WITH_OPS=1 MAX_JOBS=${MAX_JOBS:-$(nproc)} "$PYTHON" -m pip wheel \
            --no-deps --no-build-isolation -w "$build/dist" "$build/mmcv-$MMCV_VERSION"
        mkdir -p "$wheel_dir"
        # Copy then rename, so an interrupted build never leaves a partial wheel.
        for whl in "$build"/dist/mmcv-*.whl; do
            cp "$whl" "$wheel_dir/.$(basename "$whl").part"
            mv "$wheel_dir/.$(basename "$whl").part" "$wheel_dir/$(basename "$whl")"
        done
    fi
    log "installing cached mmcv wheel from $wheel_dir"
    pip_install --no-deps --force-reinstall "$wheel_dir"/mmcv-*.whl
    mmcv_ok || { log "mmcv ops failed to import after install"; exit 1; }
fi

# Where the installed mmdualtoken lives, asked from outside any checkout
# (python -c in $ROOT would find $ROOT's package first, installed or not).
installed=$(cd / && "$PYTHON" -c 'import mmdualtoken, os; print(os.path.dirname(os.path.dirname(os.path.realpath(mmdualtoken.__file__))))' 2>/dev/null || true)
if [ "$installed" = "$(realpath "$ROOT")" ]; then
    log "present: mmdualtoken (editable, $ROOT)"
elif plan "mmdualtoken from $ROOT (editable; installed now: ${installed:-none})"; then
    pip_install --no-deps --no-build-isolation -e "$ROOT"
fi
[ "$CHECK_ONLY" = 1 ] && exit "$WOULD_CHANGE"
exit 0
