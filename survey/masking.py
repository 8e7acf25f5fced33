"""Personal data in free-text comments, found and masked before any staff member or researcher
reads them: names, e-mail (also written as jens(at)gmx.de), phone numbers, street addresses
with postcode, dates of birth, IBANs, job-centre case and customer numbers.

The dashboards and the research exports both call `mask_personal_data`. Masking is automatic
and can miss something (a name that is in no list and follows no cue, a number written out in
words); bench/masking.py measures it on the labelled comments of tests/masking_corpus.py.

How names are found, without a language model (nothing is downloaded at run time):
- after a title (Frau, Herr, Dr., Mr, Mrs, пан, пані, السيد …): the capitalised words that
  follow (Arabic script: the next word, and one more if it is a known name);
- after a cue (Mein Name ist, ich heiße, my name is, мене звати, меня зовут, اسمي, adım …): the
  next one to three name-like words, whatever their case;
- after a staff role (Beraterin Schneider, Sachbearbeiter Kowalski) or a kinship word (mein
  Sohn Emre), in German, English, Ukrainian, Russian, Turkish, Arabic and Farsi: see
  `_after_role_or_kin`;
- a known first name followed by a capitalised word (Anna Becker, Олена Петренко), or in Arabic
  script by another known name (محمد علي). Known names are the person-name lists that Faker
  (MIT licence, the lists ship inside its wheel) keeps for German, Austrian, English, Turkish,
  Polish, Romanian, Italian, Croatian, Spanish, French, Greek, Ukrainian, Russian, Bulgarian,
  Arabic and Farsi, plus the Cyrillic ones transliterated to Latin letters (Olena Kovalenko).
  First names that are also ordinary words (Mark, Ernst, Rose, April …) count only when a known
  surname follows.
IBANs are checked with python-stdnum (the IBAN check digits), so other codes that merely look
like one are left alone.
"""

from __future__ import annotations

import datetime as dt
import importlib
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cache, lru_cache

from stdnum import iban as stdnum_iban

MASKS: Mapping[str, str] = {
    "email": "[E-Mail]",
    "iban": "[IBAN]",
    "case": "[Aktenzeichen]",
    "customer": "[Kundennummer]",
    "birth_date": "[Geburtsdatum]",
    "address": "[Adresse]",
    "phone": "[Telefon]",
    "name": "[Name]",
}
"""Default labels by kind; callers pass translated ones (any kind they leave out keeps these)."""


@dataclass(frozen=True, slots=True)
class Finding:
    kind: str
    start: int
    end: int


# ---- numbers, contact data, addresses, dates ------------------------------------------------

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_AT = r"(?:\s*(?:\((?:at|ät)\)|\[(?:at|ät)\]|\{(?:at|ät)\}|<(?:at|ät)>|@)\s*)"
_DOT = r"(?:\s*(?:\((?:dot|punkt)\)|\[(?:dot|punkt)\]|\{(?:dot|punkt)\})\s*|\s+(?:dot|punkt)\s+|\.)"
_TLD = r"(?:de|com|net|org|eu|info|at|ch|biz|me|io|ua|ru|tr|pl|ro|bg|uk|fr|it|nl|es|gr)"
_OBFUSCATED_EMAIL = re.compile(
    rf"(?i:(?<![\w.+-])[\w.+-]*\w(?:{_AT}|\s+(?:at|ät)\s+)[\w-]+(?:{_DOT}[\w-]+)*{_DOT}{_TLD}(?!\w))"
)
"""An e-mail address written to dodge robots: jens(at)gmx.de, jens [at] gmx dot de, jens at
gmx.de (a bare "at" counts only before a domain with a known ending)."""
_IBAN = re.compile(r"(?<!\w)[A-Za-z]{2}\d{2}(?: ?[A-Za-z0-9]{4}){2,7}(?: ?[A-Za-z0-9]{1,3})?(?!\w)")
"""The shape of an IBAN, compact or in groups of four; is_valid checks its check digits."""
_BG_NUMBER = re.compile(r"(?<![\w/])\d{3}\s?\d{2}\s?(?:BG|bg|//)\s?\d{7}(?![\w])")
"""Bedarfsgemeinschaftsnummer: office number (5 digits), BG or //, 7 digits: 12345BG0012345."""
_CUSTOMER = re.compile(r"(?<!\w)\d{3}[\s-]?[A-Za-z][\s-]?\d{3}[\s-]?\d{3}(?!\w)")
"""Customer number of the Federal Employment Agency: 123D456789, 123-D-456789, 123 D 456 789."""
_NUMBER_CUE = re.compile(
    r"(?i:\b(?:BG|Kunden|Kd|Bedarfsgemeinschafts|Versicherungs|Renten(?:versicherungs)?|SV|"
    r"Sozialversicherungs|Steuer|Vorgangs|Akten|Geschäfts)[\s.-]*(?:nummer|nr|zeichen|id)\b\.?"
    r"|\b(?:Az|Gz)\.|\bcustomer\s+(?:number|no\.?)|\bcase\s+(?:number|no\.?)|"
    r"\bномер\s+справи)"
    r"[\s:#]*(?:(?:ist|lautet|is|:)\s*)?"
)
"""A word that says a number follows (BG-Nummer, Kundennr., Aktenzeichen, Az., Steuer-ID …)."""
_CUED_NUMBER = re.compile(r"[A-Za-z]{0,3}\d[\w/.-]*(?:\s\d[\w/.-]*){0,3}")
_PHONE = re.compile(r"(?<!\w)(?:\+|00)?\d(?:(?: / |[ /()-]{0,2})\d){5,}(?!\w)")
"""Six or more digits, optionally separated by spaces, slashes (also " / " after an area
code: 04131 / 12 34 56), dashes or brackets (not dots, so dates such as 24.11.2026 stay)."""

_MONTHS = (
    r"(?:Jan(?:uar|uary)?|Feb(?:ruar|ruary)?|Mär(?:z)?|Mar(?:ch)?|Apr(?:il)?|Mai|May|"
    r"Jun[ie]?|Jul[iy]?|Aug(?:ust)?|Sep(?:t(?:ember)?)?|O[ck]t(?:ober)?|Nov(?:ember)?|"
    r"De[cz](?:ember)?)\.?"
)
_DATE = (
    r"(?:\d{1,2}\s?[./-]\s?\d{1,2}\s?[./-]\s?(?:\d{4}|\d{2})(?!\d)"
    r"|\d{4}-\d{2}-\d{2}"
    rf"|\d{{1,2}}\.?\s+{_MONTHS}\s+\d{{4}}"
    rf"|{_MONTHS}\s+\d{{1,2}},?\s+\d{{4}})"
)
_BIRTH_CUE = re.compile(
    r"(?i:\bgeb(?:oren)?\b\.?(?:\s+(?:am|den))?|\bgeburtsdatum\b|\bgeburtstag\b|"
    r"\bborn(?:\s+on)?\b|\bdate\s+of\s+birth\b|\bd\.?o\.?b\b\.?|\bbirthday\b|"
    r"\bдата\s+народження\b|\bнароди(?:вся|лася)\b|\bдата\s+рождения\b|"
    r"\bродил(?:ся|ась)\b|تاريخ\s+الميلاد|مواليد|ولدت\s+في|doğum\s+tarihi(?:m)?)"
    r"(?:\s*(?:ist|is|:|der|the|am|on|-|–)\s*)*"
)
_BIRTH_DATE_AFTER_CUE = re.compile(rf"{_DATE}|\d{{4}}(?!\d)")
_FULL_DATE = re.compile(rf"(?<![\d.]){_DATE}")
_YEAR = re.compile(r"(\d{4}|\d{2})(?!.*\d)")
ADULT_AGE = 14
"""A full date whose year lies more than this many years back is taken for a date of birth."""

_STREET_WORD = (
    r"(?:stra(?:ß|ss)e|str\.|weg|gasse|platz|allee|ring|damm|ufer|chaussee|steig|pfad|"
    r"markt|graben|wall|hof|kamp|berg|feld|garten|park)"
)
_HOUSE = (
    r"\d{1,3}(?:\s?[a-zA-Z](?!\w))?(?:\s?[-/]\s?\d{1,3}[a-zA-Z]?)?(?!\d)"
    r"(?!\s*(?:Jahre?n?|Monate?n?|Wochen?|Tage?n?|Stunden?|Minuten?|Kinder|Euro|EUR|€|%|Mal|"
    r"Uhr|Personen|Leute|Menschen|years?|months?|weeks?|days?|hours?|minutes?|times)\b)"
)
"""A house number (12, 5a, 101 b, 3-5), not a quantity ("Bahnhof 5 Minuten")."""
_NOT_A_STREET_NAME = (
    r"(?!(?:Raum|Zimmer|Jahr|Stock|Haus|Gebäude|Schalter|Platz|Tisch|Januar|Februar|März|"
    r"April|Mai|Juni|Juli|August|September|Oktober|November|Dezember|Montag|Dienstag|"
    r"Mittwoch|Donnerstag|Freitag|Samstag|Sonntag|Anfang|Ende)\b)"
)
_STREET = re.compile(
    rf"(?<![\w-])(?:[A-ZÄÖÜ][\w-]*(?i:{_STREET_WORD})"
    rf"|(?:[A-ZÄÖÜ][\w-]*(?:er|sche|scher|sches)\s+)?(?:Stra(?:ß|ss)e|Str\.|Weg|Allee|Platz|"
    r"Ring|Damm|Gasse|Chaussee|Ufer|Markt)"
    r"|(?:Am|An\s+der|An\s+den|Auf\s+der|Im|In\s+der|Zum|Zur|Unter\s+den)\s+"
    rf"{_NOT_A_STREET_NAME}[A-ZÄÖÜ][\w-]+)"
    rf"\s+{_HOUSE}"
    r"|\b\d{1,4}[a-zA-Z]?\s+(?:[A-Z][\w-]+\s+){1,3}(?:Street|St\.|Road|Rd\.|Avenue|Ave\.|"
    r"Lane|Drive|Way|Close|Court|Place)"
    r"|(?i:\b(?:вул\.|вулиця|ул\.|улица|просп\.|проспект|пров\.|провулок)\s*)"
    r"[\w'’-]+(?:\s+[\w'’-]+)?,?\s*\d{1,4}[\w/-]*"
    r"|شارع\s+\S+(?:\s+\S+)?\s*\d{1,4}"
)
_POSTCODE = re.compile(
    r"(?:(?<=,\s)|(?<=\bin\s)|(?<=\bIn\s)|(?<=\baus\s)|(?<=PLZ\s)|(?<=PLZ:\s)|(?<=\bwohnhaft\s))"
    r"\d{5}\s+[A-ZÄÖÜ][\w-]+(?:\s+(?:am|an\s+der|im|\()\s*[A-ZÄÖÜ][\w)-]*)?"
)


def _numbers(text: str) -> Iterable[Finding]:
    for m in _EMAIL.finditer(text):
        yield Finding("email", m.start(), m.end())
    for m in _OBFUSCATED_EMAIL.finditer(text):
        yield Finding("email", m.start(), m.end())
    for m in _IBAN.finditer(text):
        if stdnum_iban.is_valid(m.group()):
            yield Finding("iban", m.start(), m.end())
    for m in _BG_NUMBER.finditer(text):
        yield Finding("case", m.start(), m.end())
    for m in _CUSTOMER.finditer(text):
        yield Finding("customer", m.start(), m.end())
    for cue in _NUMBER_CUE.finditer(text):
        number = _CUED_NUMBER.match(text, cue.end())
        if number is not None:
            kind = "customer" if re.match(r"(?i)k|cust", cue.group().lstrip()) else "case"
            yield Finding(kind, number.start(), number.end())


def _birth_dates(text: str, today: dt.date) -> Iterable[Finding]:
    for cue in _BIRTH_CUE.finditer(text):
        m = _BIRTH_DATE_AFTER_CUE.match(text, cue.end())
        if m is not None:
            yield Finding("birth_date", m.start(), m.end())
    for m in _FULL_DATE.finditer(text):
        year_match = _YEAR.search(m.group())
        if year_match is None:
            continue
        year = int(year_match.group(1))
        if year < 100:  # two digits: 79 is 1979, 05 is 2005
            year += 2000 if year <= today.year % 100 else 1900
        if 1900 <= year <= today.year - ADULT_AGE:
            yield Finding("birth_date", m.start(), m.end())


def _addresses(text: str) -> Iterable[Finding]:
    for m in _STREET.finditer(text):
        yield Finding("address", m.start(), m.end())
    for m in _POSTCODE.finditer(text):
        yield Finding("address", m.start(), m.end())


_YEARS = re.compile(r"(?:19|20)\d\d\s?[/-]\s?(?:19|20)\d\d")
"""Two years (2019/2020, 2019 - 2020): a school year or a period, not a phone number."""


def _phones(text: str) -> Iterable[Finding]:
    for m in _PHONE.finditer(text):
        if not _YEARS.fullmatch(m.group()):
            yield Finding("phone", m.start(), m.end())


# ---- names ------------------------------------------------------------------------------------


def _word_set(words: str) -> frozenset[str]:
    return frozenset(words.split())


NAME_LOCALES = (
    "de_DE", "de_AT", "de_CH", "en_US", "en_GB", "tr_TR", "pl_PL", "ro_RO", "it_IT", "hr_HR",
    "es_ES", "fr_FR", "el_GR", "uk_UA", "ru_RU", "bg_BG", "ar_AA", "ar_SA", "ar_PS", "fa_IR",
)  # fmt: skip
"""Faker's person providers whose first and last names are known names."""

AMBIGUOUS_FIRST_NAMES = _word_set(
    """Mark Ernst Rose Rosa Roman Iris Wolf Engel Heide Kai Flora Lore Meta Urban Harm Grit
    Till Summer August April Mai Juni Juli June Will Bill Grace Joy Faith Hope Dawn Guy Ray
    Frank Jack Chase Grant Lance Drew Dean Don Gene Sue Pastor Server Salami Toy Tea Us Mate
    Ion Canal Divan Corona Diamond Crystal Amber Destiny Angel Baptist Edit Ester Sole Sol Tan
    Mar Mare Ale Ante Lean Mile Peer Pier Hunter Sandy Penny Holly Daisy Hazel Heather Melody
    Robin Raven Savannah Sierra Victor Valentine Marine Marina Can Umut Sonne Liebe Ruhe
    Hoffnung Glück Nur Ay Su Tulpe Lilie Jasmin Nelke Erika Viola
    Dolores Mercedes Paris China Asia Europa Sahara"""
)
"""Known first names that are also ordinary words: a name only when a known surname follows."""

COMMON_WORDS = _word_set(
    """Der Die Das Den Dem Des Ein Eine Einen Einem Einer Ich Wir Sie Er Es Ihr Du Und Oder
    Aber Im In Am An Auf Bei Mit Von Vom Zu Zum Zur Für Nach Vor Seit Bis Als Wie Was Wer Wo
    Warum Weil Dass Wenn Ja Nein Nicht Kein Keine Sehr Auch Noch Schon Nur Heute Gestern
    Morgen Danke Vielen Dank Bitte Hallo Liebe Lieber Grüße Gruß Herr Frau Herrn Team
    Termin Termine Beratung Berater Beraterin Jobcenter Amt Antrag Anträge Geld Hilfe
    Mitarbeiter Mitarbeiterin Sachbearbeiter Sachbearbeiterin Bescheid Unterlagen Zeit
    Wartezeit Arbeit Job Stelle Kinder Kind Familie Wohnung Miete Bürgergeld Empfang
    Montag Dienstag Mittwoch Donnerstag Freitag Samstag Sonntag Januar Februar März April
    Mai Juni Juli August September Oktober November Dezember Uhr Euro Jahre Jahren Monate
    Wochen Tage Stunden Minuten Deutsch Deutschland Sprache Kurs Schule Ausbildung
    The A An And Or But I We You He She It They My Your His Her Our Their This That These
    Those Is Was Are Were Be Been Very Thank Thanks Please Hello Dear Mr Mrs Ms Miss Dr
    Monday Tuesday Wednesday Thursday Friday Saturday Sunday January February March May
    June July October December Office Advisor Adviser Appointment Staff Help"""
)
"""Capitalised words that never start or continue a name (sentence starts, German nouns)."""

_TRANSLIT = str.maketrans(
    {
        "а": "a", "б": "b", "в": "v", "г": "h", "ґ": "g", "д": "d", "е": "e", "є": "ie",
        "ж": "zh", "з": "z", "и": "y", "і": "i", "ї": "i", "й": "i", "к": "k", "л": "l",
        "м": "m", "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t", "у": "u",
        "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch", "ь": "", "ю": "iu",
        "я": "ia", "ы": "y", "э": "e", "ё": "io", "ъ": "", "'": "", "’": "",
    }
)  # fmt: skip
"""Ukrainian national transliteration (passports since 2010); Russian letters likewise."""


@dataclass(frozen=True, slots=True)
class NameLists:
    first: frozenset[str]
    last: frozenset[str]


_ARABIC_FOLD = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ة": "ه", "ى": "ي", "ی": "ي", "ک": "ك"})
_ARABIC_MARKS = re.compile(r"[\u064b-\u0652\u0670\u0640]")


def _fold(word: str) -> str:
    """Casefolded; Arabic script without vowel marks and with the letters that are written
    either way unified (أ/ا, ة/ه, ى/ي, Farsi ی/ک)."""
    folded = word.casefold()
    if _ARABIC.search(folded):
        folded = _ARABIC_MARKS.sub("", folded).translate(_ARABIC_FOLD)
    return folded


def _transliterate(name: str) -> str:
    latin = name.lower().translate(_TRANSLIT)
    return latin[:1].upper() + latin[1:]


@cache
def name_lists() -> NameLists:
    """Known first and last names (casefolded), loaded once from Faker's person providers."""
    first: set[str] = set()
    last: set[str] = set()
    for locale in NAME_LOCALES:
        provider = importlib.import_module(f"faker.providers.person.{locale}").Provider
        for attr in dir(provider):
            if attr.startswith(("first_names", "last_names")):
                values = getattr(provider, attr)
                names = {str(n) for n in (values.keys() if isinstance(values, dict) else values)}
                target = first if attr.startswith("first") else last
                for name in names:
                    for part in re.split(r"[\s-]+", name):
                        if len(part) > 1:
                            target.add(_fold(part))
                            if _CYRILLIC.search(part):
                                target.add(_fold(_transliterate(part)))
    return NameLists(frozenset(first), frozenset(last))


_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_ARABIC = re.compile(r"[\u0600-\u06ff]")
_WORD = re.compile(r"[^\W\d_](?:[\w'’-]*[^\W\d_])?")
_PARTICLES = _word_set(
    """von van de der den del della di da du dos zu zum zur ten ter la le al el ibn bin bint
    abu"""
)
"""Lowercase name particles: "Frau von der Heide", "Herr al-Hassan"."""

_ARABIC_PREFIXES = ("و", "ل", "ب", "ف")
_DEGREE = (
    r"(?:Prof\.|Dr\.|Dipl\.-?\s?[^\W\d_]+\.|PD|(?:med|dent|vet|phil|jur|rer\.\s?nat|h\.\s?c)\.)"
)
_TITLE = re.compile(
    rf"(?:\b(?:(?i:frau|herrn?)|[Hh]r|[Ff]r|Mrs?|Ms|Miss|Mx)\b\.?|\bDr\.|\b(?i:пан(?:і|а|у|ові)?"
    r"|господин(?:а|у)?|госпожа|госпожи|пани)\b)"
    rf"(?:\s+{_DEGREE})*"
)
_ARABIC_TITLE = re.compile(
    r"(?:ال|لل|ل)?(?:سيد|سيدة|أستاذ|أستاذة|استاذ|استاذة|دكتور|دكتورة)(?![\u0600-\u06ff])"
)
_CUE = re.compile(
    r"(?i:\bmein\s+name\s+(?:ist|lautet|:)|\bmein\s+name:|\bich\s+hei(?:ß|ss)e|"
    r"\bmy\s+name\s+is|\bmy\s+name'?s|\bmy\s+name:|\bcall\s+me|"
    r"\bмене\s+зват?ь|\bмене\s+звуть|\bмо[єе]\s+ім['’]?я|\bменя\s+зовут|\bмо[её]\s+имя|"
    r"\bbenim\s+ad[ıi]m|\bad[ıi]m|\bismim|"
    r"اسمي|إسمي|انا\s+اسمي|أنا\s+اسمي|اسم\s+من|نام\s+من)"
    r"\s*:?\s*"
)
"""Phrases after which the next words are a name, whatever their case or lists."""
_SOFT_CUE = re.compile(
    r"(?i:\bich\s+bin|\bi\s+am|\bi['’]m|\bя|\bthis\s+is|\bhier\s+ist|\bgrüße\s+von|"
    r"\bregards|\bdanke\s+an|\bthanks\s+to|\bأنا|\bانا|\bبن)\s+"
)
"""Phrases after which the next words are a name only if the first is a known first name."""


def _is_upper(word: str) -> bool:
    return word[:1].isupper()


def _words(text: str, pos: int, limit: int) -> list[re.Match[str]]:
    """The next `limit` words after `pos`, stopping at punctuation other than spaces."""
    out: list[re.Match[str]] = []
    while len(out) < limit:
        gap = re.match(r"[ \t]*", text[pos:])
        start = pos + (gap.end() if gap else 0)
        m = _WORD.match(text, start)
        if not m:
            break
        out.append(m)
        pos = m.end()
    return out


def _known(word: str, names: frozenset[str]) -> bool:
    folded = _fold(word)
    if folded in names:
        return True
    if _ARABIC.search(word) and word.startswith(_ARABIC_PREFIXES) and len(word) > 3:
        return folded[1:] in names
    return False


def _name_like(word: str, lists: NameLists) -> bool:
    if word in COMMON_WORDS:
        return False
    if _ARABIC.search(word):
        return _known(word, lists.first) or _known(word, lists.last)
    return _is_upper(word) or _known(word, lists.first) or _known(word, lists.last)


def _after_title(text: str, lists: NameLists) -> Iterable[Finding]:
    """Up to two capitalised words after a title, each possibly after lowercase particles."""
    for m in _TITLE.finditer(text):
        words = _words(text, m.end(), 6)
        end = i = 0
        for _ in range(2):
            j = i
            while j < len(words) and words[j].group() in _PARTICLES:
                j += 1
            if j < len(words) and _title_name_word(words[j].group(), lists):
                end = i = j + 1
            else:
                break
        if end:
            yield Finding("name", words[0].start(), words[end - 1].end())
    for m in _ARABIC_TITLE.finditer(text):
        words = _words(text, m.end(), 2)
        if not words or not _ARABIC.search(words[0].group()):
            continue
        last = words[0]
        if len(words) > 1 and _name_like(words[1].group(), lists):
            last = words[1]
        yield Finding("name", words[0].start(), last.end())


def _title_name_word(word: str, lists: NameLists) -> bool:
    """A capitalised word (not a sentence word), or one joined to a particle: "al-Hassan"."""
    if word in COMMON_WORDS:
        return False
    if _is_upper(word):
        return True
    joined = re.match(r"([^\W\d_]+)[-'](.)", word)
    return joined is not None and joined[1] in _PARTICLES | {"d", "o"} and joined[2].isupper()


def _after_cue(text: str, lists: NameLists) -> Iterable[Finding]:
    for m in _CUE.finditer(text):
        taken: list[re.Match[str]] = []
        for w in _words(text, m.end(), 3):
            word = w.group()
            if word in COMMON_WORDS or word.casefold() in {"und", "and", "i", "و"}:
                break
            first_arabic = not taken and _ARABIC.search(word) is not None
            if not first_arabic and not _name_like(word, lists):
                break
            taken.append(w)
        if taken:
            yield Finding("name", taken[0].start(), taken[-1].end())
    for m in _SOFT_CUE.finditer(text):
        words = _words(text, m.end(), 3)
        if words and _known(words[0].group(), lists.first) and _name_like(words[0].group(), lists):
            taken = [words[0]]
            for w in words[1:]:
                if not _name_like(w.group(), lists):
                    break
                taken.append(w)
            yield Finding("name", taken[0].start(), taken[-1].end())


_ROLE = re.compile(
    r"(?<![\w-])(?i:\w*(?:berater|sachbearbeiter|fallmanager|vermittler|betreuer|ansprechpartner|"
    r"leiter|mitarbeiter|chef|coach)(?:in)?|\w*fachkraft|kolleg(?:e|in))(?![\w-])"
)
"""A German staff role before a surname: "Die Beraterin Schneider", "Sachbearbeiter Kowalski"."""
_KIN = re.compile(
    r"(?<![\w-])(?i:(?:Stief|Ehe|Lebens)?(?:sohn|sohnes|tochter|kind|kindes|baby|mann|frau|"
    r"gefährtin?|gefährte|bruder|schwester|vater|mutter|enkel|enkelin|neffe|nichte|cousine?|"
    r"partner|partnerin|freund|freundin|verlobter?|oma|opa|onkel|tante|schwager|schwägerin))"
    r"(?![\w-])"
)
"""A German kinship word before a given name: "Mein Sohn Emre (3)"."""
_OTHER_ROLE_OR_KIN = re.compile(
    r"(?i:\b(?:advis[oe]r|case\s?worker|work\s+coach|officer|consultant|clerk|counsell?or|"
    r"manager)|\bmy\s+(?:son|daughter|child|kid|baby|husband|wife|partner|brother|sister|"
    r"father|mother|mum|mom|dad|boyfriend|girlfriend|grandson|granddaughter|nephew|niece|cousin)"
    r"|\b(?:консультант|працівни|інспектор|менеджер|спеціаліст|куратор|радни|сотрудни|"
    r"специалист|инспектор|служащ)\w*"
    r"|\b(?:син|сина|сину|синові|синок|донька|доньку|доньці|донечка|дочка|дочку|дочь|дочери|сын|"
    r"сына|сыну|чоловік|чоловіка|дружина|дружину|жена|жену|муж|мужа|брат|брата|сестра|сестру|"
    r"мама|мати|мать|тато|батько|отец|дитина|дитину|ребёнок|ребенок|онук|онука|внук|внучка)"
    r"|\b(?:danışman|memur|görevli|müdür|uzman|yetkili|çalışan)\w*"
    r"|\b(?:oğlum|oğlumuz|kızım|kızımız|eşim|kocam|karım|annem|babam|kardeşim|ablam|abim|"
    r"çocuğum|torunum))(?!\w)"
)
"""The same in English, Ukrainian, Russian and Turkish, whose nouns are not capitalised: a
capitalised word after them is a name ("my son Emre", "консультантка Олена")."""
_ARABIC_ROLE_OR_KIN = re.compile(
    r"(?<![\u0600-\u06ff])(?:ال)?(?:موظف|موظفة|موظفه|مستشار|مستشارة|مستشاره|مسؤول|مسؤولة|"
    r"ابني|ابنتي|بنتي|ولدي|زوجي|زوجتي|أخي|اخي|أختي|اختي|أمي|امي|أبي|ابي|والدي|والدتي|طفلي|"
    r"طفلتي|کارمند|مشاور|پسرم|دخترم|همسرم|شوهرم|برادرم|خواهرم|مادرم|پدرم|فرزندم)"
    r"(?![\u0600-\u06ff])"
)
"""The same in Arabic and Farsi script (no capitals): the next word if it is a known name."""

_JOB_CENTRE_NOUNS = _word_set(
    """Gespräch Gespräche Brief Briefe Post Anruf Anrufe Rückruf Kontakt Wechsel Vertretung
    Urlaub Geduld Verständnis Ahnung Problem Probleme Fehler Schuld Recht Unrecht Nachricht
    Druck Stress Ton Zugang Angebot Angebote Vorschlag Vorschläge Tipp Tipps Info Infos
    Auskunft Rat Bewerbung Bewerbungen Maßnahme Maßnahmen Jobs Stellen Arbeitsplatz Vertrag
    Nummer Sprechzeit Sprechzeiten Raum Zimmer Büro Schalter Eingang Ersatz Leistung
    Leistungen Kindergeld Kita Kindergarten Schule Schulen Deutschkurs Integrationskurs
    Dolmetscher Übersetzung Formular Formulare Email Mail Telefon Rückmeldung Erklärung
    Lebenslauf Praktikum Zeugnis Papiere Dokumente Nachweis Nachweise Ausweis Krankheit
    Sorgen Angst Fragen Frage Antwort Antworten Ärger Kummer Mühe Freude Spaß Respekt
    Immer Nie Leider Total Super Echt Wirklich Wieder Gut Schlecht Toll Nett Freundlich
    Unfreundlich Neu Neue Neuer Alt Alte Jung Junge Hat Ist War Sind Waren Kann Konnte Hatte
    Will Wollte Muss Musste Soll"""
)
"""Capitalised words that follow a role or kinship word without being a name ("Berater
Termin verschoben", "Mitarbeiter Freundlich!")."""
_NOUN_ENDING = re.compile(
    r"(?:ung|heit|keit|schaft|tion|sion|tät|nis|tum|ment|chen|lein|ismus|ik|ur|anz|enz|ei|"
    r"ling|geld|zeit|amt|stelle|platz|kurs|e|en|er|es)$"
)
"""Endings of German nouns; a capitalised word that ends so and is no known name is taken
for a noun after a role word ("Berater Wohnung" stays)."""


@cache
def _german_nouns() -> frozenset[str]:
    """Faker's German word list (its capitalised words are everyday nouns) and the above."""
    words = importlib.import_module("faker.providers.lorem.de_DE").Provider.word_list
    return frozenset(w for w in words if _is_upper(w)) | COMMON_WORDS | _JOB_CENTRE_NOUNS


def _surname_after_role(word: str, lists: NameLists) -> bool:
    if not _is_upper(word) or word in _german_nouns():
        return False
    if _known(word, lists.last) or _known(word, lists.first):
        return True
    return _NOUN_ENDING.search(word.casefold()) is None


def _given_name_after_kin(word: str, lists: NameLists) -> bool:
    return (
        _is_upper(word)
        and word not in _german_nouns()
        and word not in AMBIGUOUS_FIRST_NAMES
        and _known(word, lists.first)
    )


def _after_role_or_kin(text: str, lists: NameLists) -> Iterable[Finding]:
    """A name after a staff role ("Sachbearbeiter Kowalski") or a kinship word ("mein Sohn
    Emre"), with a second word when it continues the name ("Anna Kowalski")."""
    rules: list[tuple[re.Pattern[str], Callable[[str, NameLists], bool]]] = [
        (_ROLE, _surname_after_role),
        (_KIN, _given_name_after_kin),
        (_OTHER_ROLE_OR_KIN, lambda w, _: _is_upper(w) and w not in COMMON_WORDS),
        (_ARABIC_ROLE_OR_KIN, lambda w, ls: _known(w, ls.first) or _known(w, ls.last)),
    ]
    for pattern, is_name in rules:
        for m in pattern.finditer(text):
            words = _words(text, m.end(), 2)
            if not words or not is_name(words[0].group(), lists):
                continue
            last = words[0]
            if len(words) > 1 and (
                _surname_after_role(words[1].group(), lists)
                if pattern is not _ARABIC_ROLE_OR_KIN
                else _known(words[1].group(), lists.last)
            ):
                last = words[1]
            yield Finding("name", words[0].start(), last.end())


def _adjacent(text: str, left: re.Match[str], right: re.Match[str]) -> bool:
    return re.fullmatch(r"[ \t]+", text[left.end() : right.start()]) is not None


def _known_pairs(text: str, lists: NameLists) -> Iterable[Finding]:
    """A known first name and the name-like words after it (a surname, a patronymic)."""
    words = list(_WORD.finditer(text))
    for i, w in enumerate(words[:-1]):
        word = w.group()
        arabic = word[0] >= "\u0600" and _ARABIC.match(word) is not None
        if not arabic and (not word[0].isupper() or word in COMMON_WORDS):
            continue
        nxt = words[i + 1]
        if not _known(word, lists.first) or not _adjacent(text, w, nxt):
            continue
        second = nxt.group()
        if arabic:
            ok = _ARABIC.search(second) is not None and _name_like(second, lists)
        elif word in AMBIGUOUS_FIRST_NAMES:
            ok = _is_upper(second) and _known(second, lists.last)
        else:
            ok = _is_upper(second) and second not in COMMON_WORDS
        if not ok:
            continue
        end = nxt.end()
        if i + 2 < len(words):
            third = words[i + 2]
            name = third.group()
            if (
                _adjacent(text, nxt, third)
                and (arabic or _is_upper(name))
                and name not in COMMON_WORDS
                and (_known(name, lists.last) or _known(name, lists.first))
            ):
                end = third.end()
        yield Finding("name", w.start(), end)


def _names(text: str) -> Iterable[Finding]:
    lists = name_lists()
    yield from _after_cue(text, lists)
    yield from _after_title(text, lists)
    yield from _known_pairs(text, lists)
    yield from _after_role_or_kin(text, lists)


# ---- putting it together --------------------------------------------------------------------

Detector = Callable[[str], Iterable[Finding]]
_DIGIT = re.compile(r"\d")
_AT_SIGN = re.compile(r"@|(?i:[\s(\[{<](?:at|ät)[\s)\]}>])")


def find_personal_data(text: str, *, today: dt.date | None = None) -> list[Finding]:
    """Non-overlapping findings, in text order. Stronger kinds win an overlap: an IBAN is not
    also a phone number, a date of birth not a phone number, a street not a name."""
    return list(_find(text, today or dt.date.today()))


@lru_cache(maxsize=8192)
def _find(text: str, today: dt.date) -> tuple[Finding, ...]:
    """Cached: a dashboard shows the same comments on every visit (about 0.1-0.2 ms each)."""
    detectors: list[Detector] = []
    if _DIGIT.search(text) or _AT_SIGN.search(text):  # most hold neither: skip those rules
        detectors += [_numbers, lambda t: _birth_dates(t, today), _addresses, _phones]
    detectors.append(_names)
    taken = [False] * len(text)
    found: list[Finding] = []
    for detect in detectors:
        for f in sorted(detect(text), key=lambda f: (f.start, -(f.end - f.start))):
            if f.end <= f.start or any(taken[f.start : f.end]):
                continue
            taken[f.start : f.end] = [True] * (f.end - f.start)
            found.append(f)
    found.sort(key=lambda f: f.start)
    return tuple(_merge_names(text, found))


def _merge_names(text: str, found: list[Finding]) -> list[Finding]:
    """Two name findings with only spaces between them are one name."""
    out: list[Finding] = []
    for f in found:
        if out and out[-1].kind == f.kind == "name" and not text[out[-1].end : f.start].strip():
            out[-1] = Finding("name", out[-1].start, f.end)
        else:
            out.append(f)
    return out


def mask_personal_data(
    text: str, masks: Mapping[str, str] = MASKS, *, today: dt.date | None = None
) -> str:
    """`text` with each piece of personal data replaced by its kind's label, e.g.
    "Frau Meier, Tel. 0171 2345678" -> "Frau [Name], Tel. [Telefon]"."""
    out: list[str] = []
    pos = 0
    for f in find_personal_data(text, today=today):
        out.append(text[pos : f.start])
        out.append(masks.get(f.kind, MASKS[f.kind]))
        pos = f.end
    out.append(text[pos:])
    return "".join(out)
