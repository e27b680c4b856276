"""The statistics picture on the organisers' card: bars of places per session and per organisation, as a PNG.

A picture rather than Teams' Chart.* card elements: those are Teams' own (the Adaptive Cards schema and the
Agents Playground don't know them) and no Microsoft page says phones draw them, while an image is drawn by
every client. It travels inside the card as a data URI, so no address of ours has to be reachable from
every member's tenant and nothing is kept: it is as current as the card.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL.ImageDraw import ImageDraw
    from PIL.ImageFont import FreeTypeFont

FONT = Path(__file__).parent / "fonts" / "DejaVuSans-Latin1.ttf"  # Latin-1: å, ä, ö; any host, no fonts needed
WIDTH = 440  # about as wide as a card in Teams: drawn at its own size, the text stays readable
ROW = 24
LABEL_WIDTH = 170
BAR_COLOUR = (91, 95, 199)  # Teams' brand purple, 5.5:1 on white
TEXT_COLOUR = (36, 36, 36)
BACKGROUND = (255, 255, 255)
ROWS_SHOWN = 12  # per panel, largest first for organisations: the card's text has the figures


@dataclass(frozen=True)
class Panel:
    title: str
    bars: Sequence[tuple[str, int]]  # (label, value)


def png(panels: Sequence[Panel]) -> bytes:
    """Each panel a title and a bar per row, scaled to its own largest value, the value written after it."""
    from PIL import Image, ImageDraw, ImageFont  # only when statistics are asked for: it costs memory

    font = ImageFont.truetype(str(FONT), 14)
    title_font = ImageFont.truetype(str(FONT), 16)
    shown = [(p.title, list(p.bars)[:ROWS_SHOWN]) for p in panels]
    height = 8 + sum(30 + ROW * max(len(bars), 1) + 10 for _, bars in shown)
    image = Image.new("RGB", (WIDTH, height), BACKGROUND)
    draw = ImageDraw.Draw(image)
    y = 8
    for title, bars in shown:
        draw.text((8, y), title, font=title_font, fill=TEXT_COLOUR)
        y += 30
        largest = max((value for _, value in bars), default=0) or 1
        room = WIDTH - LABEL_WIDTH - 60
        for label, value in bars:
            draw.text((8, y + 3), _fitted(draw, label, font), font=font, fill=TEXT_COLOUR)
            length = round(room * value / largest)
            if length:
                draw.rectangle((LABEL_WIDTH, y + 3, LABEL_WIDTH + length, y + ROW - 4), fill=BAR_COLOUR)
            draw.text((LABEL_WIDTH + length + 6, y + 3), str(value), font=font, fill=TEXT_COLOUR)
            y += ROW
        if not bars:
            draw.text((8, y + 3), "–", font=font, fill=TEXT_COLOUR)
            y += ROW
        y += 10
    out = io.BytesIO()
    # Few colours: a palette keeps the picture small enough for Teams' 28 KB card.
    image.quantize(colors=8).save(out, format="PNG", optimize=True)
    return out.getvalue()


def data_uri(picture: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(picture).decode("ascii")


def _fitted(draw: ImageDraw, label: str, font: FreeTypeFont) -> str:
    """The label, cut with "…" to fit left of the bars."""
    if draw.textlength(label, font=font) <= LABEL_WIDTH - 16:
        return label
    while label and draw.textlength(label + "…", font=font) > LABEL_WIDTH - 16:
        label = label[:-1]
    return label.rstrip() + "…"
