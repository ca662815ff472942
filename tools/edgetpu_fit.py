#!/usr/bin/env python3
"""Fits and checks pipecut's Edge TPU estimate on ../shared/edgetpu-data (real compiler reports and
latencies). Rebuilds each row's layers from its model_kind, applies the same layout and caching rules
as src/edgetpu/, and prints the error per family and regime. A tool for developers, not run time."""
import csv, math, statistics, sys, collections

DATA = sys.argv[1] if len(sys.argv) > 1 else '../shared/edgetpu-data'
MIB = 1 << 20
CAPACITY = 8192000      # on-chip bytes for parameters when the model's input and output are small
IO_SHARE = 0.3          # share of the model's input + output bytes taken from the parameter space


def up(x, m):
    return (x + m - 1) // m * m


def layers_of(kind, value):
    """(name, kind, param_bytes_tpu, macs, out_bytes) per layer."""
    out = []
    if kind.startswith('conv3x3same_relu_in64x64x3_L'):
        L = int(kind.rsplit('L', 1)[1]); F = value; cin = 3
        for i in range(L):
            b = 9 * up(cin, 4) * up(F, 64) + 8 * up(F, 64)
            out.append(('conv', b, (64 * 64 * cin, 64 * 64 * F), 64 * 64 * 9 * cin * F, 64 * 64 * 9 * up(cin, 4) * up(F, 64)))
            cin = F
    elif kind.startswith('dense_tanh_in'):
        rest = kind[len('dense_tanh_in'):]
        i = int(rest.split('_')[0]); N = value
        if '_H' in rest:
            H = int(rest.split('_H')[1].split('_')[0])
            dims = [i] + [N] * H + [10]
        else:
            k = int(rest.split('then_')[1].split('x')[0])
            dims = [i, N] + [10] * (k + 1)
        for a, b in zip(dims, dims[1:]):
            out.append(('fc', up(a, 4) * up(b, 64), (a, b), a * b, up(a, 4) * up(b, 64)))
    return out


def cache(layers):
    io = layers[0][2][0] + layers[-1][2][1]
    cap = CAPACITY - IO_SHARE * io
    on = off = 0
    for l in layers:
        if on + l[1] <= cap:
            on += l[1]
        else:
            off += l[1]
    return on, off


def rows():
    for f in ('conv.csv', 'fc.csv'):
        for x in csv.DictReader(open(f'{DATA}/{f}')):
            yield x


def seg(x):
    ls = layers_of(x['model_kind'], int(x['value']))
    a, b = (int(v) for v in x['seg_layers'].split('-'))
    return ls[a - 1:b]


def memory_report():
    errs = collections.defaultdict(list)
    split_right = collections.Counter()
    for x in rows():
        ls = seg(x)
        on, off = cache(ls)
        if x['off_chip_mib'] == '':   # the compiler's off-chip line was not recorded
            ron = float(x['on_chip_mib']) * MIB
            errs[(x['family'], 'on-chip only')].append(abs(on - ron) / ron)
            continue
        ron, roff = float(x['on_chip_mib']) * MIB, float(x['off_chip_mib']) * MIB
        total = ron + roff
        regime = 'streamed' if roff > 0 else 'cached'
        key = (x['family'], regime)
        errs[key].append(abs(on + off - total) / total)
        split_right[key, (off > 0) == (roff > 0)] += 1
        if roff > 0:
            errs[key + ('off',)].append(abs(off - roff) / roff)
    for k, v in sorted(errs.items()):
        v.sort()
        print(k, 'n', len(v), 'median %.2f%%' % (100 * statistics.median(v)),
              'p90 %.2f%%' % (100 * v[int(0.9 * (len(v) - 1))]), 'max %.2f%%' % (100 * v[-1]))
    print(dict(split_right))




def solve(A, y, w):
    """Weighted least squares by normal equations (a handful of features: no numpy needed)."""
    n = len(A[0])
    M = [[sum(wi * a[i] * a[j] for a, wi in zip(A, w)) for j in range(n)] for i in range(n)]
    v = [sum(wi * a[i] * yi for a, yi, wi in zip(A, y, w)) for i in range(n)]
    for c in range(n):  # Gauss-Jordan with partial pivoting
        p = max(range(c, n), key=lambda r: abs(M[r][c]))
        M[c], M[p], v[c], v[p] = M[p], M[c], v[p], v[c]
        for r in range(n):
            if r != c and M[c][c]:
                f = M[r][c] / M[c][c]
                M[r] = [a - f * b for a, b in zip(M[r], M[c])]
                v[r] -= f * v[c]
    return [v[i] / M[i][i] if M[i][i] else 0.0 for i in range(n)]


def features(x):
    ls = seg(x)
    on, off_by_kind = cache_by_kind(ls)
    a, b = (int(v) for v in x['seg_layers'].split('-'))
    first_in = ls[0][2][0]
    out = ls[-1][2][1]
    conv_macs = sum(l[4] for l in ls if l[0] == 'conv') / 1e9
    fc_bytes = sum(l[1] for l in ls if l[0] == 'fc') / MIB
    streamed_conv_macs = sum(l[4] for l in ls if l[0] == 'conv' and streamed(ls, l)) / 1e9
    return [1.0, conv_macs, fc_bytes, streamed_conv_macs, (off_by_kind['conv'] + off_by_kind['fc']) / MIB,
            first_in / MIB, out / MIB, len(ls)]


def streamed(layers, layer):
    io = layers[0][2][0] + layers[-1][2][1]
    cap = CAPACITY - IO_SHARE * io
    on = 0
    for l in layers:
        fits = on + l[1] <= cap
        if fits:
            on += l[1]
        if l is layer:
            return not fits
    return False


def cache_by_kind(layers):
    io = layers[0][2][0] + layers[-1][2][1]
    cap = CAPACITY - IO_SHARE * io
    on = 0
    off = collections.Counter()
    for l in layers:
        if on + l[1] <= cap:
            on += l[1]
        else:
            off[l[0]] += l[1]
    return on, off


def latency_report():
    sel = [x for x in rows() if x['quality'] == 'ok' and x['latency_scope'] == 'model'
           and x['segments'] == '1' and x['latency_ms'] and x['latency_kind'].startswith('single_tpu')]
    A = [features(x) for x in sel]
    y = [float(x['latency_ms']) for x in sel]
    w = [1 / (v * v) for v in y]  # relative error
    coef = solve(A, y, w)
    names = ['invoke ms', 'ms per conv GMAC', 'ms per FC MiB', 'ms per streamed conv GMAC',
             'ms per streamed MiB', 'ms per input MiB', 'ms per output MiB', 'ms per layer']
    for n, c in zip(names, coef):
        print('%-26s %.4f' % (n, c))
    errs = collections.defaultdict(list)
    for x, a, t in zip(sel, A, y):
        p = sum(c * f for c, f in zip(coef, a))
        regime = 'streamed' if a[3] + a[4] > 0 else 'cached'
        errs[(x['family'], regime)].append((abs(p - t) / t, x['model_kind'], x['value'], t, p))
    for k, v in sorted(errs.items()):
        v.sort()
        e = [q[0] for q in v]
        print(k, 'n', len(v), 'median %.1f%%' % (100 * statistics.median(e)),
              'p90 %.1f%%' % (100 * e[int(0.9 * (len(e) - 1))]), 'max %.1f%%' % (100 * e[-1]), v[-1][1:])
    return coef





def pipeline_rows(coef):
    """(family, kind, batch, streams, real ms, [stage ms], boundary MiB) per 2-TPU measurement.

    Rows the data flag as outliers (sub-millisecond FC pipelines whose time jumps with the host's
    threads) are left out."""
    groups = collections.defaultdict(dict)
    for x in rows():
        if x['segments'] == '2' and x['quality'] == 'ok' and x['latency_ms'] \
                and not x['flag_latency_outlier']:
            key = (x['dataset'], x['value'], x['latency_kind'], x['latency_ms'])
            groups[key][x['segment_index']] = x
    out = []
    for key, segs in groups.items():
        if len(segs) < 2:
            continue
        stage = [sum(c * f for c, f in zip(coef, features(segs[i]))) for i in ('0', '1')]
        streams = any(float(segs[i]['off_chip_mib'] or 0) > 0 for i in ('0', '1'))
        batch = int(segs['0']['batch'] or 1)
        boundary = int(segs['0']['seg_out_bytes']) / MIB
        out.append((segs['0']['family'], key[2], batch, streams, float(key[3]), stage, boundary))
    return out


HANDOFF_MS = 0.18          # host hand-off between two TPUs, fixed part (one queue hop)
HANDOFF_MS_PER_MIB = 12.0  # and per MiB of the boundary tensors
HOST_HOP_MS = 0.18         # handing the frame in and taking the result out


def pipeline_report(coef):
    errs = collections.defaultdict(list)
    for family, kind, batch, streams, real, stage, boundary in pipeline_rows(coef):
        if kind.startswith('pipeline_stream_per_item_fresh') and batch < 10:
            continue  # one input through a fresh runner: sweeps of the same model differ by a third
        hand = HANDOFF_MS + HANDOFF_MS_PER_MIB * boundary
        latency = HOST_HOP_MS + stage[0] + hand + stage[1] + HOST_HOP_MS
        # A stage holds the hops on both its sides; the slowest sets the period.
        period = max(HOST_HOP_MS + stage[0] + hand, hand + stage[1] + HOST_HOP_MS)
        if kind == 'pipeline_one_item_latency_median':
            batch = 1
        pred = (latency + (batch - 1) * period) / batch
        key = (family, 'streamed' if streams else 'cached',
               'one input' if batch == 1 else 'stream of %d' % batch
               + (' (fresh runner)' if kind.startswith('pipeline_stream_per_item_fresh') else ''))
        errs[key].append(abs(pred - real) / real)
    for k, v in sorted(errs.items()):
        v.sort()
        print('pipeline', k, 'n', len(v), 'median %.1f%%' % (100 * statistics.median(v)),
              'p90 %.1f%%' % (100 * v[int(0.9 * (len(v) - 1))]), 'max %.1f%%' % (100 * v[-1]))


if __name__ == '__main__':
    memory_report()
    pipeline_report(latency_report())
