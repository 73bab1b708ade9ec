"""A pack printed to PDF by headless Chromium, from its own HTML page (nothing else is loaded)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from digest.pack.content import PackError

_BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
TIMEOUT = 180


def chromium() -> str:
    """The browser that prints: ``DIGEST_CHROMIUM``, else the first Chromium on the path."""
    chosen = os.environ.get("DIGEST_CHROMIUM")
    if chosen:
        return chosen
    for name in _BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    raise PackError(
        "A PDF pack is printed by Chromium, which was not found: install it (Debian: apt-get "
        "install chromium) or name it in DIGEST_CHROMIUM. The HTML and Excel packs need no browser."
    )


def print_pdf(page: str) -> bytes:
    """The HTML ``page`` as a PDF document."""
    browser = chromium()
    with tempfile.TemporaryDirectory(prefix="pqa-pack-") as folder:
        source, target = Path(folder) / "pack.html", Path(folder) / "pack.pdf"
        source.write_text(page, encoding="utf-8")
        try:
            done = subprocess.run(
                [
                    browser,
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--no-first-run",
                    "--disable-sync",
                    f"--user-data-dir={Path(folder) / 'profile'}",
                    "--no-pdf-header-footer",
                    f"--print-to-pdf={target}",
                    source.as_uri(),
                ],
                capture_output=True,
                timeout=TIMEOUT,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise PackError(
                f"Chromium did not finish printing the PDF within {TIMEOUT} s; try again."
            ) from None
        if not target.exists() or target.stat().st_size == 0:
            said = done.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["nothing"]
            raise PackError(f"Chromium could not print the PDF (it said: {said[0][:200]}).")
        return target.read_bytes()
