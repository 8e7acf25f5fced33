"""Comments are shown with personal data masked: names, phone numbers, e-mail, customer numbers."""

from __future__ import annotations

import pytest

from survey.dashboard.figures import mask_personal_data


@pytest.mark.parametrize(
    "text, masked",
    [
        ("Frau Schneider hat mir geholfen.", "Frau [Name] hat mir geholfen."),
        ("Herr Dr. Öztürk war freundlich", "Herr Dr. [Name] war freundlich"),
        ("Danke an Herrn Müller-Lüdenscheidt!", "Danke an Herrn [Name]!"),
        ("Hr. Meier und Fr. Anna Kowalski", "Hr. [Name] und Fr. [Name]"),
        ("Frau Łukasiewicz", "Frau [Name]"),
        ("Frau Yılmaz sagte", "Frau [Name] sagte"),
        ("Herr schnell", "Herr schnell"),
        ("Rufen Sie an: 0171 2345678", "Rufen Sie an: [Telefon]"),
        ("Tel. 0171/2345678 oder +49 (0)30 1234567", "Tel. [Telefon] oder [Telefon]"),
        ("030-12345678.", "[Telefon]."),
        ("Meine Kundennummer ist 123D456789", "Meine Kundennummer ist [Kundennummer]"),
        ("Kd-Nr 123 D 456789!", "Kd-Nr [Kundennummer]!"),
        ("Mail an max.mustermann@example.org bitte", "Mail an [E-Mail] bitte"),
        ("Termin am 24.11.2026 um 10 Uhr, 1500 Euro", "Termin am 24.11.2026 um 10 Uhr, 1500 Euro"),
        ("Herrlich! Die Frauen dort sind nett.", "Herrlich! Die Frauen dort sind nett."),
        ("Дякую за допомогу!", "Дякую за допомогу!"),
    ],
)
def test_it_masks_personal_data_and_nothing_else(text: str, masked: str) -> None:
    assert mask_personal_data(text) == masked


def test_it_uses_the_labels_it_is_given() -> None:
    labels = {"email": "[e-mail]", "customer": "[customer number]", "phone": "[phone]",
              "name": "[name]"}  # fmt: skip
    assert mask_personal_data("Frau Weber, 0171 2345678", labels) == "Frau [name], [phone]"
