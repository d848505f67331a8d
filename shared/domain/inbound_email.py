"""Reading an inbound email (pure: stdlib ``email``, no I/O): who sent it, what is new in it (quoted
replies and signatures cut off), which work order its subject refers to, and its image and PDF attachments."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

from shared.domain.enums import WORK_ORDER_ID

REFERENCE = re.compile(rf"\b({WORK_ORDER_ID})\b")
# Where the quoted previous message starts in the usual mail clients.
_QUOTE_START = re.compile(
    r"^(>|On .{3,200} wrote:\s*$|El .{3,200} escribió:\s*$|-{2,}\s*Original Message\s*-{2,}|_{10,}\s*$|"
    r"From: .+|De: .+|Sent from my )", re.IGNORECASE)
_SIGNATURE = re.compile(r"^-- ?$")
_AUTOMATIC = {"bulk", "list", "junk", "auto_reply"}


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str  # as declared by the sender; the photo check judges the bytes
    data: bytes


@dataclass(frozen=True)
class InboundEmail:
    from_address: str  # lower case; never logged
    from_name: str
    subject: str
    text: str  # the new text only
    attachments: list[Attachment] = field(default_factory=list)
    automatic: bool = False  # an auto-reply or a list message: never answered (no mail loops)

    @property
    def reference(self) -> str | None:
        found = REFERENCE.search(self.subject) or REFERENCE.search(self.text)
        return found.group(1) if found else None

    @property
    def subject_words(self) -> str:
        return re.sub(r"^\s*((re|fwd?|aw|rv)\s*:\s*)+", "", self.subject, flags=re.IGNORECASE).strip()


def parse(raw: bytes) -> InboundEmail:
    # The email package on first use: the invoice Lambda imports this module for REFERENCE alone.
    import email
    import email.policy
    from email.utils import parseaddr

    message = email.message_from_bytes(raw, policy=email.policy.default)
    name, address = parseaddr(str(message.get("From") or ""))
    body = message.get_body(preferencelist=("plain", "html"))
    text = ""
    if body is not None:
        content = body.get_content()
        text = _from_html(content) if body.get_content_subtype() == "html" else str(content)
    attachments = []
    for part in message.walk():
        if part.get_content_maintype() != "image" and part.get_content_type() != "application/pdf":
            continue  # images become photos; a PDF can be a vendor's invoice
        data = part.get_payload(decode=True)
        if data:
            attachments.append(Attachment(part.get_filename() or "photo", part.get_content_type(), data))
    auto = str(message.get("Auto-Submitted") or "no").strip().lower() != "no" \
        or str(message.get("Precedence") or "").strip().lower() in _AUTOMATIC
    return InboundEmail(from_address=address.strip().lower(), from_name=name.strip(),
                        subject=" ".join(str(message.get("Subject") or "").split()), text=new_text(text),
                        attachments=attachments, automatic=auto)


def new_text(text: str) -> str:
    """What the sender wrote in this message: up to the quoted earlier message or the signature."""
    kept: list[str] = []
    for line in text.replace("\r\n", "\n").split("\n"):
        if _QUOTE_START.match(line.strip()) or _SIGNATURE.match(line.rstrip()):
            break
        kept.append(line)
    return "\n".join(kept).strip()


def _from_html(markup: str) -> str:
    markup = re.sub(r"(?is)<(script|style)\b.*?</\1>", " ", markup)
    markup = re.sub(r"(?i)<br\s*/?>|</p>|</div>", "\n", markup)
    markup = re.sub(r"(?i)<blockquote\b.*", "", markup, flags=re.DOTALL)  # the quoted earlier message
    return html.unescape(re.sub(r"<[^>]+>", " ", markup))
