"""SQLite's file format, read from decrypted page images: b-tree pages, cells, records.

The host attack (`tests/host_attack.py`) must see what SQLite put where — cell offsets,
page numbers, old page images in the WAL, rows a query would no longer return — so it
reads the pages itself instead of asking SQL. This module knows the format and nothing
about trustscan: https://www.sqlite.org/fileformat2.html (b-tree pages, record format,
overflow pages, schema table).

Page images are "whole": `USABLE` bytes as SQLite numbers them, page 1 included (its
first 16 bytes, which SQLCipher replaces by its salt, are put back as SQLite's magic).
"""

from __future__ import annotations

import re
import struct
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace

from tests.anonymity import PAGE, RESERVE

USABLE = PAGE - RESERVE  # SQLCipher reserves 80 bytes per page (IV and HMAC)
MAGIC = b"SQLite format 3\x00"
TABLE_LEAF, TABLE_INTERIOR, INDEX_LEAF, INDEX_INTERIOR = 13, 5, 10, 2

Value = int | float | str | bytes | None
Record = tuple[Value, ...]


def varint(data: bytes, pos: int) -> tuple[int, int]:
    """SQLite's big-endian varint at `pos`: (value, position after it)."""
    value = 0
    for i in range(8):
        byte = data[pos + i]
        value = (value << 7) | (byte & 0x7F)
        if byte < 0x80:
            return value, pos + i + 1
    return (value << 8) | data[pos + 8], pos + 9


_WIDTH = (0, 1, 2, 3, 4, 6, 8)


def record(payload: bytes) -> Record:
    """The values of one record: a header of serial types, then the body."""
    header_size, pos = (payload[0], 1) if payload[0] < 0x80 else varint(payload, 0)
    values: list[Value] = []
    body = header_size
    while pos < header_size:
        serial = payload[pos]
        if serial < 0x80:
            pos += 1
        else:
            serial, pos = varint(payload, pos)
        if serial >= 12:
            width = (serial - 12) >> 1
            raw = payload[body : body + width]
            values.append(raw.decode("utf-8", "replace") if serial & 1 else raw)
            body += width
        elif serial == 0:
            values.append(None)
        elif serial in (8, 9):
            values.append(serial - 8)
        elif serial == 7:
            values.append(struct.unpack_from(">d", payload, body)[0])
            body += 8
        elif serial < 7:
            width = _WIDTH[serial]
            values.append(int.from_bytes(payload[body : body + width], "big", signed=True))
            body += width
        else:
            raise ValueError(f"serial type {serial} is reserved")
    return tuple(values)


@dataclass(frozen=True, slots=True)
class Cell:
    """One cell of a b-tree page, where it sits and what it holds.

    `offset` is where the cell starts in its page (the pointer array's entry); `child`
    the left child of an interior cell; `rowid` the key of a table cell; `payload` the
    part of the record stored on this page, `size` the whole record's length and
    `overflow` the first overflow page (0 when it all fits).
    """

    offset: int
    child: int
    rowid: int | None
    payload: bytes
    size: int
    overflow: int


@dataclass(frozen=True, slots=True)
class BTreePage:
    kind: int
    cells: tuple[Cell, ...]  # in key order (the cell pointer array's order)
    right: int  # an interior page's right-most child; 0 on a leaf

    @property
    def leaf(self) -> bool:
        return self.kind in (TABLE_LEAF, INDEX_LEAF)

    @property
    def children(self) -> tuple[int, ...]:
        return (*(c.child for c in self.cells), self.right) if not self.leaf else ()


def _local(size: int, table_leaf: bool) -> int:
    """How many payload bytes a cell keeps on its page (the rest overflows)."""
    most = USABLE - 35 if table_leaf else (USABLE - 12) * 64 // 255 - 23
    if size <= most:
        return size
    least = (USABLE - 12) * 32 // 255 - 23
    local = least + (size - least) % (USABLE - 4)
    return local if local <= most else least


def btree_page(image: bytes, number: int) -> BTreePage | None:
    """Parse page `number`'s image as a b-tree page; None if it is not one."""
    header = 100 if number == 1 else 0
    kind = image[header]
    if kind not in (TABLE_LEAF, TABLE_INTERIOR, INDEX_LEAF, INDEX_INTERIOR):
        return None
    count = struct.unpack(">H", image[header + 3 : header + 5])[0]
    interior = kind in (TABLE_INTERIOR, INDEX_INTERIOR)
    right = struct.unpack(">I", image[header + 8 : header + 12])[0] if interior else 0
    pointers = header + (12 if interior else 8)
    if pointers + 2 * count > USABLE:
        return None
    cells = []
    for offset in struct.unpack_from(f">{count}H", image, pointers):
        if not pointers + 2 * count <= offset < USABLE:
            return None
        cell = _cell(image, kind, offset)
        if cell is None:
            return None
        cells.append(cell)
    return BTreePage(kind, tuple(cells), right)


def _cell(image: bytes, kind: int, offset: int) -> Cell | None:
    pos, child, rowid = offset, 0, None
    if kind in (TABLE_INTERIOR, INDEX_INTERIOR):
        (child,) = struct.unpack(">I", image[pos : pos + 4])
        pos += 4
    if kind == TABLE_INTERIOR:
        rowid, _ = varint(image, pos)
        return Cell(offset, child, rowid, b"", 0, 0)
    size, pos = varint(image, pos)
    if kind == TABLE_LEAF:
        rowid, pos = varint(image, pos)
    local = _local(size, kind == TABLE_LEAF)
    if pos + local + (4 if local < size else 0) > USABLE:
        return None
    overflow = struct.unpack(">I", image[pos + local : pos + local + 4])[0] if local < size else 0
    return Cell(offset, child, rowid, bytes(image[pos : pos + local]), size, overflow)


def full_payload(cell: Cell, page: Callable[[int], bytes | None]) -> bytes | None:
    """The cell's whole record, following its overflow chain; None if a page is missing."""
    payload, following = cell.payload, cell.overflow
    while following and len(payload) < cell.size:
        image = page(following)
        if image is None:
            return None
        following = struct.unpack(">I", image[:4])[0]
        payload += image[4 : 4 + min(USABLE - 4, cell.size - len(payload))]
    return payload if len(payload) == cell.size else None


@dataclass(frozen=True, slots=True)
class Parsed:
    """A b-tree page with the record of each cell decoded once (None: overflows or bad)."""

    btree: BTreePage
    records: tuple[Record | None, ...]


def parse(image: bytes, number: int) -> Parsed | None:
    """A page image as a b-tree page with its records; None if it is not a b-tree page."""
    page = btree_page(image, number)
    if page is None:
        return None
    records: list[Record | None] = []
    for cell in page.cells:
        try:
            has_record = page.kind != TABLE_INTERIOR and not cell.overflow
            records.append(record(cell.payload) if has_record else None)
        except (ValueError, IndexError):
            records.append(None)
    return Parsed(page, tuple(records))


@dataclass(frozen=True, slots=True)
class Located:
    """A leaf cell's record and where it sits: page number, offset, index in the page."""

    page: int
    offset: int
    index: int
    rowid: int | None
    values: Record


def walk(
    root: int, parsed: Callable[[int], Parsed | None], image: Callable[[int], bytes | None]
) -> Iterator[Located]:
    """Every entry of the b-tree at `root`, in key order, with its record and place.

    A table b-tree keeps its rows in leaf cells; an index b-tree (indexes and WITHOUT
    ROWID tables) keeps entries in its interior cells too, between their children.
    """
    seen: set[int] = set()
    stack: list[int | Located] = [root]
    while stack:
        item = stack.pop()
        if isinstance(item, Located):
            yield item
            continue
        if item in seen:  # a corrupt or half-copied file must not loop forever
            continue
        seen.add(item)
        page = parsed(item)
        if page is None:
            continue
        entries: list[Located | None] = []
        for index, (cell, values) in enumerate(zip(page.btree.cells, page.records, strict=True)):
            if values is None and cell.overflow:
                values = _overflowing(cell, image)
            entries.append(
                Located(item, cell.offset, index, cell.rowid, values)
                if values is not None
                else None
            )
        if page.btree.leaf:
            stack.extend(e for e in reversed(entries) if e is not None)
            continue
        stack.append(page.btree.right)
        for cell, entry in zip(reversed(page.btree.cells), reversed(entries), strict=True):
            if entry is not None:
                stack.append(entry)
            stack.append(cell.child)


def tree_pages(root: int, parsed: Callable[[int], Parsed | None]) -> list[int]:
    """The page numbers of the b-tree at `root` (interior and leaf), parents first."""
    seen: set[int] = set()
    order: list[int] = []
    stack = [root]
    while stack:
        number = stack.pop()
        if number in seen:
            continue
        seen.add(number)
        page = parsed(number)
        if page is None:
            continue
        order.append(number)
        stack.extend(reversed(page.btree.children))
    return order


def entries(
    number: int, page: Parsed, image: Callable[[int], bytes | None] | None = None
) -> list[Located]:
    """The entries one page holds (leaf cells; an index's interior cells too), in key order.

    Overflowing records are read only if `image` is given to follow their chain.
    """
    found = []
    for index, (cell, values) in enumerate(zip(page.btree.cells, page.records, strict=True)):
        if values is None and cell.overflow and image is not None:
            values = _overflowing(cell, image)
        if values is not None:
            found.append(Located(number, cell.offset, index, cell.rowid, values))
    return found


def overflows(page: Parsed) -> bool:
    return any(cell.overflow for cell in page.btree.cells)


def _overflowing(cell: Cell, image: Callable[[int], bytes | None]) -> Record | None:
    payload = full_payload(cell, image)
    try:
        return record(payload) if payload is not None else None
    except (ValueError, IndexError):
        return None


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    kind: str  # "INTEGER", "TEXT", "BLOB" or "" (what the declaration says, upper case)
    not_null: bool


@dataclass(frozen=True, slots=True)
class Table:
    """A table as its record lays it out: the order in which its values are stored.

    A `WITHOUT ROWID` table stores its primary-key columns first, then the others in
    declaration order; an ordinary table stores them in declaration order, with an
    `INTEGER PRIMARY KEY` column as NULL (its value is the rowid).
    """

    name: str
    root: int
    columns: tuple[Column, ...]
    without_rowid: bool
    rowid_alias: str | None

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def row(self, located: Located) -> dict[str, Value]:
        row = dict(zip(self.names, located.values, strict=False))
        if self.rowid_alias is not None:
            row[self.rowid_alias] = located.rowid
        return row

    def fits(self, values: Record) -> bool:
        """Whether a record could be a row of this table (count, types, NOT NULL)."""
        if len(values) != len(self.columns):
            return False
        for column, value in zip(self.columns, values, strict=True):
            if value is None:
                if column.not_null:
                    return False
            elif column.kind and type(value) is not _TYPES[column.kind]:
                return False
        return True


_TYPES = {"INTEGER": int, "TEXT": str, "BLOB": bytes}


_CONSTRAINT = re.compile(r"^(PRIMARY\s+KEY|UNIQUE|CHECK|FOREIGN\s+KEY|CONSTRAINT)\b", re.I)


def _split_top(text: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for i, char in enumerate(text):
        depth += char == "("
        depth -= char == ")"
        if char == "," and depth == 0:
            parts.append(text[start:i].strip())
            start = i + 1
    parts.append(text[start:].strip())
    return [p for p in parts if p]


def _name(token: str) -> str:
    return token.strip('"`[]')


def table(name: str, root: int, sql: str) -> Table:
    """A table's record layout from its `CREATE TABLE` statement (as sqlite_master keeps it)."""
    body = sql[sql.index("(") + 1 : sql.rindex(")")]
    without_rowid = bool(re.search(r"WITHOUT\s+ROWID", sql[sql.rindex(")") :], re.I))
    columns: list[Column] = []
    key: list[str] = []
    alias = None
    for part in _split_top(body):
        if _CONSTRAINT.match(part):
            found = re.match(r"PRIMARY\s+KEY\s*\((.*)\)", part, re.I | re.S)
            if found:
                key = [_name(c.split()[0]) for c in _split_top(found.group(1))]
            continue
        words = part.split()
        column_name = _name(words[0])
        declared = words[1].upper() if len(words) > 1 and words[1].isalpha() else ""
        declared = declared if declared in ("INTEGER", "TEXT", "BLOB") else ""
        primary = bool(re.search(r"PRIMARY\s+KEY", part, re.I))
        not_null = bool(re.search(r"NOT\s+NULL", part, re.I)) or (primary and without_rowid)
        columns.append(Column(column_name, declared, not_null))
        if primary:
            key = [column_name]
            if declared == "INTEGER" and not without_rowid:
                alias = column_name
    if without_rowid:
        by_name = {c.name: c for c in columns}
        keyed = [replace(by_name[k], not_null=True) for k in key]  # PK columns: NOT NULL
        columns = keyed + [c for c in columns if c.name not in key]
    return Table(name, root, tuple(columns), without_rowid, alias)


def schema(
    parsed: Callable[[int], Parsed | None], image: Callable[[int], bytes | None]
) -> Mapping[str, Table]:
    """The tables of the file by name, read from the schema table rooted at page 1."""
    tables = {}
    for located in walk(1, parsed, image):
        if len(located.values) != 5:
            continue
        kind, name, _, root, sql = located.values
        if kind == "table" and isinstance(name, str) and isinstance(root, int) and sql:
            try:
                tables[name] = table(name, root, str(sql))
            except (ValueError, IndexError, KeyError):
                continue
    return tables
