# Source this before `cargo build --features cuda`: puts tools/cuda/setup.sh's nvcc on PATH and
# tells candle's kernel build which GPU to compile for when no GPU is present to ask.
DEEPSPEECH_CUDA="${DEEPSPEECH_CUDA:-/opt/deepspeech-cuda}"
export CUDA_HOME="$DEEPSPEECH_CUDA/nvidia/cu13"
export PATH="$CUDA_HOME/bin:$PATH"

# Hopper (H100/H200) by default; set CUDA_COMPUTE_CAP=80 for an A100, 89 for an L4/RTX 40, ...
export CUDA_COMPUTE_CAP="${CUDA_COMPUTE_CAP:-90}"
