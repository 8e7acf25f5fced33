"""The codebook of an export: JSON for scripts, Markdown for people (German and English)."""

from __future__ import annotations

import datetime as dt

import msgspec

from survey.export.microdata import MISSING, Plan
from survey.export.schemas import Accounting, Codebook, Text

STEP_TEXT = {
    "exact": Text("unverändert", "as is"),
    "quarter": Text("Monat → Quartal", "month → quarter"),
    "office_type": Text("Standort → Standorttyp", "office → office type"),
    "jobcentre": Text("Standort → zurückgehalten (nur Jobcenter)",
                      "office → withheld (job centre only)"),
    "language": Text("Sprache → „andere“", "language → \"other\""),
    "service_mode": Text("Leistungsbereich und Zugang → zurückgehalten",
                         "service type and mode → withheld"),
}  # fmt: skip
NOTES = [
    Text(
        "Eine Zeile je Antwort. Keine Einreichungs-ID, kein Link, kein Datensatzschlüssel, "
        "keine genaue Zeit und kein Freitext. Die Reihenfolge der Zeilen ist zufällig.",
        "One row per response. No submission id, no link token, no record key, no exact "
        "time and no free text. The order of the rows is random.",
    ),
    Text(
        "Negative Werte sind fehlende Werte (siehe missing_codes); in SPSS sind sie als "
        "fehlend deklariert, in Stata, CSV und Parquet vor Auswertungen auszuschließen "
        "(Stata: mvdecode _all, mv(-1=.a \\ -2=.b \\ -3=.c)).",
        "Negative values are missing values (see missing_codes); SPSS declares them "
        "missing; in Stata, CSV and Parquet exclude them before analysis "
        "(Stata: mvdecode _all, mv(-1=.a \\ -2=.b \\ -3=.c)).",
    ),
    Text(
        "k-Anonymität: Jede Kombination der Quasi-Identifikatoren kommt mindestens k-mal vor. "
        "Entschieden wird je Jobcenter über alle seine Antworten, unabhängig von Filtern und "
        "davon, wer exportiert; Filter wirken auf die veröffentlichten Werte. Zwei Exporte "
        "lassen sich daher nicht zu einer feineren Zeile verbinden.",
        "k-anonymity: every combination of the quasi-identifiers occurs at least k times. "
        "It is decided per job centre on all its responses, whatever the filters and whoever "
        "exports; filters apply to the published values. Two exports therefore cannot be "
        "joined into a finer row.",
    ),
    Text(
        "Nur abgeschlossene Monate werden exportiert. Antworten eines laufenden Quartals, "
        "die erst auf Quartalsebene k erreichen, folgen nach dessen Ende. Eine auf ein "
        "Quartal verallgemeinerte Zeile (month = -3) gehört nur zu einem Zeitraum, der das "
        "ganze Quartal umfasst: Monatsreihen aus einem Zeitraum, der mitten im Quartal "
        "beginnt oder endet, sind an den Rändern zu niedrig.",
        "Only complete months are exported. Responses of a running quarter that reach k "
        "only at quarter level follow once the quarter is over. A row generalized to a "
        "quarter (month = -3) belongs to a period only when the period covers the whole "
        "quarter: monthly series from a period that starts or ends mid-quarter are too low "
        "at its edges.",
    ),
]


def build(plan: Plan, fmt: str, today: dt.date | None = None) -> Codebook:
    r = plan.request
    filters = {
        name: str(value)
        for name, value in (
            ("from", r.date_from),
            ("to", r.date_to),
            ("service_type", r.service_type),
            ("language", r.language),
            ("mode", r.mode),
            ("office", r.office),
            ("jobcentre", r.jobcentre),
        )
        if value is not None
    }
    return Codebook(
        title="Resonanz – anonymisierte Antworten / anonymized responses",
        generated=(today or dt.date.today()).isoformat(),
        rows=plan.rows,
        format=fmt,
        filters=filters,
        jobcentres=plan.jobcentres,
        period_from=plan.period_from,
        period_to=plan.period_to,
        missing_codes=dict(MISSING),
        variables=plan.variables,
        anonymization=plan.anonymization,
        notes=NOTES,
    )


def to_json(codebook: Codebook) -> bytes:
    return msgspec.json.format(msgspec.json.encode(codebook), indent=2)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


ACCOUNTING = {
    "exported": Text("exportiert (die Zeilen dieser Datei)", "exported (the rows of this file)"),
    "left_out": Text("weggelassen (keine Stufe erreicht k)", "left out (no step reached k)"),
    "held_back": Text("zurückgestellt, bis ihr Quartal abgeschlossen ist",
                      "held back until their quarter is over"),
    "partial_quarter": Text(
        "auf ein Quartal verallgemeinert, das der Zeitraum nur zum Teil abdeckt",
        "generalized to a quarter that the period covers only in part",
    ),
    "not_selected": Text(
        "für den Zeitraum veröffentlicht, aber nicht in dieser Datei (von den Filtern nicht "
        "ausgewählt oder außerhalb der eigenen Standorte)",
        "published for the period but not in this file (not selected by the filters, or "
        "outside the offices you may export)",
    ),
}  # fmt: skip


def accounting_lines(acc: Accounting, lang: str) -> list[str]:
    """Every response of the period, by what became of it: the counts add up."""
    de = lang == "de"
    lines = [
        f"### {'Antworten des Zeitraums' if de else 'Responses of the period'}",
        "",
        (f"Antworten des Zeitraums in den Jobcentern dieses Exports (alle ihre Standorte, "
         f"unabhängig von den übrigen Filtern; nur die exportierten Zeilen hängen von ihnen "
         f"ab): {acc.responses}, davon:" if de else
         f"Responses of the period in the job centres of this export (all their offices, "
         f"whatever the other filters; only the exported rows depend on them): "
         f"{acc.responses}, of which:"),
        "",
    ]  # fmt: skip
    for name, text in ACCOUNTING.items():
        line = f"- {text.de if de else text.en}: {getattr(acc, name)}"
        if name == "partial_quarter" and acc.partial_quarters:
            widened = f"{acc.aligned_from or '…'} – {acc.aligned_to}"
            line += (
                f" ({', '.join(acc.partial_quarters)}; "
                + (f"den Zeitraum auf ganze Quartale erweitern, um sie einzuschließen: {widened}"
                   if de else f"widen the period to whole quarters to include them: {widened}")
                + ")"
            )  # fmt: skip
        lines.append(line)
    return lines


def to_markdown(codebook: Codebook, lang: str = "de") -> str:
    """A readable page: overview, anonymization, then every variable with its labels."""

    def t(text: Text) -> str:
        return text.de if lang == "de" else text.en

    de = lang == "de"
    a = codebook.anonymization
    lines = [
        f"# {'Codebuch' if de else 'Codebook'}: {codebook.title}",
        "",
        f"- {'Erstellt' if de else 'Generated'}: {codebook.generated}",
        f"- Format: {codebook.format}",
        f"- {'Zeilen' if de else 'Rows'}: {codebook.rows}",
        f"- {'Zeitraum' if de else 'Period'}: {codebook.period_from} – {codebook.period_to}",
        f"- {'Jobcenter' if de else 'Job centres'}: {', '.join(codebook.jobcentres)}",
        f"- {'Filter' if de else 'Filters'}: "
        + (", ".join(f"{k}={v}" for k, v in codebook.filters.items()) or "–"),
        "",
        f"## {'Anonymisierung' if de else 'Anonymization'}",
        "",
        f"- k = {a.k}; {'Quasi-Identifikatoren' if de else 'quasi-identifiers'}: "
        + ", ".join(a.quasi_identifiers),
        f"- {'Feinste Zeiteinheit' if de else 'Finest period'}: "
        + ({"month": "Monat", "quarter": "Quartal"}[a.period] if de else a.period),
        f"- {'Kleinste Kombination in dieser Datei' if de else 'Rarest combination in this file'}"
        f": {a.smallest_class if a.smallest_class is not None else '–'}",
        f"- {'Standorttypen' if de else 'Office types'}: "
        + (("ja" if de else "yes") if a.office_types else ("nein (Standort → Jobcenter)" if de
           else "no (office → job centre)")),
        "",
        *accounting_lines(a.accounting, lang),
        "",
        f"| {'Stufe' if de else 'Step'} | {'Regel' if de else 'Rule'} | "
        f"{'Zeilen' if de else 'Rows'} |",
        "|---|---|---:|",
    ]  # fmt: skip
    for step in a.ladder:
        lines.append(f"| {step} | {t(STEP_TEXT[step])} | {a.rows_by_step.get(step, 0)} |")
    lines += [
        "",
        f"| Variable | {'verallgemeinert' if de else 'generalized'} | "
        f"{'zurückgehalten (-3)' if de else 'withheld (-3)'} |",
        "|---|---:|---:|",
    ]
    for name, counts in a.variables.items():
        lines.append(f"| {name} | {counts.generalized} | {counts.withheld} |")
    lines += [
        "",
        "Zeilen je Spalte mit einem gröberen Code (language 99 „andere“) bzw. mit -3: "
        "Standort zurückgehalten heißt, die Zeile nennt nur den Standorttyp oder nur das "
        "Jobcenter; Monat zurückgehalten, sie nennt nur das Quartal."
        if de
        else 'Rows per column with a coarser code (language 99 "other") or with -3: office '
        "withheld means the row names only the office type or only the job centre; month "
        "withheld, only the quarter.",
    ]
    lines += ["", f"## {'Fehlende Werte' if de else 'Missing values'}", ""]
    for code, text in codebook.missing_codes.items():
        lines.append(f"- `{code}`: {t(text)}")
    lines += ["", f"## {'Variablen' if de else 'Variables'}", ""]
    for v in codebook.variables:
        lines += [f"### `{v.name}` – {_cell(t(v.label))}", ""]
        if v.question is not None:
            lines += [f"- Deutsch: {_cell(v.question.de)}", f"- English: {_cell(v.question.en)}"]
            lines.append(
                f"- {'Skala' if de else 'Scale'}: {v.scale} ({min(v.levels)}–{max(v.levels)})"
                if v.levels
                else f"- {'Skala' if de else 'Scale'}: {v.scale}"
            )
        if v.values:
            lines += ["", f"| {'Wert' if de else 'Value'} | Label |", "|---:|---|"]
            lines += [f"| {code} | {_cell(t(text))} |" for code, text in v.values.items()]
        if v.missing:
            lines.append("")
            lines.append(
                f"{'Fehlend' if de else 'Missing'}: "
                + ", ".join(f"`{code}` {t(text)}" for code, text in v.missing.items())
            )
        lines.append("")
    lines += [f"## {'Hinweise' if de else 'Notes'}", ""]
    lines += [f"- {t(n)}" for n in codebook.notes]
    return "\n".join(lines) + "\n"
