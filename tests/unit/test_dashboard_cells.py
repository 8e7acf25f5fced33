"""The table cells of the dashboards (survey/dashboard/cells.py) write what the Jinja macros
they replaced wrote (issue 17, k28: the macros were half of an overview's render time), and
the templates' quicker calls (survey/app.py `_Context`) answer as Jinja's own."""

from __future__ import annotations

from typing import Any

import jinja2
import pytest
from markupsafe import Markup

from survey.app import _Context
from survey.dashboard import words
from survey.dashboard.cells import Cells
from survey.dashboard.routes import MINUS, MODEL_VERDICTS, VERDICTS, _unpublished
from survey.i18n import translations


def _cells(locale: str = "en", unpublished: bool = False) -> Cells:
    gettext = translations(locale, "staff").gettext
    if unpublished:
        gettext = _unpublished(gettext)

    def num(value: float | None, digits: int = 1) -> str:
        return words.number(value, locale, digits).replace("-", MINUS)

    def signed(value: float, digits: int = 1) -> str:
        return ("+" if round(value, digits) > 0 else "") + num(value, digits)

    def verdict(value: str) -> tuple[str, str]:
        return gettext(VERDICTS[value][0]), VERDICTS[value][1]

    def model_verdict(value: str) -> tuple[str, str]:
        return gettext(MODEL_VERDICTS[value][0]), MODEL_VERDICTS[value][1]

    return Cells(gettext, num, signed, verdict, model_verdict)


def test_an_index_is_written_with_its_interval_or_why_it_is_missing() -> None:
    cells = _cells()
    assert cells.value_ci(81.3, 78.0, 84.5) == (
        '<strong>81.3</strong> <span class="ci">(78.0–84.5)</span>'
    )
    assert cells.value_ci(62.0, None, None, " %") == "<strong>62.0 %</strong>"
    assert cells.value_ci(None, None, None) == ('<span class="few-cell">too few responses</span>\n')
    assert cells.value_ci(None, None, None, hidden=True) == (
        '<span class="few-cell" data-testid="hidden-figure">not shown: it would reveal a single '
        "office or job centre</span>\n"
    )
    assert _cells(unpublished=True).value_ci(None, None, None) == (
        '<span class="few-cell">not published yet</span>\n'
    )


def test_a_change_says_its_direction_in_words_with_a_real_minus_sign() -> None:
    cells = _cells()
    assert cells.change(-4.0, -7.5, -0.5, 120) == (
        '<strong class="down">\u22124.0</strong> <span class="ci">(\u22127.5 to \u22120.5)'
        '</span> <span class="change-word down" data-testid="change-verdict">clearly worse</span>'
    )
    assert cells.change(1.0, -2.0, 4.0, 120) == (
        '<strong class="">+1.0</strong> <span class="ci">(\u22122.0 to 4.0)</span> '
        '<span class="change-word " data-testid="change-verdict">no clear change</span>'
    )
    assert cells.change(None, None, None, 120) == (
        '<span class="few-cell">too few responses in the previous period</span>'
    )
    assert cells.change(None, None, None, None) == '<span class="few-cell">too few responses</span>'


def test_badges_rank_tests_differences_and_scores_are_written_as_the_pages_wrote_them() -> None:
    cells = _cells()
    assert cells.model_badge("above") == (
        '<span class="verdict better" data-testid="model-verdict">clearly above average</span>\n'
    )
    assert cells.verdict_badge("worse") == (
        '<span class="verdict worse" data-testid="verdict">worse</span>\n'
    )
    assert cells.rank_test("withheld", 0.2) == cells.rank_test("too few responses", None) == ""
    assert cells.rank_test("better", 0.0004) == (
        '<span class="method" data-testid="rank-test">Rank test, for comparison only (not the '
        'verdict): <span data-testid="verdict">better</span>, <span class="ci" '
        'data-testid="qvalue">q &lt; 0.001</span></span>'
    )
    assert cells.difference(None, None, None) == ""
    assert cells.difference(3.0, 0.5, 5.5) == (
        '<span class="needs" data-testid="difference">Estimated difference from the average '
        'office (smoothed by the model): <strong>+3.0 points</strong> <span class="ci">(95% '
        "interval 0.5 to 5.5)</span></span>"
    )
    assert cells.nps(12.0, -3.0, 27.0) == (
        '<strong>+12</strong> <span class="ci">(\u22123 to +27)</span>'
    )


def test_words_with_quotes_are_escaped_as_autoescape_escapes_them() -> None:
    cells = Cells(lambda m: f'"{m}" & <{m}>', str, str, lambda v: (v, "x"), lambda v: (v, "y"))
    assert cells.value_ci(None, None, None) == (
        '<span class="few-cell">&#34;too few responses&#34; &amp; &lt;too few responses&gt;'
        "</span>\n"
    )
    assert isinstance(cells.change(None, None, None, None), Markup)


def _render(source: str, **context: Any) -> str:
    env = jinja2.Environment(autoescape=True)
    env.context_class = _Context
    return env.from_string(source).render(**context)


def test_the_quicker_calls_pass_the_context_to_what_asks_for_it() -> None:
    @jinja2.pass_context
    def who(context: Any) -> str:
        return str(context["name"])

    def stop() -> str:
        raise StopIteration

    def plain(*args: Any, **kwargs: Any) -> str:
        return f"{args} {sorted(kwargs)}"

    assert _render("{{ who() }}", who=who, name="Anna") == "Anna"
    assert _render("{% for i in [1] %}{{ plain(i, x=2) }}{% endfor %}", plain=plain) == (
        "(1,) [&#39;x&#39;]"
    )
    assert _render("{{ stop() }}", stop=stop) == ""
    with pytest.raises(jinja2.UndefinedError):
        _render("{{ stop().x }}", stop=stop)
