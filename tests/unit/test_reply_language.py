"""Automatic replies to inbound texts and emails: the texts as data, the language chosen for them."""

from __future__ import annotations

from datetime import UTC, datetime
from string import Template
from types import SimpleNamespace

import pytest

from shared.domain.directory import Contact, Unit, Vendor
from shared.domain.enums import Trade
from shared.domain.inbound_email import InboundEmail
from shared.domain.intent import Intent, classify, reply_language, request_language, spanish, tenant_language
from shared.domain.replies import book, reply
from shared.domain.workorder import Status, Window, WorkOrder
from shared.services.email_inbound import Outcome, reply_subject, signature
from shared.services.sms import status_text

NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)


def wo(language: str | None = None, **kw) -> WorkOrder:
    base = dict(id="wo-0123456789ab", property_id="p1", unit_id="u1", tenant=Contact(name="T", language=language),
                description="leak", created_at=NOW, updated_at=NOW)
    return WorkOrder(**{**base, **kw})


def unit(language: str | None = None) -> Unit:
    return Unit(id="u1", property_id="p1", label="1A", tenant=Contact(name="T", language=language))


def test_every_reply_has_both_languages_with_the_same_placeholders():
    replies = book().replies
    assert replies, "no replies loaded"
    for key, entry in replies.items():
        assert entry.en.strip() and entry.es.strip(), key
        assert entry.en != entry.es, key  # translated, not copied
        assert set(Template(entry.en).get_identifiers()) == set(Template(entry.es).get_identifiers()), key


def test_carrier_keyword_answers_stay_compliant_in_both_languages():
    for lang in ("en", "es"):
        help_ = reply("sms.help", lang)
        assert "Opslayer" in help_ and "STOP" in help_  # names the program and how to stop
        assert "START" in reply("sms.stop", lang)
        assert "STOP" in reply("sms.start", lang) and "HELP" in reply("sms.start", lang)
    assert "tarifas" in reply("sms.help", "es") and "rates may apply" in reply("sms.help", "en")


def test_placeholders_are_filled_and_a_missing_value_is_an_error():
    assert reply("sms.resolved", "es", reference="wo-1") == "¡Gracias por confirmar! Cerramos esta reparación. Ref wo-1"
    assert reply("sms.resolved", "en", reference="wo-1").endswith("closed this repair. Ref wo-1")
    assert reply("sms.resolved", "fr", reference="wo-1") == reply("sms.resolved", "en", reference="wo-1")
    with pytest.raises(KeyError):
        reply("sms.resolved", "es")


@pytest.mark.parametrize("text,intent", [
    ("Sí", Intent.YES), ("si, gracias", Intent.YES), ("ya está arreglado", Intent.YES), ("listo", Intent.YES),
    ("ya no funciona", Intent.TEXT), ("todavía gotea", Intent.NO), ("sigue goteando", Intent.NO),
    ("ESTADO", Intent.STATUS), ("ayuda", Intent.HELP), ("it's fixed", Intent.YES), ("it is not fixed", Intent.TEXT),
])
def test_the_classifier_understands_spanish_answers(text, intent):
    assert classify(text) == intent


def test_reply_language_prefers_the_saved_choice_then_clear_spanish_then_english():
    assert reply_language("es", said="yes") == "es"
    assert reply_language(None, "es", said="yes") == "es"  # the unit tenant's, when the request has none
    assert reply_language("en", "es", said="sí") == "en"  # the most specific saved choice wins
    assert reply_language("fr", None, said="sí") == "es"  # an unsupported preference is no preference
    assert reply_language(None, said="Sí, arreglado") == "es"
    assert reply_language(None, said="no") == "en"  # both languages' word: nothing to go by
    assert reply_language(said="The kitchen sink is leaking") == "en"
    assert not spanish("ok") and spanish("ESTADO")
    assert tenant_language(unit("es"), wo(None), "yes") == "es"
    assert tenant_language(unit("es"), wo("en"), "yes") == "en"
    assert tenant_language(unit(None), None, "estado") == "es"


def test_status_text_in_each_language():
    svc = SimpleNamespace(repo=SimpleNamespace(find_vendor=lambda _id: Vendor(
        id="v1", name="AquaFix", trades=[Trade.PLUMBING], service_areas=["*"])))
    accepted = wo(status=Status.ACCEPTED, trade=Trade.PLUMBING)
    assert status_text(svc, accepted) == ("Your request (plumbing) is assigned to a technician, who will confirm a "
                                          "visit time. Ref wo-0123456789ab")
    assert status_text(svc, accepted, "es") == ("Su solicitud (plomería) está asignada a un técnico, que confirmará "
                                                "la hora de la visita. Ref wo-0123456789ab")
    window = Window(start=datetime(2026, 11, 24, 9, tzinfo=UTC), end=datetime(2026, 11, 24, 11, tzinfo=UTC))
    scheduled = wo(status=Status.SCHEDULED, trade=Trade.PLUMBING, vendor_id="v1", window=window)
    assert status_text(svc, scheduled) == ("Your request (plumbing) is scheduled: AquaFix will come "
                                           "Tue 24 Nov 09:00-11:00. Ref wo-0123456789ab")
    assert status_text(svc, scheduled, "es") == ("Su solicitud (plomería) está programada: AquaFix vendrá el "
                                                 "mar 24 nov 09:00-11:00. Ref wo-0123456789ab")
    completed = status_text(svc, wo(status=Status.COMPLETED), "es")
    assert completed.startswith("Su solicitud está terminada") and "SÍ o NO" in completed


def test_email_subject_and_signature_follow_the_reply_language():
    blank = InboundEmail(from_address="t@example.com", from_name="T", subject="", text="sí")
    assert reply_subject(blank, Outcome("status", "x", "wo-1", language="es")) == \
        "Re: Su solicitud de mantenimiento (wo-1)"
    assert reply_subject(blank, Outcome("status", "x", "wo-1")) == "Re: Your maintenance request (wo-1)"
    assert "El equipo de mantenimiento" in signature(Outcome("status", "x", language="es"))
    assert signature(Outcome("status", "x")) == "\n\n-- \nYour property's maintenance team"


def test_a_request_written_in_spanish_is_saved_in_spanish_unless_a_preference_is_on_file():
    assert request_language(unit(None), "La ducha no está arreglada y gotea") == "es"
    assert request_language(unit(None), "The shower drips") is None  # inherits nothing: English
    assert request_language(unit("en"), "La ducha no está arreglada") is None  # the saved choice stands
