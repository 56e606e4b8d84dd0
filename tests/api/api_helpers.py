"""Sample households and a small API client for the API tests."""

from __future__ import annotations

from contextlib import contextmanager
from copy import deepcopy
from datetime import datetime, timezone

PASSWORD = "correct horse battery"
CILEUNYI_KULON = "32.04.05.2001"  # kecamatan Cileunyi (32.04.05)
CILEUNYI_WETAN = "32.04.05.2002"
PADASUKA = "32.04.06.1001"  # kecamatan Cimenyan (32.04.06)

HEAD = {"nik": "3204051203800001", "name": "Asep Sunandar", "sex": "L", "birth_date": "1980-03-12"}
WIFE = {"nik": "3204056107850002", "name": "Euis Komariah", "sex": "P", "birth_date": "1985-07-21", "relationship": "istri"}
CHILD = {"nik": "3204050501100003", "name": "Dede Rohman", "sex": "L", "birth_date": "2010-01-05", "relationship": "anak"}
KK = "3204050101200001"
REGISTRATION = {
    "kk_number": KK,
    "head": HEAD,
    "address": {"street": "Jl. Cileunyi No. 5", "rt": "3", "rw": "7", "village_code": CILEUNYI_KULON},
    "location": {"lat": -6.93, "lon": 107.75},
}


def registration(**changes) -> dict:
    body = deepcopy(REGISTRATION)
    body.update(changes)
    return body


class ApiClient:
    """Sends requests as one user (or anonymously) and keeps the answers' JSON handy."""

    def __init__(self, client, token: str | None, username: str | None = None):
        self.client = client
        self.token = token
        self.username = username

    def headers(self, extra: dict | None = None) -> dict:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        headers.update(extra or {})
        return headers

    def get(self, path: str, **kwargs):
        return self.client.get(f"/api/v1{path}", headers=self.headers(kwargs.pop("headers", None)), **kwargs)

    def post(self, path: str, json=None, **kwargs):
        headers = self.headers(kwargs.pop("headers", None))
        if json is not None:
            kwargs["json"] = json
        return self.client.post(f"/api/v1{path}", headers=headers, **kwargs)


@contextmanager
def module_service():
    """One in-memory service for a whole module of tests that change nothing (or little).

    Building a service loads the region table; doing it once per module instead of once
    per test is most of the API suite's run time.
    """
    from service.clock import FixedClock
    from service.container import Konvergen

    service = Konvergen("memory://", clock=FixedClock(datetime(2026, 11, 28, 3, 0, tzinfo=timezone.utc)))
    try:
        yield service
    finally:
        service.close()


def admin_client(konvergen, username: str = "admin") -> ApiClient:
    from service.app import create_app

    konvergen.users.create_user(username=username, password=PASSWORD, role="admin")
    return ApiClient(create_app(konvergen, {"TESTING": True}).test_client(), konvergen.users.issue_token(username), username)
