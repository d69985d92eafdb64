"""Modules: a model's tree of modules, with each parameter's name and shape."""

import pandas as pd
import streamlit as st

import minitorch
from minitorch.app.modules_view import module_tree, parameter_rows
from minitorch.models import ScalarMLP
from minitorch.tasks.mnist.model import LeNet
from minitorch.tasks.sentiment.model import KimCNN
from minitorch.tensor_models import TensorMLP


def _models() -> dict:
    """name -> factory(hidden, seed): the models of the library and of its tasks."""
    return {
        "TensorMLP: the classic network on tensors": lambda h, s: TensorMLP(h, s),
        "ScalarMLP: the classic network, one Scalar per weight": lambda h, s: ScalarMLP(h, s),
        "LeNet: the digits network (Conv2d and Linear layers)": lambda h, s: LeNet(
            minitorch.FastBackend
        ),
        "KimCNN: the sentiment network (Conv1d layers, hidden = maps per width)": lambda h, s: (
            KimCNN(minitorch.FastBackend, feature_maps=h)
        ),
    }


st.title("Modules")
st.markdown(
    "A model is a tree of `Module`s; each holds `Parameter`s under a name. "
    "`named_parameters()` walks the tree and gives every parameter its dotted name."
)

models = _models()
left, right = st.columns([1, 2])
with left:
    choice = st.selectbox("model", list(models), key="model")
    hidden = st.slider("hidden units", 1, 32, 10, key="hidden")
    seed = st.number_input("seed", 0, 10_000, 0, key="seed")
model = models[choice](hidden, int(seed))
rows = parameter_rows(model)

with left:
    st.metric("parameters", len(rows))
    st.metric("numbers in them", sum(r["numbers"] for r in rows))
    if hasattr(model, "predict"):  # the toy-data classifiers
        st.markdown("**Try it:** the model's P(class 1) for one point")
        x1 = st.slider("x1", 0.0, 1.0, 0.3, key="x1")
        x2 = st.slider("x2", 0.0, 1.0, 0.7, key="x2")
        p = model.predict([(x1, x2)])[0]
        st.metric("P(class 1)", f"{p:.4f}")
with right:
    st.code(module_tree(model), language=None)
    st.dataframe(pd.DataFrame(rows), hide_index=True, height=260)
    with st.expander("repr(model)"):
        st.code(repr(model), language=None)
st.caption(
    f"minitorch {', '.join(n for n in ('Module', 'Parameter') if hasattr(minitorch, n))}: "
    "train() / eval() set `training` on the whole tree."
)
