"""The app's plotly charts as static SVG images for a pack, drawn by kaleido in headless Chromium.

One browser draws every chart of a pack in turn: starting it takes about a second, each chart a
tenth of one. MathJax is not loaded (the charts use none, and it cannot be fetched offline).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

import plotly.graph_objects as go

from digest.pack.content import PackError

WIDTH, HEIGHT = 960, 420


def svg_images(
    figures: Sequence[go.Figure], progress: Callable[[int, int], None] | None = None
) -> list[bytes]:
    """Each figure drawn as SVG, in order; ``progress(done, total)`` is told after each."""
    if not figures:
        return []
    try:
        import kaleido
    except ImportError:  # pragma: no cover - kaleido is a dependency
        raise PackError("Charts need the kaleido package: pip install kaleido.") from None

    async def draw() -> list[bytes]:
        drawn = []
        async with kaleido.Kaleido(n=1, mathjax=False) as browser:
            for figure in figures:
                image = await browser.calc_fig(
                    figure, opts={"format": "svg", "width": WIDTH, "height": HEIGHT}
                )
                drawn.append(bytes(image))
                if progress is not None:
                    progress(len(drawn), len(figures))
        return drawn

    try:
        return asyncio.run(draw())
    except PackError:
        raise
    except Exception as error:  # kaleido reports a missing or failing browser in many ways
        raise PackError(
            "The charts could not be drawn: PQA Digest draws them with Chromium (Debian: "
            f"apt-get install chromium). The browser said: {str(error)[:200]}"
        ) from None
