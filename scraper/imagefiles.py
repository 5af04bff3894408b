"""Downloaded image files: checked with Pillow, stored content-addressed.

Shared by the crawl's image pipeline and a rescue (images fetched through an
archive). No Scrapy here.
"""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

from PIL import Image as PILImage

from archive.store import ImageDownload

_EXTENSIONS = {"JPEG": ".jpg", "PNG": ".png", "GIF": ".gif", "WEBP": ".webp", "BMP": ".bmp",
               "TIFF": ".tif"}


def inspect_image(url: str, status: int, body: bytes, root: Path) -> ImageDownload:
    """Check a downloaded image and store it content-addressed under ``root``.

    The file goes to ``images/<sha256[:2]>/<sha256><ext>`` (written once: the
    same bytes from two URLs or two articles are one file). A non-200 status,
    an empty body or bytes Pillow cannot read make a failed download.
    """
    if status != 200:
        return ImageDownload(url, ok=False, http_status=status, error=f"HTTP {status}")
    if not body:
        return ImageDownload(url, ok=False, http_status=status, error="empty body")
    try:
        with PILImage.open(io.BytesIO(body)) as img:
            fmt = img.format or ""
            width, height = img.size
            mime = img.get_format_mimetype() or PILImage.MIME.get(fmt, "application/octet-stream")
    except (OSError, ValueError, PILImage.DecompressionBombError) as exc:
        return ImageDownload(url, ok=False, http_status=status,
                             error=f"not an image ({type(exc).__name__})")
    sha = hashlib.sha256(body).hexdigest()
    rel = f"images/{sha[:2]}/{sha}{_EXTENSIONS.get(fmt, '.bin')}"
    path = root / rel
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
        tmp.write_bytes(body)
        os.replace(tmp, path)
    return ImageDownload(url, ok=True, sha256=sha, size=len(body), width=width, height=height,
                         mime=mime, path=rel, http_status=status)
