"""`resonanz i18n`: status | extract | update | export | import."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from survey.i18n import RESPOND_LOCALES, catalogs, language_name, questionnaire_po
from survey.questionnaire import load_definition

STANDARD = Path(__file__).resolve().parent.parent / "data" / "standard_questionnaire.json"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="i18n_command", required=True)
    status = sub.add_parser("status", help="completeness of every language")
    status.add_argument(
        "--questionnaire",
        type=Path,
        action="append",
        help="questionnaire definition JSON (repeatable; default: the standard questionnaire)",
    )
    for name, what in (("extract", "write the .pot templates"), ("update", "extract and merge")):
        cmd = sub.add_parser(name, help=f"{what} (both domains unless --domain)")
        cmd.add_argument("--domain", choices=sorted(catalogs.DOMAINS), action="append")
    export = sub.add_parser("export", help="a questionnaire's texts as a PO file for translators")
    export.add_argument("lang", help="BCP 47 tag of a configured language, e.g. uk or de-x-ls")
    export.add_argument("--questionnaire", type=Path, default=STANDARD)
    export.add_argument("-o", "--output", type=Path, help="file to write (default: stdout)")
    imp = sub.add_parser("import", help="write a translated PO file into the definition JSON")
    imp.add_argument("po", type=Path)
    imp.add_argument("--questionnaire", type=Path, default=STANDARD)
    imp.add_argument(
        "--reviewed",
        action="store_true",
        help="someone fluent has checked these texts (otherwise the language stays draft)",
    )


def run(args: argparse.Namespace) -> int:
    try:
        return int(_COMMANDS[args.i18n_command](args))
    except questionnaire_po.ImportRefused as exc:
        for problem in exc.problems:
            print(f"resonanz i18n: {problem}", file=sys.stderr)
        if args.i18n_command == "import":
            print("resonanz i18n: nothing was changed", file=sys.stderr)
        return 1
    except (OSError, ValueError) as exc:
        print(f"resonanz i18n: {exc}", file=sys.stderr)
        return 1


def _status(args: argparse.Namespace) -> int:
    for domain, locales in catalogs.DOMAINS.items():
        template_file = catalogs.template_path(domain)
        if not template_file.exists():
            print(f"interface ({domain}): no template, run `resonanz i18n update`\n")
            continue
        template = catalogs.extract(domain)
        total = sum(1 for m in template if m.id)
        print(f"interface ({domain} catalog, {total} messages)")
        for locale in locales:
            done, total = catalogs.completeness(locale, domain, template)
            state = catalogs.interface_status(locale, domain)
            print(_row(locale, done, total, state))
        print()
    for path in args.questionnaire or [STANDARD]:
        definition = load_definition(path.read_bytes())
        total = len(list(questionnaire_po.texts(definition)))
        print(f"questionnaire {definition.code!r} ({path.name}, {total} texts)")
        for locale in RESPOND_LOCALES:
            done, total = questionnaire_po.completeness(definition, locale)
            translation = definition.translations.get(locale)
            if locale == definition.source_locale:
                state = "source"
            elif translation is None:
                state = "not offered"
            else:
                state = translation.status
            print(_row(locale, done, total, state))
        print()
    print("Missing texts are shown in German. Draft: self- or machine-written, not yet checked")
    print("by someone fluent; respondents see drafts like any other text.")
    return 0


def _row(locale: str, done: int, total: int, state: str) -> str:
    share = 100 * done // total if total else 100
    return f"  {locale:<8} {language_name(locale):<16} {done:>3}/{total:<3} {share:>3}%  {state}"


def _extract(args: argparse.Namespace) -> int:
    for domain in args.domain or sorted(catalogs.DOMAINS):
        print(f"wrote {catalogs.write_template(domain).relative_to(catalogs.ROOT)}")
    return 0


def _update(args: argparse.Namespace) -> int:
    for domain in args.domain or sorted(catalogs.DOMAINS):
        for path in catalogs.update(domain):
            print(f"wrote {path.relative_to(catalogs.ROOT)}")
    return 0


def _export(args: argparse.Namespace) -> int:
    definition = load_definition(args.questionnaire.read_bytes())
    data = questionnaire_po.export(definition, args.lang)
    if args.output:
        args.output.write_bytes(data)
        print(f"wrote {args.output}")
    else:
        sys.stdout.write(data.decode())
    return 0


def _import(args: argparse.Namespace) -> int:
    locale, count = questionnaire_po.import_file(
        args.po, args.questionnaire, reviewed=args.reviewed
    )
    print(f"imported {count} texts in {locale} into {args.questionnaire}")
    if args.questionnaire.resolve() == STANDARD:
        print("published versions do not change; new databases get the new texts")
    return 0


_COMMANDS = {
    "status": _status,
    "extract": _extract,
    "update": _update,
    "export": _export,
    "import": _import,
}
