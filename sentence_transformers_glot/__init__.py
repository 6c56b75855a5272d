"""GLOT pooling for sentence-transformers: token graphs, GNN refinement and attention readout."""

from sentence_transformers_glot.freezing import freeze_backbone
from sentence_transformers_glot.loading import load_glot_model
from sentence_transformers_glot.pooling import GlotPooling

__all__ = ["GlotPooling", "freeze_backbone", "load_glot_model"]
__version__ = "0.1.0"
