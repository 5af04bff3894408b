"""Real (tiny) JPEG files for the demo portal's images.

Each file's look is derived from its name only, so the same name always
gives the same bytes. Results are kept in a bounded LRU cache.
"""

from __future__ import annotations

import hashlib
import io
from functools import lru_cache

from PIL import Image, ImageDraw

#: Size of article images; the banner is wider.
IMAGE_SIZE = (120, 80)
BANNER_SIZE = (600, 90)


@lru_cache(maxsize=512)
def jpeg_bytes(name: str, size: tuple[int, int] = IMAGE_SIZE) -> bytes:
    """A JPEG of ``size`` whose colours are derived from ``name``."""
    digest = hashlib.sha256(name.encode("utf-8")).digest()
    background = (digest[0], digest[1], digest[2])
    accent = (255 - digest[0], 255 - digest[1], 255 - digest[2])
    img = Image.new("RGB", size, background)
    draw = ImageDraw.Draw(img)
    w, h = size
    x, y = digest[3] % (w // 2), digest[4] % (h // 2)
    draw.rectangle((x, y, x + w // 3, y + h // 3), fill=accent)
    draw.line((0, h - 1 - digest[5] % h, w, digest[6] % h), fill=accent, width=3)
    out = io.BytesIO()
    img.save(out, format="JPEG", quality=70)
    return out.getvalue()
