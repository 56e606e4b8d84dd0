"""`konvergen regions load FILE`: another region's reference data (same columns)."""

from __future__ import annotations

from collections import Counter

import click

from service.cli.context import open_konvergen
from service.reference import RegionFileError, load_regions, read_region_file


@click.group()
def regions() -> None:
    """Region reference data: kecamatan and villages."""


@regions.command("load")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
def load(file: str) -> None:
    """Add or update the regions in FILE (CSV: code,name,level,parent_code).

    The whole file is checked before anything is written; regions are never deleted,
    since households may point at them.
    """
    try:
        with open(file, encoding="utf-8-sig", newline="") as stream:
            parsed = read_region_file(stream)
    except RegionFileError as error:
        raise click.ClickException(f"{click.format_filename(file)}: {error}") from None
    except UnicodeDecodeError as error:
        raise click.ClickException(
            f"{click.format_filename(file)}: not UTF-8 text (byte {error.start})"
        ) from None
    with open_konvergen() as konvergen:
        with konvergen.sessions() as session:
            count = load_regions(session, parsed)
            session.commit()
    levels = Counter(region.level for region in parsed)
    summary = ", ".join(f"{levels[level]} {level}" for level in sorted(levels))
    click.echo(f"Loaded {count} regions from {click.format_filename(file)} ({summary}).")
