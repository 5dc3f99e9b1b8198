"""Group invitation links and their QR codes (one link per organisation, never per person)."""

from __future__ import annotations

import io
from pathlib import Path

import qrcode
from qrcode.image.pure import PyPNGImage

from surveys.store import Invitation


def deep_link(bot_username: str, token: str) -> str:
    return f"https://t.me/{bot_username}?start={token}"


def qr_filename(invitation: Invitation) -> str:
    wave = f"wave{invitation.wave}" if invitation.wave else None
    parts = [invitation.survey, invitation.org, invitation.role, wave]  # one file per link
    return "qr-" + "-".join(p for p in parts if p) + ".png"


def qr_png(url: str) -> bytes:
    """The URL as a QR code PNG (pure Python, no Pillow needed)."""
    image = qrcode.make(url, image_factory=PyPNGImage, box_size=10, border=4)
    buffer = io.BytesIO()
    image.save(buffer)
    return buffer.getvalue()


def write_qr(folder: Path, invitation: Invitation, url: str) -> Path:
    """Write the link as a QR code PNG named after its group; return its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / qr_filename(invitation)
    path.write_bytes(qr_png(url))
    return path
