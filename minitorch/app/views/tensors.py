"""Tensors: storage, shape and strides; permute and view; which storage cell an index reads;
broadcasting of two shapes. Everything shown is read from the real `Tensor` / `TensorData`."""

import numpy as np
import pandas as pd
import streamlit as st

import minitorch
from minitorch.app.common import parse_ints

MAX_SIZE = 64  # elements: every index still fits in one readable table


def _storage_frame(storage, highlight: int | None):
    frame = pd.DataFrame(
        [list(storage)], index=["value"], columns=[str(i) for i in range(len(storage))]
    )
    mark = "background-color: #ffd8a8; font-weight: bold"
    return frame.style.format("{:g}").apply(
        lambda col: [mark if highlight is not None and col.name == str(highlight) else ""], axis=0
    )


st.title("Tensors")
st.markdown(
    "A tensor is a flat **storage** read through a **shape** and **strides**: index "
    "`(i, j, ...)` reads storage position `i * strides[0] + j * strides[1] + ...`. "
    "Here the storage starts as 0, 1, 2, ... so each value is also where it was stored."
)


def storage_and_strides() -> None:
    c = st.columns(3)
    shape_text = c[0].text_input("shape", "2, 3, 4", key="shape")
    order_text = c[1].text_input("permute order (empty: none)", "", key="order")
    view_text = c[2].text_input("then view as (empty: none)", "", key="view")
    make_contiguous = st.checkbox("call .contiguous() before view", key="contiguous")
    try:
        shape = parse_ints(shape_text, "shape", limit=4)
        size = int(np.prod(shape))
        if not 0 < size <= MAX_SIZE:
            raise ValueError(f"shape {shape} has {size} elements; use 1 to {MAX_SIZE}")
        t = minitorch.tensor([float(i) for i in range(size)]).view(*shape)
        steps = [f"minitorch.tensor(range({size})).view{shape}"]
        order = parse_ints(order_text, "permute order", allow_empty=True, limit=4)
        if order:
            t = t.permute(*order)
            steps.append(f".permute{order}")
        view = parse_ints(view_text, "view shape", allow_empty=True, limit=4)
        if view:
            if make_contiguous:
                t = t.contiguous()
                steps.append(".contiguous()")
            t = t.view(*view)
            steps.append(f".view{view}")
    except (ValueError, minitorch.IndexingError) as err:
        st.error(f"{type(err).__name__}: {err}")
        return

    data = t._tensor
    st.code("t = " + "".join(steps), language="python")
    m = st.columns(4)
    m[0].metric("shape", str(t.shape))
    m[1].metric("strides", str(data.strides))
    m[2].metric("contiguous", "yes" if data.is_contiguous() else "no")
    m[3].metric("storage length", len(data._storage))

    st.markdown("**Pick an index** to see the storage cell it reads:")
    pick = st.columns(max(len(t.shape), 1))
    index = tuple(
        int(pick[d].number_input(f"index {d}", 0, t.shape[d] - 1, 0, key=f"idx{d}:{t.shape[d]}"))
        for d in range(len(t.shape))
    )
    position = data.index(index)
    terms = " + ".join(f"{i}·{s}" for i, s in zip(index, data.strides))
    st.markdown(
        f"t{list(index)} reads storage[{terms}] = storage[**{position}**] = **{t[index]:g}**"
    )
    st.dataframe(_storage_frame(data._storage, position))

    with st.expander("every index, in row-major order", expanded=False):
        rows = [
            {"index": str(i), "storage position": data.index(i), "value": data.get(i)}
            for i in data.indices()
        ]
        st.dataframe(pd.DataFrame(rows), hide_index=True)
    with st.expander("t.to_string()"):
        st.code(data.to_string(), language=None)


def broadcasting() -> None:
    st.markdown(
        "Two shapes line up on their **last** dimension; missing leading dimensions "
        "count as 1, and a size 1 stretches to match. `minitorch.shape_broadcast` "
        "gives the result; `broadcast_index` maps each output index back."
    )
    c = st.columns(2)
    a_text = c[0].text_input("shape of a", "3, 1", key="a")
    b_text = c[1].text_input("shape of b", "2, 1, 4", key="b")
    try:
        a_shape = parse_ints(a_text, "shape of a", limit=4)
        b_shape = parse_ints(b_text, "shape of b", limit=4)
        out_shape = minitorch.shape_broadcast(a_shape, b_shape)
    except (ValueError, minitorch.IndexingError) as err:
        st.error(f"{type(err).__name__}: {err}")
        return
    width = len(out_shape)
    lines = [
        f"{name:>4}: {'   ' * (width - len(s))}{' '.join(f'{n:>2}' for n in s)}"
        for name, s in (("a", a_shape), ("b", b_shape), ("a+b", out_shape))
    ]
    st.code("\n".join(lines), language=None)
    st.success(f"a + b has shape {out_shape}")
    size = int(np.prod(out_shape))
    if size <= MAX_SIZE:
        rows = []
        a_index, b_index = np.zeros(len(a_shape), np.int32), np.zeros(len(b_shape), np.int32)
        out = minitorch.zeros(out_shape)._tensor
        for big in out.indices():
            minitorch.broadcast_index(
                np.array(big, np.int32),
                np.array(out_shape, np.int32),
                np.array(a_shape, np.int32),
                a_index,
            )
            minitorch.broadcast_index(
                np.array(big, np.int32),
                np.array(out_shape, np.int32),
                np.array(b_shape, np.int32),
                b_index,
            )
            rows.append(
                {
                    "out index": str(big),
                    "reads a at": str(tuple(a_index.tolist())),
                    "reads b at": str(tuple(b_index.tolist())),
                }
            )
        st.dataframe(pd.DataFrame(rows), hide_index=True)
    else:
        st.info(f"{size} output elements: too many to list (at most {MAX_SIZE}).")


build, broadcast = st.tabs(["Storage and strides", "Broadcasting"])
with build:
    storage_and_strides()
with broadcast:
    broadcasting()
