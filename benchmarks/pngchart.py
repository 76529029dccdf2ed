"""A tiny PNG bar chart writer (zlib + struct only): no plotting library needed.

:func:`bar_chart` draws grouped bars with value labels, horizontal reference
lines and a legend, in a built-in 5x7 pixel font (upper case, digits and a few
signs), and writes an 8-bit RGB PNG.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence
from pathlib import Path

__all__ = ["Canvas", "bar_chart"]

Color = tuple[int, int, int]

WHITE: Color = (255, 255, 255)
BLACK: Color = (0, 0, 0)
GRID: Color = (225, 225, 225)
PALETTE: tuple[Color, ...] = ((31, 119, 180), (255, 127, 14), (44, 160, 44), (148, 103, 189))

# 5x7 glyphs: seven rows of five bits (bit 4 is the leftmost pixel), as hex bytes.
_FONT: dict[str, str] = {
    " ": "00000000000000",
    "0": "0e11131519110e",
    "1": "040c040404040e",
    "2": "0e11010204081f",
    "3": "1f02040201110e",
    "4": "02060a121f0202",
    "5": "1f101e0101110e",
    "6": "0608101e11110e",
    "7": "1f010204080808",
    "8": "0e11110e11110e",
    "9": "0e11110f01020c",
    "A": "0e1111111f1111",
    "B": "1e11111e11111e",
    "C": "0e11101010110e",
    "D": "1c12111111121c",
    "E": "1f10101e10101f",
    "F": "1f10101e101010",
    "G": "0e11101711110f",
    "H": "1111111f111111",
    "I": "0e04040404040e",
    "J": "0702020202120c",
    "K": "11121418141211",
    "L": "1010101010101f",
    "M": "111b1515111111",
    "N": "11111915131111",
    "O": "0e11111111110e",
    "P": "1e11111e101010",
    "Q": "0e11111115120d",
    "R": "1e11111e141211",
    "S": "0f10100e01011e",
    "T": "1f040404040404",
    "U": "1111111111110e",
    "V": "11111111110a04",
    "W": "1111111515150a",
    "X": "11110a040a1111",
    "Y": "1111110a040404",
    "Z": "1f01020408101f",
    ".": "00000000000c0c",
    ",": "00000000000c08",
    "/": "00010204081000",
    "=": "00001f001f0000",
    "-": "0000001f000000",
    "+": "0004041f040400",
    ":": "000c0c000c0c00",
    "(": "02040808080402",
    ")": "08040202020408",
    "%": "18190204081303",
    "<": "02040810080402",
    ">": "08040201020408",
}
_GLYPHS: dict[str, bytes] = {ch: bytes.fromhex(rows) for ch, rows in _FONT.items()}


class Canvas:
    """An RGB image in memory, drawn with filled rectangles and 5x7 text."""

    def __init__(self, width: int, height: int, background: Color = WHITE) -> None:
        self.width = width
        self.height = height
        self._pixels = bytearray(bytes(background) * (width * height))

    def rect(self, x0: int, y0: int, x1: int, y1: int, color: Color) -> None:
        """Fill the rectangle ``[x0, x1) x [y0, y1)`` (clipped to the canvas)."""
        x0, x1 = max(0, min(x0, x1)), min(self.width, max(x0, x1))
        y0, y1 = max(0, min(y0, y1)), min(self.height, max(y0, y1))
        if x0 >= x1:
            return
        row = bytes(color) * (x1 - x0)
        for y in range(y0, y1):
            start = (y * self.width + x0) * 3
            self._pixels[start : start + len(row)] = row

    def hline(self, x0: int, x1: int, y: int, color: Color, dash: int = 0) -> None:
        """A one-pixel horizontal line, dashed when ``dash`` > 0."""
        if dash <= 0:
            self.rect(x0, y, x1, y + 1, color)
            return
        for x in range(x0, x1, 2 * dash):
            self.rect(x, y, min(x + dash, x1), y + 1, color)

    def text(self, x: int, y: int, s: str, color: Color = BLACK, scale: int = 2) -> int:
        """Draw ``s`` (upper-cased) with its top-left corner at (x, y); return its width."""
        cursor = x
        for ch in s.upper():
            glyph = _GLYPHS.get(ch, _GLYPHS[" "])
            for row, bits in enumerate(glyph):
                for col in range(5):
                    if bits & (0x10 >> col):
                        px, py = cursor + col * scale, y + row * scale
                        self.rect(px, py, px + scale, py + scale, color)
            cursor += 6 * scale
        return cursor - x

    @staticmethod
    def text_width(s: str, scale: int = 2) -> int:
        """Width in pixels of ``s`` drawn at ``scale``."""
        return len(s) * 6 * scale

    def png(self) -> bytes:
        """The image as PNG bytes (8-bit RGB, no interlace)."""
        stride = self.width * 3
        raw = b"".join(
            b"\x00" + bytes(self._pixels[y * stride : (y + 1) * stride]) for y in range(self.height)
        )

        def chunk(kind: bytes, data: bytes) -> bytes:
            return (
                struct.pack(">I", len(data))
                + kind
                + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
            )

        header = struct.pack(">IIBBBBB", self.width, self.height, 8, 2, 0, 0, 0)
        return (
            b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(raw, 9))
            + chunk(b"IEND", b"")
        )


def bar_chart(
    path: Path,
    *,
    title: str,
    groups: Sequence[str],
    series: Sequence[tuple[str, Sequence[float]]],
    references: Sequence[tuple[str, float]] = (),
    y_label: str = "",
    width: int = 760,
    height: int = 460,
) -> None:
    """Grouped bars (one group per label in ``groups``, one bar per series) to a PNG file.

    ``series`` is ``(name, values)`` with one value per group; ``references`` are
    ``(label, y)`` dashed horizontal lines.  The y axis starts at 0.
    """
    canvas = Canvas(width, height)
    left, right, top, bottom = 70, 20, 64, 70
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max([v for _, values in series for v in values] + [y for _, y in references] + [0.0])
    step = 0.25 if peak <= 2.0 else (0.5 if peak <= 4.0 else float(int(peak / 5) + 1))
    y_max = step * (int(peak * 1.15 / step) + 1)

    def y_of(value: float) -> int:
        return top + plot_h - round(value / y_max * plot_h)

    canvas.text(left, 14, title, scale=2)
    if y_label:
        canvas.text(left, 38, y_label, color=(90, 90, 90), scale=1)
    tick = 0.0
    while tick <= y_max + 1e-9:
        y = y_of(tick)
        canvas.hline(left, left + plot_w, y, GRID)
        label = f"{tick:.2f}"
        canvas.text(left - 8 - canvas.text_width(label, 1), y - 3, label, scale=1)
        tick += step
    canvas.rect(left, top, left + 1, top + plot_h + 1, BLACK)
    canvas.hline(left, left + plot_w, top + plot_h, BLACK)
    group_w = plot_w / max(1, len(groups))
    bar_w = int(group_w * 0.7 / max(1, len(series)))
    for g, group in enumerate(groups):
        x_start = int(left + g * group_w + group_w * 0.15)
        for s, (_, values) in enumerate(series):
            value = values[g]
            x0 = x_start + s * bar_w
            color = PALETTE[s % len(PALETTE)]
            canvas.rect(x0 + 2, y_of(value), x0 + bar_w - 2, top + plot_h, color)
            label = f"{value:.2f}"
            lx = x0 + (bar_w - canvas.text_width(label, 1)) // 2
            canvas.text(lx, y_of(value) - 12, label, scale=1)
        gx = int(left + g * group_w + (group_w - canvas.text_width(group, 2)) / 2)
        canvas.text(gx, top + plot_h + 10, group, scale=2)
    for i, (label, value) in enumerate(references):
        y = y_of(value)
        color = (200, 30, 30) if i == 0 else (120, 120, 120)
        canvas.hline(left, left + plot_w, y, color, dash=6)
        if i % 2 == 0:  # above the line at the right; the next one below it at the left
            canvas.text(left + plot_w - canvas.text_width(label, 1) - 4, y - 10, label, color, 1)
        else:
            canvas.text(left + 6, y + 4, label, color, 1)
    lx = left
    for s, (name, _) in enumerate(series):
        color = PALETTE[s % len(PALETTE)]
        canvas.rect(lx, height - 26, lx + 14, height - 12, color)
        lx += 20 + canvas.text(lx + 20, height - 26, name, scale=2) + 24
    path.write_bytes(canvas.png())
