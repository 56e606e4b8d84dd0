"""`konvergen users ...` and `konvergen tokens ...`: accounts and API tokens."""

from __future__ import annotations

import sys

import click

from service.access import ROLES
from service.cli.context import open_konvergen


@click.group()
def users() -> None:
    """People who work with Konvergen."""


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        return line.rstrip("\r\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


def _scope(user: dict) -> str:
    if user["villages"]:
        return "villages " + ",".join(user["villages"])
    if user["kecamatan"]:
        return f"kecamatan {user['kecamatan']}"
    if user["agency"]:
        return f"agency {user['agency']}"
    return "everything"


@users.command("create")
@click.option("--username", required=True, help="2-64 lower-case letters, digits, dot, dash or underscore.")
@click.option("--role", required=True, metavar="|".join(ROLES), help="What the user may do.")
@click.option("--display-name", help="Name shown in the interface (default: the username).")
@click.option("--villages", metavar="CODE,...", help="Village codes a case worker covers.")
@click.option("--kecamatan", metavar="CODE", help="The kecamatan a supervisor oversees.")
@click.option("--agency", metavar="CODE", help="The agency an agency officer records for.")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
def create_user(username, role, display_name, villages, kecamatan, agency, password_stdin) -> None:
    """Create a user; the password is asked twice, hidden (or read from stdin)."""
    if role not in ROLES:
        # Checked before asking for a password nobody would want to type twice for nothing.
        raise click.ClickException(f"role: must be one of {', '.join(ROLES)}")
    with open_konvergen() as konvergen:
        password = _read_password(password_stdin)
        user = konvergen.users.create_user(
            username=username,
            password=password,
            role=role,
            display_name=display_name,
            villages=villages.split(",") if villages else None,
            kecamatan=kecamatan,
            agency=agency,
        )
    click.echo(f"Created {user['username']} ({user['role']}, {_scope(user)}).")


@users.command("list")
def list_users() -> None:
    """List every user with role and scope."""
    with open_konvergen() as konvergen:
        people = konvergen.users.list_users()
    if not people:
        click.echo("No users yet: create one with `konvergen users create`.")
        return
    width = max(len(user["username"]) for user in people)
    for user in people:
        click.echo(f"{user['username']:<{width}}  {user['role']:<14}  {_scope(user)}  ({user['display_name']})")


@click.group()
def tokens() -> None:
    """API tokens for agencies' systems."""


@tokens.command("create")
@click.option("--username", required=True, help="The user the token acts for.")
def create_token(username: str) -> None:
    """Issue an API token; it is printed once and stored only as a hash."""
    with open_konvergen() as konvergen:
        token = konvergen.users.issue_token(username)
    click.echo(token)
    click.echo("Keep this token now: Konvergen stores only its hash and cannot show it again.", err=True)
