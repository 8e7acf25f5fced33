"""QR posters (A4, PDF and SVG) and slip sheets (8 per A4) that invite clients to a survey link.

The QR code comes from segno and is drawn as vector runs, so it prints sharp at any size.
Text is set with fpdf2 and HarfBuzz (uharfbuzz): Arabic, Farsi and Pashto are shaped and
run right to left. Fonts are Debian's Noto (package fonts-noto-core).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator, Sequence
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape, quoteattr

import msgspec
import segno

from survey.i18n import N_, html_lang, text_direction, translations

if TYPE_CHECKING:
    from fpdf import FPDF

FONT_DIR = Path(os.environ.get("RESONANZ_FONT_DIR", "/usr/share/fonts/truetype/noto"))
FONTS = {
    "latin": ("NotoSans-Regular.ttf", "NotoSans-Bold.ttf"),
    "arabic": ("NotoNaskhArabic-Regular.ttf", "NotoNaskhArabic-Bold.ttf"),
}
HARFBUZZ_LANGUAGE = {"ar": "ara", "fa": "fas", "ps": "pus"}
INVITATION = N_("How was your counseling? Tell us.")
PROMISE = N_("Anonymous · no login · about one minute")
SCAN = N_("Scan the code with your phone's camera, or type the address.")
CODE_LINE = N_("Code: %(code)s")
DEFAULT_LANGUAGES = ("de", "en", "uk", "ar", "tr", "ru")
"""Poster languages when an office has not chosen its own."""
MAX_POSTER_LANGUAGES = 8
A4 = (210.0, 297.0)
EPOCH = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
INK = (27, 31, 35)
MUTED = (74, 85, 96)


class MissingFonts(RuntimeError):
    """The Noto fonts are not installed (Debian: apt-get install fonts-noto-core)."""


class PosterText(msgspec.Struct, frozen=True):
    locale: str
    direction: str
    invitation: str
    promise: str
    scan: str


class Poster(msgspec.Struct, frozen=True):
    url: str
    organization: str
    office: str
    texts: list[PosterText]


def poster_texts(locales: Sequence[str]) -> list[PosterText]:
    texts = []
    for locale in locales[:MAX_POSTER_LANGUAGES]:
        gettext = translations(locale).gettext
        texts.append(
            PosterText(
                locale=locale,
                direction=text_direction(locale),
                invitation=gettext(INVITATION),
                promise=gettext(PROMISE),
                scan=gettext(SCAN),
            )
        )
    return texts


def printed_url(url: str) -> str:
    """The address as people type it: without https:// (browsers add it), else in full."""
    return url.removeprefix("https://")


# ---- PDF -----------------------------------------------------------------------------------


def _script(locale: str) -> str:
    return "arabic" if locale in HARFBUZZ_LANGUAGE else "latin"


@cache
def _font_files() -> dict[str, tuple[Path, Path]]:
    files = {k: (FONT_DIR / r, FONT_DIR / b) for k, (r, b) in FONTS.items()}
    missing = [str(p) for pair in files.values() for p in pair if not p.is_file()]
    if missing:
        raise MissingFonts(
            "the Noto fonts are missing (Debian: apt-get install fonts-noto-core): "
            + ", ".join(missing)
        )
    return files


def _new_pdf(title: str) -> FPDF:
    from fpdf import FPDF  # imported when a poster is made: 0.4–0.7 s every process paid

    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.set_auto_page_break(False)
    pdf.set_margins(0, 0, 0)
    pdf.set_title(title)
    pdf.set_creator("Resonanz")
    pdf.set_creation_date(EPOCH)  # the same link gives the same bytes
    for name, (regular, bold) in _font_files().items():
        pdf.add_font(name, "", str(regular))
        pdf.add_font(name, "B", str(bold))
    pdf.set_fallback_fonts(["latin"])  # digits, "IP" or a URL inside Arabic text
    return pdf


def _use(pdf: FPDF, locale: str, size: float, bold: bool = False) -> None:
    """Font and shaping for one language: HarfBuzz with the script's direction."""
    script = _script(locale)
    pdf.set_font(script, "B" if bold else "", size)
    if script == "arabic":
        pdf.set_text_shaping(
            True, direction="rtl", script="arab", language=HARFBUZZ_LANGUAGE[locale]
        )
    else:
        pdf.set_text_shaping(True, direction="ltr")


def _qr_runs(url: str) -> tuple[int, list[tuple[int, int, int]]]:
    """The QR code's size in modules (with its quiet zone) and its dark runs (row, col, len)."""
    qr = segno.make(url, error="m", micro=False)
    matrix = [list(row) for row in qr.matrix_iter(scale=1, border=4)]
    runs = []
    for y, row in enumerate(matrix):
        x = 0
        while x < len(row):
            if row[x]:
                start = x
                while x < len(row) and row[x]:
                    x += 1
                runs.append((y, start, x - start))
            else:
                x += 1
    return len(matrix), runs


def _draw_qr(pdf: FPDF, url: str, x: float, y: float, size: float) -> None:
    modules, runs = _qr_runs(url)
    unit = size / modules
    pdf.set_fill_color(0, 0, 0)
    for row, col, length in runs:
        # a hair wider than the module, so that no white seam shows between runs
        pdf.rect(x + col * unit, y + row * unit, length * unit, unit * 1.02, style="F")


def _centered(
    pdf: FPDF, locale: str, text: str, y: float, size: float, width: float, x: float = 0.0,
    bold: bool = False, color: tuple[int, int, int] = INK,
) -> float:  # fmt: skip
    """Text centred in a column, wrapped; returns the y below it."""
    _use(pdf, locale, size, bold)
    pdf.set_text_color(*color)
    pdf.set_xy(x, y)
    line = size * 0.45
    pdf.multi_cell(width, line, text, align="C", new_x="LMARGIN", new_y="NEXT")
    return pdf.get_y()


def poster_pdf(poster: Poster) -> bytes:
    pdf = _new_pdf("Resonanz – " + poster.office)
    pdf.add_page()
    width, height = A4
    margin = 18.0
    column = width - 2 * margin
    first, *others = poster.texts
    y = _centered(
        pdf, "de", f"{poster.organization} · {poster.office}", 14, 10, column, margin,
        color=MUTED,
    )  # fmt: skip
    y = _centered(pdf, first.locale, first.invitation, y + 6, 30, column, margin, bold=True)
    size = 17 if len(others) <= 4 else 14
    for text in others:
        y = _centered(pdf, text.locale, text.invitation, y + 2.5, size, column, margin, bold=True)
    qr_size = min(100.0, max(48.0, height - y - 90))
    _draw_qr(pdf, poster.url, (width - qr_size) / 2, y + 7, qr_size)
    y += 7 + qr_size + 1
    pdf.set_text_shaping(False)
    pdf.set_font("latin", "B", 15)
    pdf.set_text_color(*INK)
    pdf.set_xy(margin, y)
    pdf.cell(column, 8, printed_url(poster.url), align="C")
    y += 12
    y = _centered(pdf, first.locale, first.scan, y, 11, column, margin, color=MUTED) + 3
    for text in poster.texts:
        y = _centered(pdf, text.locale, text.promise, y + 1.2, 13, column, margin)
    return bytes(pdf.output())


def slips_pdf(poster: Poster, codes: Sequence[str] | None = None) -> bytes:
    """A sheet of 8 slips (2 × 4, 105 × 74 mm) with dashed cutting lines; with `codes`, one
    page of 8 per 8 codes, each slip with its own code in its QR and printed."""
    pdf = _new_pdf("Resonanz – " + poster.office)
    width, height = A4
    cols, rows = 2, 4
    slip_w, slip_h = width / cols, height / rows
    pages: list[list[str | None]] = (
        [list(codes[i : i + 8]) for i in range(0, len(codes), 8)] if codes else [[None] * 8]
    )
    texts = poster.texts[:2]
    for page_codes in pages:
        pdf.add_page()
        pdf.set_draw_color(*MUTED)
        pdf.set_line_width(0.2)
        pdf.set_dash_pattern(dash=2, gap=2)
        for c in range(1, cols):
            pdf.line(c * slip_w, 0, c * slip_w, height)
        for r in range(1, rows):
            pdf.line(0, r * slip_h, width, r * slip_h)
        pdf.set_dash_pattern()
        for n, code in enumerate(page_codes):
            x, y = (n % cols) * slip_w, (n // cols) * slip_h
            url = poster.url if code is None else f"{poster.url}?code={code}"
            qr = 40.0
            _draw_qr(pdf, url, x + 5, y + (slip_h - qr) / 2, qr)
            tx, tw = x + 47, slip_w - 51
            ty = y + 7
            for text in texts:
                ty = _centered(pdf, text.locale, text.invitation, ty, 11, tw, tx, bold=True) + 1
            pdf.set_text_shaping(False)
            pdf.set_font("latin", "B", 8.5)
            pdf.set_text_color(*INK)
            pdf.set_xy(tx, ty + 1)
            # the address without the code: who types it types the code into the form
            pdf.multi_cell(tw, 4, printed_url(poster.url), align="C", new_x="LMARGIN", new_y="NEXT")
            ty = pdf.get_y() + 1
            if code is not None:
                line = translations(texts[0].locale).gettext(CODE_LINE) % {"code": code}
                ty = _centered(pdf, texts[0].locale, line, ty, 10, tw, tx, bold=True) + 1
            for text in texts:
                ty = _centered(pdf, text.locale, text.promise, ty, 8, tw, tx, color=MUTED)
    return bytes(pdf.output())


# ---- SVG -----------------------------------------------------------------------------------


def _svg_qr(url: str, x: float, y: float, size: float) -> str:
    modules, runs = _qr_runs(url)
    unit = size / modules
    path = "".join(f"M{col} {row}h{length}v1h-{length}z" for row, col, length in runs)
    return (
        f'<path transform="translate({x:.3f} {y:.3f}) scale({unit:.5f})" '
        f'fill="#000" shape-rendering="crispEdges" d="{path}"/>'
    )


def _svg_lines(text: str, locale: str, size: float, width: float, bold: bool) -> Iterator[str]:
    """Greedy word wrap, measured with the PDF's fonts and shaping (browsers set the SVG)."""
    pdf = _measuring_pdf()
    _use(pdf, locale, size, bold)
    line = ""
    for word in text.split():
        candidate = f"{line} {word}".strip()
        if line and pdf.get_string_width(candidate) > width:
            yield line
            line = word
        else:
            line = candidate
    if line:
        yield line


@cache
def _measuring_pdf() -> FPDF:
    pdf = _new_pdf("")
    pdf.add_page()
    return pdf


def poster_svg(poster: Poster) -> str:
    width, height = A4
    margin = 18.0
    column = width - 2 * margin
    parts: list[str] = []
    y = 14.0

    def text_block(
        text: str, locale: str, size: float, bold: bool = False, color: str = "#1b1f23"
    ) -> None:
        nonlocal y
        for line in _svg_lines(text, locale, size, column, bold):
            y += size * 0.45
            parts.append(
                f'<text x="{width / 2}" y="{y:.2f}" font-size="{size * 0.3528:.3f}" '
                f'lang={quoteattr(html_lang(locale))} direction="{text_direction(locale)}" '
                f'text-anchor="middle" fill="{color}"'
                + (' font-weight="700"' if bold else "")
                + f">{escape(line)}</text>"
            )

    first, *others = poster.texts
    text_block(f"{poster.organization} · {poster.office}", "de", 10, color="#4a5560")
    y += 6
    text_block(first.invitation, first.locale, 30, bold=True)
    size = 17 if len(others) <= 4 else 14
    for t in others:
        y += 2.5
        text_block(t.invitation, t.locale, size, bold=True)
    qr_size = min(100.0, max(48.0, height - y - 90))
    y += 7
    parts.append(_svg_qr(poster.url, (width - qr_size) / 2, y, qr_size))
    y += qr_size + 1
    text_block(printed_url(poster.url), "en", 15, bold=True)
    y += 4
    text_block(first.scan, first.locale, 11, color="#4a5560")
    y += 3
    for t in poster.texts:
        y += 1.2
        text_block(t.promise, t.locale, 13)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}mm" height="{height}mm" '
        f'viewBox="0 0 {width} {height}" '
        "font-family=\"'Noto Sans', 'Noto Naskh Arabic', 'Noto Sans Arabic', sans-serif\">"
        f'<rect width="{width}" height="{height}" fill="#fff"/>' + "".join(parts) + "</svg>\n"
    )
