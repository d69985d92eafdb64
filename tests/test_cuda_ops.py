"""The CUDA backend's kernels, storage and errors: against numpy, with transfers counted."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numba import cuda

import minitorch
from minitorch import IndexingError, SimpleBackend, Tensor, TensorData, grad_check, operators
from minitorch.cli import main
from minitorch.optim import SGD
from minitorch.tensor_functions import ToBackend
from minitorch.tensor_models import TensorMLP

from .cuda_support import CudaBackend, count_transfers, cuda_ops, on_cuda, on_device
from .tensor_strategies import broadcastable_tensors, tensors

few = settings(max_examples=5)


def cuda_tensor(values) -> Tensor:
    return minitorch.tensor(np.asarray(values, dtype=float), backend=CudaBackend)


# ---- Kernels against numpy, on any layout --------------------------------------------------------


@few
@given(t=tensors())
def test_map_applies_the_function_to_every_element_of_any_layout(t):
    out = CudaBackend.exp_map(on_cuda(t))
    assert out._tensor.is_contiguous() and on_device(out)
    np.testing.assert_allclose(out.to_numpy(), np.exp(t.to_numpy()), rtol=1e-12)


def test_map_broadcasts_into_a_given_output():
    out = minitorch.zeros((2, 4, 3), CudaBackend)
    out = CudaBackend.id_map(cuda_tensor([[1.0, 2.0, 3.0]]), out)
    np.testing.assert_array_equal(out.to_numpy(), np.broadcast_to([[1.0, 2.0, 3.0]], (2, 4, 3)))


@few
@given(ts=broadcastable_tensors())
def test_zip_broadcasts_like_numpy(ts):
    a, b = ts
    out = CudaBackend.mul_zip(on_cuda(a), on_cuda(b))
    np.testing.assert_allclose(out.to_numpy(), a.to_numpy() * b.to_numpy(), rtol=1e-12)


@few
@given(st.data())
def test_reduce_folds_any_dimension_of_any_layout(data):
    t = data.draw(tensors())
    dim = data.draw(st.integers(0, t.dims - 1))
    x, values = on_cuda(t), t.to_numpy()
    np.testing.assert_allclose(
        CudaBackend.add_reduce(x, dim).to_numpy(), values.sum(dim, keepdims=True), rtol=1e-9
    )
    np.testing.assert_allclose(
        CudaBackend.mul_reduce(x, dim).to_numpy(), values.prod(dim, keepdims=True), rtol=1e-9
    )


@pytest.mark.parametrize(
    ("shape", "dim"),
    [((2, 300), 1), ((300, 3), 0), ((5000,), 0), ((3, 2, 40), 1), ((7, 5), 1), ((1,), 0)],
)
def test_reduce_folds_rows_of_any_length_and_keeps_the_start_value(shape, dim):
    values = np.random.default_rng(0).normal(size=shape)
    x = cuda_tensor(values)
    np.testing.assert_allclose(
        CudaBackend.add_reduce(x, dim).to_numpy(), values.sum(dim, keepdims=True), rtol=1e-12
    )
    fold = cuda_ops.CudaOps.reduce(operators.add, 5.0)
    np.testing.assert_allclose(fold(x, dim).to_numpy(), values.sum(dim, keepdims=True) + 5.0)
    top = cuda_ops.CudaOps.reduce(operators.max, -1e9)(x, dim)
    np.testing.assert_array_equal(top.to_numpy(), values.max(dim, keepdims=True))


@pytest.mark.parametrize("index_bits", [32, 64])
def test_reduce_matches_numpy_with_either_index_width(monkeypatch, index_bits):
    """The 64-bit twins (for tensors past 2^31 values) run here on small tensors: every
    kernel, and the second pass over split rows, over each dimension of a permuted layout."""
    if index_bits == 64:
        monkeypatch.setattr(cuda_ops, "INDEX32_LIMIT", 0)
    seen = []
    launch = cuda_ops._launch
    monkeypatch.setattr(cuda_ops, "_launch", lambda k, g, b: seen.append(k) or launch(k, g, b))
    values = np.random.default_rng(7).normal(size=(3, 40, 5))
    x = cuda_tensor(values.transpose(2, 0, 1).copy()).permute(1, 2, 0)  # strides (40, 1, 120)
    for dim in range(3):
        np.testing.assert_allclose(
            CudaBackend.add_reduce(x, dim).to_numpy(), values.sum(dim, keepdims=True), rtol=1e-12
        )
    long_row = np.random.default_rng(8).normal(size=3000)
    total = CudaBackend.add_reduce(cuda_tensor(long_row), 0).to_numpy()[0]
    assert total == pytest.approx(long_row.sum(), rel=1e-12)
    kernels = cuda_ops.tensor_reduce(operators.add).kernels
    used = {kernels.index(k) for k in seen if k in kernels}
    assert used == ({0, 1} if index_bits == 32 else {2, 3})  # per-thread and per-warp both


def launches(monkeypatch) -> list[tuple[str, object]]:
    """Record (kernel name, grid) of every launch from now on."""
    seen = []
    launch = cuda_ops._launch

    def spy(kernel, grid, block):
        if kernel is not cuda_ops._fill:  # the start value (a memset on a GPU)
            seen.append((kernel.py_func.__name__, grid))
        return launch(kernel, grid, block)

    monkeypatch.setattr(cuda_ops, "_launch", spy)
    return seen


def plan(shape, *operands):
    """The launch plan of a strided map/zip writing a row-major `shape` from operands given as
    (shape, strides), with the default block and grid limits."""
    strides = cuda_ops._row_major(shape)
    return cuda_ops._plan(shape, strides, operands, cuda_ops.THREADS, cuda_ops.MAX_BLOCKS)


def test_a_row_shorter_than_a_warp_is_one_threads_job():
    p = plan((40, 3), ((40, 3), (1, 40)))  # a transposed operand: rows of 3
    assert (p.block, p.jobs, p.chunks, p.chunk) == ((1, 256), 40, 1, 3)
    assert p.grid == 1 and not p.wide


def test_a_long_row_is_cut_into_pieces_each_a_warps_job():
    p = plan((2, 600), ((2, 600), (1, 2)))
    assert (p.block, p.chunk, p.chunks, p.jobs) == ((32, 8), 32 * cuda_ops.ROW_CHUNK, 3, 6)
    assert plan((2, 40), ((2, 40), (1, 2))).chunk == 64  # a piece no longer than the row needs


def test_size_one_dimensions_go_and_dimensions_laid_out_as_one_merge():
    """A (C, 1, 1) bias over (N, C, H, W) images: the (H, W) plane is one row of H * W values."""
    p = plan((2, 3, 4, 5), ((3, 1, 1), (1, 1, 1)))
    assert p.shape == (2, 3, 20) and p.out_strides == (60, 20, 1) and p.strides == ((0, 1, 0),)
    p = plan((2, 1, 3), ((2, 1, 3), (3, 99, 1)))  # a size-1 dimension's stride: any
    assert p.shape == (6,) and p.strides == ((1,),)
    assert plan((1, 1), ((1,), (1,))).shape == (1,)


def test_index_math_is_32_bit_unless_a_count_or_position_needs_more():
    assert not plan((2**15, 2**15), ((2**15, 2**15), (1, 2**15))).wide  # 2^30 values
    assert plan((2**16, 2**15), ((2**16, 2**15), (1, 2**16))).wide  # 2^31 values
    assert not plan((4, 3), ((4, 3), (2**29, 1))).wide  # positions up to 3 * 2^29 + 2
    assert plan((4, 3), ((4, 3), (2**30, 1))).wide  # positions up to 3 * 2^30 + 2


ODD_LAYOUTS = [
    ((7, 33), (33,)),  # broadcast row, rows just past a warp
    ((3, 5, 31), (5, 1)),  # broadcast column, rows just short of a warp
    ((2, 3, 4, 5), (3, 1, 1)),  # merged dimensions
    ((4, 300), (4, 1)),  # long rows in pieces, broadcast along them
    ((3, 1), ()),  # a 0-dim operand
    ((0, 3), (3,)),  # empty
]


@pytest.mark.parametrize("index_bits", [32, 64])
@pytest.mark.parametrize(("shape", "other"), ODD_LAYOUTS)
def test_strided_zip_and_map_match_numpy_on_odd_layouts(monkeypatch, index_bits, shape, other):
    """Transposed, broadcast, 0-dim and empty operands, with either index width (the 64-bit
    kernels, for tensors past 2^31 values, run here on small ones)."""
    if index_bits == 64:
        monkeypatch.setattr(cuda_ops, "INDEX32_LIMIT", 0)
        cuda_ops._plan.cache_clear()
    seen = []
    launch = cuda_ops._launch
    monkeypatch.setattr(cuda_ops, "_launch", lambda k, g, b: seen.append(k) or launch(k, g, b))
    rng = np.random.default_rng(len(shape))
    values = rng.normal(size=shape[::-1]).T  # stored transposed
    x = cuda_tensor(values.T).permute(*reversed(range(len(shape))))
    y_values = rng.normal(size=other)
    y = (
        cuda_tensor(y_values.reshape(-1)).view(*other)
        if other
        else cuda_tensor(y_values.reshape(1)).view()
    )
    np.testing.assert_array_equal((x * y).to_numpy(), values * y_values)
    np.testing.assert_array_equal((-x).to_numpy(), -values)
    cuda_ops._plan.cache_clear()
    if values.size:
        wide = {
            cuda_ops.tensor_zip(operators.mul).kernels[2],
            cuda_ops.tensor_map(operators.neg).kernels[2],
        }
        assert bool(wide & set(seen)) == (index_bits == 64)


def test_a_zero_dim_tensor_reaches_the_kernels_as_one_dimension(monkeypatch):
    """An empty shape tuple compiles on the simulator but not for a GPU."""
    seen = []
    launch = cuda_ops._launch

    def spy(kernel, grid, block):
        run = launch(kernel, grid, block)

        def checked(*args):
            seen.append(args)
            return run(*args)

        return checked

    monkeypatch.setattr(cuda_ops, "_launch", spy)
    scalar = cuda_tensor([3.0]).view()
    assert scalar.shape == ()
    out = cuda_tensor([[1.0, 2.0], [3.0, 4.0]]) * scalar
    np.testing.assert_array_equal(out.to_numpy(), [[3.0, 6.0], [9.0, 12.0]])
    assert CudaBackend.neg_map(scalar).to_numpy() == -3.0
    assert seen and all(arg != () for args in seen for arg in args if isinstance(arg, tuple))


def test_a_long_row_is_split_across_warps_then_folded_by_a_second_pass(monkeypatch):
    seen = launches(monkeypatch)
    values = np.random.default_rng(2).normal(size=5000)
    total = CudaBackend.add_reduce(cuda_tensor(values), 0)
    assert [name for name, _ in seen] == ["per_warp", "per_thread"]
    assert total.to_numpy()[0] == pytest.approx(values.sum(), rel=1e-12)


@pytest.mark.parametrize("n", [9, 31, 32, 33, 63, 64, 65, 100])
def test_a_warp_folds_a_contiguous_row_of_any_length_by_shuffles(monkeypatch, n):
    """Rows that fill a warp's lanes partly, exactly, or several times over; a NaN at either
    end of the row (the first lane's value, and one only the last lanes read) wins the max."""
    seen = launches(monkeypatch)
    values = np.random.default_rng(n).normal(size=(3, n))
    values[1, 0] = values[2, -1] = np.nan
    x = cuda_tensor(values)
    total = CudaBackend.add_reduce(x, 1).to_numpy()
    top = cuda_ops.CudaOps.reduce(operators.max, -np.inf)(x, 1).to_numpy()
    assert {name for name, _ in seen} == {"per_warp"}
    np.testing.assert_allclose(total, values.sum(1, keepdims=True), rtol=1e-12)
    np.testing.assert_array_equal(top, np.max(values, 1, keepdims=True))


# (kernels at module level: the simulator swaps the `cuda` of a kernel's module globals)
@cuda.jit
def shuffle_down_5(out):
    i = cuda.grid(1)
    out[i] = cuda.shfl_down_sync(cuda_ops.FULL_MASK, i * 1.0, 5)


@cuda.jit
def shuffle_in_half_a_warp(out):
    i = cuda.grid(1)
    if i < 16:
        out[i] = cuda.shfl_down_sync(cuda_ops.FULL_MASK, 1.0, 1)


def test_the_simulated_shuffle_gives_each_lane_the_value_delta_lanes_down():
    """(On a GPU, the hardware's own shuffle: the same test.)"""
    out = cuda.device_array(64)
    shuffle_down_5[1, 64](out)
    lanes = np.arange(64) % 32
    expected = np.where(lanes + 5 < 32, np.arange(64) + 5, np.arange(64))
    np.testing.assert_array_equal(out.copy_to_host(), expected)


@pytest.mark.skipif(not cuda_ops.SIMULATED, reason="tests the simulator's emulation")
def test_the_simulated_shuffle_fails_when_a_lane_of_its_mask_skips_it(monkeypatch):
    """A shuffle inside a branch that half the warp skips is undefined on a GPU: the
    emulation names the missing lanes instead of hanging or inventing a value."""
    from . import cuda_simulator

    monkeypatch.setattr(cuda_simulator, "TIMEOUT", 0.2)
    with pytest.raises(cuda_simulator.WarpDivergenceError, match=r"lanes \[16, 17, .*31\]"):
        shuffle_in_half_a_warp[1, 32](cuda.device_array(32))


@pytest.mark.skipif(not cuda_ops.SIMULATED, reason="the simulator's fallback")
def test_a_simulator_without_shuffles_folds_contiguous_rows_a_thread_each(monkeypatch):
    from numba.cuda.simulator.kernelapi import FakeCUDAModule

    monkeypatch.delattr(FakeCUDAModule, "shfl_down_sync")
    seen = launches(monkeypatch)
    values = np.random.default_rng(5).normal(size=(2, 40))
    out = CudaBackend.add_reduce(cuda_tensor(values), 1)
    assert {name for name, _ in seen} == {"per_thread"}
    np.testing.assert_allclose(out.to_numpy(), values.sum(1, keepdims=True), rtol=1e-12)


def test_reducing_a_non_contiguous_dimension_gives_each_thread_an_output(monkeypatch):
    seen = launches(monkeypatch)
    values = np.random.default_rng(3).normal(size=(40, 6))
    out = CudaBackend.add_reduce(cuda_tensor(values), 0)  # neighbouring outputs: stride 1
    assert [name for name, _ in seen] == ["per_thread"]
    np.testing.assert_allclose(out.to_numpy(), values.sum(0, keepdims=True), rtol=1e-12)


def test_matmul_of_batched_broadcast_and_transposed_operands_spans_several_tiles():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(2, 19, 11)), rng.normal(size=(11, 13))  # not multiples of a tile
    out = cuda_tensor(a) @ cuda_tensor(b)
    np.testing.assert_allclose(out.to_numpy(), a @ b, rtol=1e-12, atol=1e-12)
    bt = cuda_tensor(b.T).permute(1, 0)  # a column-major operand
    np.testing.assert_allclose((cuda_tensor(a[0]) @ bt).to_numpy(), a[0] @ b, rtol=1e-12)


def test_matmul_with_the_gpu_tiles_matches_numpy():
    """The GPU's blocking (16 x 16 threads, 4 x 4 outputs each), run once on any device."""
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(1, 67, 5)), rng.normal(size=(1, 5, 3))
    x, y = cuda_tensor(a), cuda_tensor(b)
    out = minitorch.zeros((1, 67, 3), CudaBackend)
    cuda_ops.tensor_matrix_multiply(
        *out._tensor.tuple(), *x._tensor.tuple(), *y._tensor.tuple(), tiles=cuda_ops.GPU_TILES
    )
    np.testing.assert_allclose(out.to_numpy(), a @ b, rtol=1e-12)


def test_kernels_loop_over_sizes_beyond_their_grid(monkeypatch):
    """With a grid capped at 2 blocks of 4 threads, every element is still computed."""
    monkeypatch.setattr(cuda_ops, "MAX_BLOCKS", 2)
    monkeypatch.setattr(cuda_ops, "THREADS", 4)
    rng = np.random.default_rng(3)
    values = rng.normal(size=(5, 7))
    x = cuda_tensor(values)
    np.testing.assert_allclose((x + x.permute(1, 0).permute(1, 0)).to_numpy(), 2 * values)
    np.testing.assert_allclose(x.sum(1).to_numpy(), values.sum(1, keepdims=True))
    np.testing.assert_allclose(x.sum(0).to_numpy(), values.sum(0, keepdims=True))
    a, b = rng.normal(size=(3, 20, 2)), rng.normal(size=(2, 4))  # 3 batches, 3 row tiles
    np.testing.assert_allclose((cuda_tensor(a) @ cuda_tensor(b)).to_numpy(), a @ b)


def test_tensors_of_the_most_dimensions_storage_allows_run_through_the_kernels():
    """Index buffers hold MAX_DIMS entries, TensorData's own limit: no shape is too deep."""
    shape = (1,) * (minitorch.tensor_data.MAX_DIMS - 2) + (2, 3)
    values = np.arange(6.0).reshape(shape)
    x = cuda_tensor(values)
    order = list(range(len(shape)))
    order[-1], order[-2] = order[-2], order[-1]
    np.testing.assert_array_equal((x.permute(*order) * 2.0).to_numpy(), 2 * values.transpose(order))
    with pytest.raises(IndexingError, match="more than 32 dimensions"):
        cuda_tensor(np.zeros((1,) * 33))


def test_empty_tensors_launch_nothing_and_an_empty_inner_dimension_gives_zeros():
    x = minitorch.zeros((0, 3), CudaBackend)
    assert (x + x).shape == (0, 3) and x.sum(0).to_numpy().tolist() == [[0.0, 0.0, 0.0]]
    product = minitorch.zeros((2, 0), CudaBackend) @ x  # outputs are not zeroed before kernels
    assert product.to_numpy().tolist() == [[0.0] * 3] * 2


@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning")  # the simulator's numpy
def test_kernels_that_cannot_raise_give_ieee_values():
    out = cuda_tensor([0.0, -1.0, 1000.0])
    assert out.log().to_numpy()[0] == -np.inf and np.isnan(out.log().to_numpy()[1])
    assert out.exp().to_numpy()[2] == np.inf
    assert (1.0 / out).to_numpy()[0] == np.inf


# ---- Device-resident storage ---------------------------------------------------------------------


def test_a_training_step_copies_nothing_between_host_and_gpu():
    model = TensorMLP(3, seed=0, backend=CudaBackend)
    X = cuda_tensor([[0.1, 0.9], [0.8, 0.3], [0.5, 0.5], [0.2, 0.1]])
    sign = cuda_tensor([[1.0], [-1.0], [1.0], [-1.0]])
    optim = SGD(model.parameters(), lr=0.5)
    with count_transfers() as forward_backward:
        optim.zero_grad()
        loss = -((model.forward(X) * sign).sigmoid().log().mean())  # python numbers included
        loss.backward()
    assert forward_backward == type(forward_backward)(0, 0)
    assert all(on_device(p.value) and on_device(p.value.grad) for p in model.parameters())
    with count_transfers() as update:
        optim.step()
    assert update == type(update)(0, 0)
    assert all(on_device(p.value) for p in model.parameters())
    with count_transfers() as read:
        loss_value = loss.item()
    assert (read.to_host, read.to_device) == (1, 0) and np.isfinite(loss_value)


def test_values_cross_only_when_made_from_or_read_by_the_host():
    values = np.arange(6.0).reshape(2, 3)
    with count_transfers() as made:
        x = cuda_tensor(values)
    assert (made.to_device, made.to_host) == (1, 0)
    with count_transfers() as read:
        np.testing.assert_array_equal(x.to_numpy(), values)
        assert x[1, 2] == 5.0
        assert "5.0000" in repr(x)
    assert (read.to_device, read.to_host) == (0, 3)


def test_the_tests_transfer_counter_sees_a_copy_it_is_not_told_about():
    x = cuda_tensor([1.0, 2.0])
    with count_transfers() as seen:
        np.asarray(CudaBackend.ops.to_host(x._tensor._storage))
        x[0] = 3.0
    assert (seen.to_host, seen.to_device) == (1, 1)


def test_zeros_are_zeros_on_the_gpu():
    z = minitorch.zeros((3, 2), CudaBackend)
    assert on_device(z) and not z.to_numpy().any()
    assert not cuda_tensor([1.0, 2.0]).zeros((4,)).to_numpy().any()


# ---- Bad input -------------------------------------------------------------------------------


def test_mixed_operands_compute_on_the_first_ones_device_with_one_copy():
    values = np.array([[1.0, 2.0], [3.0, 4.0]])
    gpu, cpu = cuda_tensor(values), minitorch.tensor(values)
    with count_transfers() as seen:
        on_gpu = gpu + cpu
    assert on_device(on_gpu) and (seen.to_device, seen.to_host) == (1, 0)
    with count_transfers() as seen:
        on_cpu = cpu * gpu
    assert isinstance(on_cpu._tensor._storage, np.ndarray) and on_cpu.backend == SimpleBackend
    assert (seen.to_device, seen.to_host) == (0, 1)
    np.testing.assert_array_equal(on_gpu.to_numpy(), 2 * values)
    np.testing.assert_array_equal(on_cpu.to_numpy(), values * values)
    np.testing.assert_array_equal((gpu @ cpu).to_numpy(), values @ values)
    np.testing.assert_array_equal((cpu @ gpu).to_numpy(), values @ values)


def test_backends_say_their_device_and_keep_the_course_flag():
    assert (CudaBackend.device, CudaBackend.cuda) == ("cuda", True)
    assert (SimpleBackend.device, SimpleBackend.cuda) == ("host", False)
    assert minitorch.FastBackend.device == "host"


@pytest.mark.parametrize("first_on_gpu", [True, False])
def test_an_operand_from_the_other_device_moves_by_one_autodiff_operation(first_on_gpu):
    values = np.array([[1.0, 2.0], [3.0, 4.0]])
    gpu = cuda_tensor(values).requires_grad_(True)
    cpu = minitorch.tensor(values.T.copy(), requires_grad=True)
    first, second = (gpu, cpu) if first_on_gpu else (cpu, gpu)
    out = first @ second
    moved = out.history.inputs[1]
    assert moved.history.last_fn is ToBackend and moved.history.inputs == (second,)
    assert on_device(moved) == first_on_gpu == on_device(out)
    out.sum().backward()
    assert on_device(gpu.grad) and not on_device(cpu.grad)
    ones = np.ones((2, 2))
    a, b = (values, values.T) if first_on_gpu else (values.T, values)
    grads = (ones @ b.T, a.T @ ones)
    gpu_grad, cpu_grad = grads if first_on_gpu else grads[::-1]
    np.testing.assert_allclose(gpu.grad.to_numpy(), gpu_grad)
    np.testing.assert_allclose(cpu.grad.to_numpy(), cpu_grad)


def test_the_course_scripts_compare_gpu_outputs_with_cpu_labels():
    """run_fast_tensor.py: `((out.detach() > 0.5) == y2).sum()` with y2 on the default backend."""
    out = cuda_tensor([0.9, 0.2, 0.7])
    labels = minitorch.tensor([1.0, 1.0, 1.0])
    assert ((out.detach() > 0.5) == labels).sum()[0] == 2.0


def test_gradients_reach_each_operand_on_its_own_device():
    x = cuda_tensor([1.0, 2.0]).requires_grad_(True)
    y = minitorch.tensor([[3.0], [4.0]], requires_grad=True)  # broadcast, on the CPU
    (x * y).sum().backward()
    assert on_device(x.grad) and isinstance(y.grad._tensor._storage, np.ndarray)
    np.testing.assert_array_equal(x.grad.to_numpy(), [7.0, 7.0])
    np.testing.assert_array_equal(y.grad.to_numpy(), [[3.0], [3.0]])


def test_a_tensor_built_on_host_data_is_copied_to_the_gpu_for_each_use():
    """The course's tests build `Tensor(TensorData(...), backend=GPUBackend)` directly."""
    host_backed = Tensor(TensorData(np.arange(3.0), (3,)), backend=CudaBackend)
    x = cuda_tensor([1.0, 1.0, 1.0])
    with count_transfers() as seen:
        out = host_backed + x
    assert (seen.to_device, seen.to_host) == (1, 0) and on_device(out)
    assert out.to_numpy().tolist() == [1.0, 2.0, 3.0]
    grad_check(lambda a: (a * a).sum(0), host_backed)


def test_a_gpu_kernel_refuses_to_write_into_host_storage():
    host_out = Tensor(TensorData(np.zeros(2), (2,)), backend=CudaBackend)
    with pytest.raises(TypeError, match="cannot write into host storage"):
        CudaBackend.id_map(cuda_tensor([1.0, 2.0]), host_out)


def test_cpu_tensors_keep_numpy_storage():
    x = minitorch.tensor([1.0, 2.0], backend=SimpleBackend)
    assert isinstance((x + x)._tensor._storage, np.ndarray)


# ---- The course's practice exercises -----------------------------------------------------------


@pytest.mark.parametrize("size", [1, 16, 32, 48, 64, 100])
def test_sum_practice_sums_blocks_of_32(size):
    values = np.random.default_rng(size).random(size)
    out = minitorch.sum_practice(cuda_tensor(values))
    padded = np.zeros(-(-size // 32) * 32)
    padded[:size] = values
    np.testing.assert_allclose(out._storage, padded.reshape(-1, 32).sum(1), rtol=1e-12)
    assert out._storage[0] + (out._storage[1] if size > 32 else 0.0) == pytest.approx(
        values[:64].sum()
    )


def test_sum_practice_takes_a_cpu_tensor_too_and_refuses_2d():
    assert minitorch.sum_practice(minitorch.tensor([1.0, 2.0, 3.0]))._storage[0] == 6.0
    with pytest.raises(IndexingError, match=r"1-D tensor, got shape \(2, 2\)"):
        minitorch.sum_practice(minitorch.tensor([[1.0, 2.0], [3.0, 4.0]]))


@pytest.mark.parametrize("size", [1, 2, 5, 32])
def test_mm_practice_multiplies_square_matrices_in_one_block(size):
    rng = np.random.default_rng(size)
    a, b = rng.random((size, size)), rng.random((size, size))
    out = minitorch.mm_practice(cuda_tensor(a), cuda_tensor(b))
    assert out.shape == (size, size)
    np.testing.assert_allclose(np.asarray(out._storage).reshape(size, size), a @ b, rtol=1e-12)


def test_mm_practice_reads_a_transposed_operand():
    a = np.arange(9.0).reshape(3, 3)
    out = minitorch.mm_practice(cuda_tensor(a).permute(1, 0), cuda_tensor(np.eye(3)))
    np.testing.assert_array_equal(np.asarray(out._storage).reshape(3, 3), a.T)


@pytest.mark.parametrize("shapes", [((33, 33), (33, 33)), ((2, 3), (3, 2)), ((2, 2), (3, 3))])
def test_mm_practice_refuses_what_one_block_cannot_hold(shapes):
    a, b = (minitorch.zeros(s, CudaBackend) for s in shapes)
    with pytest.raises(IndexingError, match="square matrices"):
        minitorch.mm_practice(a, b)


# ---- The command line and the course's scripts -----------------------------------------------


def test_the_course_scripts_gpu_backend_works_here():
    """`if numba.cuda.is_available(): minitorch.TensorBackend(minitorch.CudaOps)`."""
    import numba.cuda

    assert numba.cuda.is_available()
    backend = minitorch.TensorBackend(minitorch.CudaOps)
    x = minitorch.rand((2, 3), backend=backend, requires_grad=True)
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.to_numpy(), 2 * x.to_numpy())


def test_train_runs_on_the_cuda_backend(tmp_path, capsys):
    rc = main(
        [
            "train",
            "--backend",
            "cuda",
            "--dataset",
            "Simple",
            "--hidden",
            "2",
            "--epochs",
            "2",
            "--points",
            "4",
            "--out",
            str(tmp_path),
            "--quiet",
            "--no-plots",
        ]
    )
    assert rc == 0 and (tmp_path / "metrics.json").exists()


def test_train_without_a_gpu_says_how_to_get_one_in_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(cuda_ops.cuda, "is_available", lambda: False)
    rc = main(["train", "--backend", "cuda", "--out", str(tmp_path), "--quiet", "--no-plots"])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and "\n" not in err
    assert "NVIDIA GPU" in err and "NUMBA_ENABLE_CUDASIM=1" in err and "Traceback" not in err
