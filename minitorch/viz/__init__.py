"""Pictures for learning: function plots, box diagrams, backprop frames, graph drawings and
training plots.

The core package never imports this one; it pulls in plotly and matplotlib itself.
"""

from .backprop import BACKPROP_STEPS, backprop
from .boxes import draw_boxes
from .diagram import Drawing
from .functions import FunctionFigure, plot_function, plot_function3D
from .graph import GraphDrawing, draw_graph, graph_dot
from .training import plot_decision_boundary, plot_loss

__all__ = [
    "plot_function",
    "plot_function3D",
    "draw_boxes",
    "backprop",
    "draw_graph",
    "plot_decision_boundary",
    "plot_loss",
    "BACKPROP_STEPS",
    "Drawing",
    "FunctionFigure",
    "GraphDrawing",
    "graph_dot",
]
