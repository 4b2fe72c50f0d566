"""sphinx-gallery hooks: give each example an output path, and show the PNGs it writes.

The examples are plain scripts a user can run (``python examples/x.py [figure.png]``):
they save their figures to the path in ``sys.argv[1]`` and close them. During the docs
build each example gets a fresh folder outside the source tree (``reset_argv``), and
:func:`png_scraper` puts every PNG that appeared there after a code block on the page,
under that block.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

_ROOT = Path(tempfile.gettempdir()) / f"leakage-docs-gallery-{os.getpid()}"
_seen: dict[str, set[str]] = {}


def _out_dir(src_file: str) -> Path:
    d = _ROOT / Path(src_file).stem
    d.mkdir(parents=True, exist_ok=True)
    return d


def reset_argv(gallery_conf, script_vars):
    """``sys.argv[1:]`` for one example: ``<fresh folder>/<example>.png``."""
    src = script_vars["src_file"]
    d = _out_dir(src)
    for f in d.iterdir():  # a rebuild starts from an empty folder
        f.unlink()
    _seen[src] = set()
    return [str(d / f"{Path(src).stem}.png")]


def png_scraper(block, block_vars, gallery_conf, **kwargs):
    """Copy the PNGs the example wrote since the last block into the gallery's images."""
    from sphinx_gallery.scrapers import figure_rst

    src = block_vars["src_file"]
    d = _out_dir(src)
    seen = _seen.setdefault(src, set())
    new = sorted(p for p in d.glob("*.png") if p.name not in seen)
    images = []
    for png, dest in zip(new, block_vars["image_path_iterator"], strict=False):
        shutil.copyfile(png, dest)
        seen.add(png.name)
        images.append(dest)
    return figure_rst(images, gallery_conf["src_dir"])
