#!/usr/bin/python3
"""Test-time tool: evaluates an ONNX model with PyTorch's ops, as the reference that pipecut's
ONNX -> TFLite importer is checked against (no onnxruntime here). Never used by pipecut at run time.

Needs Debian 12's python3-onnx, python3-torch and python3-numpy. Run it with /usr/bin/python3: the
python3 first on PATH may be another interpreter that does not see Debian's modules.

  onnx_reference.py MODEL.onnx --input FILE -o OUTDIR [--shape 1,3,224,224]

FILE is raw float32 in the model's (static) input shape; one symbolic dimension is inferred from
the file's size, or --shape gives them all. Writes each graph output as OUTDIR/<name>.f32 (raw
float32; '/' and other unsafe characters in a name become '_') and OUTDIR/outputs.json with names,
files and shapes. An op it does not implement: one line on stderr and exit code 2.
"""
import argparse
import json
import os
import re
import sys
import tempfile

import numpy as np
import onnx
from onnx import numpy_helper
import torch
import torch.nn.functional as F


# Read once at start: os.umask can only be read by setting it.
UMASK = os.umask(0o022)
os.umask(UMASK)


class Unsupported(Exception):
    pass


def attrs_of(node):
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def to_tensor(array):
    # np.array(copy) because initializers may be read-only views; torch warns on those.
    return torch.from_numpy(np.array(array))


def ints(t):
    """A shape-like tensor input (Reshape's shape, Unsqueeze's axes...) as a Python list."""
    return [int(v) for v in t.reshape(-1).tolist()]


def split_pads(pads, rank):
    """ONNX pads are [x1_begin, x2_begin, ..., x1_end, x2_end]."""
    pads = list(pads) if pads else [0] * (2 * rank)
    return pads[:rank], pads[rank:]


def torch_pad_list(begins, ends):
    """F.pad wants (last_begin, last_end, ..., first_begin, first_end)."""
    out = []
    for b, e in reversed(list(zip(begins, ends))):
        out += [b, e]
    return out


def auto_pads(a, in_spatial, kernel, strides, dilations):
    """Explicit begin/end pads for auto_pad SAME_UPPER/SAME_LOWER/VALID/NOTSET."""
    mode = a.get("auto_pad", b"NOTSET")
    mode = mode.decode() if isinstance(mode, bytes) else mode
    rank = len(in_spatial)
    if mode in ("NOTSET", ""):
        return split_pads(a.get("pads"), rank)
    if mode == "VALID":
        return [0] * rank, [0] * rank
    begins, ends = [], []
    for size, k, s, d in zip(in_spatial, kernel, strides, dilations):
        out = -(-size // s)
        total = max(0, (out - 1) * s + (k - 1) * d + 1 - size)
        small, big = total // 2, total - total // 2
        begins.append(small if mode == "SAME_UPPER" else big)
        ends.append(big if mode == "SAME_UPPER" else small)
    return begins, ends


def conv_nd(rank):
    return {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}[rank]


def op_conv(node, a, x, w, b=None):
    rank = x.dim() - 2
    kernel = a.get("kernel_shape", list(w.shape[2:]))
    strides = a.get("strides", [1] * rank)
    dilations = a.get("dilations", [1] * rank)
    begins, ends = auto_pads(a, x.shape[2:], kernel, strides, dilations)
    if begins != ends:   # torch's conv pads symmetrically only; pad asymmetric cases first
        x = F.pad(x, torch_pad_list(begins, ends))
        begins = [0] * rank
    return conv_nd(rank)(x, w, b, stride=strides, padding=begins, dilation=dilations,
                         groups=a.get("group", 1))


def op_conv_transpose(node, a, x, w, b=None):
    rank = x.dim() - 2
    if rank != 2:
        raise Unsupported(f"ConvTranspose with {rank} spatial dims")
    if "output_shape" in a or a.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET"):
        raise Unsupported("ConvTranspose with output_shape or auto_pad")
    strides = a.get("strides", [1] * rank)
    dilations = a.get("dilations", [1] * rank)
    begins, ends = split_pads(a.get("pads"), rank)
    out_pad = a.get("output_padding", [0] * rank)
    # Full (unpadded) transposed conv, then crop: ONNX allows begin != end, torch does not.
    y = F.conv_transpose2d(x, w, b, stride=strides, padding=0, output_padding=out_pad,
                           groups=a.get("group", 1), dilation=dilations)
    h, wd = y.shape[2], y.shape[3]
    return y[:, :, begins[0]:h - ends[0], begins[1]:wd - ends[1]]


def pool_setup(a, x):
    rank = x.dim() - 2
    kernel = a["kernel_shape"]
    strides = a.get("strides", [1] * rank)
    dilations = a.get("dilations", [1] * rank)
    begins, ends = auto_pads(a, x.shape[2:], kernel, strides, dilations)
    return rank, kernel, strides, dilations, begins, ends


def op_max_pool(node, a, x):
    if len(node.output) > 1 and node.output[1]:
        raise Unsupported("MaxPool with an Indices output")
    rank, kernel, strides, dilations, begins, ends = pool_setup(a, x)
    if rank != 2:
        raise Unsupported(f"MaxPool with {rank} spatial dims")
    padding = begins
    if begins != ends:
        x = F.pad(x, torch_pad_list(begins, ends), value=float("-inf"))
        padding = [0] * rank
    return F.max_pool2d(x, kernel, strides, padding, dilations,
                        ceil_mode=bool(a.get("ceil_mode", 0)))


def op_average_pool(node, a, x):
    rank, kernel, strides, dilations, begins, ends = pool_setup(a, x)
    if rank != 2 or dilations != [1] * rank:
        raise Unsupported("AveragePool other than 2-D without dilations")
    include = bool(a.get("count_include_pad", 0))
    ceil = bool(a.get("ceil_mode", 0))
    if begins == ends and all(2 * p <= k for p, k in zip(begins, kernel)):
        return F.avg_pool2d(x, kernel, strides, begins, ceil_mode=ceil, count_include_pad=include)
    # Asymmetric pads: sum over the zero-padded input, divide by the window's element count.
    pad = torch_pad_list(begins, ends)
    area = kernel[0] * kernel[1]
    sums = F.avg_pool2d(F.pad(x, pad), kernel, strides, 0, ceil_mode=ceil) * area
    ones = torch.ones_like(x[:1, :1])
    counts = F.avg_pool2d(F.pad(ones, pad, value=1.0 if include else 0.0), kernel, strides, 0,
                          ceil_mode=ceil) * area
    return sums / counts


def op_batch_norm(node, a, x, scale, bias, mean, var):
    if len(node.output) > 1 and any(node.output[1:]):
        raise Unsupported("BatchNormalization in training mode")
    return F.batch_norm(x, mean, var, scale, bias, training=False, eps=a.get("epsilon", 1e-5))


def op_gemm(node, a, A, B, C=None):
    if a.get("transA", 0):
        A = A.t()
    if a.get("transB", 0):
        B = B.t()
    y = a.get("alpha", 1.0) * (A @ B)
    if C is not None:
        y = y + a.get("beta", 1.0) * C
    return y


def op_flatten(node, a, x):
    axis = a.get("axis", 1)
    axis = axis + x.dim() if axis < 0 else axis
    lead = int(np.prod(x.shape[:axis])) if axis else 1
    return x.reshape(lead, -1 if x.numel() else int(np.prod(x.shape[axis:])))


def op_reshape(node, a, x, shape):
    shape = ints(shape)
    if not a.get("allowzero", 0):   # 0 copies the input's dimension unless allowzero
        shape = [x.shape[i] if d == 0 else d for i, d in enumerate(shape)]
    return x.reshape(shape)


def op_softmax(node, a, x, opset):
    if opset >= 13:
        return torch.softmax(x, dim=a.get("axis", -1))
    # Before opset 13: coerce to 2-D at axis (default 1), softmax over the flattened tail.
    axis = a.get("axis", 1)
    axis = axis + x.dim() if axis < 0 else axis
    lead = int(np.prod(x.shape[:axis])) if axis else 1
    return torch.softmax(x.reshape(lead, -1), dim=1).reshape(x.shape)


def op_clip(node, a, x, lo=None, hi=None, opset=13):
    if opset < 11:
        lo, hi = a.get("min"), a.get("max")
    else:
        lo = None if lo is None else lo.item()
        hi = None if hi is None else hi.item()
    return torch.clamp(x, min=lo, max=hi)


def op_reduce_mean(node, a, x, axes=None, opset=13):
    axes = ints(axes) if axes is not None else a.get("axes")
    keep = bool(a.get("keepdims", 1))
    if not axes:
        if a.get("noop_with_empty_axes", 0):
            return x
        axes = list(range(x.dim()))
    return x.mean(dim=axes, keepdim=keep)


def op_squeeze(node, a, x, axes=None, opset=13):
    axes = ints(axes) if axes is not None else a.get("axes")
    if axes is None:
        axes = [i for i, d in enumerate(x.shape) if d == 1]
    axes = sorted((ax + x.dim()) % x.dim() for ax in axes)
    for ax in reversed(axes):
        if x.shape[ax] != 1:
            raise ValueError(f"Squeeze of axis {ax} of size {x.shape[ax]}")
        x = x.squeeze(ax)
    return x


def op_unsqueeze(node, a, x, axes=None, opset=13):
    axes = ints(axes) if axes is not None else a["axes"]
    out_rank = x.dim() + len(axes)
    for ax in sorted((ax + out_rank) % out_rank for ax in axes):
        x = x.unsqueeze(ax)
    return x


def op_gather(node, a, x, idx):
    axis = a.get("axis", 0)
    axis = axis + x.dim() if axis < 0 else axis
    flat = idx.reshape(-1).long()
    flat = torch.where(flat < 0, flat + x.shape[axis], flat)
    y = torch.index_select(x, axis, flat)
    return y.reshape(list(x.shape[:axis]) + list(idx.shape) + list(x.shape[axis + 1:]))


def op_shape(node, a, x):
    dims = list(x.shape)
    start, end = a.get("start", 0), a.get("end", len(dims))
    return torch.tensor(dims[start:end], dtype=torch.int64)


def op_constant(node, a):
    if "value" in a:
        return to_tensor(numpy_helper.to_array(a["value"]))
    for key, dtype in (("value_float", torch.float32), ("value_floats", torch.float32),
                       ("value_int", torch.int64), ("value_ints", torch.int64)):
        if key in a:
            return torch.tensor(a[key], dtype=dtype)
    raise Unsupported("Constant without a dense value")


def op_div(node, a, x, y):
    if not x.is_floating_point() and not y.is_floating_point():
        return torch.div(x, y, rounding_mode="trunc")   # ONNX integer Div truncates
    return x / y


def op_cast(node, a, x):
    np_type = onnx.mapping.TENSOR_TYPE_TO_NP_TYPE.get(a["to"])
    if np_type is None or np_type.kind not in "biuf":
        raise Unsupported(f"Cast to {onnx.TensorProto.DataType.Name(a['to'])}")
    return x.to(torch.from_numpy(np.zeros(0, dtype=np_type)).dtype)


def op_hard_sigmoid(node, a, x):
    return torch.clamp(a.get("alpha", 0.2) * x + a.get("beta", 0.5), 0.0, 1.0)


def op_concat(node, a, *xs):
    return torch.cat(xs, dim=a["axis"])


def op_transpose(node, a, x):
    perm = a.get("perm", list(reversed(range(x.dim()))))
    return x.permute(perm)


def op_pad(node, a, x, pads=None, value=None, axes=None, opset=13):
    mode = a.get("mode", b"constant")
    mode = mode.decode() if isinstance(mode, bytes) else mode
    if opset < 11:
        pads, value = a["pads"], a.get("value", 0.0)
    else:
        pads = ints(pads)
        value = 0.0 if value is None else value.item()
    rank = x.dim()
    axes = ints(axes) if axes is not None else list(range(rank))
    begins, ends = [0] * rank, [0] * rank
    for i, ax in enumerate(axes):
        ax = (ax + rank) % rank
        begins[ax], ends[ax] = pads[i], pads[len(axes) + i]
    if min(begins + ends) < 0:
        raise Unsupported("Pad with negative pads")
    if mode == "constant":
        return F.pad(x, torch_pad_list(begins, ends), value=value)
    # torch pads reflect/edge only on the trailing (non batch/channel) dims of a 3-5-D tensor.
    if rank < 3 or any(begins[:2] + ends[:2]):
        raise Unsupported(f"Pad mode {mode} on the batch or channel dimension")
    torch_mode = {"reflect": "reflect", "edge": "replicate"}.get(mode)
    if torch_mode is None:
        raise Unsupported(f"Pad mode {mode}")
    return F.pad(x, torch_pad_list(begins[2:], ends[2:]), mode=torch_mode)


def op_slice(node, a, x, starts=None, ends=None, axes=None, steps=None, opset=13):
    if opset < 10:
        starts, ends, axes = a["starts"], a["ends"], a.get("axes")
        steps = None
    else:
        starts, ends = ints(starts), ints(ends)
        axes = ints(axes) if axes is not None else None
        steps = ints(steps) if steps is not None else None
    axes = axes if axes is not None else list(range(len(starts)))
    steps = steps if steps is not None else [1] * len(starts)
    for start, end, ax, step in zip(starts, ends, axes, steps):
        ax = (ax + x.dim()) % x.dim()
        # ONNX clamps starts/ends as Python's slice does (INT64_MAX means "to the end").
        idx = range(*slice(start, end, step).indices(x.shape[ax]))
        x = torch.index_select(x, ax, torch.tensor(list(idx), dtype=torch.int64))
    return x


# Ops whose meaning changed with the opset get it as a keyword.
OPSET_AWARE = {"Softmax", "Clip", "ReduceMean", "Squeeze", "Unsqueeze", "Pad", "Slice"}

OPS = {
    "Add": lambda n, a, x, y: x + y,
    "Sub": lambda n, a, x, y: x - y,
    "Mul": lambda n, a, x, y: x * y,
    "Div": op_div,
    "MatMul": lambda n, a, x, y: torch.matmul(x, y),
    "Relu": lambda n, a, x: torch.relu(x),
    "Sigmoid": lambda n, a, x: torch.sigmoid(x),
    "HardSigmoid": op_hard_sigmoid,
    "HardSwish": lambda n, a, x: x * torch.clamp(x / 6.0 + 0.5, 0.0, 1.0),
    "Clip": op_clip,
    "Identity": lambda n, a, x: x,
    "Cast": op_cast,
    "Dropout": lambda n, a, x, *rest: x,   # inference: identity (a mask output is refused below)
    "Conv": op_conv,
    "ConvTranspose": op_conv_transpose,
    "BatchNormalization": op_batch_norm,
    "MaxPool": op_max_pool,
    "AveragePool": op_average_pool,
    "GlobalAveragePool": lambda n, a, x: x.mean(dim=list(range(2, x.dim())), keepdim=True),
    "Gemm": op_gemm,
    "Flatten": op_flatten,
    "Reshape": op_reshape,
    "Transpose": op_transpose,
    "Concat": op_concat,
    "Softmax": op_softmax,
    "ReduceMean": op_reduce_mean,
    "Squeeze": op_squeeze,
    "Unsqueeze": op_unsqueeze,
    "Constant": op_constant,
    "Shape": op_shape,
    "Gather": op_gather,
    "Pad": op_pad,
    "Slice": op_slice,
}


def check_supported(graph):
    for node in graph.node:
        if node.domain not in ("", "ai.onnx"):
            return f"op '{node.domain}.{node.op_type}' (node '{node.name}') is not supported"
        if node.op_type not in OPS:
            return f"op '{node.op_type}' (node '{node.name}') is not supported"
        if node.op_type == "Dropout" and len(node.output) > 1 and node.output[1]:
            return f"Dropout with a mask output (node '{node.name}') is not supported"
        for a in node.attribute:
            if a.type == onnx.AttributeProto.GRAPH:
                return f"op '{node.op_type}' with a subgraph (node '{node.name}') is not supported"
    return None


def evaluate(model, feeds):
    graph = model.graph
    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 1)
    values = {init.name: to_tensor(numpy_helper.to_array(init)) for init in graph.initializer}
    values.update(feeds)
    for node in graph.node:   # ONNX requires nodes in topological order
        # An empty name is an omitted optional input; trailing ones are dropped, inner ones
        # passed as None (Clip's min with only a max).
        names = list(node.input)
        while names and not names[-1]:
            names.pop()
        try:
            args = [values[n] if n else None for n in names]
        except KeyError as e:
            raise ValueError(f"node '{node.name}' ({node.op_type}) reads {e}, which nothing wrote")
        kwargs = {"opset": opset} if node.op_type in OPSET_AWARE else {}
        try:
            result = OPS[node.op_type](node, attrs_of(node), *args, **kwargs)
        except Unsupported:
            raise
        except Exception as e:
            raise ValueError(f"node '{node.name}' ({node.op_type}): {e}") from e
        values[node.output[0]] = result
    return [(o.name, values[o.name]) for o in graph.output]


def input_shape(value_info, file_floats, override):
    if override:
        return [int(d) for d in override.split(",")]
    dims = [d.dim_value if d.HasField("dim_value") else None
            for d in value_info.type.tensor_type.shape.dim]
    unknown = [i for i, d in enumerate(dims) if d is None]
    if len(unknown) > 1:
        raise SystemExit(f"onnx_reference.py: input '{value_info.name}' has {len(unknown)} "
                         "symbolic dimensions; give --shape")
    if unknown:
        known = int(np.prod([d for d in dims if d is not None]))
        dims[unknown[0]] = file_floats // known if known else 0
    return dims

def write_atomic(path, data):
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


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("model")
    p.add_argument("--input", required=True, help="raw float32 in the model input's shape")
    p.add_argument("-o", "--outdir", required=True)
    p.add_argument("--shape", help="the input's shape, e.g. 1,3,224,224 (default: the model's)")
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args()
    torch.set_num_threads(args.threads)

    model = onnx.load(args.model)
    problem = check_supported(model.graph)
    if problem:
        print(f"onnx_reference.py: {args.model}: {problem}", file=sys.stderr)
        sys.exit(2)

    # Old exporters list initializers among the graph inputs too; the real input is the rest.
    init_names = {i.name for i in model.graph.initializer}
    inputs = [i for i in model.graph.input if i.name not in init_names]
    if len(inputs) != 1:
        raise SystemExit(f"onnx_reference.py: {len(inputs)} graph inputs; one is supported")
    elem = inputs[0].type.tensor_type.elem_type
    if elem != onnx.TensorProto.FLOAT:
        raise SystemExit(f"onnx_reference.py: input '{inputs[0].name}' is "
                         f"{onnx.TensorProto.DataType.Name(elem)}, not FLOAT")
    data = np.fromfile(args.input, dtype="<f4")
    shape = input_shape(inputs[0], data.size, args.shape)
    if data.size != int(np.prod(shape)):
        raise SystemExit(f"onnx_reference.py: {args.input} holds {data.size} floats, input "
                         f"'{inputs[0].name}' {shape} needs {int(np.prod(shape))}")
    feeds = {inputs[0].name: torch.from_numpy(data.reshape(shape).astype(np.float32))}

    try:
        with torch.no_grad():
            outputs = evaluate(model, feeds)
    except Unsupported as e:
        print(f"onnx_reference.py: {args.model}: {e} is not supported", file=sys.stderr)
        sys.exit(2)
    except ValueError as e:
        raise SystemExit(f"onnx_reference.py: {args.model}: {e}")

    os.makedirs(args.outdir, exist_ok=True)
    listing = []
    for name, t in outputs:
        fname = re.sub(r"[^A-Za-z0-9._-]", "_", name).lstrip(".") + ".f32"
        arr = t.detach().contiguous().numpy().astype("<f4")
        write_atomic(os.path.join(args.outdir, fname), arr.tobytes())
        listing.append({"name": name, "file": fname, "shape": list(arr.shape)})
    write_atomic(os.path.join(args.outdir, "outputs.json"),
                 (json.dumps({"model": os.path.basename(args.model), "outputs": listing},
                             indent=2) + "\n").encode())
    for o in listing:
        print(f"{o['name']}: {o['shape']} -> {os.path.join(args.outdir, o['file'])}")


if __name__ == "__main__":
    main()
