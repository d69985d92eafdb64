"""The app's entry script: `streamlit run minitorch/app/main.py` (or `minitorch app`).

The sidebar lists the library's pages (one script each in `views/`, not `pages/`, which
Streamlit would also serve by itself, without this entry script) and one page per registered
task, generated from the task registry on every run (`views.pages()`).
"""

import sys
from pathlib import Path

try:
    import minitorch  # noqa: F401
except ImportError:  # `streamlit run` from a checkout that is not pip-installed
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import streamlit as st

from minitorch.app.views import pages

st.set_page_config(page_title="minitorch", page_icon=":material/school:", layout="wide")
sections: dict[str, list] = {"Library": [], "Tasks": []}
for page in pages():
    sections["Tasks" if page.task else "Library"].append(page.streamlit_page())
navigation = st.navigation(
    sections,
    expanded=True,  # every page stays listed, also beside a page's own sidebar widgets
)
navigation.run()
