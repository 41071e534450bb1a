#!/usr/bin/env python3
"""The reference for `core/examples/gpu_bench.rs`: DeepSpeech's network in PyTorch, with cuDNN's
LSTM and torch.nn.CTCLoss, timed on the same batches the same way (two warm-up steps, then the
mean of --steps steps ending in a synchronisation). Also measures the GPU's matrix rate, which
gives the FLOP floor of each configuration. One JSON object per line.

    python3 tools/reference/deepspeech_torch.py --hidden 2048,640 --batch 32,64,128
"""
import argparse
import json
import time

import torch
from torch import nn

N_INPUT = 26 * (2 * 9 + 1)  # 494, DeepSpeech's features with 9 frames of context
N_CLASSES = 29
SECS_PER_FRAME = 0.02  # DeepSpeech's 20 ms feature step


class DeepSpeech(nn.Module):
    """Dense ×3 (clipped ReLU, dropout), unidirectional LSTM, dense, output: DeepSpeech 0.9."""

    def __init__(self, hidden, dropout=0.05, clip=20.0):
        super().__init__()
        self.front = nn.ModuleList([nn.Linear(N_INPUT, hidden), nn.Linear(hidden, hidden), nn.Linear(hidden, hidden)])
        self.lstm = nn.LSTM(hidden, hidden)
        self.layer_5 = nn.Linear(hidden, hidden)
        self.layer_6 = nn.Linear(hidden, N_CLASSES)
        self.dropout = dropout
        self.clip = clip

    def act(self, x):
        return nn.functional.dropout(torch.clamp(x, 0.0, self.clip), self.dropout, self.training)

    def forward(self, x):
        for layer in self.front:
            x = self.act(layer(x))
        x, _ = self.lstm(x)
        return self.layer_6(self.act(self.layer_5(x)))


def set_precision(precision):
    tf32 = precision == "tf32"
    torch.backends.cuda.matmul.allow_tf32 = tf32
    torch.backends.cudnn.allow_tf32 = tf32


def timed(fn, steps):
    for _ in range(2):
        fn()
    torch.cuda.synchronize()
    started = time.perf_counter()
    for _ in range(steps):
        fn()
    torch.cuda.synchronize()
    return (time.perf_counter() - started) / steps


def forward_flops_per_frame(h):
    return 2.0 * (N_INPUT * h + 3 * h * h + 8 * h * h + h * N_CLASSES)


def matrix_rates():
    """TFLOP/s of an 8192³ product in f32, TF32 and bf16 (random data, mean of 10 after 3)."""
    rates = {}
    n = 8192
    for name, dtype, tf32 in [("f32", torch.float32, False), ("tf32", torch.float32, True), ("bf16", torch.bfloat16, False)]:
        torch.backends.cuda.matmul.allow_tf32 = tf32
        a = torch.randn(n, n, device="cuda", dtype=dtype)
        b = torch.randn(n, n, device="cuda", dtype=dtype)
        secs = timed(lambda: a @ b, 10)
        rates[name] = 2 * n**3 / secs / 1e12
    return rates


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--hidden", default="2048,640")
    p.add_argument("--batch", default="32,64,128")
    p.add_argument("--infer-batch", type=int, default=256)
    p.add_argument("--frames", type=int, default=300)
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--precision", default="f32,tf32,bf16")
    a = p.parse_args()
    rates = matrix_rates()
    print(json.dumps({"impl": "matrix-rate", "tflops": {k: round(v, 1) for k, v in rates.items()}, "gpu": torch.cuda.get_device_name()}), flush=True)
    torch.manual_seed(7)
    for hidden in [int(h) for h in a.hidden.split(",")]:
        model = DeepSpeech(hidden).cuda()
        opt = torch.optim.Adam(model.parameters(), lr=1e-4)
        ctc = nn.CTCLoss(blank=N_CLASSES - 1, reduction="mean", zero_infinity=True)
        flops = forward_flops_per_frame(hidden)
        for precision in a.precision.split(","):
            set_precision(precision)
            autocast = precision == "bf16"
            for batch in [int(b) for b in a.batch.split(",")]:
                x = torch.randn(a.frames, batch, N_INPUT, device="cuda")
                targets = torch.randint(0, N_CLASSES - 1, (batch, a.frames // 4), device="cuda")
                lengths = torch.full((batch,), a.frames, dtype=torch.long)
                target_lengths = torch.full((batch,), a.frames // 4, dtype=torch.long)

                def step():
                    opt.zero_grad(set_to_none=True)
                    with torch.autocast("cuda", dtype=torch.bfloat16, enabled=autocast):
                        logits = model(x)
                    loss = ctc(logits.float().log_softmax(-1), targets, lengths, target_lengths)
                    loss.backward()
                    opt.step()

                model.train()
                secs = timed(step, a.steps)
                print(json.dumps({
                    "impl": "pytorch-cudnn", "mode": "train", "n_hidden": hidden, "precision": precision,
                    "batch": batch, "frames": a.frames, "step_ms": round(secs * 1e3, 2),
                    "audio_s_per_s": round(a.frames * batch * SECS_PER_FRAME / secs, 1),
                    "tflops": round(3 * flops * a.frames * batch / secs / 1e12, 1),
                    "floor_ms": round(3 * flops * a.frames * batch / (rates[precision] * 1e12) * 1e3, 2),
                }), flush=True)
            model.eval()
            batch = a.infer_batch
            x = torch.randn(a.frames, batch, N_INPUT, device="cuda")

            def infer():
                with torch.inference_mode(), torch.autocast("cuda", dtype=torch.bfloat16, enabled=autocast):
                    model(x)

            secs = timed(infer, a.steps)
            print(json.dumps({
                "impl": "pytorch-cudnn", "mode": "infer", "n_hidden": hidden, "precision": precision,
                "batch": batch, "frames": a.frames, "step_ms": round(secs * 1e3, 2),
                "audio_s_per_s": round(a.frames * batch * SECS_PER_FRAME / secs, 1),
                "tflops": round(flops * a.frames * batch / secs / 1e12, 1),
                "floor_ms": round(flops * a.frames * batch / (rates[precision] * 1e12) * 1e3, 2),
            }), flush=True)
        del model, opt


if __name__ == "__main__":
    main()
