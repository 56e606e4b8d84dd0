"""Deterministic demo data for Kabupaten Bandung, written through the use cases.

Everything a seed decides (people, NIKs, KK numbers, villages, dates relative to
``today``, intervention and follow-up ids) comes from one ``random.Random(seed)``, so
the same seed gives the same case files on any database. Passwords come from
``secrets``: demo accounts are real accounts and must never have a guessable password.

Every fact goes through ``Households``' use cases with a realistic actor (the village's
case worker registers and visits, the data administrator imports P3KE, the Dinas Sosial
officer records Dinas Sosial's aid), so the demo exercises the same rules as real use.
"""

from __future__ import annotations

import os
import random
import re
import secrets
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Callable
from uuid import UUID

from eventsourcing.utils import get_topic

from domain.household import Household
from domain.reference import Region
from service.access import ADMIN, AGENCY_OFFICER, AUDITOR, CASE_WORKER, SUPERVISOR, Actor
from service.clock import WIB, FixedClock
from service.container import Konvergen
from service.storage import Storage, default_instance_path

DEFAULT_HOUSEHOLDS = 2000
DEFAULT_SEED = 3204  # Kabupaten Bandung's region code: any integer will do
DEFAULT_KABUPATEN = "32.04"
LOGINS_FILENAME = "demo-logins.txt"
# Letters and digits people can read back without confusing 0/O or 1/l/I: about 95 bits.
PASSWORD_ALPHABET = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
PASSWORD_LENGTH = 17

# Kabupaten Bandung lies roughly inside this box; households get points in it.
LAT_RANGE = (-7.25, -6.85)
LON_RANGE = (107.35, 107.85)

MALE_NAMES = (
    "Asep", "Ujang", "Dadang", "Cecep", "Deden", "Engkus", "Iwan", "Yayan", "Agus", "Dede",
    "Jajang", "Ade", "Endang", "Oman", "Atang", "Aep", "Dudung", "Eman", "Rahmat", "Ridwan",
    "Herman", "Hendra", "Budi", "Wawan", "Nandang", "Maman", "Entis", "Undang", "Usep",
    "Aceng", "Komar", "Jaja", "Didin", "Rudi", "Yusuf", "Dayat", "Encep", "Odang", "Tatang",
)
FEMALE_NAMES = (
    "Euis", "Iis", "Cucu", "Neneng", "Enung", "Imas", "Elis", "Eti", "Lilis", "Yati",
    "Nining", "Tati", "Dedeh", "Enok", "Entin", "Nani", "Popon", "Oneng", "Ai", "Siti",
    "Rina", "Wati", "Yanti", "Sri", "Dewi", "Teti", "Eha", "Ijah", "Iyah", "Juju", "Kokom",
    "Lina", "Mimin", "Nia", "Ratna", "Epon", "Onah", "Titin",
)
MALE_SECOND_NAMES = (
    "Suryana", "Sutisna", "Supriatna", "Hidayat", "Mulyana", "Permana", "Saepudin",
    "Sopandi", "Rohmat", "Kusnadi", "Sunarya", "Rukmana", "Hermawan", "Gunawan",
    "Setiawan", "Rustandi", "Nugraha", "Sudrajat", "Hamdani", "Kurnia",
)
FEMALE_SECOND_NAMES = (
    "Kurniasih", "Rahayu", "Nurhayati", "Sumarni", "Setiawati", "Nurjanah", "Komariah",
    "Rohayati", "Maryati", "Suryani", "Hasanah", "Mulyani", "Aisyah", "Fatimah",
)
BOY_NAMES = (
    "Rizki", "Fajar", "Dimas", "Rangga", "Raka", "Galih", "Ilham", "Aldi", "Rizal", "Farhan",
    "Bayu", "Dafa", "Reza", "Arif", "Yoga", "Gilang", "Fikri", "Hilman", "Zaki", "Naufal",
)
GIRL_NAMES = (
    "Putri", "Salsa", "Nabila", "Aisyah", "Fitri", "Anisa", "Rani", "Sinta", "Dinda",
    "Intan", "Aulia", "Nadia", "Citra", "Sarah", "Zahra", "Nurul", "Silvi", "Rosa",
)
KAMPUNG = (
    "Babakan", "Cibodas", "Cikoneng", "Sukamaju", "Sukamanah", "Cipeujeuh", "Cibeureum",
    "Cijambu", "Pasirhuni", "Margamulya", "Ciherang", "Sindangsari", "Cilame", "Bojong",
    "Legok", "Cicukang", "Sukasari", "Neglasari", "Cangkring", "Pasir Angin", "Ciburial",
    "Leuwigoong", "Kebon Kalapa", "Warung Peuteuy", "Rancamanyar", "Cigentur",
)
GANG = ("Melati", "Mawar", "Kenanga", "Anggrek", "Cempaka", "Flamboyan", "Dahlia", "Teratai")

# Where people not born in their kecamatan come from: (province+kabupaten, kecamatan count).
MIGRANT_ORIGINS = (("3273", 30), ("3217", 16), ("3205", 42), ("3211", 26), ("3203", 32), ("3174", 10))

PROGRAMME_WEIGHTS = {
    "pkh": 25, "bpnt": 25, "pbi_jk": 20, "blt_dd": 10, "pip": 8, "rtlh": 4,
    "air_sanitasi": 4, "pelatihan_kerja": 3, "modal_usaha": 4, "adminduk": 3,
}
PROGRAMME_VALUES = {  # Rupiah per delivery: (low, high), rounded to Rp 1,000; None: no money value
    "pkh": (600_000, 900_000), "bpnt": (600_000, 600_000), "pbi_jk": (126_000, 504_000),
    "blt_dd": (900_000, 900_000), "pip": (450_000, 1_000_000), "rtlh": (17_500_000, 20_000_000),
    "air_sanitasi": (2_500_000, 6_000_000), "pelatihan_kerja": None,
    "modal_usaha": (1_500_000, 5_000_000), "adminduk": None,
}
CANCEL_REASONS = (
    "Penerima tidak ditemukan di alamat",
    "Sudah menerima bantuan serupa dari program lain",
    "Anggaran tahap ini dialihkan",
    "Data ganda di daftar penerima",
)
FOLLOW_UP_PURPOSES = (
    "Kunjungan verifikasi kondisi rumah",
    "Pendampingan pencairan bantuan",
    "Cek kelengkapan dokumen kependudukan",
    "Pemantauan kesehatan balita dan ibu hamil",
    "Tindak lanjut usulan perbaikan rumah (RTLH)",
    "Monitoring usaha mikro keluarga",
    "Pastikan anak usia sekolah terdaftar PIP",
)
FOLLOW_UP_OUTCOMES = (
    "Keluarga ditemui, kondisi sesuai data",
    "Dokumen sudah lengkap, diteruskan ke Disdukcapil",
    "Bantuan sudah diterima dan dimanfaatkan",
    "Rumah perlu perbaikan atap, diusulkan ke Disperkim",
    "Anak sudah kembali bersekolah",
)


class DemoRefused(Exception):
    """The demo will not load here; the message says why and what to do."""


@dataclass(frozen=True)
class DemoLogin:
    username: str
    role: str
    scope: str
    password: str


@dataclass
class DemoResult:
    """What the demo wrote: counts for the operator, logins for people to try it."""

    seed: int
    today: date
    households: int = 0
    members: int = 0
    villages: int = 0
    categorisations: int = 0
    interventions_delivered: int = 0
    interventions_planned: int = 0
    interventions_cancelled: int = 0
    follow_ups_open: int = 0
    follow_ups_overdue: int = 0
    follow_ups_completed: int = 0
    follow_ups_cancelled: int = 0
    graduations: int = 0
    closures: int = 0
    departures: int = 0
    logins: list[DemoLogin] = field(default_factory=list)


def has_households(konvergen: Konvergen) -> bool:
    """True once any household was ever registered in this event store."""
    recorder = konvergen.households.recorder
    topic = get_topic(Household.Registered)
    return bool(recorder.select_notifications(start=None, limit=1, topics=[topic]))


def instance_folder(storage: Storage) -> Path:
    """Next to the SQLite file; otherwise KONVERGEN_INSTANCE_PATH or ./instance."""
    if storage.kind == "sqlite":
        return Path(storage.eventstore_env["SQLITE_DBNAME"]).parent
    return default_instance_path()


def write_logins(path: Path, logins: list[DemoLogin], today: date) -> None:
    """Writes the logins readable by the owner only: they are real passwords."""
    path.parent.mkdir(parents=True, exist_ok=True)
    width = max(len(login.username) for login in logins)
    lines = [
        f"# Konvergen demo logins, created {today.isoformat()}. Random passwords: keep this file private.",
        *(
            f"{login.username:<{width}}  {login.role:<14}  {login.password}  {login.scope}"
            for login in logins
        ),
    ]
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
        stream.write("\n".join(lines) + "\n")
    os.chmod(path, 0o600)  # in case the file already existed with wider permissions


def generate_demo(
    konvergen: Konvergen,
    *,
    households: int = DEFAULT_HOUSEHOLDS,
    seed: int = DEFAULT_SEED,
    today: date | None = None,
    kabupaten: str = DEFAULT_KABUPATEN,
    progress: Callable[[int], None] | None = None,
    logins_path: Path | None = None,
) -> DemoResult:
    """Creates demo users and ``households`` case files in an empty database.

    With ``logins_path``, the logins are written there as soon as the accounts exist,
    so an interrupted load still leaves accounts someone can sign in with.

    While it runs, the households' clock is a FixedClock at ``today`` (moved back for the
    follow-ups that are overdue today, which the domain only accepts when scheduled in
    the past); the original clock is restored afterwards. So do not run it in a process
    that is serving requests. ``progress`` is called with 1 after each household.
    """
    if households < 1:
        raise DemoRefused("the demo needs at least one household")
    if has_households(konvergen):
        raise DemoRefused(
            "the database already has households; the demo only loads into an empty one "
            "(delete the SQLite file, or point KONVERGEN_DATABASE_URL at a new database)"
        )
    builder = _DemoBuilder(
        konvergen, seed=seed, today=today or konvergen.clock.today(), kabupaten=kabupaten, logins_path=logins_path
    )
    original_clock = konvergen.households.clock
    konvergen.households.clock = builder.clock
    try:
        return builder.run(households, progress)
    finally:
        konvergen.households.clock = original_clock


def _noon(day: date) -> datetime:
    return datetime.combine(day, time(12), tzinfo=WIB)


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", name.lower())


@dataclass
class _Person:
    nik: str
    name: str
    sex: str
    birth_date: date
    relationship: str

    def as_dict(self) -> dict:
        return asdict(self)


class _DemoBuilder:
    """Holds the seed's random stream and the numbers already handed out."""

    def __init__(self, konvergen: Konvergen, *, seed: int, today: date, kabupaten: str, logins_path: Path | None):
        self.konvergen = konvergen
        self.logins_path = logins_path
        self.households = konvergen.households
        self.rng = random.Random(seed)
        self.today = today
        self.clock = FixedClock(_noon(today))
        self.result = DemoResult(seed=seed, today=today)
        self.niks: set[str] = set()
        self.kk_numbers: set[str] = set()
        self.villages = sorted(
            (v for v in konvergen.regions.villages() if v.code.startswith(kabupaten + ".")),
            key=lambda v: v.code,
        )
        if not self.villages:
            raise DemoRefused(f"no villages under region {kabupaten} in the region reference data")
        self.kecamatan_codes = sorted({v.parent_code for v in self.villages})
        self.anchors = {
            v.code: (self.rng.uniform(-7.20, -6.90), self.rng.uniform(107.40, 107.80))
            for v in self.villages
        }
        programmes = konvergen.programmes.programmes
        self.programme_weights = {code: w for code, w in PROGRAMME_WEIGHTS.items() if code in programmes}
        if not self.programme_weights:
            self.programme_weights = {code: 1 for code in programmes}
        self.officer_agency = "dinsos" if "dinsos" in konvergen.programmes.agencies else sorted(konvergen.programmes.agencies)[0]
        self.worker_for_village: dict[str, Actor] = {}

    # -- the plan ---------------------------------------------------------------

    def run(self, count: int, progress: Callable[[int], None] | None) -> DemoResult:
        demo_kecamatan = self._demo_kecamatan()
        demo_villages = sorted(v.code for v in self.villages if v.parent_code == demo_kecamatan)[:3]
        order = self._village_order(count, demo_villages)
        self._create_users(demo_kecamatan, demo_villages, {self._kecamatan_of(code) for code in order})
        for village_code in order:
            self._household(village_code)
            if progress is not None:
                progress(1)
        self.result.villages = len(set(order))
        return self.result

    def _demo_kecamatan(self) -> str:
        """Soreang, the district capital, when present; else the first kecamatan."""
        for code in self.kecamatan_codes:
            region = self.konvergen.regions.get(code)
            if region is not None and region.name == "Soreang":
                return code
        return self.kecamatan_codes[0]

    def _kecamatan_of(self, village_code: str) -> str:
        return self.konvergen.regions.kecamatan_of(village_code)

    def _village_order(self, count: int, first: list[str]) -> list[str]:
        """Every village once (the demo case worker's first), then more where poverty is denser."""
        rest = [v.code for v in self.villages if v.code not in first]
        self.rng.shuffle(rest)
        sweep = first + rest
        if count <= len(sweep):
            return sweep[:count]
        weights = [self.rng.uniform(0.3, 3.0) for _ in sweep]
        extra = self.rng.choices(sweep, weights=weights, k=count - len(sweep))
        return sweep + extra

    # -- users ------------------------------------------------------------------

    def _create_users(self, demo_kecamatan: str, demo_villages: list[str], kecamatan_in_use: set[str]) -> None:
        regions = self.konvergen.regions
        kecamatan_name = regions.get(demo_kecamatan).name
        agency_name = self.konvergen.programmes.agencies[self.officer_agency].name
        plans = [
            ("demo.pendamping", CASE_WORKER, "Pendamping desa (demo)", {"villages": demo_villages},
             "villages " + ", ".join(regions.get(code).name for code in demo_villages)),
            (f"demo.{self.officer_agency}", AGENCY_OFFICER, f"Petugas {agency_name} (demo)",
             {"agency": self.officer_agency}, f"agency {agency_name}"),
            ("demo.supervisor", SUPERVISOR, f"Pengawas Kecamatan {kecamatan_name} (demo)",
             {"kecamatan": demo_kecamatan}, f"kecamatan {kecamatan_name}"),
            ("demo.auditor", AUDITOR, "Auditor Inspektorat (demo)", {}, "everything, read-only"),
            ("demo.admin", ADMIN, "Administrator Bappeda (demo)", {}, "everything"),
        ]
        # One TKSK (kecamatan social worker) per kecamatan with households, as assignee
        # of its villages' visits, except the villages the demo case worker covers.
        tksk_for_kecamatan: dict[str, str] = {}
        for code in sorted(kecamatan_in_use):
            villages = [v.code for v in self.villages if v.parent_code == code and v.code not in demo_villages]
            if not villages:
                continue
            name = regions.get(code).name
            username = f"tksk.{_slug(name) or code.replace('.', '')}"
            if username in tksk_for_kecamatan.values():
                username = f"tksk.{code.replace('.', '')}"
            tksk_for_kecamatan[code] = username
            plans.append((username, CASE_WORKER, f"TKSK Kecamatan {name}", {"villages": villages}, f"kecamatan {name}"))
        existing = {user["username"] for user in self.konvergen.users.list_users()}
        taken = [plan[0] for plan in plans if plan[0] in existing]
        if taken:
            raise DemoRefused(f"demo user(s) already exist: {', '.join(taken)}; use an empty database")
        for username, role, display_name, scope, description in plans:
            password = "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(PASSWORD_LENGTH))
            self.konvergen.users.create_user(
                username=username, password=password, role=role, display_name=display_name, **scope
            )
            self.result.logins.append(DemoLogin(username, role, description, password))
        if self.logins_path is not None:
            write_logins(self.logins_path, self.result.logins, self.today)
        users = self.konvergen.users
        self.admin = users.actor("demo.admin")
        self.officer = users.actor(f"demo.{self.officer_agency}")
        demo_worker = users.actor("demo.pendamping")
        tksk = {kecamatan: users.actor(username) for kecamatan, username in tksk_for_kecamatan.items()}
        for village in self.villages:
            if village.code in demo_villages:
                self.worker_for_village[village.code] = demo_worker
            elif village.parent_code in tksk:
                self.worker_for_village[village.code] = tksk[village.parent_code]

    # -- one household ------------------------------------------------------------

    def _household(self, village_code: str) -> None:
        rng = self.rng
        village = self.konvergen.regions.get(village_code)
        worker = self.worker_for_village[village_code]
        kecamatan_digits = village.parent_code.split(".")[-1].zfill(2)
        local_prefix = village_code.replace(".", "")[:4] + kecamatan_digits
        head, members = self._family(local_prefix)
        registered = self.households.register_household(
            worker,
            kk_number=self._kk_number(local_prefix),
            head=head.as_dict(),  # the head's relationship is implied: Household.register leaves it out
            members=[m.as_dict() for m in members],
            address=self._address(village),
            location=self._location(village_code) if rng.random() < 0.65 else None,
        )
        household_id = registered["id"]
        self.result.households += 1
        self.result.members += 1 + len(members)

        category = self._categorise(worker, household_id)
        delivered = self._interventions(worker, household_id, category, members)
        closing = rng.random() < 0.01
        if not closing:
            self._follow_ups(worker, household_id, category)
        self._departure(worker, household_id, members)
        if category == "miskin_ekstrem" and delivered and not closing and rng.random() < 0.05:
            self._graduate(worker, household_id)
        if closing:
            self.households.close_household(
                worker,
                household_id,
                reason="moved_away",
                effective_on=self.today - timedelta(days=rng.randint(1, 30)),
                note="Pindah ke luar kabupaten, ikut keluarga",
            )
            self.result.closures += 1

    # -- people -------------------------------------------------------------------

    def _birth_date(self, age: int) -> date:
        day = self.today - timedelta(days=age * 365 + self.rng.randint(0, 364))
        return min(day, self.today)

    def _nik(self, local_prefix: str, birth: date, sex: str) -> str:
        rng = self.rng
        if rng.random() < 0.12:
            origin, kecamatan_count = rng.choice(MIGRANT_ORIGINS)
            prefix = f"{origin}{rng.randint(1, kecamatan_count):02d}"
        else:
            prefix = local_prefix
        day = birth.day + (40 if sex == "P" else 0)
        while True:
            nik = f"{prefix}{day:02d}{birth.month:02d}{birth.year % 100:02d}{rng.randint(1, 9999):04d}"
            if nik not in self.niks:
                self.niks.add(nik)
                return nik

    def _person(self, local_prefix: str, sex: str, age: int, relationship: str, *, child: bool = False) -> _Person:
        rng = self.rng
        if child:
            given = rng.choice(BOY_NAMES if sex == "L" else GIRL_NAMES)
            if sex == "L" and rng.random() < 0.3:
                given = f"Muhammad {given}"
            second = rng.choice(MALE_SECOND_NAMES if sex == "L" else FEMALE_SECOND_NAMES)
        else:
            given = rng.choice(MALE_NAMES if sex == "L" else FEMALE_NAMES)
            second = rng.choice(MALE_SECOND_NAMES if sex == "L" else FEMALE_SECOND_NAMES)
        name = f"{given} {second}" if rng.random() < 0.7 else given
        birth = self._birth_date(age)
        return _Person(self._nik(local_prefix, birth, sex), name, sex, birth, relationship)

    def _family(self, local_prefix: str) -> tuple[_Person, list[_Person]]:
        rng = self.rng
        head_sex = "P" if rng.random() < 0.18 else "L"
        head_age = rng.randint(24, 78)
        head = self._person(local_prefix, head_sex, head_age, "kepala_keluarga")
        members: list[_Person] = []
        mother_age = head_age if head_sex == "P" else None
        if head_sex == "L" and rng.random() < 0.85:
            wife_age = max(18, head_age - rng.randint(-2, 10))
            members.append(self._person(local_prefix, "P", wife_age, "istri"))
            mother_age = wife_age
        elif head_sex == "P" and rng.random() < 0.08:
            members.append(self._person(local_prefix, "L", head_age + rng.randint(0, 8), "suami"))
        if mother_age is not None and mother_age >= 19:
            children = rng.choices((0, 1, 2, 3, 4, 5), weights=(10, 22, 30, 20, 12, 6))[0]
            for _ in range(children):
                age = rng.randint(0, min(mother_age - 18, 30))
                sex = rng.choice("LP")
                members.append(self._person(local_prefix, sex, age, "anak", child=True))
        if head_age < 60 and rng.random() < 0.08:
            members.append(self._person(local_prefix, rng.choice("LP"), min(95, head_age + rng.randint(20, 30)), "orang_tua"))
        if head_age > 55 and rng.random() < 0.10:
            members.append(self._person(local_prefix, rng.choice("LP"), rng.randint(0, 10), "cucu", child=True))
        return head, members

    def _kk_number(self, local_prefix: str) -> str:
        """Kecamatan of issue (6), issue date DDMMYY (6), serial (4)."""
        rng = self.rng
        while True:
            issued = self.today - timedelta(days=rng.randint(60, 15 * 365))
            kk = f"{local_prefix}{issued.day:02d}{issued.month:02d}{issued.year % 100:02d}{rng.randint(1, 9999):04d}"
            if kk not in self.kk_numbers:
                self.kk_numbers.add(kk)
                return kk

    def _address(self, village: Region) -> dict:
        rng = self.rng
        kind = rng.random()
        if kind < 0.6:
            street = f"Kp. {rng.choice(KAMPUNG)}"
        elif kind < 0.85:
            street = f"Gg. {rng.choice(GANG)}"
        else:
            street = f"Jl. Raya {village.name} No. {rng.randint(1, 250)}"
        return {"street": street, "rt": str(rng.randint(1, 15)), "rw": str(rng.randint(1, 12)), "village_code": village.code}

    def _location(self, village_code: str) -> dict:
        lat0, lon0 = self.anchors[village_code]
        lat = min(max(lat0 + self.rng.gauss(0, 0.006), LAT_RANGE[0]), LAT_RANGE[1])
        lon = min(max(lon0 + self.rng.gauss(0, 0.006), LON_RANGE[0]), LON_RANGE[1])
        return {"lat": round(lat, 6), "lon": round(lon, 6)}

    # -- categorisation -------------------------------------------------------------

    def _categorise(self, worker: Actor, household_id: str) -> str:
        rng = self.rng
        category = rng.choices(("miskin_ekstrem", "miskin", "rentan"), weights=(70, 20, 10))[0]
        desil = {
            "miskin_ekstrem": 1 if rng.random() < 0.75 else 2,
            "miskin": rng.choice((2, 3)),
            "rentan": rng.choice((3, 4)),
        }[category]
        self.households.categorise(
            self.admin,
            household_id,
            category=category,
            desil=desil,
            source="p3ke_dtsen_import",
            effective_on=self.today - timedelta(days=rng.randint(150, 330)),
            reason=f"Impor P3KE/DTSEN, desil {desil}",
        )
        self.result.categorisations += 1
        if rng.random() < 0.30:
            if rng.random() < 0.3:
                category = {"miskin_ekstrem": "miskin", "miskin": "miskin_ekstrem", "rentan": "miskin"}[category]
                desil = {"miskin_ekstrem": 1, "miskin": 3, "rentan": 4}[category]
            source, reason = "field_verification", "Verifikasi lapangan: kondisi rumah dan pengeluaran dicek pendamping"
        elif rng.random() < 0.08:
            source, reason = "village_deliberation", "Ditetapkan dalam musyawarah desa"
        else:
            return category
        self.households.categorise(
            worker,
            household_id,
            category=category,
            desil=desil,
            source=source,
            effective_on=self.today - timedelta(days=rng.randint(10, 120)),
            reason=reason,
        )
        self.result.categorisations += 1
        return category

    # -- interventions --------------------------------------------------------------

    def _interventions(self, worker: Actor, household_id: str, category: str, members: list[_Person]) -> int:
        rng = self.rng
        counts, weights = {
            "miskin_ekstrem": ((1, 2, 3, 4), (20, 35, 30, 15)),
            "miskin": ((0, 1, 2, 3), (20, 40, 30, 10)),
            "rentan": ((0, 1, 2), (50, 35, 15)),
        }[category]
        school_age = any(6 <= (self.today - m.birth_date).days // 365 <= 18 for m in members)
        choices = {p: w for p, w in self.programme_weights.items() if p != "pip" or school_age}
        delivered = 0
        for _ in range(rng.choices(counts, weights=weights)[0]):
            programme = rng.choices(list(choices), weights=list(choices.values()))[0]
            allowed = self.konvergen.programmes.programmes[programme].agencies or tuple(self.konvergen.programmes.agencies)
            agency = allowed[0] if rng.random() < 0.8 else rng.choice(allowed)
            planned_on = self.today + timedelta(days=rng.randint(-300, 60))
            age_days = (self.today - planned_on).days
            roll = rng.random()
            if age_days >= 7:
                outcome = "delivered" if roll < 0.80 else "cancelled" if roll < 0.90 else "planned"
            elif age_days >= 0:
                outcome = "delivered" if roll < 0.5 else "planned"
            else:
                outcome = "cancelled" if roll < 0.05 else "planned"
            actor = self.officer if agency == self.officer_agency else worker if agency in ("pemdes", "dpmd") else self.admin
            value_range = PROGRAMME_VALUES.get(programme)
            value = round(rng.randint(*value_range), -3) if value_range else None
            planned = self.households.plan_intervention(
                actor,
                household_id,
                programme=programme,
                agency=agency,
                planned_on=planned_on,
                value_idr=value,
                notes=f"Tahap {(planned_on.month - 1) // 3 + 1} {planned_on.year}",
                delivered_on=min(planned_on + timedelta(days=rng.randint(0, 14)), self.today)
                if outcome == "delivered"
                else None,
                intervention_id=self._uuid(),
            )
            if outcome == "cancelled":
                self.households.cancel_intervention(
                    actor, household_id, planned["intervention_id"], reason=rng.choice(CANCEL_REASONS)
                )
                self.result.interventions_cancelled += 1
            elif outcome == "delivered":
                self.result.interventions_delivered += 1
                delivered += 1
            else:
                self.result.interventions_planned += 1
        return delivered

    # -- follow-ups -----------------------------------------------------------------

    def _follow_ups(self, worker: Actor, household_id: str, category: str) -> None:
        rng = self.rng
        if category == "miskin_ekstrem":
            count = rng.choices((0, 1, 2), weights=(25, 50, 25))[0]
        else:
            count = rng.choices((0, 1), weights=(60, 40))[0]
        for _ in range(count):
            kind = rng.choices(("open", "overdue", "completed", "cancelled"), weights=(40, 25, 30, 5))[0]
            if kind == "open":
                due_on = self.today + timedelta(days=rng.randint(1, 45))
                scheduled_on = self.today
            else:
                due_on = self.today - timedelta(days=rng.randint(1, 40 if kind == "overdue" else 90))
                scheduled_on = due_on - timedelta(days=rng.randint(7, 28))
            follow_up_id = self._uuid()
            # The domain refuses a due date in the past, so schedule it back then.
            self.clock.move_to(_noon(scheduled_on))
            try:
                self.households.schedule_follow_up(
                    worker,
                    household_id,
                    due_on=due_on,
                    assigned_to=worker.username,
                    purpose=rng.choice(FOLLOW_UP_PURPOSES),
                    follow_up_id=follow_up_id,
                )
            finally:
                self.clock.move_to(_noon(self.today))
            if kind == "completed":
                completed_on = min(max(due_on + timedelta(days=rng.randint(-2, 5)), scheduled_on), self.today)
                self.households.complete_follow_up(
                    worker, household_id, follow_up_id, completed_on=completed_on, outcome=rng.choice(FOLLOW_UP_OUTCOMES)
                )
                self.result.follow_ups_completed += 1
            elif kind == "cancelled":
                self.households.cancel_follow_up(
                    worker, household_id, follow_up_id, reason="Keluarga sedang merantau, dijadwalkan ulang nanti"
                )
                self.result.follow_ups_cancelled += 1
            elif kind == "overdue":
                self.result.follow_ups_overdue += 1
            else:
                self.result.follow_ups_open += 1

    # -- life events ------------------------------------------------------------------

    def _departure(self, worker: Actor, household_id: str, members: list[_Person]) -> None:
        rng = self.rng
        if rng.random() >= 0.03:
            return
        adults = [m for m in members if m.relationship == "anak" and (self.today - m.birth_date).days >= 18 * 365]
        elders = [m for m in members if m.relationship == "orang_tua"]
        if adults:
            member, reason, note = rng.choice(adults), "married_out", "Menikah, ikut KK suami/istri"
        elif elders:
            member, reason, note = rng.choice(elders), "died", "Meninggal dunia, akta kematian dari desa"
        else:
            return
        self.households.record_member_left(
            worker,
            household_id,
            member.nik,
            reason=reason,
            left_on=self.today - timedelta(days=rng.randint(10, 200)),
            note=note,
        )
        self.result.departures += 1

    def _graduate(self, worker: Actor, household_id: str) -> None:
        rng = self.rng
        effective_on = self.today - timedelta(days=rng.randint(3, 9))
        category = rng.choice(("miskin", "rentan"))
        self.households.categorise(
            worker,
            household_id,
            category=category,
            desil=3 if category == "miskin" else 4,
            source="field_verification",
            effective_on=effective_on,
            reason="Verifikasi graduasi: pengeluaran per kapita di atas garis kemiskinan ekstrem",
        )
        self.result.categorisations += 1
        self.households.graduate(
            worker,
            household_id,
            effective_on=effective_on,
            reason="Pendapatan naik setelah bantuan dan pendampingan; diverifikasi pendamping",
        )
        self.result.graduations += 1

    def _uuid(self) -> str:
        return UUID(int=self.rng.getrandbits(128), version=4).hex
