#!/usr/bin/env bash
# The GPU measurements of the convnet (issue 19), prepared here and executed on a GPU machine.
#
#   bash benchmarks/convnet_gpu.sh prepare    # here, with the course's .venv and the network:
#       downloads into .gpu/wheels the Python 3.12 wheels a bare GPU image lacks (Keras and what
#       the course_lib modules of chapter 04 import), and turns chapter 04 into .gpu/ch04.json
#       (benchmarks/chapter_script.py), so the GPU machine needs neither Jupyter nor jupytext.
#   bash benchmarks/convnet_gpu.sh bench      # on the GPU machine, from the repository root,
#       with .gpu carried (it is git-ignored): installs the wheels into /tmp/site, then for each
#       backend of BACKENDS (default torch; "torch jax" for both) the benchmark of the paper and
#       course presets, a batch-size sweep (BATCH_SIZES) and the ratio to the same machine's CPU.
#   bash benchmarks/convnet_gpu.sh chapter    # there too: chapter 04 end to end, cell by cell.
#       Results go to $OUT (the device tool's folder) or benchmarks/results/gpu/.
#
# Each step has a timeout that fits one 600-second device command; run bench and chapter as two.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-python3}
PYVER=${PYVER:-3.12}

prepare() {
  local venv_py=${VENV_PY:-.venv/bin/python}
  mkdir -p .gpu/wheels
  # Keras and its pure-Python needs; librosa and what it needs beyond the GPU image's packages.
  $venv_py -m pip download --quiet --no-deps --only-binary=:all: --python-version "$PYVER" \
    --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 \
    --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 -d .gpu/wheels \
    -c constraints.txt keras namex optree librosa audioread soxr soundfile pooch decorator \
    platformdirs standard-aifc standard-sunau standard-chunk
  $venv_py benchmarks/chapter_script.py convert chapters/04_convnet_cold_start.md .gpu/ch04.json
  du -sh .gpu
}

setup() {
  OUT_DIR=${OUT:-benchmarks/results/gpu}
  mkdir -p "$OUT_DIR"
  if [ -z "${SKIP_WHEELS:-}" ] && compgen -G ".gpu/wheels/*.whl" > /dev/null; then
    $PY -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
      --target /tmp/site .gpu/wheels/*.whl || exit 1
    export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}
  fi
  export PYTHONUNBUFFERED=1 COURSE_LIB_CACHE=${COURSE_LIB_CACHE:-/tmp/course_lib_cache}
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv > "$OUT_DIR/gpu.txt" 2>&1 || true
}

bench() {  # about 3 to 5 minutes per backend
  for backend in ${BACKENDS:-torch}; do
    KERAS_BACKEND=$backend timeout "${BENCH_TIMEOUT:-450}" $PY benchmarks/convnet.py \
      --presets paper course --batch-sizes ${BATCH_SIZES:-256 512 1024} --cpu-reference \
      --out "$OUT_DIR/convnet_gpu_$backend.json" 2>&1 | tee "$OUT_DIR/convnet_gpu_$backend.log"
  done
}

chapter() {  # the music world and both course models are built from scratch on a bare machine
  for backend in ${BACKENDS:-torch}; do
    KERAS_BACKEND=$backend timeout "${CHAPTER_TIMEOUT:-500}" $PY benchmarks/chapter_script.py \
      run .gpu/ch04.json --out "$OUT_DIR/ch04_gpu_$backend.json" 2>&1 \
      | tee "$OUT_DIR/ch04_gpu_$backend.log"
  done
}

case "${1:-}" in
  prepare) prepare ;;
  bench) setup && bench ;;
  chapter) setup && chapter ;;
  *) echo "usage: bash benchmarks/convnet_gpu.sh prepare|bench|chapter" >&2; exit 2 ;;
esac
