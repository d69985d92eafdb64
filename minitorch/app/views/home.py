"""The start page: what each page shows, with links (a task's from its registry record)."""

import streamlit as st

import minitorch
from minitorch.app.views import LIBRARY_PAGES, task_pages
from minitorch.tasks.registry import task_named

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
    "Backends": "time the same operation on each tensor backend",
}
for page in LIBRARY_PAGES:
    if page.title in _ABOUT:
        st.page_link(page.streamlit_page(), label=f"**{page.title}**: {_ABOUT[page.title]}")
st.subheader("Tasks")
st.caption("Train each one here, or with `minitorch train NAME` on the command line.")
for page in task_pages():
    st.page_link(page.streamlit_page(), label=f"**{page.title}**: {task_named(page.task).help}")
st.caption(
    f"{len(minitorch.__all__)} public names in `minitorch`; data sets: "
    f"{', '.join(minitorch.datasets)}."
)
