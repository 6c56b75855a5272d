"""GLOT's tensor maths, no I/O: token graphs (``graph``), backend choice (``backend``), segment operations
(``functional``), GNN layers (``conv``), the K-layer stack (``gnn``) and readouts (``readout``)."""
