// The elementwise half of one LSTM time step on the GPU (the other half, the recurrent GEMM, is
// cuBLAS). Gate order i, f, g, o; layouts as in kernel.rs: gates [B, 4H], states [B, H].
// One thread per (batch row, hidden unit). Built to PTX by core/build.rs with the `cuda` feature.

__device__ __forceinline__ float sigmoidf(float x) { return 1.0f / (1.0f + expf(-x)); }

// Forward: pre = gx_t (+ rec), activations, c = f*c_prev + i*g, h = o*tanh(c).
// rec (h_{t-1}·W_hhᵀ), c_prev, tc_out and acts may be null: no recurrent term, zero previous
// cell, and nothing kept for backward.
extern "C" __global__ void lstm_cell_forward(
    const int n, const int hidden, const float* __restrict__ gx, const float* __restrict__ rec,
    const float* __restrict__ c_prev, float* __restrict__ c_out, float* __restrict__ tc_out,
    float* __restrict__ h_out, float* __restrict__ acts)
{
    const int idx = blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= n) return;
    const int b = idx / hidden;
    const int j = idx - b * hidden;
    const size_t g = (size_t)b * 4 * hidden + j;
    float pi = gx[g], pf = gx[g + hidden], pg = gx[g + 2 * hidden], po = gx[g + 3 * hidden];
    if (rec) {
        pi += rec[g];
        pf += rec[g + hidden];
        pg += rec[g + 2 * hidden];
        po += rec[g + 3 * hidden];
    }
    const float i = sigmoidf(pi), f = sigmoidf(pf), gg = tanhf(pg), o = sigmoidf(po);
    const float cp = c_prev ? c_prev[idx] : 0.0f;
    const float c = f * cp + i * gg;
    const float tc = tanhf(c);
    c_out[idx] = c;
    h_out[idx] = o * tc;
    if (tc_out) tc_out[idx] = tc;
    if (acts) {
        acts[g] = i;
        acts[g + hidden] = f;
        acts[g + 2 * hidden] = gg;
        acts[g + 3 * hidden] = o;
    }
}

// Backward of one step. acts holds the step's gate activations on entry and the gradient of the
// pre-activations on exit; dh = dh_out + dh_rec (dh_rec null at the last step); dc carries
// dL/dc_t in and dL/dc_{t-1} out; c_prev null means a zero initial cell.
extern "C" __global__ void lstm_cell_backward(
    const int n, const int hidden, float* __restrict__ acts, const float* __restrict__ dh_out,
    const float* __restrict__ dh_rec, float* __restrict__ dc, const float* __restrict__ tc,
    const float* __restrict__ c_prev)
{
    const int idx = blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= n) return;
    const int b = idx / hidden;
    const int j = idx - b * hidden;
    const size_t g = (size_t)b * 4 * hidden + j;
    const float i = acts[g], f = acts[g + hidden], gg = acts[g + 2 * hidden], o = acts[g + 3 * hidden];
    const float dh = dh_out[idx] + (dh_rec ? dh_rec[idx] : 0.0f);
    const float t = tc[idx];
    const float cp = c_prev ? c_prev[idx] : 0.0f;
    const float dcj = dc[idx] + dh * o * (1.0f - t * t);
    acts[g] = dcj * gg * i * (1.0f - i);
    acts[g + hidden] = dcj * cp * f * (1.0f - f);
    acts[g + 2 * hidden] = dcj * i * (1.0f - gg * gg);
    acts[g + 3 * hidden] = dh * t * o * (1.0f - o);
    dc[idx] = dcj * f;
}
