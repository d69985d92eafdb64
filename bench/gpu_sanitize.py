"""A small workload for `compute-sanitizer` (racecheck, memcheck, synccheck): every kernel
family on odd sizes, each result checked against numpy.

    compute-sanitizer --tool racecheck python bench/gpu_sanitize.py

Also runs (slowly) on the simulator: NUMBA_ENABLE_CUDASIM=1 python bench/gpu_sanitize.py
"""

from __future__ import annotations

import numpy as np

import minitorch
from minitorch.cuda_ops import CudaBackend


def on_gpu(values: np.ndarray) -> minitorch.Tensor:
    return minitorch.tensor(values, backend=CudaBackend)


def main() -> None:
    rng = np.random.default_rng(0)
    for n in (1, 3, 257):  # reduce over each dimension, rows of odd lengths
        values = rng.standard_normal((n, 5, n))
        x = on_gpu(values)
        for dim in range(3):
            np.testing.assert_allclose(
                x.sum(dim).to_numpy(), values.sum(dim, keepdims=True), rtol=1e-9, atol=1e-9
            )
            top = minitorch.max(x, dim).to_numpy()
            np.testing.assert_array_equal(top, values.max(dim, keepdims=True))
    big = rng.standard_normal(70_000)  # a row split across warps, then a second pass
    np.testing.assert_allclose(on_gpu(big).sum().to_numpy(), [big.sum()], rtol=1e-9)
    for shape_a, shape_b in (((1, 1), (1, 1)), ((67, 33), (33, 71)), ((3, 65, 17), (17, 129))):
        a, b = rng.standard_normal(shape_a), rng.standard_normal(shape_b)
        np.testing.assert_allclose((on_gpu(a) @ on_gpu(b)).to_numpy(), a @ b, rtol=1e-9)
    a, b = rng.standard_normal((7, 9, 5)), rng.standard_normal((5, 9))
    zipped = on_gpu(a).permute(2, 1, 0) * on_gpu(b).view(5, 9, 1)  # strided zip, broadcast
    np.testing.assert_allclose(zipped.to_numpy(), a.transpose(2, 1, 0) * b[:, :, None])
    m, row = rng.standard_normal((1000, 3)), rng.standard_normal(1000)  # rows cut in pieces
    zipped = on_gpu(m).permute(1, 0) + on_gpu(row)
    np.testing.assert_array_equal(zipped.to_numpy(), m.T + row)
    image, weight = rng.standard_normal((2, 3, 9, 7)), rng.standard_normal((4, 3, 3, 2))
    out = minitorch.conv2d(on_gpu(image), on_gpu(weight))
    assert out.shape == (2, 4, 9, 7)
    practice = rng.standard_normal(100)
    sums = minitorch.sum_practice(on_gpu(practice))._storage
    np.testing.assert_allclose(sums[:3], practice[:96].reshape(3, 32).sum(1))
    m = rng.standard_normal((17, 17))
    product = minitorch.mm_practice(on_gpu(m), on_gpu(m))._storage
    np.testing.assert_allclose(np.asarray(product).reshape(17, 17), m @ m, rtol=1e-9)
    print("sanitize workload: all results match numpy")


if __name__ == "__main__":
    main()
