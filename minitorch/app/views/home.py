"""The start page: what each page shows, with links."""

import streamlit as st

import minitorch
from minitorch.app.views import PAGES

st.title("minitorch")
st.markdown(
    "A deep learning library built from scratch to learn from. Each page below plays with "
    "one part of it, computed live by the library itself."
)
_ABOUT = {
    "Operators": "the float functions of `minitorch.operators`, their derivatives by autodiff, "
    "and central differences",
    "Modules": "a model as a tree of modules with named parameters",
    "Autodiff": "type an expression in x and y, see its graph, step through backpropagation",
    "Tensors": "storage, shape and strides; permute, view and broadcasting",
    "Training": "train the classic network on a toy data set and watch it learn",
    "Backends": "time the same operation on each tensor backend",
    "Digits": "a convolutional network reads handwritten digits: train it, see what it sees",
    "Sentiment": "a 1-D convolutional network reads sentences: type one, get its verdict",
}
for page in PAGES:
    if page.title in _ABOUT:
        st.page_link(
            str(page.path), label=f"**{page.title}**: {_ABOUT[page.title]}", icon=page.icon
        )
st.caption(
    f"{len(minitorch.__all__)} public names in `minitorch`; data sets: "
    f"{', '.join(minitorch.datasets)}."
)
