"""The version note names the items not every version asks by their text, not their code."""

from __future__ import annotations

from survey.dashboard.routes import _item_text
from survey.dashboard.steering import VersionNote
from survey.manage.questionnaires import VersionUsed


def test_the_version_note_names_partial_items_by_their_text_in_the_page_s_language() -> None:
    v1 = VersionUsed("Wiesental", 1, ("respect",), {"respect": {"de": "Respekt"}})
    v2 = VersionUsed(
        "Wiesental",
        2,
        ("respect", "language_help", "extra"),
        {"language_help": {"de": "Sprachhilfe nötig?", "en": "Needed language help?"}},
    )
    where = ["Wiesental v2"]
    note = VersionNote(versions=[v1, v2], partial=[("language_help", where), ("extra", where)])
    english = note.labelled(_item_text("en"))  # what the pages pass
    assert english.partial == [("Needed language help?", where), ("extra", where)], (
        "an item without a text keeps its code"
    )
    assert note.labelled(_item_text("de")).partial[0] == ("Sprachhilfe nötig?", where)
    assert note.labelled(_item_text("tr")).partial[0] == ("Sprachhilfe nötig?", where), (
        "a language the item lacks: the questionnaire's source language"
    )
    assert note.partial[0][0] == "language_help", "the note itself is left as it was"
