"""Text for cells of CSV files that people open in a spreadsheet."""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""What makes Excel, LibreOffice or Google Sheets read a CSV cell as a formula (OWASP, "CSV
Injection"): such a cell gets a leading apostrophe and is read as text."""


def text_cell(value: str) -> str:
    """`value` as a CSV cell that a spreadsheet shows as text, never runs as a formula.

    Only for text that people (clients, admins) typed: names, labels, comments. Numbers are
    written by the caller as numbers (a negative number keeps its minus)."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value
