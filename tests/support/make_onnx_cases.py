#!/usr/bin/python3
"""Test-time tool: writes small ONNX files that pipecut import must refuse or handle, into OUTDIR.

Needs Debian's python3-onnx and python3-numpy; run it with /usr/bin/python3 (Debian's modules are
not visible to other interpreters). Files:
  unsupported_op.onnx   a Conv followed by Erf, an op pipecut does not import
  dynamic_hw.onnx       input 'x' of shape [N, 3, H, W] with H and W dynamic
  external_data.onnx    a Conv whose weights live in external_weights.bin beside it
  external_weights.bin
  conv_prelu.onnx       Conv, PRelu per channel, Pad, Slice, Split, Concat, Resize, ReduceMean,
                        Softmax over channels: ops the torchvision exports do not reach
  conv_prelu.input.f32, conv_prelu.output.f32   a seeded input and numpy's output for it (NCHW)
  hostile_*.onnx        files the ONNX checker accepts but that must be refused in one line:
                        a node without outputs, a constant of 10^12 elements, a shape whose
                        element count overflows int64, INT64_MIN / -1 folded, negative split sizes
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def save(model, path, **kwargs):
    onnx.checker.check_model(model)
    tmp = path + ".tmp"
    onnx.save_model(model, tmp, **kwargs)
    os.replace(tmp, path)


def conv_graph(x_shape, extra_nodes, out_name, out_shape, rng):
    w = numpy_helper.from_array(rng.standard_normal((4, 3, 3, 3)).astype(np.float32), "w")
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1], name="conv")]
    nodes += extra_nodes
    graph = helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, x_shape)],
        [helper.make_tensor_value_info(out_name, TensorProto.FLOAT, out_shape)], [w])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])


def conv_nchw(x, w, pad):
    n, c, h, wd = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    o = w.shape[0]
    out = np.zeros((n, o, h, wd), np.float32)
    for i in range(3):
        for j in range(3):
            patch = xp[:, :, i:i + h, j:j + wd]
            out += np.einsum("nchw,oc->nohw", patch, w[:, :, i, j])
    return out


def small_model(nodes, inits, name, out_shape=None, opsets=None):
    graph = helper.make_graph(
        nodes, "hostile", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, out_shape or [1, 4])], inits)
    return helper.make_model(graph, opset_imports=opsets or [helper.make_opsetid("", 13)])


def hostile(out):
    i64 = lambda name, values: numpy_helper.from_array(np.array(values, np.int64), name)
    relu = helper.make_node("Relu", ["x"], ["y"])
    save(small_model([relu, helper.make_node("Foo", ["x"], [], domain="custom")], [], "no_outputs",
                     opsets=[helper.make_opsetid("", 13), helper.make_opsetid("custom", 1)]),
         os.path.join(out, "hostile_no_outputs.onnx"))
    save(small_model([helper.make_node("ConstantOfShape", ["shape"], ["c"]),
                      helper.make_node("Add", ["x", "c"], ["y"])],
                     [i64("shape", [10**12])], "huge"),
         os.path.join(out, "hostile_huge_constant.onnx"))
    # Built by hand: the helper checks the element count that the hostile file gets wrong.
    overflow = TensorProto(name="w", data_type=TensorProto.FLOAT,
                           dims=[4611686018427387905, 4], raw_data=np.ones(4, np.float32).tobytes())
    save(small_model([helper.make_node("Add", ["x", "w"], ["y"])], [overflow], "overflow"),
         os.path.join(out, "hostile_overflowing_shape.onnx"))
    save(small_model([helper.make_node("Div", ["a", "b"], ["q"]),
                      helper.make_node("Reshape", ["x", "q"], ["y"])],
                     [i64("a", [-2**63]), i64("b", [-1])], "div"),
         os.path.join(out, "hostile_int64_division.onnx"))
    save(small_model([helper.make_node("Split", ["c", "sizes"], ["p", "q"], axis=0),
                      helper.make_node("Add", ["x", "q"], ["y"])],
                     [numpy_helper.from_array(np.arange(4, dtype=np.float32), "c"),
                      i64("sizes", [-1, 5])], "split"),
         os.path.join(out, "hostile_negative_split.onnx"))


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(7)

    save(conv_graph([1, 3, 8, 8], [helper.make_node("Erf", ["c"], ["y"], name="the_erf")], "y",
                    [1, 4, 8, 8], rng), os.path.join(out, "unsupported_op.onnx"))
    save(conv_graph(["N", 3, "H", "W"], [helper.make_node("Relu", ["c"], ["y"])], "y",
                    ["N", 4, "H", "W"], rng), os.path.join(out, "dynamic_hw.onnx"))
    model = conv_graph([1, 3, 8, 8], [helper.make_node("Relu", ["c"], ["y"])], "y", [1, 4, 8, 8],
                       rng)
    save(model, os.path.join(out, "external_data.onnx"), save_as_external_data=True,
         all_tensors_to_one_file=True, location="external_weights.bin", size_threshold=0)

    # A graph of the ops the exports miss, with numpy's answer.
    w = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
    slope = rng.uniform(0.05, 0.3, (4, 1, 1)).astype(np.float32)
    inits = [numpy_helper.from_array(w, "w"), numpy_helper.from_array(slope, "slope"),
             numpy_helper.from_array(np.array([0, 0, 1, 2, 0, 0, 1, 0], np.int64), "pads"),
             numpy_helper.from_array(np.array([1, 1], np.int64), "starts"),
             numpy_helper.from_array(np.array([8, 9], np.int64), "ends"),
             numpy_helper.from_array(np.array([2, 3], np.int64), "axes"),
             numpy_helper.from_array(np.array([1, 3], np.int64), "split"),
             numpy_helper.from_array(np.array([1, 1, 2, 2], np.float32), "scales"),
             numpy_helper.from_array(np.zeros((0,), np.float32), "roi")]
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1]),
        helper.make_node("PRelu", ["c", "slope"], ["p"]),
        helper.make_node("Pad", ["p", "pads"], ["pd"]),  # [1,4,10,10]
        helper.make_node("Slice", ["pd", "starts", "ends", "axes"], ["sl"]),  # [1,4,7,8]
        helper.make_node("Split", ["sl", "split"], ["s1", "s3"], axis=1),
        helper.make_node("Concat", ["s3", "s1"], ["cc"], axis=1),
        helper.make_node("Resize", ["cc", "roi", "scales"], ["up"], mode="nearest",
                         coordinate_transformation_mode="asymmetric", nearest_mode="floor"),
        helper.make_node("ReduceMean", ["up"], ["m"], axes=[2], keepdims=1),  # [1,4,1,16]
        helper.make_node("Softmax", ["m"], ["y"], axis=1),
    ]
    graph = helper.make_graph(
        nodes, "cases", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4, 1, 16])], inits)
    save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]),
         os.path.join(out, "conv_prelu.onnx"))
    x = rng.standard_normal((1, 3, 8, 8)).astype(np.float32)
    c = conv_nchw(x, w, 1)
    p = np.where(c >= 0, c, c * slope[None])
    pd = np.pad(p, ((0, 0), (0, 0), (1, 1), (2, 0)))
    sl = pd[:, :, 1:8, 1:9]
    s1, s3 = sl[:, :1], sl[:, 1:]
    cc = np.concatenate([s3, s1], axis=1)
    up = cc.repeat(2, axis=2).repeat(2, axis=3)
    m = up.mean(axis=2, keepdims=True)
    e = np.exp(m - m.max(axis=1, keepdims=True))
    y = e / e.sum(axis=1, keepdims=True)
    hostile(out)
    x.tofile(os.path.join(out, "conv_prelu.input.f32"))
    y.astype(np.float32).tofile(os.path.join(out, "conv_prelu.output.f32"))


if __name__ == "__main__":
    main()
