"""Tenant and vendor pages in a real browser: Debian's chromium driven by Playwright (no browser
downloads). Screenshots of every page land in test-artifacts/browser/."""

from __future__ import annotations

import re
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.integration.conftest import U, eventually

pytestmark = pytest.mark.integration
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"
PHOTOS = Path(__file__).resolve().parents[1] / "fixtures" / "photos"
INVOICE_PDF = b"%PDF-1.4\n% a vendor's invoice\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")



@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        pytest.fail("chromium is not installed: `make test` installs Debian's chromium package")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run", "--disable-quic"])
        yield instance
        instance.close()


def loaded_images(page) -> int:
    """Images the browser really fetched (through their presigned S3 links) and decoded."""
    return page.evaluate("Array.from(document.images).filter(i => i.complete && i.naturalWidth > 0).length")


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_tenant_and_vendor_do_the_whole_job_in_a_browser(stack, served, browser, mint, api):
    unit_id = U("unit-harbor-102")
    form_url = f"{served}/units/{unit_id}/request?key={mint(unit_id, 'unit', unit_id, 600)}"
    page = browser.new_page(viewport={"width": 390, "height": 844})  # a phone

    # The tenant fills the form (labelled fields, keyboard only for the description).
    page.goto(form_url)
    assert page.get_by_label("What is wrong?").is_visible()
    shot(page, "1-tenant-request-form")
    page.get_by_label("Your name").fill("Hana Sato")
    page.get_by_label("Mobile phone (for text updates)").fill("+15550100017")
    page.get_by_label("What is wrong?").focus()
    page.keyboard.type("The bathroom sink drains very slowly")
    page.get_by_label("Pets at home?").fill("A shy cat")
    page.get_by_label("The technician may enter if I am not home").check()
    page.get_by_label("Photos (optional, up to 5)").set_input_files(str(PHOTOS / "sink.jpg"))
    page.get_by_role("button", name="Send request").click()
    page.wait_for_url(re.compile(r"/requests/wo-"))
    wo_id = re.search(r"/requests/(wo-[0-9a-f]+)", page.url).group(1)
    assert "We have your request" in page.content() or "technician" in page.content()
    # The photo went straight to S3 after the request was created; it shows once the check kept it.
    eventually(lambda: (page.reload() or True) and loaded_images(page) == 1, interval=0.5)
    assert page.get_by_alt_text("Your photo").is_visible()
    shot(page, "2-tenant-status-received")

    # The vendor opens the link from the SMS offer.
    offer = eventually(lambda: [m for m in stack.cloud.outbox()
                                if wo_id in m["body"] and "Accept or decline" in m["body"] and m["channel"] == "sms"])
    job_path = re.search(r"/vendor/jobs/[\w\-.]+", offer[0]["body"]).group(0)
    vendor = browser.new_page(viewport={"width": 390, "height": 844})
    vendor.goto(served + job_path)
    content = vendor.content()
    assert "8 Harbor St" in content and "A shy cat" in content and "allowed" in content
    shot(vendor, "3-vendor-job-offer")
    vendor.get_by_role("button", name="Accept the job").click()
    vendor.wait_for_load_state()
    # The tenant gave words, not windows: the vendor proposes a time (the property's local time) ...
    day = (datetime.now(UTC) + timedelta(days=1)).astimezone(ZoneInfo("America/New_York")).date()
    vendor.get_by_label("Date", exact=True).fill(day.isoformat())
    vendor.get_by_label("From", exact=True).fill("09:30")
    vendor.get_by_label("To", exact=True).fill("11:00")
    vendor.get_by_role("button", name="Send the proposal to the tenant").click()
    vendor.wait_for_load_state()
    assert "Proposed, waiting for the tenant" in vendor.content()
    # ... and the tenant confirms it on the status page.
    eventually(lambda: (page.reload() or True) and "Can you make this time?" in page.content(), interval=0.5)
    shot(page, "3b-tenant-confirms-time")
    page.get_by_label("Yes, confirm this time").check()
    page.get_by_role("button", name="Send my answer").click()
    page.wait_for_load_state()
    assert "A visit is scheduled" in page.content() and "09:30-11:00" in page.content()
    vendor.reload()
    assert "09:30-11:00" in vendor.content()
    assert loaded_images(vendor) == 1  # the tenant's photo, in the job's context
    shot(vendor, "4-vendor-scheduled")
    # A photo of the finished work: the form posts straight to S3, which sends the browser back here.
    vendor.get_by_label("Add a photo of the work").set_input_files(str(PHOTOS / "drain.png"))
    vendor.get_by_role("button", name="Upload photo").click()
    vendor.wait_for_url(re.compile(r"/vendor/jobs/"))
    eventually(lambda: (vendor.reload() or True) and loaded_images(vendor) == 2, interval=0.5)
    vendor.get_by_label("What did you do?").fill("Cleared the drain trap, tested the flow")
    vendor.get_by_role("button", name="Mark as complete").click()
    vendor.wait_for_load_state()
    assert "completed" in vendor.content()

    # The tenant confirms the fix on the status page (and sees the technician's photo).
    eventually(lambda: (page.reload() or True) and "Is it fixed?" in page.content(), interval=0.5)
    assert loaded_images(page) == 2 and page.get_by_alt_text("Photo from the technician").is_visible()
    shot(page, "5-tenant-follow-up")
    page.get_by_label("Yes, it is fixed").check()
    page.get_by_role("button", name="Send my answer").click()
    page.wait_for_load_state()
    assert "Your request is closed" in page.content()
    shot(page, "6-tenant-closed")

    # The vendor is asked for the invoice and sends it from the job page, with its PDF (multipart form).
    eventually(lambda: (vendor.reload() or True) and "Send your invoice" in vendor.content(), interval=0.5)
    vendor.get_by_label("Invoice number").fill("BR-100")
    vendor.get_by_label("Invoice date").fill(datetime.now(UTC).date().isoformat())
    vendor.get_by_label("Labour hours").fill("1")
    vendor.get_by_label("Hourly rate (USD)").fill("95")
    vendor.get_by_label("Materials (what)").fill("Drain snake rental")
    vendor.get_by_label("Materials amount (USD)").fill("20.00")
    vendor.get_by_label("Trip charge (USD)").fill("75")
    vendor.get_by_label("Total (USD)").fill("190.00")
    vendor.get_by_label("Invoice PDF or photo").set_input_files(
        files=[{"name": "BR-100.pdf", "mimeType": "application/pdf", "buffer": INVOICE_PDF}])
    shot(vendor, "6b-vendor-invoice-form")
    vendor.get_by_role("button", name="Send invoice").click()
    vendor.wait_for_url(re.compile(r"/vendor/jobs/"))
    assert "Your invoices" in vendor.content() and "BR-100" in vendor.content()
    ops = {"X-Ops-Key": stack.ops_key()}
    closed = eventually(lambda: (r := api.get(f"/ops/work-orders/{wo_id}", headers=ops).json())["status"]
                        == "closed" and r)
    record = api.get(f"/ops/work-orders/{wo_id}/record", headers=ops).json()
    assert record["invoice"]["attachment"]["filename"] == "BR-100.pdf" and record["invoice"]["total"] == "190.00"
    assert [line["kind"] for line in record["invoice"]["lines"]] == ["labour", "material", "trip"]
    vendor.reload()
    assert "approved and billed" in vendor.content()
    shot(vendor, "6c-vendor-invoice-billed")

    # Ops print the closed work order's record.
    report = browser.new_page(extra_http_headers=ops)
    report.goto(f"{served}/ops/work-orders/{wo_id}/report")
    assert "BR-100" in report.content() and closed["bill_pms_id"] in report.content()
    assert loaded_images(report) == 2  # the tenant's and the technician's photos, on the record
    shot(report, "6d-ops-work-order-report")
    report.close()
    vendor.close()
    page.close()


def test_vendor_picks_a_tenant_window_in_spanish(stack, served, browser, api):
    unit_id = U("unit-harbor-301")
    start = (datetime.now(UTC) + timedelta(days=2)).astimezone(ZoneInfo("America/New_York")).replace(
        hour=14, minute=0, second=0, microsecond=0)
    windows = [{"start": (start + timedelta(days=d)).isoformat(), "end": (start + timedelta(days=d, hours=3))
                .isoformat()} for d in (0, 1)]
    wo_id = api.post("/requests", {"unit_id": unit_id, "name": "Kofi Mensah", "phone": "+15550100020",
                                   "description": "Bathroom sink drains very slowly",
                                   "availability": windows}).json()["id"]
    offer = eventually(lambda: [m for m in stack.cloud.outbox()
                                if wo_id in m["body"] and "Accept or decline" in m["body"] and m["channel"] == "sms"])
    job_path = re.search(r"/vendor/jobs/[\w\-.]+", offer[0]["body"]).group(0)
    context = browser.new_context(locale="es-MX", extra_http_headers={"Accept-Language": "es-MX,es;q=0.9"},
                                  viewport={"width": 390, "height": 844})
    vendor = context.new_page()
    vendor.goto(served + job_path)
    assert vendor.locator("html").get_attribute("lang") == "es" and "Monto máximo" in vendor.content()
    vendor.get_by_role("button", name="Aceptar el trabajo").click()
    vendor.wait_for_load_state()
    shot(vendor, "12-vendor-job-es")
    vendor.get_by_label(re.compile(r"14:00-17:00")).nth(1).check()
    vendor.get_by_role("button", name="Programar esta hora").click()
    vendor.wait_for_load_state()
    assert "programado" in vendor.content()
    status = api.get(f"/ops/work-orders/{wo_id}", headers={"X-Ops-Key": stack.ops_key()}).json()
    assert datetime.fromisoformat(status["window"]["start"]) == datetime.fromisoformat(windows[1]["start"])
    context.close()


def test_tenant_gives_times_on_the_form_and_the_vendor_picks_one(stack, served, browser, mint, api):
    unit_id = U("unit-maple-3a")
    page = browser.new_page(viewport={"width": 390, "height": 844})
    page.goto(f"{served}/units/{unit_id}/request?key={mint(unit_id, 'unit', unit_id, 600)}")
    page.get_by_label("Your name").fill("Eli Brooks")
    page.get_by_label("What is wrong?").fill("The bedroom ceiling light flickers")
    local = datetime.now(UTC).astimezone(ZoneInfo("America/New_York"))
    day = (local + timedelta(days=2)).date().isoformat()
    for n, (when, start, end) in enumerate([(day, "13:00", "15:00"),
                                            ((local - timedelta(days=1)).date().isoformat(), "16:00", "18:00")], 1):
        page.get_by_label(f"Day {n}", exact=True).fill(when)
        page.get_by_label(f"Day {n}, from").fill(start)
        page.get_by_label(f"Day {n}, to").fill(end)
    page.get_by_label("Anything else about when you are home?").fill("Weekday evenings too")
    page.get_by_role("button", name="Send request").click()
    page.wait_for_load_state()
    # A time in the past is refused next to its row; nothing typed is lost.
    assert "this time is past" in page.locator("#w2-error").inner_text()
    assert page.get_by_label("Day 1", exact=True).input_value() == day
    shot(page, "7b-tenant-form-window-error")
    page.get_by_label("Day 2", exact=True).fill(day)
    page.get_by_role("button", name="Send request").click()
    page.wait_for_url(re.compile(r"/requests/wo-"))
    wo_id = re.search(r"/requests/(wo-[0-9a-f]+)", page.url).group(1)

    offer = eventually(lambda: [m for m in stack.cloud.outbox()
                                if wo_id in m["body"] and "Accept or decline" in m["body"] and m["channel"] == "sms"])
    vendor = browser.new_page(viewport={"width": 390, "height": 844})
    vendor.goto(served + re.search(r"/vendor/jobs/[\w\-.]+", offer[0]["body"]).group(0))
    vendor.get_by_role("button", name="Accept the job").click()
    vendor.wait_for_load_state()
    vendor.get_by_label(re.compile(r"16:00-18:00")).check()
    vendor.get_by_role("button", name="Schedule this time").click()
    vendor.wait_for_load_state()
    full = api.get(f"/ops/work-orders/{wo_id}", headers={"X-Ops-Key": stack.ops_key()}).json()
    assert full["status"] == "scheduled" and "Weekday evenings too" in full["description"]
    start = datetime.fromisoformat(full["window"]["start"]).astimezone(ZoneInfo("America/New_York"))
    assert (start.date().isoformat(), f"{start:%H:%M}") == (day, "16:00")
    vendor.close()
    page.close()


def test_bad_form_input_is_shown_next_to_the_field_and_nothing_is_created(stack, served, browser, mint):
    unit_id = U("unit-harbor-102")
    page = browser.new_page()
    page.goto(f"{served}/units/{unit_id}/request?key={mint(unit_id, 'unit', unit_id, 600)}")
    page.get_by_label("Your name").fill("Hana Sato")
    page.get_by_label("Mobile phone (for text updates)").fill("12")
    page.get_by_label("What is wrong?").fill("Door hinge squeaks")
    page.get_by_role("button", name="Send request").click()
    page.wait_for_load_state()
    assert page.locator("#phone-error").is_visible() and "/units/" in page.url
    assert page.get_by_label("What is wrong?").input_value() == "Door hinge squeaks"  # nothing typed is lost
    shot(page, "7-tenant-form-error")
    page.goto(f"{served}/units/{unit_id}/request?key=forged")
    assert "Link problem" in page.content()
    page.close()


def test_spanish_tenant_gets_spanish_pages(stack, served, browser, mint):
    unit_id = U("unit-harbor-202")
    context = browser.new_context(locale="es-ES", extra_http_headers={"Accept-Language": "es-ES,es;q=0.9"})
    page = context.new_page()
    page.goto(f"{served}/units/{unit_id}/request?key={mint(unit_id, 'unit', unit_id, 600)}")
    assert page.locator("html").get_attribute("lang") == "es"
    shot(page, "8-tenant-request-form-es")
    page.get_by_label("Su nombre").fill("Jade Wilson")
    page.get_by_label("¿Qué problema hay?").fill("La llave del baño gotea")
    page.get_by_role("button", name="Enviar solicitud").click()
    page.wait_for_url(re.compile(r"/requests/wo-"))
    assert "Recibimos su solicitud" in page.content() or "técnico" in page.content()
    shot(page, "9-tenant-status-es")
    context.close()


def test_printable_qr_page_per_unit_carries_the_signed_form_link(stack, served, browser, ops_headers):
    import requests

    unit_id = U("unit-maple-1b")
    assert requests.get(f"{served}/ops/units/{unit_id}/qr", timeout=5).status_code == 401
    html = requests.get(f"{served}/ops/units/{unit_id}/qr", headers=ops_headers, timeout=5).text
    assert "<svg" in html and "Scan to report" in html
    link = re.search(r"<small>([^<]+)</small>", html).group(1).replace("&amp;", "&")
    assert f"/units/{unit_id}/request?key=olk1_" in link
    page = browser.new_page()
    page.goto(served + link[link.index("/units/"):])
    assert page.get_by_label("What is wrong?").is_visible()
    page.set_content(html)
    shot(page, "10-unit-qr")
    page.close()


def test_expired_link_offers_a_fresh_one_sent_to_the_contact_on_file(stack, served, browser, api, mint):
    import time

    unit_id = U("unit-maple-1b")
    wo_id = api.post("/requests", {"unit_id": unit_id, "name": "Ben Carter",
                                   "description": "Window latch is broken"}).json()["id"]
    expired = mint(wo_id, "tenant", unit_id, 60, now=time.time() - 3600)
    page = browser.new_page()
    page.goto(f"{served}/requests/{wo_id}?token={expired}")
    assert "expired" in page.content()
    shot(page, "11-expired-link")
    page.get_by_role("button", name="Send me a new link").click()
    page.wait_for_load_state()
    assert "on its way" in page.content()
    fresh = eventually(lambda: [m for m in stack.cloud.outbox()
                                if "Here is your new link" in m["body"] and wo_id in m["body"]])
    assert fresh[0]["to"] == "+15550100011"  # the tenant's phone on file, not the requester
    new_token = re.search(r"token=([\w\-.]+)", fresh[0]["body"]).group(1)
    assert api.get(f"/requests/{wo_id}?token={new_token}").status == 200
    # Asking again with the same old link sends nothing more; a forged one reveals nothing either.
    assert api.post("/links/renew", {"token": expired}).status == 202
    assert api.post("/links/renew", {"token": "v1.forged.token"}).status == 202
    stack.cloud.wait_idle()
    assert len([m for m in stack.cloud.outbox() if "Here is your new link" in m["body"] and wo_id in m["body"]]) == 1
    page.close()
