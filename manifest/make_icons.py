"""Draws the app icons (run once after changing the design; the PNGs are committed).

    uv run python manifest/make_icons.py

color.png: 192×192, full colour. outline.png: 32×32, white on transparent, as Teams requires.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

HERE = Path(__file__).resolve().parent
ACCENT = (30, 90, 140, 255)  # the manifest's accentColor, #1E5A8C
WHITE = (255, 255, 255, 255)


def _calendar(draw: ImageDraw.ImageDraw, size: int, colour: tuple[int, int, int, int], margin: float) -> None:
    """A calendar page with a tick: a session you are registered for."""
    s = size
    m = round(s * margin)
    w = max(1, round(s * 0.07))
    draw.rounded_rectangle((m, m + s * 0.08, s - m, s - m), radius=round(s * 0.08), outline=colour, width=w)
    draw.line((m, m + s * 0.28, s - m, m + s * 0.28), fill=colour, width=w)
    for x in (0.35, 0.65):
        draw.line((s * x, m, s * x, m + s * 0.16), fill=colour, width=w)
    draw.line([(s * 0.34, s * 0.62), (s * 0.46, s * 0.74), (s * 0.68, s * 0.50)], fill=colour, width=w, joint="curve")


def color_icon() -> Image.Image:
    image = Image.new("RGBA", (192, 192), ACCENT)
    _calendar(ImageDraw.Draw(image), 192, WHITE, margin=0.2)
    return image


def outline_icon() -> Image.Image:
    image = Image.new("RGBA", (32, 32), (0, 0, 0, 0))
    _calendar(ImageDraw.Draw(image), 32, WHITE, margin=0.06)
    # Teams wants pure white on transparent: no grey edges.
    alpha = image.getchannel("A").point(lambda a: 255 if a >= 128 else 0)
    white = Image.new("L", image.size, 255)
    return Image.merge("RGBA", (white, white, white, alpha))


if __name__ == "__main__":
    color_icon().save(HERE / "color.png", optimize=True)
    outline_icon().save(HERE / "outline.png", optimize=True)
    print("wrote color.png and outline.png")
