"""`konvergen users ...` and `konvergen tokens create`."""

from __future__ import annotations

from cli_helpers import error_lines, invoke, opened

CILEUNYI_KULON, CILEUNYI_WETAN = "32.04.05.2001", "32.04.05.2002"
PASSWORD = "kopi-tubruk-42"


def test_a_case_worker_created_with_a_password_from_stdin_can_sign_in_with_their_villages(sqlite_url):
    result = invoke(
        sqlite_url, "users", "create", "--username", "euis", "--role", "case_worker",
        "--display-name", "Euis Kurniasih", "--villages", f"{CILEUNYI_KULON},{CILEUNYI_WETAN}",
        "--password-stdin", input=PASSWORD + "\n",
    )

    assert result.exit_code == 0, result.output
    assert "Created euis (case_worker" in result.stdout
    with opened(sqlite_url) as konvergen:
        actor = konvergen.users.authenticate("euis", PASSWORD)
    assert actor is not None
    assert actor.role == "case_worker"
    assert actor.villages == frozenset({CILEUNYI_KULON, CILEUNYI_WETAN})
    assert actor.display_name == "Euis Kurniasih"


def test_without_stdin_the_password_is_asked_twice_and_never_echoed(sqlite_url):
    result = invoke(
        sqlite_url, "users", "create", "--username", "inspektorat", "--role", "auditor",
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )

    assert result.exit_code == 0, result.output
    assert "Password" in result.stdout and "Repeat for confirmation" in result.stdout
    assert PASSWORD not in result.output
    with opened(sqlite_url) as konvergen:
        assert konvergen.users.authenticate("inspektorat", PASSWORD).role == "auditor"


def test_an_unknown_role_is_refused_in_one_line_before_any_password_is_asked(sqlite_url):
    result = invoke(sqlite_url, "users", "create", "--username", "budi", "--role", "boss", input="")

    assert result.exit_code != 0
    assert error_lines(result) == [
        "Error: role: must be one of case_worker, agency_officer, supervisor, auditor, admin"
    ]
    assert "Password" not in result.stdout
    with opened(sqlite_url) as konvergen:
        assert konvergen.users.count() == 0


def test_an_unknown_village_is_refused_in_one_line_naming_the_field_and_nothing_is_created(sqlite_url):
    result = invoke(
        sqlite_url, "users", "create", "--username", "budi", "--role", "case_worker",
        "--villages", "32.04.05.9999", "--password-stdin", input=PASSWORD + "\n",
    )

    assert result.exit_code != 0
    assert error_lines(result) == ["Error: villages: '32.04.05.9999' is not a known village code"]
    with opened(sqlite_url) as konvergen:
        assert konvergen.users.count() == 0


def test_a_supervisor_needs_a_kecamatan_and_is_told_so(sqlite_url):
    result = invoke(
        sqlite_url, "users", "create", "--username", "kasi", "--role", "supervisor",
        "--password-stdin", input=PASSWORD + "\n",
    )

    assert result.exit_code != 0
    assert error_lines(result) == ["Error: kecamatan: a supervisor needs a kecamatan"]


def test_users_list_shows_every_user_with_role_and_scope(sqlite_url):
    invoke(sqlite_url, "users", "create", "--username", "kasi.soreang", "--role", "supervisor",
           "--kecamatan", "32.04.37", "--password-stdin", input=PASSWORD + "\n")
    invoke(sqlite_url, "users", "create", "--username", "officer.dinsos", "--role", "agency_officer",
           "--agency", "dinsos", "--password-stdin", input=PASSWORD + "\n")

    result = invoke(sqlite_url, "users", "list")

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("kasi.soreang") and "supervisor" in lines[0] and "kecamatan 32.04.37" in lines[0]
    assert lines[1].startswith("officer.dinsos") and "agency dinsos" in lines[1]


def test_a_created_token_is_printed_once_and_authenticates_as_its_user(sqlite_url):
    invoke(sqlite_url, "users", "create", "--username", "officer.dinsos", "--role", "agency_officer",
           "--agency", "dinsos", "--password-stdin", input=PASSWORD + "\n")

    result = invoke(sqlite_url, "tokens", "create", "--username", "officer.dinsos")

    assert result.exit_code == 0, result.output
    token = result.stdout.strip()
    assert len(token.splitlines()) == 1
    assert "only its hash" in result.stderr
    with opened(sqlite_url) as konvergen:
        actor = konvergen.users.actor_for_token(token)
        assert konvergen.users.actor_for_token(token + "x") is None
    assert actor is not None and actor.username == "officer.dinsos" and actor.agency == "dinsos"


def test_a_token_for_an_unknown_user_is_refused_in_one_line(sqlite_url):
    result = invoke(sqlite_url, "tokens", "create", "--username", "nobody")

    assert result.exit_code != 0
    assert result.stdout == ""
    assert error_lines(result) == ["Error: username: no user nobody"]


def test_an_unusable_database_url_is_one_line_not_a_traceback(monkeypatch):
    result = invoke("mysql://somewhere/konvergen", "users", "list")

    assert result.exit_code != 0
    assert error_lines(result) == [
        "Error: KONVERGEN_DATABASE_URL: unsupported database 'mysql'; use sqlite:///FILE or postgresql://..."
    ]
