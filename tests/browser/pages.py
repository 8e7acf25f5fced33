"""Page objects: what a test does on a page, by stable data-testid selectors."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class SurveyPage:
    def __init__(self, page: Any) -> None:
        self.page = page

    def open(self, url: str) -> SurveyPage:
        self.page.goto(url)
        return self

    def choose(self, item: str, value: int) -> None:
        self.page.get_by_test_id(f"{item}-{value}").check()

    def answer(self, answers: Mapping[str, int | str]) -> SurveyPage:
        for item, value in answers.items():
            if isinstance(value, str):
                self.page.get_by_test_id(item).fill(value)
            else:
                self.choose(item, value)
        return self

    def send(self) -> None:
        self.page.get_by_test_id("submit").click()

    @property
    def thanked(self) -> bool:
        return self.page.get_by_test_id("thanks").is_visible()

    @property
    def error_summary(self) -> Any:
        return self.page.get_by_test_id("error-summary")


class LanguageChooser:
    """The language links at the top of the survey page."""

    def __init__(self, page: Any) -> None:
        self.page = page

    def choose(self, code: str) -> None:
        self.page.get_by_test_id(f"lang-{code}").click()
        self.page.wait_for_load_state()

    def names(self) -> dict[str, str]:
        links = self.page.get_by_test_id("languages").locator("a")
        return {
            str(link.get_attribute("data-testid"))[5:]: link.inner_text() for link in links.all()
        }
