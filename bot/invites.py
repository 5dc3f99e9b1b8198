"""Group invitation links and their QR codes (one link per organisation, never per person)."""

from __future__ import annotations

from pathlib import Path

import qrcode
from qrcode.image.pure import PyPNGImage

from surveys.store import Invitation


def deep_link(bot_username: str, token: str) -> str:
    return f"https://t.me/{bot_username}?start={token}"


def qr_filename(invitation: Invitation) -> str:
    parts = [invitation.org, invitation.role, f"wave{invitation.wave}" if invitation.wave else None]
    return "qr-" + "-".join(p for p in parts if p) + ".png"


def write_qr(folder: Path, invitation: Invitation, link: str) -> Path:
    """Write the link as a QR code PNG (pure Python, no Pillow needed); return its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / qr_filename(invitation)
    image = qrcode.make(link, image_factory=PyPNGImage, box_size=10, border=4)
    with path.open("wb") as fh:
        image.save(fh)
    return path
