#!/usr/bin/env bash
# One prepared GPU check (issue 17): builds ipbench against PyTorch's CUDA LibTorch with all cores, runs
# the [cuda] noise tests and bench_solvers at 64, 128 and 256 px, and prints what docs/performance.md
# needs (GPU model, ratios, noise fraction, images/hour, memory per sample). Then scripts/gpu-e2e.sh:
# whole `ipbench run`s at 64 and 128 px per item, across items (max_batch), within memory_budget_mib,
# under bf16 / fp16 and through --devices (E2E=0 skips it). The bench part took about 7 minutes on one
# H200 (most of it the build); the end-to-end part has not run on a GPU yet (on the CPU, --cpu: 77 s).
#
#   scripts/gpu-check.sh [--debs DIR] [--out DIR]      on the GPU machine
#   scripts/gpu-check.sh --cpu [--out DIR]             the same steps on the CPU with Debian's LibTorch,
#                                                      tiny sizes (tests the script's logic)
#
# --debs DIR: Debian .deb files for what the machine lacks (HDF5, Eigen, Catch2, zlib/curl/aec, and
# Boost 1.74 with program_options). Boost goes to its own prefix /opt/boost174 (the machine's Boost
# headers are another version); everything else is copied into / without replacing any existing file.
# Environment: JOBS (default nproc), BUILD (build dir; default build-gpu, or build with --cpu),
# PYTHON (default python3 on the GPU, /usr/bin/python3 with --cpu), SIZES, STEPS, REPS; E2E (1),
# E2E_SIZES (64 128; --cpu 64), E2E_ITEMS (8; --cpu 2), E2E_STEPS (STEPS).
set -uo pipefail
cd "$(dirname "$0")/.."
mode=gpu
debs=""
out=${OUT:-/tmp/ipbench-gpu-check}
while [ $# -gt 0 ]; do
  case "$1" in
    --cpu) mode=cpu ;;
    --debs) debs=$2; shift ;;
    --out) out=$2; shift ;;
    *) echo "gpu-check: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
mkdir -p "$out"
t0=$(date +%s)
stamp() { echo "[gpu-check +$(( $(date +%s) - t0 ))s] $*"; }

if [ "$mode" = cpu ]; then
  JOBS=${JOBS:-1}; BUILD=${BUILD:-build}; PYTHON=${PYTHON:-/usr/bin/python3}
  SIZES=${SIZES:-64}; STEPS=${STEPS:-2}; REPS=${REPS:-1}; CHANNELS=${CHANNELS:-32}
  declare -A BATCH=([64]=2 [128]=2 [256]=1)
  threads=1
  E2E_SIZES=${E2E_SIZES:-64}; E2E_ITEMS=${E2E_ITEMS:-2}
else
  JOBS=${JOBS:-$(nproc)}; BUILD=${BUILD:-build-gpu}; PYTHON=${PYTHON:-python3}
  SIZES=${SIZES:-64 128 256}; STEPS=${STEPS:-20}; REPS=${REPS:-3}; CHANNELS=${CHANNELS:-128}
  declare -A BATCH=([64]=64 [128]=32 [256]=16)
  threads=0
  E2E_SIZES=${E2E_SIZES:-64 128}; E2E_ITEMS=${E2E_ITEMS:-8}
fi

stamp "machine"
uname -a
grep PRETTY_NAME /etc/os-release 2>/dev/null
echo "cores: $(nproc)"
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm --format=csv 2>/dev/null || echo "no nvidia-smi"
command -v nvcc >/dev/null && nvcc --version | tail -1
cmake --version | head -1
g++ --version | head -1
$PYTHON -c 'import torch, sys; print("python", sys.version.split()[0], "torch", torch.__version__, "cuda", torch.version.cuda, "gpu", torch.cuda.get_device_name(0) if torch.cuda.is_available() else None)'
for f in /usr/include/hdf5/serial/hdf5.h /usr/include/boost/version.hpp /usr/include/eigen3/Eigen/Core /usr/include/catch2/catch.hpp; do
  [ -e "$f" ] && echo "present: $f" || echo "absent: $f"
done
ls /usr/lib/x86_64-linux-gnu/ | grep -E '^lib(curl|crypto|sz|z|boost_program)' | head -20

if [ -n "$debs" ]; then
  stamp "installing $(ls "$debs"/*.deb | wc -l) .deb files"
  root=/tmp/debroot
  rm -rf "$root" && mkdir -p "$root" /opt/boost174 /opt/catch2v2
  for f in "$debs"/*.deb; do
    case "$(basename "$f")" in
      libboost*) dpkg -x "$f" /opt/boost174 ;;
      catch2*) dpkg -x "$f" /opt/catch2v2 ;;  # the image may hold Catch2 v3, whose test discovery differs
      *) dpkg -x "$f" "$root" ;;
    esac
  done
  cp -an "$root"/. / 2>&1 | grep -v "non-portable" | head -5   # never replaces a file the machine has
  lib=/usr/lib/x86_64-linux-gnu
  for pair in libcurl.so:libcurl.so.4 libcrypto.so:libcrypto.so.3 libsz.so:libsz.so.2 libz.so:libz.so.1; do
    dev=${pair%%:*}; so=${pair##*:}
    [ -e "$lib/$dev" ] || { [ -e "$lib/$so" ] && ln -s "$so" "$lib/$dev" && echo "linked $lib/$dev -> $so"; }
  done
  ldconfig
fi

cmake_args=(-S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release)
if [ "$mode" = gpu ]; then
  torch_prefix=$($PYTHON -c 'import torch; print(torch.utils.cmake_prefix_path)')
  cmake_args+=(-DTorch_DIR="$torch_prefix/Torch" -DCMAKE_CUDA_ARCHITECTURES=90)
  command -v ninja >/dev/null && cmake_args+=(-G Ninja)
  [ -d /opt/boost174/usr/lib/x86_64-linux-gnu/cmake/Boost-1.74.0 ] &&
    cmake_args+=(-DBoost_DIR=/opt/boost174/usr/lib/x86_64-linux-gnu/cmake/Boost-1.74.0)
  [ -d /opt/catch2v2/usr/lib/cmake/Catch2 ] && cmake_args+=(-DCatch2_DIR=/opt/catch2v2/usr/lib/cmake/Catch2)
fi
stamp "configure: cmake ${cmake_args[*]}"
if ! cmake "${cmake_args[@]}" > "$out/configure.log" 2>&1; then
  tail -40 "$out/configure.log"
  stamp "CONFIGURE FAILED"
  exit 1
fi
grep -E "ipbench CUDA kernels|CUDA compiler|Found Torch|Found HDF5|Boost" "$out/configure.log" | head -8

stamp "build (-j $JOBS): test_noise_device bench_solvers ipbench"
if ! cmake --build "$BUILD" -j "$JOBS" --target test_noise_device bench_solvers ipbench > "$out/build.log" 2>&1; then
  grep -E "error|Error" "$out/build.log" | head -30
  tail -20 "$out/build.log"
  if [ -x "$BUILD/tests/test_noise_device" ] && [ -x "$BUILD/bench/bench_solvers" ]; then
    stamp "BUILD REPORTED A FAILURE, but both programs exist: running them"
  else
    stamp "BUILD FAILED"
    exit 1
  fi
fi
stamp "built"

stamp "tests: test_noise_device (the [cuda] cases compare GPU and CPU draws)"
"$BUILD/tests/test_noise_device" 2>&1 | tail -15

models=${MODELS:-/tmp/ipbench-models}
mkdir -p "$models"
for size in $SIZES; do
  stamp "model ${size}px"
  $PYTHON scripts/make_guided_unet.py --size "$size" --channels "$CHANNELS" --out "$models/unet$size.pt" 2>&1 | grep -v Warning | grep -v "scale = "
done

for size in $SIZES; do
  stamp "bench_solvers ${size}px batch ${BATCH[$size]}"
  "$BUILD/bench/bench_solvers" --model "$models/unet$size.pt" --size "$size" --batch "${BATCH[$size]}" \
    --steps "$STEPS" --reps "$REPS" --python "$PYTHON" --loop scripts/bench_solvers_loop.py --threads "$threads" \
    2>&1 | tee "$out/bench_$size.txt"
done

if [ "${E2E:-1}" = 1 ] && [ -x "$BUILD/cli/ipbench" ]; then
  e2e_device=cuda
  [ "$mode" = cpu ] && e2e_device=cpu
  for size in $E2E_SIZES; do
    [ -f "$models/unet$size.pt" ] || $PYTHON scripts/make_guided_unet.py --size "$size" --channels "$CHANNELS" \
      --out "$models/unet$size.pt" 2>&1 | grep -v Warning | grep -v "scale = "
  done
  stamp "end-to-end runs: scripts/gpu-e2e.sh ($E2E_SIZES px, $E2E_ITEMS items x 16 samples)"
  ITEMS=$E2E_ITEMS STEPS=${E2E_STEPS:-$STEPS} PYTHON=$PYTHON scripts/gpu-e2e.sh "$BUILD/cli/ipbench" "$models" \
    "$out" "$E2E_SIZES" "$e2e_device" 2>&1 | tee "$out/e2e.txt"
fi
stamp "done"
