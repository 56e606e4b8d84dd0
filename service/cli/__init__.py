"""The `konvergen` command: serve, demo data, users, tokens, reference data, ..."""

from __future__ import annotations

import click


@click.group()
def main() -> None:
    """Konvergen: the household case file for ending extreme poverty."""
