"""Masking of personal data in comments (survey.masking): recall and false positives on the
labelled comments of tests/masking_corpus.py, and the time to mask a page of comments.

Recall counts the labelled personal pieces (a name, a number, an address part) that no longer
appear after masking; a false positive is an ordinary comment that comes out changed. Time is
given per page of 300 comments (a dashboard's comment list), against a baseline measured in
the same run: one pass of a single e-mail regex over the same comments (the least any masking
costs). Prints figures, never asserts. Run: .venv/bin/python bench/masking.py
"""

from __future__ import annotations

import datetime as dt
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from survey.masking import _find, mask_personal_data, name_lists
from tests.masking_corpus import DEV, HOLDOUT, Entry

PAGE = 300
ROUNDS = 5
TODAY = dt.date(2026, 11, 28)


def quality(name: str, corpus: list[Entry]) -> None:
    pieces = masked = ordinary = changed = 0
    for text, personal in corpus:
        out = mask_personal_data(text, today=TODAY)
        pieces += len(personal)
        masked += sum(piece not in out for piece in personal)
        if not personal:
            ordinary += 1
            changed += out != text
    with_data = len(corpus) - ordinary
    print(
        f"{name:8} {len(corpus):3} comments ({with_data} with personal data): recall "
        f"{masked}/{pieces} = {masked / pieces:.1%}; ordinary comments changed {changed}/{ordinary}"
    )


def best_of(run: object) -> float:
    assert callable(run)
    times = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    start = time.perf_counter()
    name_lists()
    print(f"loading the name lists once per process: {(time.perf_counter() - start) * 1000:.0f} ms")
    quality("dev", DEV)
    quality("holdout", HOLDOUT)
    texts = [text for text, _ in DEV + HOLDOUT]
    page = (texts * (PAGE // len(texts) + 1))[:PAGE]
    email = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
    baseline = best_of(lambda: [email.sub("[E-Mail]", t) for t in page])

    def uncached() -> None:
        _find.cache_clear()
        for t in page:
            mask_personal_data(t)

    masking = best_of(uncached)
    cached = best_of(lambda: [mask_personal_data(t) for t in page])
    print(
        f"a page of {PAGE} comments: {masking * 1000:.1f} ms "
        f"({masking / PAGE * 1e6:.0f} µs a comment), {masking / baseline:.0f}× one e-mail regex "
        f"({baseline * 1000:.2f} ms); seen before (cached): {cached * 1000:.1f} ms; "
        f"best of {ROUNDS}"
    )


if __name__ == "__main__":
    main()
