"""`resonanz import structure FILE`: job centres, offices, service types and links from one file.

YAML (one document)::

    service_types:                 # optional: new service types
      - {code: migration, name_de: Migrationsberatung, name_en: Migration counseling}
    job_centres:
      - slug: jobcenter-musterstadt
        name: Jobcenter Musterstadt
        network: netzwerk-sued      # optional: slug of an existing network
        retention_months: 12        # optional
        offices:
          - code: MS-M
            name: Musterstadt-Mitte
            kind: main              # main | branch | outreach
            service_types: [benefits, placement]
            links: [personal, kiosk]  # optional: one link per service type and mode

CSV (one office a line; ``;`` or ``,`` between fields; several values split by ``|``)::

    job_centre;job_centre_name;office_code;office_name;kind;service_types;links;network

The whole file is checked before anything is written; every problem is reported with the
file's name and line, and then nothing is written. Offices and job centres are matched by
their codes and slugs, so importing the same file twice changes nothing the second time.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from pathlib import Path
from typing import Any

import msgspec
import yaml

from survey.demo import ensure_standard_questionnaire
from survey.manage import audit
from survey.manage.structure import name_key, new_link_token
from survey.questionnaire import OFFICE_KINDS
from survey.tables import (
    Link,
    Network,
    Office,
    OfficeService,
    Organization,
    ServiceType,
)

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,78}[a-z0-9]$")
CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$")
MODES = ("personal", "kiosk")
CSV_COLUMNS = (
    "job_centre",
    "job_centre_name",
    "office_code",
    "office_name",
    "kind",
    "service_types",
    "links",
    "network",
)
MAX_BYTES = 5_000_000


class ImportRefused(Exception):
    """The file has problems; `problems` are lines like 'file.yaml:12: unknown service type'."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class OfficeSpec(msgspec.Struct):
    line: int
    code: str
    name: str
    kind: str
    service_types: list[str]
    links: list[str]


class CentreSpec(msgspec.Struct):
    line: int
    slug: str
    name: str
    network: str | None
    retention_months: int | None
    offices: list[OfficeSpec]


class ServiceSpec(msgspec.Struct):
    line: int
    code: str
    name_de: str
    name_en: str


class Structure(msgspec.Struct):
    service_types: list[ServiceSpec]
    centres: list[CentreSpec]


class Plan(msgspec.Struct):
    changes: list[str]
    """What would change, one line each, in the order it is applied."""
    structure: Structure


# ---- reading -------------------------------------------------------------------------------


class _LineLoader(yaml.SafeLoader):  # type: ignore[misc]
    """Mappings remember the line they start on (key `__line__`)."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> dict[str, Any]:
    mapping: dict[str, Any] = loader.construct_mapping(node, deep=True)
    mapping["__line__"] = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def read(path: Path) -> Structure:
    name = path.name
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ImportRefused([f"{name}: cannot read the file: {exc.strerror or exc}"]) from None
    if len(raw) > MAX_BYTES:
        raise ImportRefused([f"{name}: larger than {MAX_BYTES} bytes"])
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ImportRefused([f"{name}:{line}: not UTF-8 text"]) from None
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        return _from_yaml(name, text)
    if suffix == ".csv":
        return _from_csv(name, text)
    raise ImportRefused([f"{name}: the file must end in .yaml, .yml or .csv"])


def _from_yaml(name: str, text: str) -> Structure:
    try:
        data = yaml.load(text, Loader=_LineLoader)  # a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{name}:{mark.line + 1}" if mark else name
        problem = getattr(exc, "problem", None) or str(exc)
        raise ImportRefused([f"{where}: not valid YAML: {problem}"]) from None
    problems: list[str] = []
    if not isinstance(data, dict):
        raise ImportRefused([f"{name}:1: expected a mapping with 'job_centres'"])
    _unknown_keys(name, data, {"service_types", "job_centres"}, problems)
    services: list[ServiceSpec] = []
    for entry in _list(name, data, "service_types", problems):
        line = int(entry.get("__line__") or data["__line__"])
        _unknown_keys(name, entry, {"code", "name_de", "name_en"}, problems)
        code = _text(name, entry, "code", problems)
        if code and not CODE.match(code):
            problems.append(f"{name}:{line}: service type code {code!r} is not a valid code")
        services.append(
            ServiceSpec(
                line=line,
                code=code,
                name_de=_text(name, entry, "name_de", problems),
                name_en=_text(name, entry, "name_en", problems),
            )
        )
    centres: list[CentreSpec] = []
    for entry in _list(name, data, "job_centres", problems):
        line = entry["__line__"]
        _unknown_keys(
            name, entry, {"slug", "name", "network", "retention_months", "offices"}, problems
        )
        retention = entry.get("retention_months")
        if retention is not None and not (
            isinstance(retention, int) and not isinstance(retention, bool) and 1 <= retention <= 120
        ):
            problems.append(f"{name}:{line}: retention_months must be a whole number 1–120")
            retention = None
        offices: list[OfficeSpec] = []
        for o in _list(name, entry, "offices", problems):
            _unknown_keys(name, o, {"code", "name", "kind", "service_types", "links"}, problems)
            offices.append(
                OfficeSpec(
                    line=o["__line__"],
                    code=_text(name, o, "code", problems),
                    name=_text(name, o, "name", problems),
                    kind=str(o.get("kind") or "main"),
                    service_types=_strings(name, o, "service_types", problems),
                    links=_strings(name, o, "links", problems),
                )
            )
        network = entry.get("network")
        centres.append(
            CentreSpec(
                line=line,
                slug=_text(name, entry, "slug", problems),
                name=_text(name, entry, "name", problems),
                network=str(network) if network else None,
                retention_months=retention,
                offices=offices,
            )
        )
    if problems:
        raise ImportRefused(problems)
    return Structure(service_types=services, centres=centres)


def _unknown_keys(name: str, entry: dict[str, Any], known: set[str], problems: list[str]) -> None:
    for key in entry:
        if key != "__line__" and key not in known:
            problems.append(
                f"{name}:{entry['__line__']}: unknown field {key!r} "
                f"(known: {', '.join(sorted(known))})"
            )


def _list(name: str, entry: dict[str, Any], key: str, problems: list[str]) -> list[dict[str, Any]]:
    value = entry.get(key) or []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        problems.append(f"{name}:{entry['__line__']}: {key} must be a list of mappings")
        return []
    return value


def _text(name: str, entry: dict[str, Any], key: str, problems: list[str]) -> str:
    value = entry.get(key)
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        problems.append(f"{name}:{entry['__line__']}: {key} is missing")
        return ""
    if len(value) > 200:
        problems.append(f"{name}:{entry['__line__']}: {key} is longer than 200 characters")
    return value.strip()


def _strings(name: str, entry: dict[str, Any], key: str, problems: list[str]) -> list[str]:
    value = entry.get(key) or []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        problems.append(f"{name}:{entry['__line__']}: {key} must be a list of names")
        return []
    return [v.strip() for v in value if v.strip()]


def _from_csv(name: str, text: str) -> Structure:
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") >= first.count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    problems: list[str] = []
    header: list[str] | None = None
    centres: dict[str, CentreSpec] = {}
    for row in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if header is None:
            header = [cell.strip().lower() for cell in row]
            missing = [c for c in CSV_COLUMNS[:4] if c not in header]
            unknown = [c for c in header if c not in CSV_COLUMNS]
            if missing or unknown:
                raise ImportRefused(
                    [
                        f"{name}:{line}: the header needs {', '.join(CSV_COLUMNS[:4])}"
                        f" (optional: {', '.join(CSV_COLUMNS[4:])})"
                        + (f"; missing: {', '.join(missing)}" if missing else "")
                        + (f"; unknown: {', '.join(unknown)}" if unknown else "")
                    ]
                )
            continue
        if len(row) != len(header):
            problems.append(f"{name}:{line}: {len(row)} fields, the header has {len(header)}")
            continue
        cells = {key: value.strip() for key, value in zip(header, row, strict=True)}
        cells["__line__"] = line  # type: ignore[assignment]
        slug = _text(name, cells, "job_centre", problems)
        centre = centres.get(slug)
        if centre is None:
            centre = centres[slug] = CentreSpec(
                line=line,
                slug=slug,
                name=_text(name, cells, "job_centre_name", problems),
                network=cells.get("network") or None,
                retention_months=None,
                offices=[],
            )
        centre.offices.append(
            OfficeSpec(
                line=line,
                code=_text(name, cells, "office_code", problems),
                name=_text(name, cells, "office_name", problems),
                kind=cells.get("kind") or "main",
                service_types=_split(cells.get("service_types", "")),
                links=_split(cells.get("links", "")),
            )
        )
    if header is None:
        problems.append(f"{name}:1: the file is empty")
    if problems:
        raise ImportRefused(problems)
    return Structure(service_types=[], centres=list(centres.values()))


def _split(value: str) -> list[str]:
    return [v.strip() for v in re.split(r"[|]", value) if v.strip()]


# ---- checking against the database and planning ---------------------------------------------


async def plan(name: str, structure: Structure) -> Plan:
    """Check the whole structure against itself and the database; list what would change."""
    problems: list[str] = []
    known_services = {r["code"] for r in await ServiceType.select(ServiceType.code)}
    file_services: dict[str, int] = {}
    for s in structure.service_types:
        if s.code in file_services:
            problems.append(
                f"{name}:{s.line}: service type {s.code!r} twice (first on line "
                f"{file_services[s.code]})"
            )
        file_services[s.code] = s.line
    services = known_services | set(file_services)
    networks = {r["slug"]: r["id"] for r in await Network.select(Network.id, Network.slug)}
    slugs: dict[str, int] = {}
    for centre in structure.centres:
        if centre.slug and not SLUG.match(centre.slug):
            problems.append(
                f"{name}:{centre.line}: job centre slug {centre.slug!r} must be lower-case "
                "letters, digits and hyphens"
            )
        if centre.slug in slugs:
            problems.append(
                f"{name}:{centre.line}: job centre {centre.slug!r} twice (first on line "
                f"{slugs[centre.slug]})"
            )
        slugs[centre.slug] = centre.line
        if centre.network and centre.network not in networks:
            problems.append(
                f"{name}:{centre.line}: unknown network {centre.network!r} "
                f"(known: {', '.join(sorted(networks)) or 'none'})"
            )
        codes: dict[str, int] = {}
        names: dict[str, int] = {}
        for office in centre.offices:
            folded = name_key(office.name)
            if folded and folded in names:
                problems.append(
                    f"{name}:{office.line}: two offices named {office.name!r} in "
                    f"{centre.slug} (first on line {names[folded]})"
                )
            names.setdefault(folded, office.line)
            if office.code and not CODE.match(office.code):
                problems.append(
                    f"{name}:{office.line}: office code {office.code!r} may hold letters, "
                    "digits, '.', '_' and '-' (at most 40)"
                )
            if office.code in codes:
                problems.append(
                    f"{name}:{office.line}: duplicate office code {office.code!r} in "
                    f"{centre.slug} (first on line {codes[office.code]})"
                )
            codes[office.code] = office.line
            if office.kind not in OFFICE_KINDS:
                problems.append(
                    f"{name}:{office.line}: unknown office kind {office.kind!r} "
                    f"(known: {', '.join(OFFICE_KINDS)})"
                )
            for code in office.service_types:
                if code not in services:
                    problems.append(
                        f"{name}:{office.line}: unknown service type {code!r} "
                        f"(known: {', '.join(sorted(services))})"
                    )
            for mode in office.links:
                if mode not in MODES:
                    problems.append(
                        f"{name}:{office.line}: unknown link mode {mode!r} "
                        f"(known: {', '.join(MODES)})"
                    )
            if office.links and not office.service_types:
                problems.append(
                    f"{name}:{office.line}: links need at least one service type of the office"
                )
    problems += await _names_taken(name, structure)
    if problems:
        raise ImportRefused(problems)
    return Plan(changes=await _changes(structure, known_services, networks), structure=structure)


async def _names_taken(name: str, structure: Structure) -> list[str]:
    """An office named like another office of its job centre that the file leaves as it is
    (case and outer spaces aside; inactive ones too), as the API and the form refuse it:
    two alike could not be told apart in any list or filter."""
    problems = []
    orgs = {
        r["slug"]: r["id"] for r in await Organization.select(Organization.id, Organization.slug)
    }
    for centre in structure.centres:
        org_id = orgs.get(centre.slug)
        if org_id is None:
            continue
        rows = await Office.select(Office.code, Office.name).where(Office.organization == org_id)
        in_file = {o.code for o in centre.offices}
        kept = {name_key(r["name"]): r["code"] for r in rows if r["code"] not in in_file}
        for office in centre.offices:
            other = kept.get(name_key(office.name))
            if other is not None:
                problems.append(
                    f"{name}:{office.line}: {centre.slug} has an office named "
                    f"{office.name!r} already (code {other})"
                )
    return problems


async def _changes(
    structure: Structure, known_services: set[str], networks: dict[str, int]
) -> list[str]:
    changes = [
        f"create service type {s.code} ({s.name_de} / {s.name_en})"
        for s in structure.service_types
        if s.code not in known_services
    ]
    orgs = {r["slug"]: r for r in await Organization.select()}
    for centre in structure.centres:
        existing = orgs.get(centre.slug)
        network_id = networks.get(centre.network) if centre.network else None
        if existing is None:
            changes.append(f"create job centre {centre.slug} ({centre.name})")
            current: dict[str, dict[str, Any]] = {}
            services: dict[int, set[str]] = {}
            link_keys: set[tuple[int, str, str]] = set()
        else:
            if existing["name"] != centre.name:
                changes.append(f"rename job centre {centre.slug} to {centre.name}")
            if centre.network and existing["network"] != network_id:
                changes.append(f"put job centre {centre.slug} into network {centre.network}")
            if (
                centre.retention_months is not None
                and existing["retention_months"] != centre.retention_months
            ):
                changes.append(
                    f"keep free text of {centre.slug} for {centre.retention_months} months"
                )
            rows = await Office.select().where(Office.organization == existing["id"])
            current = {r["code"]: r for r in rows}
            ids = [r["id"] for r in rows] or [-1]
            services = {}
            for s in await OfficeService.select().where(OfficeService.office.is_in(ids)):
                services.setdefault(s["office"], set()).add(s["service_type"])
            link_keys = {
                (r["office"], r["service_type"], r["mode"])
                for r in await Link.select(Link.office, Link.service_type, Link.mode).where(
                    Link.office.is_in(ids) & (Link.active == True)  # noqa: E712
                )
            }
        for office in centre.offices:
            row = current.get(office.code)
            where = f"office {centre.slug}/{office.code}"
            if row is None:
                changes.append(f"create {where} ({office.name}, {office.kind})")
                have: set[str] = set()
            else:
                if row["name"] != office.name:
                    changes.append(f"rename {where} to {office.name}")
                if row["kind"] != office.kind:
                    changes.append(f"make {where} a {office.kind} office")
                if not row["active"]:
                    changes.append(f"reactivate {where}")
                have = services.get(row["id"], set())
            if office.service_types and set(office.service_types) != have:
                changes.append(f"let {where} offer {', '.join(office.service_types)}")
            for service in office.service_types:
                for mode in office.links:
                    if row is None or (row["id"], service, mode) not in link_keys:
                        changes.append(f"create {mode} link for {where}, {service}")
    return changes


async def apply(plan_: Plan) -> None:
    """Write the plan in one transaction (all of it or nothing)."""
    structure = plan_.structure
    version_id = await ensure_standard_questionnaire()
    db = Office._meta.db
    now = dt.datetime.now(dt.UTC)
    async with db.transaction():
        known = {r["code"] for r in await ServiceType.select(ServiceType.code)}
        for s in structure.service_types:
            if s.code not in known:
                await ServiceType(code=s.code, name_de=s.name_de, name_en=s.name_en).save()
        networks = {r["slug"]: r["id"] for r in await Network.select(Network.id, Network.slug)}
        for centre in structure.centres:
            row = await Organization.select().where(Organization.slug == centre.slug).first()
            network_id = networks.get(centre.network) if centre.network else None
            if row is None:
                org = Organization(
                    name=centre.name,
                    slug=centre.slug,
                    network=network_id,
                    retention_months=centre.retention_months or 12,
                )
                await org.save()
                org_id = int(org.id)
            else:
                org_id = int(row["id"])
                values: dict[Any, Any] = {Organization.name: centre.name}
                if centre.network:
                    values[Organization.network] = network_id
                if centre.retention_months is not None:
                    values[Organization.retention_months] = centre.retention_months
                await Organization.update(values).where(Organization.id == org_id)
            for spec in centre.offices:
                office_row = (
                    await Office.select(Office.id)
                    .where((Office.organization == org_id) & (Office.code == spec.code))
                    .first()
                )
                if office_row is None:
                    office = Office(
                        organization=org_id, name=spec.name, code=spec.code, kind=spec.kind
                    )
                    await office.save()
                    office_id = int(office.id)
                else:
                    office_id = int(office_row["id"])
                    await Office.update(
                        {Office.name: spec.name, Office.kind: spec.kind, Office.active: True}
                    ).where(Office.id == office_id)
                if spec.service_types:
                    await OfficeService.delete().where(OfficeService.office == office_id)
                    for code in spec.service_types:
                        await OfficeService(office=office_id, service_type=code).save()
                for service in spec.service_types:
                    for mode in spec.links:
                        exists = await Link.exists().where(
                            (Link.office == office_id)
                            & (Link.service_type == service)
                            & (Link.mode == mode)
                            & (Link.active == True)  # noqa: E712
                        )
                        if not exists:
                            await Link(
                                token=new_link_token(),
                                office=office_id,
                                version=version_id,
                                service_type=service,
                                mode=mode,
                                active=True,
                                created_at=now,
                            ).save()
            await audit.record(None, "structure_imported", org_id, job_centre=centre.slug)
