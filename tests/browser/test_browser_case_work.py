"""What case workers and supervisors do, in a real browser."""

from __future__ import annotations

import re
from datetime import date

import pytest
from playwright.sync_api import Page, expect

from browser_helpers import ARTIFACTS, FOUND_NAME, OVERDUE_NAME, OVERDUE_PURPOSE, PASSWORD, SUPERVISOR, WORKER

pytestmark = pytest.mark.browser


def sign_in(page: Page, username: str) -> None:
    page.goto("/login")
    page.get_by_label("Nama pengguna").fill(username)
    page.get_by_label("Kata sandi").fill(PASSWORD)
    page.get_by_role("button", name="Masuk").click()
    expect(page.locator(".flash-success")).to_contain_text("Selamat datang")


def figure(page: Page, key: str) -> int:
    return int(re.sub(r"\D", "", page.locator(f"#figure-{key} .figure-value").inner_text()))


def test_a_case_worker_finds_a_household_records_a_delivery_and_sees_it_on_the_timeline_and_the_dashboard(page: Page, site):
    sign_in(page, WORKER)
    reached_before = figure(page, "reached")
    page.screenshot(path=ARTIFACTS / "beranda-desktop.png", full_page=True)

    page.get_by_role("link", name="Rumah tangga").first.click()
    page.get_by_label("Cari menurut KK, NIK atau nama").fill("yayat")
    results = page.locator("#results")
    expect(results.get_by_role("link", name=FOUND_NAME)).to_be_visible()  # found as you type (htmx)
    page.screenshot(path=ARTIFACTS / "daftar-rumah-tangga.png", full_page=True)
    results.get_by_role("link", name=FOUND_NAME).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(FOUND_NAME)

    page.get_by_role("link", name="Catat intervensi").click()
    page.get_by_role("combobox", name="Program").select_option(label="Program Keluarga Harapan (PKH)")
    page.get_by_label("Instansi").select_option(label="Dinas Sosial")
    page.get_by_label("Nilai dalam Rupiah (opsional)").fill("750.000")
    page.get_by_label("Sudah diterima pada (opsional)").fill(date.today().isoformat())
    page.screenshot(path=ARTIFACTS / "formulir-intervensi.png", full_page=True)
    page.get_by_role("button", name="Simpan").click()

    expect(page.locator(".flash-success")).to_have_text("Intervensi dicatat.")
    timeline = page.locator("#timeline")
    expect(timeline).to_contain_text("Intervensi tersalurkan: Program Keluarga Harapan (PKH)")
    expect(page.locator("#interventions")).to_contain_text("Rp 750.000")
    page.screenshot(path=ARTIFACTS / "halaman-rumah-tangga.png", full_page=True)

    page.get_by_role("link", name="Beranda").click()
    assert figure(page, "reached") == reached_before + 1
    assert not page.console_errors, page.console_errors


def test_a_supervisor_sees_an_overdue_visit_on_their_list(page: Page, site):
    sign_in(page, SUPERVISOR)
    page.get_by_role("link", name="Kunjungan saya").click()
    area = page.locator("#area-overdue")
    expect(area).to_contain_text("Pendamping Uji")
    expect(area).to_contain_text(OVERDUE_NAME)
    expect(area).to_contain_text(OVERDUE_PURPOSE)
    expect(area).to_contain_text("terlambat 6 hari")
    page.screenshot(path=ARTIFACTS / "kunjungan-pengawas.png", full_page=True)
    area.get_by_role("link", name=OVERDUE_NAME).first.click()
    expect(page.locator("#follow-ups .badge-overdue")).to_have_text("Terlambat")


def test_switching_to_english_changes_the_interface(page: Page, site):
    sign_in(page, WORKER)
    expect(page.get_by_role("navigation", name="Menu utama")).to_contain_text("Rumah tangga")
    page.get_by_role("button", name="EN").click()
    nav = page.get_by_role("navigation", name="Main menu")
    expect(nav).to_contain_text("Households")
    expect(nav).to_contain_text("My visits")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#figure-extreme_households .figure-label")).to_have_text("Extremely poor households")
    page.screenshot(path=ARTIFACTS / "home-english.png", full_page=True)
    page.get_by_role("button", name="ID").click()
    expect(page.locator("html")).to_have_attribute("lang", "id")


def test_an_invalid_nik_is_explained_next_to_the_field(page: Page, site):
    sign_in(page, WORKER)
    page.goto("/households/new")
    page.get_by_label("Nomor Kartu Keluarga (No. KK)").fill("3204050505219999")
    page.get_by_label("NIK kepala keluarga").fill("3204053213850002")
    page.get_by_label("Nama kepala keluarga").fill("Ade Sutisna")
    page.get_by_label("Laki-laki").check()
    page.get_by_label("Tanggal lahir kepala keluarga").fill("1985-05-12")
    page.get_by_role("textbox", name="RT", exact=True).fill("1")
    page.get_by_role("textbox", name="RW", exact=True).fill("2")
    page.get_by_role("button", name="Daftarkan").click()

    nik = page.get_by_label("NIK kepala keluarga")
    expect(nik).to_have_attribute("aria-invalid", "true")
    error = page.locator("#head_nik-error")
    expect(error).to_have_text("bagian tanggal 321385 bukan tanggal yang benar")
    # Next to the field: in the same field box, right below the input, and announced with it.
    assert error.evaluate("e => e.previousElementSibling.id") == "head_nik"
    assert "head_nik-error" in nik.get_attribute("aria-describedby")
    expect(page.get_by_label("Nama kepala keluarga")).to_have_value("Ade Sutisna")
    nik.scroll_into_view_if_needed()
    page.screenshot(path=ARTIFACTS / "registrasi-nik-salah.png", full_page=True)
