import subprocess
import sys

import numpy as np

from leakage.plotting import plot_figure
from leakage.reproduce import Figure, Series


def test_plot_figure_writes_png_atomically(tmp_path):
    fig = Figure(
        "f",
        "a title " * 20,
        "x",
        "y (bits)",
        (
            Series("line", np.arange(4.0), np.arange(4.0) ** 2, "line+markers"),
            Series("dots", np.arange(4.0), np.ones(4), "markers"),
        ),
        logy=True,
        integer_x=True,
    )
    target = tmp_path / "sub" / "f.png"
    plot_figure(fig, target)
    data = target.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000
    assert [p.name for p in target.parent.iterdir()] == ["f.png"]


def test_import_leakage_does_not_load_matplotlib():
    code = "import sys, leakage; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
