"""The app's entry script: `streamlit run minitorch/app/main.py` (or `minitorch app`).

One sidebar entry per module of the library; each page is its own script in `views/` (not
`pages/`, which Streamlit would also serve by itself, without this entry script).
"""

import sys
from pathlib import Path

try:
    import minitorch  # noqa: F401
except ImportError:  # `streamlit run` from a checkout that is not pip-installed
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import streamlit as st

from minitorch.app.views import PAGES

st.set_page_config(page_title="minitorch", page_icon=":material/school:", layout="wide")
navigation = st.navigation(
    [
        st.Page(
            page.path, title=page.title, icon=page.icon, url_path=page.url, default=page.default
        )
        for page in PAGES
    ],
    expanded=True,  # every page stays listed, also beside a page's own sidebar widgets
)
navigation.run()
