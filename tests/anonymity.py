"""Shared checks for the anonymity tests: what the database files contain, byte for byte.

The files are SQLCipher-encrypted, so an attacker without the key sees only noise
(`db_bytes`), and an attacker *with* the key decrypts every page of the database and
every frame of its WAL himself (`decrypted`) and reads cells where SQLite put them —
not through SQL, which would hide free space, cell order and old page images.
"""

from __future__ import annotations

import hashlib
import hmac
import struct
from dataclasses import dataclass
from pathlib import Path

import sqlcipher3
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

PAGE = 4096  # SQLCipher 4 defaults: 4 KiB pages, 80 reserved bytes (IV + HMAC-SHA512)
RESERVE = 80
SALT = 16
WAL_HEADER, FRAME_HEADER = 32, 24


def db_bytes(path: Path) -> bytes:
    """The database file plus its WAL and shared-memory files, as one byte string."""
    return b"".join(
        Path(str(path) + suffix).read_bytes()
        for suffix in ("", "-wal", "-shm")
        if Path(str(path) + suffix).exists()
    )


def id_forms(user_id: int) -> list[bytes]:
    """Every way a Telegram id could sit in a SQLite file: text, and big/little-endian ints."""
    forms = [str(user_id).encode()]
    for width in (6, 8):
        forms.append(user_id.to_bytes(width, "big"))
        forms.append(user_id.to_bytes(width, "little"))
    return forms


def assert_no_user_id(path: Path, user_id: int, master_key: bytes | None = None) -> None:
    """Fail if the database, its WAL or shm holds the id in any form (decrypted if keyed)."""
    data = db_bytes(path)
    if master_key is not None:
        data += decrypted(path, master_key).everything
    for form in id_forms(user_id):
        assert form not in data, f"Telegram id found in the database as {form!r}"


def page_key(master_key: bytes) -> bytes:
    # The store's key derivation (surveys.keys.database_key), restated so the test
    # does not trust the code it checks.
    return hmac.new(master_key, b"trustscan/database-key/v1", hashlib.sha256).digest()


def decrypt_page(key: bytes, raw: bytes, first: bool) -> bytes:
    """One page as SQLite wrote it before SQLCipher encrypted it (page 1 without its salt)."""
    iv = raw[PAGE - RESERVE : PAGE - RESERVE + 16]
    body = raw[SALT if first else 0 : PAGE - RESERVE]
    clear = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    return clear.update(body) + clear.finalize()


@dataclass(frozen=True)
class Decrypted:
    """Plain page images of the database file and of each WAL frame, in file order."""

    pages: list[bytes]  # index 0 is page 1
    frames: list[tuple[int, bytes]]  # (page number, page image) per WAL frame

    @property
    def everything(self) -> bytes:
        return b"".join(self.pages) + b"".join(image for _, image in self.frames)

    @property
    def current(self) -> list[bytes]:
        """The pages as a reader sees them now: each page's newest WAL frame over the file."""
        pages = list(self.pages)
        for number, image in self.frames:
            while len(pages) < number:
                pages.append(bytes(len(image)))
            pages[number - 1] = image
        return pages


def decrypted(path: Path, master_key: bytes) -> Decrypted:
    """Decrypt the database and its WAL with the master key, page by page."""
    key = page_key(master_key)
    data = path.read_bytes()
    pages = [
        decrypt_page(key, data[i : i + PAGE], i == 0) for i in range(0, len(data) - PAGE + 1, PAGE)
    ]
    frames: list[tuple[int, bytes]] = []
    wal = Path(f"{path}-wal")
    raw = wal.read_bytes() if wal.exists() else b""
    offset = WAL_HEADER
    while offset + FRAME_HEADER + PAGE <= len(raw):
        (number,) = struct.unpack(">I", raw[offset : offset + 4])
        image = raw[offset + FRAME_HEADER : offset + FRAME_HEADER + PAGE]
        frames.append((number, decrypt_page(key, image, number == 1)))
        offset += FRAME_HEADER + PAGE
    return Decrypted(pages, frames)


def cell_offsets(page: bytes, first: bool = False) -> list[int]:
    """Where each cell of a b-tree page starts, in key order (the cell pointer array).

    Page 1's image lacks the 16 salt bytes, so its b-tree header starts at 100 − 16.
    Offsets are relative to the page start as SQLite numbers them.
    """
    header = 100 - SALT if first else 0
    kind = page[header]
    if kind not in (2, 5, 10, 13):
        return []
    count = struct.unpack(">H", page[header + 3 : header + 5])[0]
    pointers = header + (12 if kind in (2, 5) else 8)
    return [
        struct.unpack(">H", page[pointers + 2 * i : pointers + 2 * i + 2])[0] for i in range(count)
    ]


def located(images: list[bytes], needle: bytes) -> list[tuple[int, int]]:
    """(page index, offset) of every occurrence of `needle` in decrypted page images."""
    found = []
    for index, image in enumerate(images):
        start = image.find(needle)
        while start != -1:
            found.append((index, start))
            start = image.find(needle, start + 1)
    return found


def keyed(path: Path, master_key: bytes) -> sqlcipher3.Connection:
    """An SQL connection to the encrypted file, as someone holding the master key opens it."""
    db = sqlcipher3.connect(str(path), isolation_level=None)
    db.execute(f"PRAGMA key = \"x'{page_key(master_key).hex()}'\"")
    return db
