"""Comments are shown with personal data masked: names, phone numbers, e-mail, customer numbers."""

from __future__ import annotations

import pytest

from survey.masking import mask_personal_data


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


@pytest.mark.parametrize(
    "text, masked",
    [
        ("Frau von der Heide war nett", "Frau [Name] war nett"),
        ("Frau de Vries hat angerufen", "Frau [Name] hat angerufen"),
        ("Herr al-Hassan half mir", "Herr [Name] half mir"),
        ("Frau Anna van den Berg", "Frau [Name]"),
        ("Frau Prof. Dr. med. Schulz sagte", "Frau Prof. Dr. med. [Name] sagte"),
        ("Herr Dipl.-Ing. Krause", "Herr Dipl.-Ing. [Name]"),
        ("FRAU MÜLLER war da", "FRAU [Name] war da"),
        ("danke frau Müller!", "danke frau [Name]!"),
        ("Hr Meier und Fr Weber", "Hr [Name] und Fr [Name]"),
        ("Kundennummer 123-D-456789", "Kundennummer [Kundennummer]"),
        ("Kundennummer 123 D 456 789.", "Kundennummer [Kundennummer]."),
        ("Frau von nebenan", "Frau von nebenan"),
        ("Die HR Abteilung, fr. 24.11.2026", "Die HR Abteilung, fr. 24.11.2026"),
    ],
)
def test_it_masks_particles_degrees_any_case_and_customer_number_variants(
    text: str, masked: str
) -> None:
    assert mask_personal_data(text) == masked
