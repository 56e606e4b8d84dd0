"""The two spreadsheet layouts the importer reads, and how file headers find their fields.

A header matches a field when, case-, whitespace- and punctuation-insensitively, it is
one of the field's aliases (Indonesian as in P3KE/DTSEN extracts, or English). A
deployment whose files use other headers maps them with a JSON/TOML mapping file or
``--column "HEADER=field"``. Columns that match no field are ignored: P3KE extracts
carry dozens of columns (occupation, schooling, ...) that the case file does not keep.
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from service.importing.errors import ImportFileError


@dataclass(frozen=True)
class Field:
    name: str  # canonical field name, as in the API contract
    header: str  # the header the exporter writes (Indonesian, P3KE-like)
    aliases: tuple[str, ...] = ()
    required: bool = False


@dataclass(frozen=True)
class Layout:
    name: str
    fields: tuple[Field, ...]
    # Groups of fields of which at least one column must be present.
    one_of: tuple[tuple[str, ...], ...] = ()

    def field(self, name: str) -> Field:
        for field in self.fields:
            if field.name == name:
                return field
        raise KeyError(name)

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    @property
    def headers(self) -> list[str]:
        """The headers an export in this layout writes, in order."""
        return [f.header for f in self.fields]


HOUSEHOLDS = Layout(
    name="households",
    fields=(
        Field("kk_number", "No KK", ("no kk", "nomor kk", "nokk", "kk", "no kartu keluarga",
                                     "nomor kartu keluarga", "kk number", "family card"), required=True),
        Field("nik", "NIK", ("nik", "no nik", "nomor nik", "nomor induk kependudukan", "nik art"), required=True),
        Field("name", "Nama", ("nama", "nama lengkap", "nama art", "name", "full name"), required=True),
        Field("relationship", "Hubungan", ("hubungan", "hubungan keluarga", "hubungan dengan kepala keluarga",
                                           "shdk", "status hubungan dalam keluarga", "relationship"),
              required=True),
        Field("sex", "Jenis Kelamin", ("jenis kelamin", "jk", "kelamin", "l p", "sex", "gender"), required=True),
        Field("birth_date", "Tanggal Lahir", ("tanggal lahir", "tgl lahir", "tanggal lhr", "birth date",
                                              "date of birth", "dob"), required=True),
        Field("street", "Alamat", ("alamat", "alamat lengkap", "jalan", "street", "address")),
        Field("rt", "RT", ("rt", "no rt"), required=True),
        Field("rw", "RW", ("rw", "no rw"), required=True),
        Field("village_code", "Kode Desa", ("kode desa", "kode desa kelurahan", "kode kelurahan", "kd desa",
                                            "kode wilayah", "village code")),
        Field("village_name", "Desa/Kelurahan", ("desa kelurahan", "desa", "kelurahan", "desa kel",
                                                 "nama desa", "village")),
        Field("kecamatan_name", "Kecamatan", ("kecamatan", "nama kecamatan", "kec", "district")),
        Field("desil", "Desil", ("desil", "desil kesejahteraan", "peringkat desil", "decile")),
        Field("category", "Kategori", ("kategori", "kategori kemiskinan", "status kesejahteraan", "category")),
        Field("category_source", "Sumber Kategori", ("sumber kategori", "category source")),
        Field("category_date", "Tanggal Kategori", ("tanggal kategori", "tanggal efektif", "category date")),
        Field("lat", "Lintang", ("lintang", "latitude", "lat")),
        Field("lon", "Bujur", ("bujur", "longitude", "lon", "lng", "long")),
    ),
    one_of=(("village_code", "village_name"),),
)

INTERVENTIONS = Layout(
    name="interventions",
    fields=(
        Field("kk_number", "No KK", HOUSEHOLDS.field("kk_number").aliases, required=True),
        Field("intervention_id", "ID Intervensi", ("id intervensi", "intervention id", "id")),
        Field("programme", "Program", ("program", "programme", "nama program", "jenis bantuan"), required=True),
        Field("agency", "Instansi", ("instansi", "perangkat daerah", "opd", "dinas", "agency"), required=True),
        Field("strategy", "Strategi", ("strategi", "strategy")),
        Field("status", "Status", ("status", "status penyaluran")),
        Field("planned_on", "Tanggal Rencana", ("tanggal rencana", "tgl rencana", "rencana", "planned date",
                                                "planned on")),
        Field("delivered_on", "Tanggal Realisasi", ("tanggal realisasi", "tgl realisasi", "tanggal penyaluran",
                                                    "tgl penyaluran", "tanggal salur", "delivered date",
                                                    "delivered on")),
        Field("value_idr", "Nilai", ("nilai", "nilai bantuan", "nominal", "value", "value idr")),
        Field("notes", "Keterangan", ("keterangan", "catatan", "notes")),
        Field("cancel_reason", "Alasan Pembatalan", ("alasan pembatalan", "alasan batal", "cancel reason")),
    ),
)

IGNORE = ("", "ignore")  # mapping a header to this skips the column

LAYOUTS = {layout.name: layout for layout in (HOUSEHOLDS, INTERVENTIONS)}

_PARENTHESISED = re.compile(r"\([^)]*\)")
_NOT_WORD = re.compile(r"[^0-9a-z]+")


def normalise_header(header: object) -> str:
    """'  No. KK ' -> 'no kk'; 'Nilai (Rp)' -> 'nilai'; 'kk_number' -> 'kk number'."""
    text = _PARENTHESISED.sub(" ", str(header or "")).casefold()
    return " ".join(_NOT_WORD.sub(" ", text).split())


@dataclass(frozen=True)
class Column:
    """Where one field is in the file: its index and the header the file gives it."""

    index: int
    header: str


@dataclass(frozen=True)
class ColumnMap:
    layout: Layout
    columns: dict[str, Column]

    def header_of(self, field: str) -> str:
        column = self.columns.get(field)
        return column.header if column else self.layout.field(field).header

    def has(self, field: str) -> bool:
        return field in self.columns

    def describe(self) -> dict[str, str]:
        """File header -> field, for a preview."""
        return {column.header: field for field, column in self.columns.items()}


def resolve_columns(
    headers: list, layout: Layout, mapping: dict[str, str] | None = None, *, line: int = 1
) -> ColumnMap:
    """Matches the file's header row to the layout's fields; errors name its line."""
    explicit = {normalise_header(h): f.strip() for h, f in (mapping or {}).items()}
    for field in explicit.values():
        if field not in layout.field_names and field not in IGNORE:
            raise ImportFileError(
                f"the mapping names field {field!r}, which is not in the {layout.name} layout "
                f"(fields: {', '.join(layout.field_names)})"
            )
    aliases: dict[str, str] = {}
    for field in layout.fields:
        for alias in (*field.aliases, normalise_header(field.name), normalise_header(field.header)):
            aliases.setdefault(alias, field.name)
    columns: dict[str, Column] = {}
    for index, header in enumerate(headers):
        text = "" if header is None else str(header).strip()
        key = normalise_header(text)
        if not key:
            continue
        if key in explicit:
            field = explicit[key]
        else:
            field = aliases.get(key)
            if field in explicit.values():
                continue  # the mapping names another column for this field
        if field is None or field in IGNORE:
            continue
        if field in columns:
            raise ImportFileError(
                f"line {line}: columns {columns[field].header!r} and {text!r} both mean {field}; "
                "map one of them to another field with a mapping"
            )
        columns[field] = Column(index, text)
    missing = [f.header for f in layout.fields if f.required and f.name not in columns]
    for group in layout.one_of:
        if not any(name in columns for name in group):
            missing.append(" or ".join(layout.field(name).header for name in group))
    if missing:
        raise ImportFileError(
            f"line {line}: missing column(s) {', '.join(missing)} for the {layout.name} layout "
            "(headers are matched case-insensitively; map others with --mapping)"
        )
    return ColumnMap(layout, columns)


def load_mapping(path: str | Path) -> dict[str, str]:
    """A header mapping file: JSON or TOML, either flat or under a ``columns`` key."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as error:
        raise ImportFileError(f"mapping file {path}: {error.strerror or error}") from None
    try:
        data = tomllib.loads(text) if path.suffix.lower() == ".toml" else json.loads(text)
    except (ValueError, tomllib.TOMLDecodeError) as error:
        raise ImportFileError(f"mapping file {path}: {error}") from None
    if isinstance(data, dict) and isinstance(data.get("columns"), dict):
        data = data["columns"]
    if not isinstance(data, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in data.items()):
        raise ImportFileError(f'mapping file {path}: expected {{"file header": "field", ...}}')
    return dict(data)


def parse_column_options(options: tuple[str, ...] | list[str]) -> dict[str, str]:
    """``HEADER=field`` pairs from the command line."""
    mapping = {}
    for option in options:
        header, sep, field = option.rpartition("=")
        if not sep or not header.strip() or not field.strip():
            raise ImportFileError(f"--column {option!r}: use HEADER=field")
        mapping[header.strip()] = field.strip()
    return mapping
