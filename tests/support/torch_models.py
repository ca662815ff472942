#!/usr/bin/python3
"""Test-time tool: makes the ONNX test models of pipecut's ONNX -> TFLite importer, with their
inputs and PyTorch's reference outputs. Never used by pipecut at run time.

Needs Debian 12's python3-torch, python3-torchvision and python3-numpy (python3-onnx only for the
names printed after exporting resnet18). Run it with /usr/bin/python3: the python3 first on PATH
may be another interpreter that does not see Debian's modules. No downloads: weights are seeded.

  export OUTDIR [--models a,b] [--opsets 13,17] [--force]
      OUTDIR/M_op{13,17}.onnx, OUTDIR/M.input.f32, OUTDIR/M.output.f32 (raw float32, NCHW/NC)
      and OUTDIR/manifest.json; also OUTDIR/resnet18_dynbatch_op13.onnx (dynamic batch).
  run M --input-nhwc FILE --shape 1,224,224,3 -o OUT
      M's output (raw float32, NCHW/NC) on a raw float32 NHWC input, e.g. a preprocessed photo.
  time M [--threads N] [--iterations K]
      one JSON line with PyTorch's CPU latency of M on its input shape.
"""
import argparse
import json
import os
import statistics
import tempfile
import time

import numpy as np
import torch
import torch.nn as nn
import torchvision

# The index in this list seeds the model's weights, so the order is part of the file format:
# append new models at the end.
MODELS = ["resnet18", "resnet50", "mobilenet_v2", "mobilenet_v3_small", "squeezenet1_1",
          "efficientnet_b0", "unet_small"]
# Exported only when asked for by name (the quantize benchmark), not by the tests' fixture.
EXTRA_MODELS = ["resnet101"]
KNOWN = MODELS + EXTRA_MODELS
OPSETS = (13, 17)
WEIGHT_SEED = 1234
INPUT_SEED = 4321   # a separate generator, so the input does not depend on how weights draw
DEFAULT_THREADS = 2
# Read once at start: os.umask can only be read by setting it.
UMASK = os.umask(0o022)
os.umask(UMASK)


class DoubleConv(nn.Sequential):
    def __init__(self, cin, cout):
        super().__init__(
            nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout),
            nn.ReLU(inplace=True),
            nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout),
            nn.ReLU(inplace=True))


class UNetSmall(nn.Module):
    """Two-level U-Net, 3 -> 2 channels at 64x64: gives the importer ConvTranspose and a skip
    Concat."""

    def __init__(self, cin=3, classes=2, widths=(16, 32, 64)):
        super().__init__()
        w1, w2, w3 = widths
        self.enc1 = DoubleConv(cin, w1)
        self.enc2 = DoubleConv(w1, w2)
        self.pool = nn.MaxPool2d(2)
        self.bottleneck = DoubleConv(w2, w3)
        self.up2 = nn.ConvTranspose2d(w3, w2, kernel_size=2, stride=2)
        self.dec2 = DoubleConv(2 * w2, w2)
        self.up1 = nn.ConvTranspose2d(w2, w1, kernel_size=2, stride=2)
        self.dec1 = DoubleConv(2 * w1, w1)
        self.head = nn.Conv2d(w1, classes, kernel_size=1)
        # PyTorch's default conv init shrinks the signal about 6x per Conv+ReLU; over ten layers
        # the output would be ~1e-4 of the input. Kaiming keeps it at unit scale, as torchvision's
        # models do for themselves.
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)) and m is not self.head:
                nn.init.kaiming_normal_(m.weight, mode="fan_in", nonlinearity="relu")
                if m.bias is not None:
                    nn.init.zeros_(m.bias)

    def forward(self, x):
        s1 = self.enc1(x)
        s2 = self.enc2(self.pool(s1))
        b = self.bottleneck(self.pool(s2))
        d2 = self.dec2(torch.cat([self.up2(b), s2], dim=1))
        d1 = self.dec1(torch.cat([self.up1(d2), s1], dim=1))
        return self.head(d1)


def input_shape(name):
    return [1, 3, 64, 64] if name == "unet_small" else [1, 3, 224, 224]


def is_classifier(name):
    return name != "unet_small"


def build_model(name):
    """The seeded eval-mode model: the same weights in every process, for export, run and time."""
    if name not in KNOWN:
        raise SystemExit(f"torch_models.py: unknown model '{name}' (known: {', '.join(KNOWN)})")
    torch.manual_seed(WEIGHT_SEED + KNOWN.index(name))
    if name == "unet_small":
        model = UNetSmall()
    else:
        model = getattr(torchvision.models, name)(weights=None)
    # Eval-mode BatchNorm with the default running stats (mean 0, var 1, weight 1, bias 0) is
    # nearly an identity, and on random weights that lets activations drift so far that the
    # logits come out (nearly) equal. Random stats near those values keep every layer doing
    # real, distinct arithmetic for the importer to get right. Drawn from the global generator
    # right after construction, so they are as deterministic as the weights.
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                m.running_mean.normal_().mul_(0.1)
                m.running_var.uniform_(0.5, 1.5)
                m.weight.uniform_(0.5, 1.5)
                m.bias.normal_().mul_(0.1)
    model.eval()
    return model


def make_input(name):
    gen = torch.Generator().manual_seed(INPUT_SEED + KNOWN.index(name))
    return torch.randn(input_shape(name), generator=gen, dtype=torch.float32)

def write_atomic(path, data):
    """Writes bytes so that a reader (or an interrupted run) never sees half a file."""
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(path)),
                               prefix="." + os.path.basename(path) + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o666 & ~UMASK)   # mkstemp makes 0600; give the usual mode
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def export_atomic(model, x, path, opset, dynamic_axes=None):
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(path)),
                               prefix="." + os.path.basename(path) + ".", suffix=".tmp")
    os.close(fd)
    try:
        # As a user calls it: PyTorch's defaults for everything else (constant folding on,
        # params exported, eval-mode training flag).
        torch.onnx.export(model, x, tmp, opset_version=opset, input_names=["input"],
                          output_names=["output"], dynamic_axes=dynamic_axes)
        os.chmod(tmp, 0o666 & ~UMASK)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def f32_bytes(t):
    return t.detach().contiguous().numpy().astype("<f4", copy=False).tobytes()


def print_onnx_names(path):
    """Shows the names PyTorch gives nodes and tensors, which the importer carries into TFLite."""
    import onnx
    graph = onnx.load(path).graph
    nodes = list(graph.node)
    print(f"  names in {os.path.basename(path)}: {len(nodes)} nodes, first ones:")
    for n in nodes[:4]:
        print(f"    {n.op_type:10s} node={n.name!r} out={list(n.output)}")
    picks = [n for n in nodes if n.name.startswith("/layer1/")][-1:]
    picks += [n for n in nodes if n.op_type in ("Flatten", "Gemm")]
    for n in picks:
        print(f"    {n.op_type:10s} node={n.name!r} in={list(n.input)} out={list(n.output)}")


def load_manifest(path):
    try:
        with open(path) as f:
            return {m["name"]: m for m in json.load(f)["models"]}
    except FileNotFoundError:
        return {}


def cmd_export(args):
    names = args.models.split(",") if args.models else MODELS
    for n in names:
        if n not in KNOWN:
            raise SystemExit(f"torch_models.py: unknown model '{n}' (known: {', '.join(KNOWN)})")
    try:
        opsets = [int(o) for o in args.opsets.split(",")]
    except ValueError:
        raise SystemExit(f"torch_models.py: --opsets wants numbers like 13,17, got '{args.opsets}'")
    os.makedirs(args.outdir, exist_ok=True)
    manifest_path = os.path.join(args.outdir, "manifest.json")
    entries = load_manifest(manifest_path)
    torch.set_num_threads(args.threads)

    for name in names:
        files = {str(o): f"{name}_op{o}.onnx" for o in opsets}
        extra = {"13": "resnet18_dynbatch_op13.onnx"} if name == "resnet18" and 13 in opsets else {}
        wanted = [*files.values(), *extra.values(), f"{name}.input.f32", f"{name}.output.f32"]
        have = all(os.path.exists(os.path.join(args.outdir, f)) for f in wanted)
        old = entries.get(name)
        listed = old and all(old["files"].get(k) == v for k, v in files.items()) and all(
            old.get("dynamic_batch_files", {}).get(k) == v for k, v in extra.items())
        if have and listed and not args.force:
            print(f"{name}: up to date, skipped")
            continue

        t0 = time.monotonic()
        model = build_model(name)
        x = make_input(name)
        with torch.no_grad():
            y = model(x)
        write_atomic(os.path.join(args.outdir, f"{name}.input.f32"), f32_bytes(x))
        write_atomic(os.path.join(args.outdir, f"{name}.output.f32"), f32_bytes(y))
        print(f"{name}: built and ran in {time.monotonic() - t0:.1f}s; output {list(y.shape)} "
              f"min {y.min():.4g} max {y.max():.4g} std {y.std():.4g}"
              + (f" argmax {int(y.argmax())}" if is_classifier(name) else ""))
        # Equal logits would let an importer that drops the classifier's arithmetic pass.
        if y.std() < 1e-3 * max(1.0, float(y.abs().max())):
            raise SystemExit(f"torch_models.py: {name}'s output has no spread (std {y.std():.3g})")

        jobs = [(files[str(o)], o, None) for o in opsets]
        if extra:
            jobs.append((extra["13"], 13, {"input": {0: "batch"}, "output": {0: "batch"}}))
        for fname, opset, dyn in jobs:
            path = os.path.join(args.outdir, fname)
            if os.path.exists(path) and not args.force:
                print(f"  {fname}: exists, kept")
                continue
            t0 = time.monotonic()
            export_atomic(model, x, path, opset, dyn)
            print(f"  {fname}: exported in {time.monotonic() - t0:.1f}s, "
                  f"{os.path.getsize(path)} bytes")
            if name == "resnet18" and opset == 13 and dyn is None:
                print_onnx_names(path)

        # Keep the other opsets an earlier run wrote, so --opsets 13 does not hide a _op17 file.
        if old:
            files = {**{k: v for k, v in old["files"].items()
                        if os.path.exists(os.path.join(args.outdir, v))}, **files}
            files = dict(sorted(files.items(), key=lambda kv: int(kv[0])))
        entry = {"name": name, "files": files,
                 "input": {"name": "input", "shape": input_shape(name)},
                 "output": {"name": "output", "shape": list(y.shape)},
                 "classifier": is_classifier(name)}
        if old and not extra:
            extra = {k: v for k, v in old.get("dynamic_batch_files", {}).items()
                     if os.path.exists(os.path.join(args.outdir, v))}
        if extra:
            entry["dynamic_batch_files"] = extra
        entries[name] = entry
        # Rewritten after every model, so an interrupted run still leaves a true manifest.
        ordered = [entries[n] for n in KNOWN if n in entries]
        write_atomic(manifest_path, (json.dumps({"models": ordered}, indent=2) + "\n").encode())


def parse_shape(text):
    try:
        shape = [int(d) for d in text.split(",")]
    except ValueError:
        shape = []
    if len(shape) != 4 or min(shape) < 1:
        raise SystemExit(f"torch_models.py: --shape wants N,H,W,C, got '{text}'")
    return shape


def cmd_run(args):
    shape = parse_shape(args.shape)
    torch.set_num_threads(args.threads)
    data = np.fromfile(args.input_nhwc, dtype="<f4")
    if data.size != int(np.prod(shape)):
        raise SystemExit(f"torch_models.py: {args.input_nhwc} holds {data.size} floats, "
                         f"shape {shape} needs {int(np.prod(shape))}")
    x = torch.from_numpy(data.reshape(shape).astype(np.float32)).permute(0, 3, 1, 2).contiguous()
    model = build_model(args.model)
    with torch.no_grad():
        y = model(x)
    write_atomic(args.output, f32_bytes(y))
    print(json.dumps({"model": args.model, "output": args.output, "shape": list(y.shape)}))


def cmd_time(args):
    torch.set_num_threads(args.threads)
    model = build_model(args.model)
    x = make_input(args.model)
    times = []
    with torch.no_grad():
        for _ in range(min(3, args.iterations)):   # warm-up: allocator and first-call setup
            model(x)
        for _ in range(args.iterations):
            t0 = time.perf_counter()
            model(x)
            times.append((time.perf_counter() - t0) * 1000.0)
    times.sort()
    p90 = times[min(len(times) - 1, int(round(0.9 * (len(times) - 1))))]
    print(json.dumps({"model": args.model, "threads": args.threads,
                      "median_ms": round(statistics.median(times), 3), "p90_ms": round(p90, 3),
                      "shape": input_shape(args.model)}))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)

    e = sub.add_parser("export", help="write the ONNX models, inputs, outputs and manifest.json")
    e.add_argument("outdir")
    e.add_argument("--models", help=f"comma-separated subset of {','.join(KNOWN)} (default: {','.join(MODELS)})")
    e.add_argument("--opsets", default=",".join(map(str, OPSETS)))
    e.add_argument("--force", action="store_true", help="rewrite files that already exist")
    e.add_argument("--threads", type=int, default=DEFAULT_THREADS)
    e.set_defaults(func=cmd_export)

    r = sub.add_parser("run", help="run a seeded model on a raw float32 NHWC input")
    r.add_argument("model", choices=MODELS)
    r.add_argument("--input-nhwc", required=True)
    r.add_argument("--shape", required=True, help="N,H,W,C of the input file")
    r.add_argument("-o", "--output", required=True)
    r.add_argument("--threads", type=int, default=DEFAULT_THREADS)
    r.set_defaults(func=cmd_run)

    t = sub.add_parser("time", help="PyTorch CPU latency of a seeded model")
    t.add_argument("model", choices=MODELS)
    t.add_argument("--threads", type=int, default=1)
    t.add_argument("--iterations", type=int, default=20)
    t.set_defaults(func=cmd_time)

    args = p.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()
