"""The host's attack: who could each finished response be, given every copy ever made?

What it models (issue 17, and the host of docs/anonymity.md). Whoever runs the server
holds

* the master key;
* copies of the database taken at many moments — the file and its WAL as they stood
  (after every completion, or after every answer) — and every backup `store.backup`
  ever wrote, in the order they were made, and knows when the nightly rebuild ran
  (their own cron job runs it);
* the Telegram id of everyone in the partnership, and, as a host who keeps the
  contacts would, each person's organisation and role, and which single-use code went
  to which member (they printed the slips).

It trusts nothing of trustscan: it decrypts every page and every WAL frame itself
(`tests/anonymity.py`), reads b-tree pages, cells and records from the bytes
(`tests/sqlite_pages.py`) — including old page images in the WAL and rows no query
returns — and restates the key derivations of `surveys/keys.py` below.

For each finished response of a target copy — a released `responses` row, or a
`pending` row still waiting for its release (its content is readable with the key) —
it computes the **candidate set**: the people (Telegram ids) who could have given it,
consistent with everything in the series. A person is a candidate of a response only
if some assignment of *all* the target's responses to distinct people satisfies every
inference at once (an exact bipartite-matching check, so "a's answers are known, so
b's must be the other one" counts too). The inferences, each of which can be switched
off (`Channels`) to measure what it gives alone:

* **group** (always): a response's organisation and role must be the person's, as far
  as the host knows them.
* **content** (finding 1): whatever a copy links to a person's unfinished response,
  its answers must all be found again in that person's finished response. The host
  tries everything it can: the readable session rows and unfinished responses of an
  earlier version (found by HMAC(wave secret, Telegram id), or a code's hash with
  `codes`), and every `drafts`, `draft_items` and `consent_screens` row key it can
  derive from a Telegram id (`guesses`: the session, consent and seal keys, and the
  draft row key of a secret taken from each), opening what it finds with the key
  that goes with it. A draft is really keyed by a random session secret the database
  never holds; the attack is not given it, so today it finds none.
* **markers** (finding 2): a copy shows who has finished (`finished`, HMAC(wave
  secret, Telegram id), computable while the wave's salt exists — the salt of any
  earlier copy will do). A marker is written in the transaction that releases its
  author's response, so a person marked in a copy gave a response released in that
  copy (T1). Where a copy shows a group with as many marked people as released
  responses (every member's state known), those people are exactly the authors of
  its released responses, so nobody unmarked there gave one of them (T2). Across the
  series, that is the interval intersection of finding 2, now at the granularity of
  releases.
* **codes** (docs/anonymity.md): a code's hash turning `used` (at the release, too) is
  a completion marker of the member who got that code, and it outlives the close.

Responses are followed across copies by id, and across a change of id by their
content (all answers equal): a `pending` row and the `responses` row it is released
as are one response. If the series contradicts an assumption (no assignment fits),
the attack drops T2, then content, then T1, and says so in `Findings.dropped`; tests
check that every candidate set still holds the true author.

Three more measures:

* `Findings.unfinished`: the answers of an unfinished response that a copy links to
  its owner's Telegram id — what "no unfinished answer can be read" forbids.
* `Findings.followed`: the people whose unfinished answers (content) are found again
  in exactly one finished response — finding 1 as the issue counts it ("2 of 2").
* `HostAttack.positions` (finding 3): a guess, not an inference. Within one copy of an
  open wave it ranks the released responses written since the last rebuild by where
  SQLite put them (page number, then cell offset), ranks the people by when their
  completion marker appeared, and pairs ranks, give or take `window`, keeping those of
  the response's group. A release writes its rows together in the order of fresh
  random ids and its markers together, so its people share their ranks; a release
  that marked fewer people than it released responses (a restarted process forgot
  some finishers) may hold any never-marked member's, and its guess says so. Its sets
  can be wrong; tests count only those that hold the true author.

Not modelled: file sizes and modification times without the key (finding 4), the
reports (findings 5 and 6), and what code running on the server sees live.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import struct
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from tests.anonymity import FRAME_HEADER, PAGE, WAL_HEADER, decrypt_page
from tests.sqlite_pages import (
    MAGIC,
    Located,
    Parsed,
    Table,
    Value,
    entries,
    overflows,
    parse,
    schema,
    tree_pages,
)

Answer = tuple[object, ...]  # question, target, part, value, text: one answers row

# -- the key derivations of surveys/keys.py, restated so the attack trusts none of it ----


def database_key(master_key: bytes) -> bytes:
    return hmac.new(master_key, b"trustscan/database-key/v1", hashlib.sha256).digest()


def wave_secret(master_key: bytes, salt: bytes) -> bytes:
    return hmac.new(master_key, b"trustscan/wave-secret/v1\x00" + salt, hashlib.sha256).digest()


def session_key(secret: bytes, telegram_id: int) -> bytes:
    return hmac.new(secret, str(telegram_id).encode("ascii"), hashlib.sha256).digest()


def code_hash(master_key: bytes, code: str) -> bytes:
    key = hmac.new(master_key, b"trustscan/code-hash/v1", hashlib.sha256).digest()
    return hmac.new(key, code.encode("utf-8"), hashlib.sha256).digest()


def consent_key(secret: bytes, telegram_id: int) -> bytes:
    message = b"trustscan/consent-screen/v1\x00" + str(telegram_id).encode("ascii")
    return hmac.new(secret, message, hashlib.sha256).digest()


def seal_key(secret: bytes, telegram_id: int) -> bytes:
    message = b"trustscan/session-seal/v1\x00" + str(telegram_id).encode("ascii")
    return hmac.new(secret, message, hashlib.sha256).digest()


def draft_key(session_secret: bytes) -> bytes:
    return hmac.new(session_secret, b"trustscan/draft-row/v1", hashlib.sha256).digest()


def draft_cipher(session_secret: bytes) -> bytes:
    return hmac.new(session_secret, b"trustscan/draft-cipher/v1", hashlib.sha256).digest()


def unlock(key: bytes, blob: bytes) -> bytes | None:
    """AES-256-GCM open of `nonce ‖ ciphertext` (keys.lock), None if the key is wrong."""
    if len(blob) < 12 + 16 + 1:
        return None
    try:
        padded = AESGCM(key).decrypt(blob[:12], blob[12:], None)
    except InvalidTag:
        return None
    return padded[: padded.rindex(b"\x80")] if b"\x80" in padded else padded


def guesses(secret: bytes, telegram_id: int) -> dict[bytes, bytes]:
    """Every draft row key the host can derive from a Telegram id → the AES key to try.

    The session secret itself is 12 random bytes the database never holds; all the host
    can do is derive values from the id (the session, consent and seal keys of earlier
    versions) and try them as row keys, and as secrets behind a draft's row key.
    """
    found: dict[bytes, bytes] = {}
    for value in (
        session_key(secret, telegram_id),
        consent_key(secret, telegram_id),
        seal_key(secret, telegram_id),
    ):
        found[value] = value
        for candidate in (value[:12], value):
            found[draft_key(candidate)] = draft_cipher(candidate)
    return found


# -- what the host has -----------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    """Someone in the partnership as the host knows them (None: not known)."""

    telegram_id: int
    org: str | None = None
    role: str | None = None
    code: str | None = None  # the single-use code on this member's slip


@dataclass(frozen=True, eq=False)
class Snapshot:
    """One copy of the database: its pages as they lay on disk (encrypted), its WAL.

    `backup`: written by `store.backup` (a rebuilt file), not a copy of the live one.
    `rebuilds`: how many rebuilds (nightly, or a close) had run when it was taken.
    Pages equal to the previous copy's are the same objects (`taken`): a series of
    hundreds of copies costs little more memory than the pages that changed.
    """

    label: str
    pages: tuple[bytes, ...]
    wal: bytes = b""
    backup: bool = False
    rebuilds: int = 0

    @classmethod
    def taken(
        cls,
        label: str,
        database: bytes,
        wal: bytes = b"",
        *,
        previous: Snapshot | None = None,
        backup: bool = False,
        rebuilds: int = 0,
    ) -> Snapshot:
        old = previous.pages if previous is not None else ()
        pages = []
        for i in range(len(database) // PAGE):
            page = database[i * PAGE : (i + 1) * PAGE]
            pages.append(old[i] if i < len(old) and old[i] == page else page)
        return cls(label, tuple(pages), wal, backup, rebuilds)


@dataclass(frozen=True)
class Channels:
    """Which inferences the attack uses (the group's is always on)."""

    content: bool = True
    markers: bool = True
    codes: bool = True


ALL = Channels()
GROUP_ONLY = Channels(content=False, markers=False, codes=False)
CONTENT = Channels(content=True, markers=False, codes=False)
MARKERS = Channels(content=False, markers=True, codes=False)
CODES = Channels(content=False, markers=False, codes=True)


# -- what one copy shows -----------------------------------------------------------------


@dataclass(frozen=True)
class ResponseRow:
    id: bytes
    wave: int
    org: str
    role: str | None
    complete: bool  # finished: released, or waiting in `pending`
    code: bytes | None
    page: int  # where its cell sits in its table's b-tree
    offset: int
    released: bool = True  # a `responses` row (False: a `pending` one, or unfinished)


@dataclass
class Facts:
    """What the key holder reads in one copy: the current rows, and every old image's."""

    label: str
    backup: bool
    rebuilds: int
    status: dict[int, str] = field(default_factory=dict)  # wave → status
    salts: dict[int, bytes] = field(default_factory=dict)
    finished: dict[int, set[bytes]] = field(default_factory=dict)  # wave → completion markers
    responses: dict[bytes, ResponseRow] = field(default_factory=dict)
    answers: dict[bytes, frozenset[Answer]] = field(default_factory=dict)  # current, per response
    codes: dict[bytes, bool] = field(default_factory=dict)  # code hash → used
    # from every page image of the copy (file and WAL, current or not):
    pointers: set[tuple[bytes, bytes]] = field(default_factory=set)  # session key, response
    held: set[tuple[bytes, bytes]] = field(default_factory=set)  # code hash, unfinished response
    drafts: dict[bytes, set[bytes]] = field(default_factory=dict)  # row key → sealed blobs
    remnants: list[Remnants] = field(default_factory=list)

    def seen(self, response: bytes) -> set[Answer]:
        """Every answers row of `response` in any page image of this copy."""
        found: set[Answer] = set()
        for page in self.remnants:
            found |= page.answers.get(response, frozenset())
        return found


class Pages:
    """Decrypted, parsed pages, and what each holds, cached by ciphertext: read once each.

    A series of hundreds of copies shares most pages, so each copy costs only the
    pages that changed since the one before.
    """

    def __init__(self, master_key: bytes) -> None:
        self._key = database_key(master_key)
        self._parsed: dict[tuple[bytes, bool], tuple[bytes, Parsed | None]] = {}
        self._rows: dict[tuple[bytes, int, str], list[tuple[Located, dict[str, Value]]]] = {}
        self._remnants: dict[tuple[bytes, bool], Remnants] = {}
        self._tables: dict[tuple[bytes, ...], Mapping[str, Table]] = {}
        self._answers: dict[tuple[bytes, int], dict[bytes, frozenset[Answer]]] = {}

    def get(self, raw: bytes, number: int) -> tuple[bytes, Parsed | None]:
        first = number == 1
        cached = self._parsed.get((raw, first))
        if cached is None:
            clear = decrypt_page(self._key, raw[:PAGE], first)
            image = MAGIC + clear if first else clear
            cached = self._parsed[(raw, first)] = (image, parse(image, number))
        return cached

    def rows(self, view: View, table: Table) -> Iterator[tuple[Located, dict[str, Value]]]:
        """The rows of `table` in this copy, with where each sits."""
        for number in tree_pages(table.root, view.parsed):
            raw = view.raw[number]
            page = self.get(raw, number)[1]
            assert page is not None
            if overflows(page):  # its records continue on other pages: not cacheable alone
                for located in entries(number, page, view.image):
                    yield located, table.row(located)
                continue
            key = (raw, number, table.name)
            cached = self._rows.get(key)
            if cached is None:
                cached = self._rows[key] = [(e, table.row(e)) for e in entries(number, page)]
            yield from cached

    def answers(self, view: View, table: Table) -> Iterator[Mapping[bytes, frozenset[Answer]]]:
        """The answers rows of this copy, grouped by response, page by page."""
        for number in tree_pages(table.root, view.parsed):
            key = (view.raw[number], number)
            grouped = self._answers.get(key)
            if grouped is None:
                rows: dict[bytes, set[Answer]] = defaultdict(set)
                page = view.parsed(number)
                assert page is not None
                for located in entries(number, page, view.image):
                    response, *rest = located.values
                    if isinstance(response, bytes):
                        rows[response].add(tuple(rest))
                grouped = {rid: frozenset(found) for rid, found in rows.items()}
                if not overflows(page):
                    self._answers[key] = grouped
            yield grouped

    def schema(self, view: View) -> Mapping[str, Table]:
        numbers = tree_pages(1, view.parsed)
        key = tuple(view.raw[n] for n in numbers)
        tables = self._tables.get(key)
        if tables is None:
            tables = self._tables[key] = schema(view.parsed, view.image)
        return tables

    def remnants(self, raw: bytes, number: int, tables: Mapping[str, Table]) -> Remnants:
        """Session pointers, code holds, answers and drafts in one page image, current or not.

        A page image is judged by its records' shape (the schema's column count, types
        and NOT NULLs), not by which b-tree owns the page now: an old WAL frame or a free
        page may hold rows of a table it no longer belongs to.
        """
        key = (raw, number == 1)
        found = self._remnants.get(key)
        if found is not None:
            return found
        found = self._remnants[key] = Remnants()
        page = self.get(raw, number)[1]
        answered: dict[bytes, set[Answer]] = defaultdict(set)
        shapes: dict[int, list[Table]] = defaultdict(list)  # column count → tables
        for name in (
            "sessions",
            "responses",
            "answers",
            "drafts",
            "draft_items",
            "consent_screens",
        ):
            if name in tables:
                shapes[len(tables[name].columns)].append(tables[name])
        for values in page.records if page is not None else ():
            if values is None:
                continue
            shape = next((t for t in shapes.get(len(values), ()) if t.fits(values)), None)
            if shape is None:
                continue
            if shape.name == "answers":
                if isinstance(response := values[0], bytes):
                    answered[response].add(values[1:])
                continue
            row = dict(zip(shape.names, values, strict=True))
            if shape.name in ("drafts", "draft_items", "consent_screens"):
                key = _blob(row.get("key", row.get("draft")))
                if key is not None and (sealed := _blob(row.get("sealed"))) is not None:
                    found.drafts.append((key, sealed))
            elif shape.name == "sessions":
                session, pointer = _blob(row.get("key")), _blob(row.get("response"))
                if session is not None and pointer is not None:
                    found.pointers.append((session, pointer))
            else:
                code, rid = _blob(row.get("code")), _blob(row.get("id"))
                if code is not None and rid is not None and row.get("complete") == 0:
                    found.held.append((code, rid))
        found.answers = {rid: frozenset(rows) for rid, rows in answered.items()}
        return found


@dataclass
class Remnants:
    """What one page image holds of sessions, unfinished responses, answers and drafts."""

    pointers: list[tuple[bytes, bytes]] = field(default_factory=list)
    held: list[tuple[bytes, bytes]] = field(default_factory=list)
    drafts: list[tuple[bytes, bytes]] = field(default_factory=list)  # row key, sealed blob
    answers: dict[bytes, frozenset[Answer]] = field(default_factory=dict)


@dataclass
class View:
    """One copy as SQLite would read it: each page's newest committed image."""

    pages: Pages
    raw: dict[int, bytes]

    def parsed(self, number: int) -> Parsed | None:
        raw = self.raw.get(number)
        return self.pages.get(raw, number)[1] if raw is not None else None

    def image(self, number: int) -> bytes | None:
        raw = self.raw.get(number)
        return self.pages.get(raw, number)[0] if raw is not None else None


def wal_frames(wal: bytes) -> tuple[list[tuple[int, bytes]], list[tuple[int, bytes]]]:
    """(committed frames of the current WAL, every frame): (page number, encrypted page).

    Frames count while their salt is the header's; only those up to the last commit
    frame are part of the database. Older frames (a WAL restarted without truncation)
    are still bytes on disk, and the attack reads them too.
    """
    if len(wal) < WAL_HEADER:
        return [], []
    salt = wal[16:24]
    every: list[tuple[int, bytes]] = []
    valid: list[tuple[int, bytes]] = []
    last_commit = 0
    current = True
    offset = WAL_HEADER
    while offset + FRAME_HEADER + PAGE <= len(wal):
        number, commit = struct.unpack(">II", wal[offset : offset + 8])
        frame = wal[offset + FRAME_HEADER : offset + FRAME_HEADER + PAGE]
        every.append((number, frame))
        current = current and wal[offset + 8 : offset + 16] == salt
        if current:
            valid.append((number, frame))
            if commit:
                last_commit = len(valid)
        offset += FRAME_HEADER + PAGE
    return valid[:last_commit], every


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _blob(value: object) -> bytes | None:
    return value if isinstance(value, bytes) else None


def _int(value: object) -> int:
    return value if isinstance(value, int) else 0


def read_copy(pages: Pages, snapshot: Snapshot) -> Facts:
    """Everything the key holder reads in one copy, from its page images alone."""
    committed, every = wal_frames(snapshot.wal)
    raw = {i + 1: page for i, page in enumerate(snapshot.pages)}
    raw.update(committed)
    view = View(pages, raw)
    facts = Facts(snapshot.label, snapshot.backup, snapshot.rebuilds)
    if view.parsed(1) is None:
        return facts  # a wrong key reads noise: no schema, nothing below
    tables = pages.schema(view)
    if "waves" in tables:
        for _, row in pages.rows(view, tables["waves"]):
            facts.status[_int(row.get("id"))] = str(row.get("status"))
            if (salt := _blob(row.get("salt"))) is not None:
                facts.salts[_int(row.get("id"))] = salt
    if "finished" in tables:
        for _, row in pages.rows(view, tables["finished"]):
            if (marker := _blob(row.get("marker"))) is not None:
                facts.finished.setdefault(_int(row.get("wave")), set()).add(marker)
    if "sessions" in tables:  # an earlier version's completed sessions were markers too
        for _, row in pages.rows(view, tables["sessions"]):
            key = _blob(row.get("key"))
            if row.get("completed") == 1 and key is not None:
                facts.finished.setdefault(_int(row.get("wave")), set()).add(key)
    if "responses" in tables:
        for located, row in pages.rows(view, tables["responses"]):
            rid = _blob(row.get("id"))
            if rid is not None:
                facts.responses[rid] = ResponseRow(
                    rid,
                    _int(row.get("wave")),
                    str(row.get("org")),
                    _text(row.get("role")),
                    row.get("complete") == 1,
                    _blob(row.get("code")),
                    located.page,
                    located.offset,
                )
    if "pending" in tables:  # finished, waiting for their release: readable with the key
        for located, row in pages.rows(view, tables["pending"]):
            rid, content = _blob(row.get("id")), _text(row.get("content"))
            if rid is None or content is None:
                continue
            facts.responses[rid] = ResponseRow(
                rid,
                _int(row.get("wave")),
                str(row.get("org")),
                _text(row.get("role")),
                True,
                None,
                located.page,
                located.offset,
                released=False,
            )
            facts.answers[rid] = pending_answers(content)
    if "answers" in tables:
        for grouped in pages.answers(view, tables["answers"]):
            for response, rows in grouped.items():
                have = facts.answers.get(response)
                facts.answers[response] = rows if have is None else have | rows
    if "codes" in tables:
        for _, row in pages.rows(view, tables["codes"]):
            if (digest := _blob(row.get("hash"))) is not None:
                facts.codes[digest] = row.get("used") == 1
    for number, page in [*enumerate(snapshot.pages, start=1), *every]:
        found = pages.remnants(page, number, tables)
        if found.pointers or found.held or found.answers or found.drafts:
            facts.pointers.update(found.pointers)
            facts.held.update(found.held)
            for key, sealed in found.drafts:
                facts.drafts.setdefault(key, set()).add(sealed)
            facts.remnants.append(found)
    return facts


def draft_answers(payload: bytes | None) -> set[Answer]:
    """The answers rows of an opened draft item ([question, target, [[part, value, text]]])."""
    if payload is None:
        return set()
    try:
        question, target, rows = json.loads(payload)
        return {(question, target, part, value, text) for part, value, text in rows}
    except (ValueError, TypeError):
        return set()  # a draft's state, not an item


def pending_answers(content: str) -> frozenset[Answer]:
    """The answers rows a `pending` row's content will be released as (its free text apart)."""
    try:
        data = json.loads(content)
        return frozenset(tuple(answer) for answer in data["a"])
    except (ValueError, KeyError, TypeError):
        return frozenset()


# -- the inference -----------------------------------------------------------------------


@dataclass(frozen=True)
class Findings:
    """The candidate set of each finished response of the target copy, and more."""

    candidates: Mapping[bytes, frozenset[int]]  # response id → Telegram ids
    unfinished: Mapping[int, frozenset[Answer]]  # Telegram id → answers read while busy
    followed: Mapping[int, bytes]  # Telegram id → the one finished response content allows
    dropped: tuple[str, ...]  # assumptions the series contradicted (so not used)

    def narrowed(self, k: int) -> dict[bytes, frozenset[int]]:
        """The responses whose candidate set has fewer than k people."""
        return {r: c for r, c in self.candidates.items() if len(c) < k}


class Copies:
    """What the key holder reads in each copy, read once however often it is asked.

    Knows nothing about people, so attacks with different knowledge of the
    partnership can share one (`HostAttack(..., copies=)`).
    """

    def __init__(self, master_key: bytes) -> None:
        self._pages = Pages(master_key)
        self._facts: dict[int, tuple[Snapshot, Facts]] = {}
        self._lineages: dict[tuple[int, ...], Lineages] = {}

    def facts(self, snapshot: Snapshot) -> Facts:
        cached = self._facts.get(id(snapshot))
        if cached is None or cached[0] is not snapshot:
            cached = self._facts[id(snapshot)] = (snapshot, read_copy(self._pages, snapshot))
        return cached[1]

    def remember(self, snapshot: Snapshot, facts: Facts) -> None:
        """Take what another reader read in this copy (e.g. in another test process)."""
        self._facts[id(snapshot)] = (snapshot, facts)

    def lineages(self, snapshots: Sequence[Snapshot], wave: int) -> Lineages:
        key = (wave, *(id(s) for s in snapshots))
        found = self._lineages.get(key)
        if found is None:
            found = self._lineages[key] = lineages([self.facts(s) for s in snapshots], wave)
        return found


class HostAttack:
    """The attack of the module docstring, for one master key and one partnership."""

    def __init__(
        self, master_key: bytes, people: Sequence[Person], copies: Copies | None = None
    ) -> None:
        self.master_key = master_key
        self.people = tuple(people)
        self.copies = copies or Copies(master_key)
        self._codes = {code_hash(master_key, p.code): p.telegram_id for p in self.people if p.code}
        self._by_id = {p.telegram_id: p for p in self.people}
        self._tried: dict[bytes, dict[bytes, tuple[int, bytes]]] = {}  # salt → `_guesses`

    def facts(self, snapshot: Snapshot) -> Facts:
        return self.copies.facts(snapshot)

    # -- the series as the attack sees it ------------------------------------------------

    def _keys(self, series: Sequence[Facts], wave: int) -> dict[bytes, int]:
        """Marker (and earlier versions' session key) → Telegram id, from the wave's salt in
        any copy of the series."""
        salt = next((f.salts[wave] for f in series if wave in f.salts), None)
        if salt is None:
            return {}
        secret = wave_secret(self.master_key, salt)
        return {session_key(secret, p.telegram_id): p.telegram_id for p in self.people}

    def _markers(
        self, series: Sequence[Facts], wave: int, use: Channels
    ) -> tuple[list[set[int]], list[set[int]]]:
        """Per copy: who is known to have finished, and whose state is known at all."""
        keys = self._keys(series, wave) if use.markers else {}
        finished: list[set[int]] = []
        known: list[set[int]] = []
        everyone = {p.telegram_id for p in self.people}
        for f in series:
            done: set[int] = set()
            seen: set[int] = set()
            if keys:  # a copy of an open wave shows everyone; after a close, who is left
                done |= {keys[k] for k in f.finished.get(wave, ()) if k in keys}
                seen |= everyone if f.status.get(wave) == "open" else done
            if use.codes:
                for digest, person in self._codes.items():
                    if digest in f.codes:
                        seen.add(person)
                        if f.codes[digest]:
                            done.add(person)
            finished.append(done)
            known.append(seen)
        return finished, known

    def analyse(
        self,
        snapshots: Sequence[Snapshot],
        *,
        target: int = -1,
        wave: int | None = None,
        use: Channels = ALL,
    ) -> Findings:
        """Candidate sets of the target copy's finished responses, over the whole series."""
        series = [self.facts(s) for s in snapshots]
        goal = series[target]
        if wave is None:
            waves = {row.wave for row in goal.responses.values() if row.complete}
            wave = min(waves) if waves else 0
        responses = [r for r in goal.responses.values() if r.wave == wave and r.complete]
        followed = self.copies.lineages(snapshots, wave)
        lineage, broken, released = followed.of, followed.broken, followed.released
        finished, known = self._markers(series, wave, use)
        marked: dict[int, int] = defaultdict(int)  # person → copies (bits) that mark them
        seen: dict[int, int] = defaultdict(int)  # person → copies that show their state
        for index in range(len(series)):
            for person in finished[index]:
                marked[person] |= 1 << index
            for person in known[index]:
                seen[person] |= 1 << index
        agree = self._counts_agree(series, wave, finished, known)
        content = self._content(series, goal, wave, responses, use)

        def allowed(response: ResponseRow, person: Person, rules: set[str]) -> bool:
            if not in_group(response, person):
                return False
            shown = released[lineage[response.id]]  # the copies where it is released
            pid = person.telegram_id
            mark = marked.get(pid, 0)
            if "T1" in rules and mark & ~shown:
                return False
            if "T2" in rules and shown & agree(pid) & seen.get(pid, 0) & ~mark:
                return False
            return "content" not in rules or pid not in content or response.id in content[pid]

        # Drop the assumption the series contradicts first: T2 (counts, lineage), then
        # content (nobody changed an answer), then T1 (a marker is written with its
        # response's release). With none left, the groups alone must fit.
        active = {"T1", "content"} | (set() if broken else {"T2"})
        dropped = ["T2: a finished response vanished"] if broken else []
        while True:
            edges = {
                r.id: {p.telegram_id for p in self.people if allowed(r, p, active)}
                for r in responses
            }
            candidates = feasible(edges)
            if candidates is not None:
                break
            rule = next((r for r in ("T2", "content", "T1") if r in active), None)
            if rule is None:
                raise AssertionError("more responses of a group than people the host knows")
            active.discard(rule)
            dropped.append(f"{rule}: no assignment fits it")
        return Findings(
            {r: frozenset(c) for r, c in candidates.items()},
            self._unfinished(series, wave),
            {p: next(iter(rs)) for p, rs in content.items() if len(rs) == 1},
            tuple(dropped),
        )

    def _counts_agree(
        self, series: Sequence[Facts], wave: int, finished: list[set[int]], known: list[set[int]]
    ) -> Callable[[int], int]:
        """Per person: the copies (bits) where their group shows as many marked people as
        released responses, every member's state being known.

        By T1 each marked person's response is released in that copy, a different one
        each; with the counts equal, the marked people are exactly the authors of the
        group's released responses there, so whoever is not marked gave none of them.
        """
        roles_known = all(p.role is not None for p in self.people)
        group_of = {p.telegram_id: (p.org, p.role if roles_known else None) for p in self.people}
        members: dict[tuple[str | None, str | None], set[int]] = defaultdict(set)
        for person, group in group_of.items():
            members[group].add(person)
        masks: dict[tuple[str | None, str | None], int] = defaultdict(int)
        for index, f in enumerate(series):
            shown: dict[tuple[str | None, str | None], int] = defaultdict(int)
            for row in f.responses.values():
                if row.wave == wave and row.complete and row.released:
                    shown[(row.org, row.role if roles_known else None)] += 1
            for group, people in members.items():
                if group[0] is None or not people <= known[index]:
                    continue
                if shown[group] == len(people & finished[index]):
                    masks[group] |= 1 << index
        return lambda person: masks.get(group_of[person], 0)

    def _opened(
        self, series: Sequence[Facts], wave: int
    ) -> Iterator[tuple[Facts, int, bytes | None, set[Answer], bool]]:
        """What each copy links to a person's unfinished response: (copy, person, the
        response's id if it is an earlier version's readable one, its answers read,
        whether it was found by a code's hash).

        Readable unfinished responses of an earlier version, found by the session key
        (HMAC(wave secret, Telegram id)) or a code's hash; and drafts, if any row key the
        host can derive from a Telegram id (`guesses`) names one, opened with the key it
        goes with. The session secret a draft is really keyed by is not the host's.
        """
        keys = self._keys(series, wave)
        tried = self._guesses(series, wave)
        for f in series:
            owned = [(keys[k], rid, False) for k, rid in f.pointers if k in keys]
            owned += [(self._codes[c], rid, True) for c, rid in f.held if c in self._codes]
            for person, rid, by_code in owned:
                yield f, person, rid, f.seen(rid), by_code
            for key, blobs in f.drafts.items():
                if key not in tried:
                    continue
                person, aes = tried[key]
                read: set[Answer] = set()
                for blob in blobs:
                    read |= draft_answers(unlock(aes, blob))
                yield f, person, None, read, False

    def _guesses(self, series: Sequence[Facts], wave: int) -> dict[bytes, tuple[int, bytes]]:
        """Every row key `guesses` derives from everyone's Telegram id → (person, AES key)."""
        salt = next((f.salts[wave] for f in series if wave in f.salts), None)
        if salt is None:
            return {}
        cached = self._tried.get(salt)
        if cached is None:
            secret = wave_secret(self.master_key, salt)
            cached = self._tried[salt] = {
                key: (p.telegram_id, aes)
                for p in self.people
                for key, aes in guesses(secret, p.telegram_id).items()
            }
        return cached

    def _content(
        self,
        series: Sequence[Facts],
        goal: Facts,
        wave: int,
        responses: Sequence[ResponseRow],
        use: Channels,
    ) -> dict[int, set[bytes]]:
        """Person → the responses that still hold every answer a copy showed them giving."""
        if not use.content:
            return {}
        final = {r.id: goal.answers.get(r.id, frozenset()) for r in responses}
        for f in series:  # a response's answers as any copy of the series shows them
            for rid in final:
                if not final[rid]:
                    final[rid] = f.answers.get(rid, frozenset())
        allowed: dict[int, set[bytes]] = {}
        for _, person, rid, read, by_code in self._opened(series, wave):
            if by_code and not use.codes:
                continue
            given = {a for a in read if a[-1] is None}  # free text moves
            if not given and (rid is None or rid not in final):
                continue
            fits = {r for r, answers in final.items() if r == rid or given <= answers}
            if fits:  # none: they changed an answer later, or never finished
                allowed[person] = allowed.get(person, fits) & fits
        return allowed

    def _unfinished(self, series: Sequence[Facts], wave: int) -> dict[int, frozenset[Answer]]:
        """Telegram id → every answer a copy shows in their unfinished response."""
        read: dict[int, set[Answer]] = defaultdict(set)
        for _, person, _, answers, _ in self._opened(series, wave):
            read[person] |= answers
        return {p: frozenset(a) for p, a in read.items() if a}

    # -- finding 3: a row's place in its page ---------------------------------------------

    def positions(
        self, snapshots: Sequence[Snapshot], *, wave: int | None = None, window: int = 1
    ) -> dict[bytes, frozenset[int]]:
        """The rank-pairing guess of the module docstring, per response written in an epoch.

        For each stretch between rebuilds, the last copy of the open wave is read: its
        responses first seen in that stretch are ranked by (page, −offset); the people
        whose marker first appeared in that stretch are ranked by when; a response's
        guess is the people whose rank lies within `window` of its own.
        """
        series = [self.facts(s) for s in snapshots]
        if wave is None:
            waves = {r.wave for f in series for r in f.responses.values() if r.complete}
            wave = min(waves) if waves else 0
        followed = self.copies.lineages(snapshots, wave)
        lineage, released = followed.of, followed.released
        finished, _ = self._markers(series, wave, MARKERS)
        since: dict[int, int] = {}
        for index, done in enumerate(finished):
            for person in done:
                since.setdefault(person, index)
        never = [p.telegram_id for p in self.people if p.telegram_id not in since]
        last: dict[int, int] = {}
        for index, f in enumerate(series):
            if not f.backup and f.status.get(wave) == "open":
                last[f.rebuilds] = index
        guesses: dict[bytes, frozenset[int]] = {}
        for epoch, index in last.items():
            epoch_copies = {i for i, f in enumerate(series) if f.rebuilds == epoch}
            f = series[index]
            written = sorted(
                (
                    row
                    for row in f.responses.values()
                    if row.wave == wave
                    and row.released
                    and _lowest(released[lineage[row.id]]) in epoch_copies
                ),
                key=lambda row: (row.page, -row.offset),
            )
            people = sorted(
                (when, person) for person, when in since.items() if when in epoch_copies
            )
            ranks: dict[int, list[int]] = defaultdict(list)  # copy → ranks of its finishers
            for rank, (when, _) in enumerate(people):
                ranks[when].append(rank)
            spans = {person: (ranks[when][0], ranks[when][-1]) for when, person in people}
            for rank, row in enumerate(written):
                guess = {
                    person
                    for person, (low, high) in spans.items()
                    if low <= rank + window
                    and high >= rank - window
                    and in_group(row, self._by_id[person])
                }
                # a release that marked fewer people of the group than it released
                # responses (its process forgot some finishers: a restart) has authors
                # the host cannot see: its response may be any of those it marked, or
                # anyone of the group never marked
                when = _lowest(released[lineage[row.id]])
                shown = sum(
                    1
                    for other in written
                    if (other.org, other.role) == (row.org, row.role)
                    and _lowest(released[lineage[other.id]]) == when
                )
                marked = {
                    p for p, at in since.items() if at == when and in_group(row, self._by_id[p])
                }
                if len(marked) < shown:
                    guess = marked | {p for p in never if in_group(row, self._by_id[p])}
                guesses[row.id] = frozenset(guess)
        return guesses


@dataclass(frozen=True)
class Lineages:
    """Finished responses followed through a series (by id, else by content)."""

    of: dict[bytes, int]  # response id → lineage
    first: list[int]  # lineage → the index of the first copy that holds it
    broken: bool  # a finished response vanished without a successor
    released: list[int]  # lineage → the copies (bit i: copy i) where it is a `responses` row


def lineages(series: Sequence[Facts], wave: int) -> Lineages:
    """Follow each finished response through the series: by id, else by its content.

    A `pending` row and the `responses` row it is released as (same content) are one
    lineage. Returns the lineage of each response id, each lineage's first copy, whether
    a finished response ever vanished without a successor (then T2 is unsafe), and the
    copies in which each lineage is released.
    """
    lineage: dict[bytes, int] = {}
    first: list[int] = []
    released: list[int] = []
    previous: dict[bytes, tuple[object, ...]] = {}
    broken = False
    for index, f in enumerate(series):
        now: dict[bytes, tuple[object, ...]] = {
            rid: (row.org, row.role, f.answers.get(rid, frozenset()))
            for rid, row in f.responses.items()
            if row.wave == wave and row.complete
        }
        if not now and f.status.get(wave) is None:
            continue  # a copy without this wave (or unreadable) says nothing
        gone: dict[tuple[object, ...], list[bytes]] = defaultdict(list)
        for rid, content in previous.items():
            if rid not in now:
                gone[content].append(rid)
        new = [rid for rid in now if rid not in lineage]
        arriving: dict[tuple[object, ...], list[bytes]] = defaultdict(list)
        for rid in new:
            arriving[now[rid]].append(rid)
        followed = 0
        for rid in new:
            old = gone.get(now[rid], [])
            if len(old) == 1 and len(arriving[now[rid]]) == 1:
                lineage[rid] = lineage[old[0]]
                followed += 1
            else:
                lineage[rid] = len(first)
                first.append(index)
                released.append(0)
        for rid in now:
            if f.responses[rid].released:
                released[lineage[rid]] |= 1 << index
        if sum(len(v) for v in gone.values()) > followed:
            broken = True
        previous = now
    return Lineages(lineage, first, broken, released)


def _lowest(bits: int) -> int:
    """The index of the lowest set bit (the first copy of a mask); -1 for none."""
    return (bits & -bits).bit_length() - 1


def in_group(row: ResponseRow, person: Person) -> bool:
    """Whether the person's organisation and role, as far as known, are the response's."""
    return (person.org is None or person.org == row.org) and (
        person.role is None or row.role is None or person.role == row.role
    )


def feasible(edges: Mapping[bytes, set[int]]) -> dict[bytes, set[int]] | None:
    """Each response's people that some assignment of every response to a distinct person uses.

    None if no such assignment exists. Works per connected component; a component where
    every response may be anyone of the component (a group) needs no search.
    """
    parent: dict[object, object] = {}

    def find(x: object) -> object:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for response, people in edges.items():
        for person in people:
            parent[find(("r", response))] = find(("p", person))
        find(("r", response))
    components: dict[object, list[bytes]] = defaultdict(list)
    for response in edges:
        components[find(("r", response))].append(response)
    result: dict[bytes, set[int]] = {}
    for responses in components.values():
        people = set().union(*(edges[r] for r in responses))
        if len(people) < len(responses):
            return None
        if all(edges[r] == people for r in responses):
            for r in responses:
                result[r] = set(people)
            continue
        part = _feasible_component({r: edges[r] for r in responses})
        if part is None:
            return None
        result.update(part)
    return result


def _feasible_component(edges: Mapping[bytes, set[int]]) -> dict[bytes, set[int]] | None:
    match: dict[int, bytes] = {}  # person → response
    of: dict[bytes, int] = {}  # response → person

    def augment(response: bytes, visited: set[int]) -> bool:
        for person in edges[response]:
            if person in visited:
                continue
            visited.add(person)
            if person not in match or augment(match[person], visited):
                match[person] = response
                of[response] = person
                return True
        return False

    for response in edges:
        if not augment(response, set()):
            return None
    people = set().union(*edges.values())
    # person p → p' when p's response could take p' instead (an alternating step)
    step: dict[int, set[int]] = {p: set() for p in people}
    for person, response in match.items():
        step[person] = edges[response] - {person}
    back: dict[int, set[int]] = {p: set() for p in people}
    for person, nexts in step.items():
        for other in nexts:
            back[other].add(person)

    def reaching(targets: Iterable[int]) -> set[int]:
        seen = set(targets)
        todo = list(seen)
        while todo:
            for person in back[todo.pop()]:
                if person not in seen:
                    seen.add(person)
                    todo.append(person)
        return seen

    to_free = reaching(p for p in people if p not in match)
    result: dict[bytes, set[int]] = {}
    for response, people_of in edges.items():
        mine = of[response]
        to_mine = reaching([mine])
        result[response] = {p for p in people_of if p in to_free or p in to_mine}
    return result
