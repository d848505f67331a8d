"""Photos on a work order (pure: no I/O). Limits are data (shared/rules/photos.json); a file is judged
by its real bytes, never by the name or the type the uploader declared."""

from __future__ import annotations

import json
import re
import secrets
from datetime import datetime
from functools import cache
from pathlib import Path

from shared.domain.enums import WORK_ORDER_ID
from shared.domain.model import Model

RULES = Path(__file__).resolve().parent.parent / "rules" / "photos.json"
UPLOADS = "uploads/"
KEPT = "photos/"
PARTIES = ("tenant", "vendor")
HEAD_BYTES = 32  # enough for every signature below
_KEY = re.compile(rf"^uploads/({WORK_ORDER_ID})/(tenant|vendor)/([A-Za-z0-9_-]{{16,64}})$")
_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}


class PhotoRules(Model):
    version: str
    max_bytes: int
    max_per_party: int
    content_types: list[str]
    slot_seconds: int
    view_seconds: int


@cache
def rules() -> PhotoRules:
    return PhotoRules.model_validate(json.loads(RULES.read_text()))


class Photo(Model):
    key: str  # under photos/, where the checked copy is kept
    upload_key: str  # the uploads/ key it came from (a repeated check of it is a no-op)
    party: str
    content_type: str
    size: int
    uploaded_at: datetime


def sniff(head: bytes) -> str | None:
    """The image type the first bytes really are (JPEG, PNG, WebP, HEIC/HEIF), else None."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if len(head) >= 12 and head[4:8] == b"ftyp" and head[8:12] in _HEIF_BRANDS:
        return "image/heic"
    return None


def judge(size: int, head: bytes) -> tuple[str | None, str]:
    """(content type, "") for an acceptable file, else (None, the reason in plain words)."""
    limits = rules()
    if size <= 0:
        return None, "the file is empty"
    if size > limits.max_bytes:
        return None, f"the file is larger than {limits.max_bytes // (1024 * 1024)} MB"
    kind = sniff(head)
    if kind is None or kind not in limits.content_types:
        return None, "the file is not a JPEG, PNG, WebP or HEIC image"
    return kind, ""


def upload_key(work_order_id: str, party: str) -> str:
    """A fresh, unguessable key for one upload slot."""
    if party not in PARTIES:
        raise ValueError(f"unknown party {party!r}")
    return f"{UPLOADS}{work_order_id}/{party}/{secrets.token_urlsafe(18)}"


def parse_upload_key(key: str) -> tuple[str, str, str] | None:
    """(work order id, party, name) of an upload key this system issued, else None."""
    found = _KEY.match(key)
    return (found.group(1), found.group(2), found.group(3)) if found else None


def kept_key(upload: str) -> str:
    return KEPT + upload.removeprefix(UPLOADS)


def count_for(photos: list[Photo], party: str) -> int:
    return sum(1 for p in photos if p.party == party)
