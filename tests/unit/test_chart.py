"""The statistics picture: bars in proportion to their figures, every label readable, small enough for a card."""

from __future__ import annotations

import base64
import io

from PIL import Image

from bot.chart import BAR_COLOUR, LABEL_WIDTH, ROW, ROWS_SHOWN, WIDTH, Panel, data_uri, png


def _near(pixel: object, colour: tuple[int, int, int]) -> bool:
    """The palette the picture is saved in moves a colour a little."""
    assert isinstance(pixel, tuple)
    return sum(abs(int(a) - b) for a, b in zip(pixel, colour, strict=True)) < 40


def _bar_lengths(picture: bytes) -> list[int]:
    """The length of each bar, top to bottom: runs of the bar colour along the rows of the picture."""
    image = Image.open(io.BytesIO(picture)).convert("RGB")
    lengths: list[int] = []
    y = 0
    while y < image.height:
        run = sum(1 for x in range(LABEL_WIDTH, image.width) if _near(image.getpixel((x, y)), BAR_COLOUR))
        if run:
            lengths.append(run)
            y += ROW - 1  # past this bar, to the top of the next
        y += 1
    return lengths


def test_bars_are_in_proportion_to_their_figures_per_panel() -> None:
    picture = png(
        [
            Panel("Anmälda per lärträff", [("Lärträff 1, 18 dec", 20), ("Lärträff 2, 15 jan", 10)]),
            Panel(
                "Anmälda platser per organisation", [("Övertorneå kommun", 4), ("Älvsbyns kommun", 1), ("Arjeplog", 0)]
            ),
        ]
    )
    image = Image.open(io.BytesIO(picture))
    assert image.format == "PNG"
    assert image.width == WIDTH
    first, second, third, fourth = _bar_lengths(picture)  # a figure of 0 draws no bar
    assert first == third, "each panel is scaled to its own largest figure"
    assert abs(second - first / 2) <= 1
    assert abs(fourth - first / 4) <= 1


def test_long_lists_are_cut_and_an_empty_panel_still_draws() -> None:
    many = [(f"Kommun {n}", 100 - n) for n in range(40)]
    assert len(_bar_lengths(png([Panel("Per organisation", many)]))) == ROWS_SHOWN
    assert _bar_lengths(png([Panel("Inga", [])])) == []


def test_the_picture_travels_in_the_card_as_a_data_uri() -> None:
    picture = png([Panel("Per organisation", [("Ö" * 300, 9_999)] * ROWS_SHOWN)] * 2)
    uri = data_uri(picture)
    assert uri.startswith("data:image/png;base64,")
    assert base64.b64decode(uri.split(",", 1)[1]) == picture
    assert len(uri) < 12_000, "room left in Teams' 28 KB for the figures in words"
