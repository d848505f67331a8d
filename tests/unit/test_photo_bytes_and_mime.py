"""Photos judged by their bytes; inbound email read with the stdlib email package."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path

import pytest

from shared.domain import photos
from shared.domain.inbound_email import new_text, parse

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "photos"


@pytest.mark.parametrize(("head", "kind"), [
    ((FIXTURES / "sink.jpg").read_bytes()[:32], "image/jpeg"),
    ((FIXTURES / "drain.png").read_bytes()[:32], "image/png"),
    (b"RIFF\x24\x00\x00\x00WEBPVP8 ", "image/webp"),
    (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00", "image/heic"),
    (b"\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00", "image/heic"),
    (b"\x00\x00\x00\x18ftypisom\x00\x00\x00\x00", None),  # an MP4 video
    (b"GIF89a\x01\x00\x01\x00", None),
    (b"%PDF-1.7\n", None),
    (b"just text renamed photo.jpg", None),
    (b"\xff\xd8", None),  # too short to be a JPEG
])
def test_sniff_reads_the_real_type(head, kind):
    assert photos.sniff(head) == kind


def test_judge_checks_size_and_bytes():
    jpeg = (FIXTURES / "sink.jpg").read_bytes()
    assert photos.judge(len(jpeg), jpeg[:32]) == ("image/jpeg", "")
    assert photos.judge(10 * 1024 * 1024 + 1, jpeg[:32])[1] == "the file is larger than 10 MB"
    assert photos.judge(0, b"")[1] == "the file is empty"
    assert "not a JPEG" in photos.judge(100, b"hello")[1]


def test_upload_keys_are_unguessable_and_parsed_back():
    key = photos.upload_key("wo-0001a2b3c4d5e6f7a8b9c", "vendor")
    assert key.startswith("uploads/wo-0001a2b3c4d5e6f7a8b9c/vendor/") and len(key.rsplit("/", 1)[1]) >= 24
    assert photos.parse_upload_key(key)[:2] == ("wo-0001a2b3c4d5e6f7a8b9c", "vendor")
    assert photos.kept_key(key).startswith("photos/wo-0001a2b3c4d5e6f7a8b9c/vendor/")
    for bad in ("uploads/../x", "uploads/wo-1/tenant/abc", "photos/wo-0001a2b3c4d5e6f7a8b9c/tenant/" + "a" * 24,
                "uploads/wo-0001a2b3c4d5e6f7a8b9c/ops/" + "a" * 24):
        assert photos.parse_upload_key(bad) is None
    with pytest.raises(ValueError):
        photos.upload_key("wo-0001a2b3c4d5e6f7a8b9c", "ops")


def _mail(**kw) -> EmailMessage:
    message = EmailMessage()
    message["From"] = kw.get("sender", "Ana Lopez <Ana@Tenant.Example.com>")
    message["To"] = "maintenance@example.com"
    message["Subject"] = kw.get("subject", "Re: Is it fixed? (wo-0001a2b3c4d5e6f7a8b9c)")
    for name, value in kw.get("headers", {}).items():
        message[name] = value
    return message


def test_parse_reads_sender_reference_new_text_and_image_and_pdf_attachments():
    message = _mail()
    message.set_content("Yes it's fixed, thanks!\n\nOn Tue, 24 Nov 2026 at 09:00, Maintenance wrote:\n"
                        "> Is it fixed? Reply YES or NO\n")
    jpeg = (FIXTURES / "sink.jpg").read_bytes()
    message.add_attachment(jpeg, maintype="image", subtype="jpeg", filename="after.jpg")
    message.add_attachment(b"%PDF-1.7", maintype="application", subtype="pdf", filename="invoice.pdf")
    mail = parse(message.as_bytes())
    assert mail.from_address == "ana@tenant.example.com" and mail.from_name == "Ana Lopez"
    assert mail.reference == "wo-0001a2b3c4d5e6f7a8b9c" and mail.subject_words.startswith("Is it fixed?")
    assert mail.text == "Yes it's fixed, thanks!"
    # Images (photos) and PDFs (a vendor's invoice) are kept; anything else is not.
    assert [(a.filename, a.content_type, a.data) for a in mail.attachments] == [
        ("after.jpg", "image/jpeg", jpeg), ("invoice.pdf", "application/pdf", b"%PDF-1.7")]
    assert mail.automatic is False


def test_parse_html_only_mail_and_auto_replies():
    message = _mail(subject="Heater", headers={"Auto-Submitted": "auto-replied"})
    message.set_content("<div>The heater is <b>cold</b></div><blockquote>old message</blockquote>", subtype="html")
    mail = parse(message.as_bytes())
    assert " ".join(mail.text.split()) == "The heater is cold" and mail.automatic is True
    assert mail.reference is None


@pytest.mark.parametrize("quoted", ["-----Original Message-----", "From: Maintenance <m@example.com>",
                                    "El lun, 23 nov 2026 a las 10:00, Mantenimiento escribió:", "> quoted", "--",
                                    "Sent from my iPhone"])
def test_new_text_stops_at_the_quote_or_signature(quoted):
    assert new_text(f"No, still dripping\n\n{quoted}\nolder text") == "No, still dripping"
