#!/usr/bin/env bash
# Installs everything mmdualtoken needs into the active Python environment.
# Idempotent: each step first checks what is already there, so a second run
# installs and builds nothing. The mmcv wheel (built from source, since PyPI
# ships none) is cached per torch version and Python tag, so another
# environment on the same machine does not compile it again.
#   bash tools/install_deps.sh [--check] [--with-optional]
# --check only says what is present and what would be installed, changes
# nothing, and exits 1 when something is missing. --with-optional also
# installs requirements/optional.txt (timm, the deployment runtimes).
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
    torch_version=$("$PYTHON" -c 'import torch; print(torch.__version__.split("+")[0])')
    # CUDA ops where torch has CUDA, nvcc exists and a GPU is visible (or
    # FORCE_CUDA=1 with TORCH_CUDA_ARCH_LIST, to build for another machine).
    ops=cpu
    torch_cuda=$("$PYTHON" -c 'import torch; print(torch.version.cuda or "")')
    nvcc=$(command -v nvcc || ls "${CUDA_HOME:-/usr/local/cuda}/bin/nvcc" 2>/dev/null || true)
    gpu=$("$PYTHON" -c 'import torch; print(int(torch.cuda.is_available()))')
    if [ -n "$torch_cuda" ] && [ -n "$nvcc" ] && { [ "$gpu" = 1 ] || [ "${FORCE_CUDA:-0}" = 1 ]; }; then
        nvcc_cuda=$("$nvcc" --version | sed -n 's/.*release \([0-9.]*\),.*/\1/p')
        if [ "${nvcc_cuda%%.*}" != "${torch_cuda%%.*}" ]; then
            log "nvcc is CUDA $nvcc_cuda but torch was built with CUDA $torch_cuda:"
            log "mmcv's CUDA ops would not load. Put the nvcc of CUDA ${torch_cuda%%.*}.x"
            log "first on PATH (or set CUDA_HOME), or install the torch build for CUDA $nvcc_cuda."
            exit 1
        fi
        # The local card's architecture only, unless the user chose.
        export TORCH_CUDA_ARCH_LIST=${TORCH_CUDA_ARCH_LIST:-$("$PYTHON" -c \
            'import torch; print("%d.%d" % torch.cuda.get_device_capability())')}
        export FORCE_CUDA=1 CUDA_HOME=${CUDA_HOME:-$(dirname "$(dirname "$nvcc")")}
        # A toolkit without the library headers (cusparse.h, cublas_v2.h:
        # torch's CUDA headers include them) has them from torch's pip
        # wheels (nvidia-*-cu*); they go on the compilers' include path.
        if [ ! -f "$CUDA_HOME/include/cusparse.h" ]; then
            wheel_headers=$("$PYTHON" - <<'PY'
import glob, os, site
roots = site.getsitepackages() + [site.getusersitepackages()]
found = [glob.glob(os.path.join(r, 'nvidia', '*', 'include')) +
         glob.glob(os.path.join(r, 'nvidia', '*', '*', 'include'))
         for r in roots]
dirs = sorted({d for ds in found for d in ds})
if any(os.path.isfile(os.path.join(d, 'cusparse.h')) for d in dirs):
    print(':'.join(dirs))
PY
)
            if [ -z "$wheel_headers" ]; then
                log "$CUDA_HOME/include has no cusparse.h and no nvidia wheel provides it:"
                log "install the CUDA toolkit's library headers (or the nvidia-cusparse wheel of torch's CUDA)."
                exit 1
            fi
            log "CUDA library headers from torch's nvidia wheels: $wheel_headers"
            export CPATH="$wheel_headers${CPATH:+:$CPATH}"
        fi
        ops="cuda$nvcc_cuda.sm$(echo "$TORCH_CUDA_ARCH_LIST" | tr -d '.' | tr ' ;' '__')"
    fi
    wheel_dir="$CACHE_DIR/wheels/mmcv-$MMCV_VERSION-torch$torch_version-$pytag-$ops"
    if ! ls "$wheel_dir"/mmcv-*.whl >/dev/null 2>&1; then
        build=$(mktemp -d)
        trap 'rm -rf "$build"' EXIT
        "$PYTHON" -m pip download --no-deps --no-binary :all: --no-build-isolation \
            -d "$build" "mmcv==$MMCV_VERSION"
        tar -xzf "$build"/mmcv-$MMCV_VERSION.tar.gz -C "$build"
        src="$build/mmcv-$MMCV_VERSION"
        # torch >= 2.10 headers need C++20; mmcv 2.1.0 hard-codes C++17 for
        # the host compiler and nvcc (open-mmlab/mmcv#3341).
        sed -i 's/-std=c++17/-std=c++20/g' "$src/setup.py"
        csrc="$src/mmcv/ops/csrc/pytorch"
        files=$(ls "$csrc"/*.cpp "$csrc"/cpu/*.cpp | wc -l)
        # Without debug information (-g0) each file compiles in half the
        # time (measured: 14 s instead of 27 s per file); the ops' machine
        # code is the same. The user's CFLAGS, or else Python's own, are
        # kept: this distutils replaces Python's with $CFLAGS.
        flags="${CFLAGS:-$("$PYTHON" -c 'import sysconfig; print(sysconfig.get_config_var("CFLAGS") or "")')} -g0"
        per_file=13  # core-seconds per file, measured on a 2-core x86 machine
        if [ "$ops" != cpu ]; then
            cu_files=$(ls "$csrc"/cuda/*.cu "$csrc"/cuda/*.cpp | wc -l)
            files=$((files + cu_files))
            per_file=30
        fi
        jobs=${MAX_JOBS:-$(nproc)}
        log "building mmcv $MMCV_VERSION with its $ops ops: $files files on $jobs cores," \
            "about $(( (files * per_file / jobs + 59) / 60 )) min (once per machine; log: $build/build.log)"
        start=$SECONDS
        set +e
        CFLAGS="$flags" CXXFLAGS="$flags" MMCV_WITH_OPS=1 MAX_JOBS=$jobs "$PYTHON" -m pip wheel -v \
            --no-deps --no-build-isolation -w "$build/dist" "$src" > "$build/build.log" 2>&1 &
        builder=$!
        # ninja numbers what it compiles ([12/77] ...; pip -v indents it):
        # say how far it got.
        shown=0
        while kill -0 "$builder" 2>/dev/null; do
            sleep 20
            done_files=$(grep -cE '^ *\[[0-9]+/[0-9]+\]' "$build/build.log")
            if [ "$done_files" != "$shown" ]; then
                log "mmcv: $done_files of $files files compiled ($(( (SECONDS - start) / 60 )) min $(( (SECONDS - start) % 60 )) s)"
                shown=$done_files
            fi
        done
        wait "$builder"
        status=$?
        set -e
        if [ "$status" != 0 ]; then
            tail -n 40 "$build/build.log" >&2
            trap - EXIT
            log "mmcv $MMCV_VERSION failed to build with its $ops ops after $(( (SECONDS - start) / 60 )) min;"
            log "the whole log is $build/build.log (kept). Its last lines are above."
            exit 1
        fi
        log "mmcv built in $(( (SECONDS - start) / 60 )) min $(( (SECONDS - start) % 60 )) s"
        mkdir -p "$wheel_dir"
        # The wheel's build tag says what it was built for; copied, then
        # renamed, so an interrupted copy never leaves a partial wheel.
        for whl in "$build"/dist/mmcv-*.whl; do
            name=$(basename "$whl" | sed "s/^mmcv-$MMCV_VERSION-/mmcv-$MMCV_VERSION-1torch$torch_version.$ops-/")
            cp "$whl" "$wheel_dir/.$name.part"
            mv "$wheel_dir/.$name.part" "$wheel_dir/$name"
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
