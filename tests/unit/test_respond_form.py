"""The respondent form's body parser reads what urllib's parse_qsl reads (Litestar's parser)."""

from __future__ import annotations

import random
from urllib.parse import parse_qsl

from survey.respond.routes import parse_form


def test_it_reads_bodies_exactly_as_parse_qsl_does() -> None:
    rng = random.Random(17)
    alphabet = "ab=&%+2FC3A4;é "
    bodies = [
        "",
        "&&",
        "a",
        "a=",
        "=b",
        "a=1&a=2",
        "comment=%C3%84rger+%22nein%22&x=%ZZ",
        "a=b=c",
        "n=%E4",
        "a;b=1",
    ]
    bodies += ["".join(rng.choices(alphabet, k=rng.randrange(14))) for _ in range(3000)]
    for body in bodies:
        assert parse_form(body) == dict(parse_qsl(body, keep_blank_values=True)), body
