"""A small browser-like client for the web UI tests, and sample data.

``WebClient`` signs in, reads the CSRF token from the page like a browser would, and
reads forms back (``form_values``) so tests can check that input is kept and which
version a form carries.
"""

from __future__ import annotations

import itertools
import re
from datetime import date
from html.parser import HTMLParser

from argon2 import PasswordHasher

from service.access import Actor
from service.container import Konvergen

PASSWORD = "kata-sandi-uji-1"
CILEUNYI = "32.04.05"
CILEUNYI_KULON = "32.04.05.2001"
CILEUNYI_WETAN = "32.04.05.2002"
CIMENYAN = "32.04.06"
PADASUKA = "32.04.06.1001"

HEAD = {"nik": "3204051203800001", "name": "Asep Sunandar", "sex": "L", "birth_date": date(1980, 3, 12)}
WIFE = {"nik": "3204056107850002", "name": "Euis Komariah", "sex": "P", "birth_date": date(1985, 7, 21), "relationship": "istri"}
KK = "3204050101200001"

_META_TOKEN = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


class FormReader(HTMLParser):
    """Collects the values a browser would submit from the page's forms."""

    def __init__(self):
        super().__init__()
        self.values: dict[str, str] = {}
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        name = a.get("name")
        if tag == "input" and name:
            kind = a.get("type", "text")
            if kind in ("radio", "checkbox"):
                if "checked" in a:
                    self.values[name] = a.get("value", "y")
            elif kind != "submit":
                self.values.setdefault(name, a.get("value") or "")
        elif tag == "select" and name:
            self._select = name
            self.values.setdefault(name, "")
        elif tag == "option" and self._select and "selected" in a:
            self.values[self._select] = a.get("value", "")
        elif tag == "textarea" and name:
            self._textarea = name
            self.values[name] = ""

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea:
            value = self.values[self._textarea] + data
            # Browsers drop the one newline that may follow <textarea>.
            self.values[self._textarea] = value[2:] if value.startswith("\r\n") else value.removeprefix("\n")


def form_values(html: str) -> dict[str, str]:
    reader = FormReader()
    reader.feed(html)
    return reader.values


def field_errors(html: str, field_id: str) -> list[str]:
    """The messages shown next to one field (the list tied to it by aria-describedby)."""
    match = re.search(rf'<ul class="field-errors" id="{re.escape(field_id)}-error">(.*?)</ul>', html, re.S)
    if not match:
        return []
    return [re.sub(r"\s+", " ", m).strip() for m in re.findall(r"<li>(.*?)</li>", match.group(1), re.S)]


class WebClient:
    """One person's browser session against the test app."""

    def __init__(self, client, username: str | None = None):
        self.client = client
        self.username = username
        self._token: str | None = None

    def login(self, username: str, password: str = PASSWORD):
        self.username = username
        token = self.csrf_token("/login")
        self._token = None  # signing in starts a new session, with a new token
        return self.client.post("/login", data={"username": username, "password": password, "csrf_token": token})

    def csrf_token(self, page: str = "/login") -> str:
        """The token a browser would read from the page's <meta name="csrf-token">."""
        response = self.client.get(page)
        match = _META_TOKEN.search(response.get_data(as_text=True))
        assert match, f"no CSRF token on {page} ({response.status_code})"
        return match.group(1)

    def session_token(self) -> str:
        if self._token is None:
            self._token = self.csrf_token("/login" if self.username is None else "/exports/")
        return self._token

    def get(self, url: str, **kwargs):
        return self.client.get(url, **kwargs)

    def post(self, url: str, data: dict, *, csrf: bool = True, **kwargs):
        data = dict(data)
        if csrf and "csrf_token" not in data:
            data["csrf_token"] = self.session_token()
        return self.client.post(url, data=data, **kwargs)

    def submit(self, url: str, changes: dict, *, csrf: bool = True):
        """Opens the form at ``url``, changes some fields and sends it, like a person would."""
        page = self.client.get(url)
        assert page.status_code == 200, (url, page.status_code)
        values = form_values(page.get_data(as_text=True))
        values = {k: v for k, v in values.items() if k not in ("language", "next", "username", "password")}
        values.update(changes)
        values = {k: v for k, v in values.items() if v is not None}
        if not csrf:
            values.pop("csrf_token", None)
        return self.client.post(url, data=values)


def text(response) -> str:
    return response.get_data(as_text=True)


# -- the people and households of the web tests ------------------------------------

PEOPLE = {
    "asep": dict(role="case_worker", villages=[CILEUNYI_KULON, CILEUNYI_WETAN], display_name="Asep Pendamping"),
    "dedi": dict(role="case_worker", villages=[PADASUKA], display_name="Dedi Cimenyan"),
    "sri": dict(role="supervisor", kecamatan=CILEUNYI, display_name="Sri Pengawas"),
    "dinsos": dict(role="agency_officer", agency="dinsos", display_name="Petugas Dinsos"),
    "inspektur": dict(role="auditor", display_name="Inspektur"),
    "admin": dict(role="admin", display_name="Admin Bappeda"),
}
TEST_CONFIG = {
    "TESTING": True,
    "WTF_CSRF_ENABLED": True,
    "KONVERGEN_LOGIN_RATE_LIMIT": "1000 per minute",
    "KONVERGEN_USER_CACHE_SECONDS": 0,  # tests change users and expect to see it at once
}
QUICK_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
_kk_serial = itertools.count(1)


def unique_kk() -> str:
    return f"320405010120{next(_kk_serial):04d}"


def add_people(konvergen: Konvergen) -> dict[str, Actor]:
    for username, details in PEOPLE.items():
        konvergen.users.create_user(username=username, password=PASSWORD, **details)
    return {username: konvergen.users.actor(username) for username in PEOPLE}


def register_household(konvergen: Konvergen, admin: Actor, *, kk: str, village: str = CILEUNYI_KULON,
                       head: dict | None = None, location=None) -> str:
    result = konvergen.households.register_household(
        admin,
        kk_number=kk,
        head=head or HEAD,
        address={"street": "Jl. Cileunyi No. 5", "rt": "3", "rw": "7", "village_code": village},
        location=location if location is not None else {"lat": -6.93, "lon": 107.75},
    )
    konvergen.wait_for(result["position"])
    return result["id"]


def browser_factory(app):
    def open_session(username: str | None = None) -> WebClient:
        client = WebClient(app.test_client())
        if username:
            response = client.login(username)
            assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return client

    return open_session
