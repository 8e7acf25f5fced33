"""The figures every row of a dashboard table repeats (an index with its interval, a change, a
verdict badge, the rank test), written out in Python for the pages' templates.

As Jinja macros they took half of an overview's render time (issue 17): each of some 180
calls per page of twenty offices went through Jinja's macro machinery and a dozen calls of
the page's functions. They write the same HTML the macros wrote, byte for byte
(tests/unit/test_dashboard_cells.py), escaped as Jinja's autoescape escapes.
"""

from __future__ import annotations

from collections.abc import Callable

from markupsafe import Markup, escape

from survey.i18n import N_

NOT_SHOWN = N_("not shown: it would reveal a single office or job centre")
TOO_FEW = N_("too few responses")
# babel's extractor does not look into f-strings: the words written inside them are named here
RANK_TEST = N_("Rank test, for comparison only (not the verdict)")
DIFFERENCE = N_("Estimated difference from the average office (smoothed by the model)")
POINTS = N_("points")
INTERVAL = N_("95% interval")
TO = N_("to")


class Cells:
    """The cells of one page, in its words (`gettext`) and numbers (`num`, `signed`), with its
    verdicts' words and CSS classes (`verdict`, `model_verdict`)."""

    __slots__ = ("_", "_model_verdict", "_num", "_signed", "_verdict", "_words")

    def __init__(
        self,
        gettext: Callable[[str], str],
        num: Callable[..., str],
        signed: Callable[..., str],
        verdict: Callable[[str], tuple[str, str]],
        model_verdict: Callable[[str], tuple[str, str]],
    ) -> None:
        self._ = gettext
        self._num = num
        self._signed = signed
        self._verdict = verdict
        self._model_verdict = model_verdict
        self._words: dict[str, Markup] = {}

    def _w(self, message: str) -> Markup:
        """A message in the page's words, escaped (once per page)."""
        found = self._words.get(message)
        if found is None:
            found = self._words[message] = escape(self._(message))
        return found

    def value_ci(
        self,
        value: float | None,
        low: float | None,
        high: float | None,
        unit: str = "",
        hidden: object = None,
    ) -> Markup:
        """A figure with its 95% interval in brackets; why it is missing where it is."""
        if value is None and hidden:
            return Markup(
                f'<span class="few-cell" data-testid="hidden-figure">{self._w(NOT_SHOWN)}</span>\n'
            )
        if value is None:
            return Markup(f'<span class="few-cell">{self._w(TOO_FEW)}</span>\n')
        num = self._num
        out = f"<strong>{escape(num(value))}{escape(unit)}</strong>"
        if low is not None:
            out += f' <span class="ci">({escape(num(low))}–{escape(num(high))})</span>'
        return Markup(out)

    def verdict_badge(self, value: str) -> Markup:
        return self._badge(self._verdict(value), "verdict")

    def model_badge(self, value: str) -> Markup:
        return self._badge(self._model_verdict(value), "model-verdict")

    @staticmethod
    def _badge(found: tuple[str, str], testid: str) -> Markup:
        text, css = found
        return Markup(
            f'<span class="verdict {escape(css)}" data-testid="{testid}">{escape(text)}</span>\n'
        )

    def qvalue(self, q: float | None) -> Markup:
        if q is None:
            return Markup("")
        shown = (
            f"&lt; {escape(self._num(0.001, 3))}" if q < 0.001 else f"= {escape(self._num(q, 3))}"
        )
        return Markup(f'<span class="ci" data-testid="qvalue">q {shown}</span>')

    def rank_test(self, value: str, q: float | None) -> Markup:
        """The rank test in small print, for comparison only (none without its figures)."""
        if value in ("too few responses", "withheld"):
            return Markup("")
        rest = "" if q is None else f", {self.qvalue(q)}"
        return Markup(
            f'<span class="method" data-testid="rank-test">'
            f"{self._w(RANK_TEST)}: "
            f'<span data-testid="verdict">{escape(self._verdict(value)[0])}</span>{rest}</span>'
        )

    def difference(self, value: float | None, low: float | None, high: float | None) -> Markup:
        """The model's estimated difference from the average office with its interval."""
        if value is None:
            return Markup("")
        w, num = self._w, self._num
        return Markup(
            f'<span class="needs" data-testid="difference">'
            f"{w(DIFFERENCE)}: "
            f"<strong>{escape(self._signed(value))} {w(POINTS)}</strong> "
            f'<span class="ci">({w(INTERVAL)} {escape(num(low))} {w(TO)} '
            f"{escape(num(high))})</span></span>"
        )

    def change(
        self, value: float | None, low: float | None, high: float | None, n: int | None
    ) -> Markup:
        """The change to the previous period, with its interval and its word."""
        w = self._w
        if value is None:
            why = TOO_FEW if n is None else N_("too few responses in the previous period")
            return Markup(f'<span class="few-cell">{w(why)}</span>')
        if low is not None and low > 0:
            css, word = "up", w(N_("clearly better"))
        elif high is not None and high < 0:
            css, word = "down", w(N_("clearly worse"))
        else:
            css, word = "", w(N_("no clear change"))
        num = self._num
        return Markup(
            f'<strong class="{css}">{escape(self._signed(value))}</strong> <span class="ci">'
            f"({escape(num(low))} {w(TO)} {escape(num(high))})</span> "
            f'<span class="change-word {css}" data-testid="change-verdict">{word}</span>'
        )

    def nps(self, value: float, low: float, high: float) -> Markup:
        """A Net Promoter Score with its interval, in whole points with their sign."""
        signed = self._signed
        return Markup(
            f'<strong>{escape(signed(value, 0))}</strong> <span class="ci">'
            f"({escape(signed(low, 0))} {self._w(TO)} {escape(signed(high, 0))})</span>"
        )
