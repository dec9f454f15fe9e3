"""The seed data set: fictitious insured persons generated deterministically (seeded RNG), plus the
holders of the card emulator profiles with their reference photos and fingerprint templates.

Same config, same data set, on SQLite and PostgreSQL alike. The emulator profiles are read BY
PATH as JSON data (central never imports drivers); a missing or malformed profile, photo or
template is logged and skipped, never fatal, so the central system seeds before those exist.
"""

from __future__ import annotations

import datetime as dt
import glob
import hashlib
import json
import logging
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from central.config import SeedConfig, resolve_path
from central.idnumber import is_valid_id_number, make_id_number, mask_id
from central.storage import Storage

__all__ = [
    "INSURANCES",
    "LEDGER_TABLES",
    "UTILITIES",
    "HolderProfile",
    "SeedSummary",
    "holder_bill_accounts",
    "ledger_row_counts",
    "load_holder_profiles",
    "seed_database",
]

logger = logging.getLogger("central.seed")

INSURANCES = ("pension", "unemployment", "medical", "work_injury", "maternity")
UTILITIES = ("water", "power", "gas")
# (employer rate, personal rate) of the contribution base, the common national rates (2019+).
_RATES: dict[str, tuple[float, float]] = {
    "pension": (0.16, 0.08),
    "unemployment": (0.005, 0.005),
    "medical": (0.08, 0.02),
    "work_injury": (0.004, 0.0),
    "maternity": (0.008, 0.0),
}
_UTILITY_PREFIX = {"water": "31", "power": "51", "gas": "71"}
_REGIONS = (
    "110101",
    "110105",
    "310101",
    "310115",
    "440103",
    "440305",
    "330102",
    "510104",
    "420102",
    "320102",
    "370102",
    "610103",
    "120101",
    "500103",
    "210102",
    "350102",
)
_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蔡蒋余于杜叶程"
)
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建国文辉鹏飞宇浩然欣怡子轩梓涵"
_EMPLOYERS = (
    "市第一人民医院",
    "华兴机械有限公司",
    "东方纺织集团",
    "市公交总公司",
    "新城小学",
    "长江物流有限公司",
    "明德软件有限公司",
    "个体经营",
    "灵活就业",
    "市自来水公司",
)


@dataclass(frozen=True, slots=True)
class HolderProfile:
    """The holder of one card emulator profile, as the profile file declares it."""

    profile: str
    id_number: str
    name: str
    sex: str  # M or F
    birth_date: str  # YYYY-MM-DD
    card_number: str
    region: str
    demo_finger: str | None
    photo_path: Path | None
    card_id: str = ""  # EF05 tag 01, 32 hex digits (region ‖ D156000005 ‖ card serial)
    algorithm: str = "sm4"  # the card's cipher: sm4 or 3des


@dataclass
class SeedSummary:
    """What `seed_database` wrote (row counts per table, and the holders that were seeded)."""

    counts: dict[str, int] = field(default_factory=dict)
    holders: list[str] = field(default_factory=list)  # profile names
    skipped: list[str] = field(default_factory=list)  # human reasons


def _sex(value: Any, id_number: str) -> str:
    text = str(value or "").strip().lower()
    if text in ("1", "m", "male", "男"):
        return "M"
    if text in ("2", "f", "female", "女"):
        return "F"
    return "M" if int(id_number[16]) % 2 else "F"


def _date(value: Any, id_number: str) -> str:
    text = str(value or "").strip().replace("-", "")
    if len(text) == 8 and text.isdigit():
        try:
            return dt.date(int(text[:4]), int(text[4:6]), int(text[6:])).isoformat()
        except ValueError:
            pass
    return f"{id_number[6:10]}-{id_number[10:12]}-{id_number[12:14]}"


def _first(d: dict[str, Any], *keys: str) -> Any:
    for k in keys:
        if d.get(k) not in (None, ""):
            return d[k]
    return None


def load_holder_profiles(pattern: str, skipped: list[str] | None = None) -> list[HolderProfile]:
    """Read every profile JSON file matching `pattern` (relative = project dir) that declares a
    holder with a valid ID number; the rest are logged, listed in `skipped`, and ignored.

    Holder fields are looked up at the top level or under `holder`; the photo path is relative to
    the profile file (then its `photos/` folder)."""
    skipped = [] if skipped is None else skipped
    found: list[HolderProfile] = []
    seen: set[str] = set()
    for name in sorted(glob.glob(str(resolve_path(pattern)))):
        path = Path(name)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
            skipped.append(f"{path.name}: unreadable ({e})")
            continue
        if not isinstance(data, dict):
            skipped.append(f"{path.name}: not a JSON object")
            continue
        nested = data.get("holder")
        holder: dict[str, Any] = nested if isinstance(nested, dict) else data
        id_number = str(_first(holder, "id_number", "id", "social_security_number") or "")
        if not is_valid_id_number(id_number):
            skipped.append(f"{path.name}: no valid holder id_number")  # e.g. the PSAM profile
            continue
        if id_number in seen:
            skipped.append(f"{path.name}: holder {mask_id(id_number)} already seeded")
            continue
        seen.add(id_number)
        photo_name = _first(holder, "photo", "photo_file", "ef08_photo") or _first(
            data, "photo", "photo_file", "ef08_photo"
        )
        photo_path: Path | None = None
        if isinstance(photo_name, str):
            for cand in (path.parent / photo_name, path.parent / "photos" / photo_name):
                if cand.is_file():
                    photo_path = cand
                    break
            else:
                skipped.append(f"{path.name}: photo {photo_name} not found")
        finger = _first(holder, "demo_finger") or _first(data, "demo_finger")
        card_number = str(_first(holder, "card_number", "card_no") or id_number[-9:])
        region = str(_first(holder, "region", "region_code") or id_number[:6])[:6]
        found.append(
            HolderProfile(
                profile=path.stem,
                id_number=id_number.upper(),
                name=str(_first(holder, "name", "full_name") or "测试持卡人"),
                sex=_sex(_first(holder, "sex", "gender"), id_number),
                birth_date=_date(_first(holder, "birth_date", "birthdate"), id_number),
                card_number=card_number,
                region=region,
                demo_finger=str(finger) if finger else None,
                photo_path=photo_path,
                card_id=card_id_of(
                    region,
                    _first(holder, "card_serial") or _first(data, "card_serial"),
                    card_number,
                ),
                algorithm=_algorithm(data, holder),
            )
        )
    for reason in skipped:
        logger.info("seed: skipped %s", reason)
    return found


def card_id_of(region: str, serial: Any, card_number: str) -> str:
    """The card identification code as the emulator builds it: region BCD (3) ‖ D156000005 ‖
    the 8-byte card serial; a profile without a serial gets one derived from the card number."""
    text = str(serial or "")
    try:
        ok = len(bytes.fromhex(text)) == 8
    except ValueError:
        ok = False
    if not ok:
        text = hashlib.sha256(f"card-serial:{card_number}".encode()).hexdigest()[:16]
    region_hex = region if len(region) == 6 and region.isdigit() else "000000"
    return (region_hex + "D156000005" + text).upper()


def _algorithm(data: dict[str, Any], holder: dict[str, Any]) -> str:
    name = str(_first(holder, "algorithm") or _first(data, "algorithm") or "").lower()
    if name in ("3des", "tdes"):
        return "3des"
    if name == "sm4":
        return "sm4"
    spec = str(_first(holder, "spec_version") or _first(data, "spec_version") or "3")
    return "sm4" if spec.startswith("3") else "3des"


def holder_bill_accounts(id_number: str) -> dict[str, str]:
    """The utility account numbers of a person, derived from the ID number (stable across seeds):
    2-digit utility prefix + 10 digits."""
    digits = "".join(c for c in id_number if c.isdigit())
    tail = digits[-10:] if len(digits) >= 10 else digits.rjust(10, "0")
    return {u: _UTILITY_PREFIX[u] + tail for u in UTILITIES}


def _status(birth_date: str, end: str) -> str:
    return "retired" if int(end[:4]) - int(birth_date[:4]) >= 60 else "active"


def _bank_account(rng: random.Random) -> str:
    """A 19-digit debit card number (UnionPay-like BIN 621700, fictitious)."""
    return "621700" + "".join(str(rng.randrange(10)) for _ in range(13))


def _day(period: str, day: int) -> str:
    return f"{period[:4]}-{period[4:6]}-{day:02d}"


def _periods(end: str, months: int) -> list[str]:
    """`months` periods YYYYMM ending with `end` (YYYYMM), oldest first."""
    year, month = int(end[:4]), int(end[4:6])
    out: list[str] = []
    for _ in range(months):
        out.append(f"{year:04d}{month:02d}")
        month -= 1
        if month == 0:
            year, month = year - 1, 12
    out.reverse()
    return out


class _Rows:
    """The rows of every table, accumulated before the bulk load."""

    def __init__(self) -> None:
        self.persons: list[tuple[Any, ...]] = []
        self.contributions: list[tuple[Any, ...]] = []
        self.accounts: list[tuple[Any, ...]] = []
        self.benefits: list[tuple[Any, ...]] = []
        self.wallets: list[tuple[Any, ...]] = []
        self.bills: list[tuple[Any, ...]] = []
        self.cards: list[tuple[Any, ...]] = []
        self.pension_qualifications: list[tuple[Any, ...]] = []


def _person_history(
    rows: _Rows,
    rng: random.Random,
    id_number: str,
    birth: str,
    periods: Sequence[str],
    end: str,
    wallet_cents: int,
) -> None:
    """Contributions for the five insurances per month, accounts, benefits, wallet, bills."""
    base = rng.randrange(3_500_00, 25_000_00, 100)  # monthly contribution base, fen
    age = int(end[:4]) - int(birth[:4])
    retired = age >= 60
    gap_rate = rng.choice((0.0, 0.0, 0.02, 0.1))  # some persons have unpaid months
    pension = medical = 0
    paid_months = 0
    for period in periods:
        if retired:
            break
        paid = 0 if rng.random() < gap_rate else 1
        paid_months += paid
        for ins in INSURANCES:
            er, pr = _RATES[ins]
            emp, pers = round(base * er), round(base * pr)
            rows.contributions.append((id_number, ins, period, base, emp, pers, paid))
            if paid and ins == "pension":
                pension += pers
            if paid and ins == "medical":
                medical += pers + round(emp * 0.3)  # 30 % of the employer's part is credited
        if period.endswith("01"):
            base = round(base * 1.04 / 100) * 100  # yearly base adjustment
    if retired:
        pension = rng.randrange(80_000_00, 300_000_00, 100)
        paid_months = 180 + rng.randrange(0, 300)
    medical = max(0, medical - rng.randrange(0, max(1, medical // 2 + 1)))  # spent on care
    # Interest credited yearly on the pension account (roughly 2-6 % of the balance so far).
    interest = round(pension * rng.uniform(0.02, 0.06))
    as_of = f"{end[:4]}-{end[4:6]}-01"
    rows.accounts.append(
        (id_number, "pension", pension + interest, pension, interest, paid_months, as_of)
    )
    rows.accounts.append((id_number, "medical", medical, medical, 0, paid_months, as_of))
    if retired:
        monthly = rng.randrange(2_500_00, 8_000_00, 100)
        for period in periods[-12:]:
            rows.benefits.append((id_number, "pension", period, monthly, _day(period, 15)))
    elif rng.random() < 0.05:
        for period in periods[-3:]:
            rows.benefits.append((id_number, "unemployment", period, 1_800_00, _day(period, 10)))
    if rng.random() < 0.2:
        period = periods[rng.randrange(len(periods))]
        rows.benefits.append(
            (
                id_number,
                "medical_reimbursement",
                period,
                rng.randrange(100_00, 20_000_00),
                _day(period, 20),
            )
        )
    rows.wallets.append((id_number, wallet_cents))
    accounts = holder_bill_accounts(id_number)
    for utility in UTILITIES:
        if rng.random() < 0.4 and wallet_cents != -1:
            continue  # not every household has every utility with this account
        _bills(rows, rng, id_number, utility, accounts[utility], periods[-2:])


def _bills(
    rows: _Rows,
    rng: random.Random,
    id_number: str,
    utility: str,
    account: str,
    periods: Sequence[str],
) -> None:
    for i, period in enumerate(periods):
        amount = rng.randrange(20_00, 600_00)
        year, month = int(period[:4]), int(period[4:6])
        due = dt.date(year + month // 12, month % 12 + 1, 25).isoformat()
        status = "paid" if i < len(periods) - 1 else "unpaid"
        rows.bills.append(
            (f"{account}-{period}", account, utility, id_number, period, amount, due, status, None)
        )


def _generate(cfg: SeedConfig, holders: Iterable[HolderProfile]) -> _Rows:
    rng = random.Random(cfg.rng_seed)
    rows = _Rows()
    periods = _periods(cfg.end_period, cfg.months)
    taken: set[str] = set()
    for h in holders:
        taken.add(h.id_number)
        hr = random.Random(f"{cfg.rng_seed}:{h.id_number}")  # holders' data: independent of order
        rows.persons.append(
            (
                h.id_number,
                h.name,
                h.sex,
                h.birth_date,
                h.region,
                h.card_number,
                "201001",
                _status(h.birth_date, cfg.end_period),
                _EMPLOYERS[0],
                _bank_account(hr),
                h.profile,
                h.demo_finger,
                None,
                None,
            )
        )
        _person_history(rows, hr, h.id_number, h.birth_date, periods, cfg.end_period, -1)
        rows.wallets[-1] = (h.id_number, cfg.holder_wallet_cents)
        rows.cards.append((h.card_number, h.card_id, h.id_number, h.algorithm, "active", 0.0))
    for n in range(cfg.persons):
        while True:
            birth = dt.date(1950, 1, 1) + dt.timedelta(days=rng.randrange(0, 54 * 365))
            id_number = make_id_number(rng.choice(_REGIONS), birth, rng.randrange(1, 1000))
            if id_number not in taken:
                break
        taken.add(id_number)
        sex = "M" if int(id_number[16]) % 2 else "F"
        name = rng.choice(_SURNAMES) + "".join(
            rng.choice(_GIVEN) for _ in range(rng.choice((1, 2)))
        )
        since = f"{max(birth.year + 18, 1995)}{rng.randrange(1, 13):02d}"
        rows.persons.append(
            (
                id_number,
                name,
                sex,
                birth.isoformat(),
                id_number[:6],
                f"A{n + 10_000_000:08d}",
                since,
                _status(birth.isoformat(), cfg.end_period),
                rng.choice(_EMPLOYERS),
                _bank_account(rng),
                None,
                None,
                None,
                None,
            )
        )
        _person_history(
            rows,
            rng,
            id_number,
            birth.isoformat(),
            periods,
            cfg.end_period,
            rng.randrange(0, cfg.wallet_cents_max + 1),
        )
    _extras(rows, cfg)
    return rows


# What terminals did (payments made, events received, cards activated): a re-seed loses it.
LEDGER_TABLES = ("payments", "event_receipts", "activations")


def ledger_row_counts(storage: Storage) -> dict[str, int]:
    """Rows per ledger table that holds any (the schema is created first when missing)."""
    storage.create_schema()
    counts: dict[str, int] = {}
    for table in LEDGER_TABLES:
        row = storage.one(f"SELECT COUNT(*) FROM {table}")  # a fixed table name, not input
        if row is not None and int(row[0]):
            counts[table] = int(row[0])
    return counts


_COURSES = (
    ("养老护理员（初级）", "care", 120),
    ("育婴员", "care", 96),
    ("中式烹调师", "catering", 160),
    ("电工（初级）", "trade", 200),
    ("焊工", "trade", 180),
    ("电子商务运营", "digital", 80),
    ("Python 编程入门", "digital", 64),
    ("家政服务员", "care", 72),
    ("叉车司机", "logistics", 48),
    ("创业培训（SYB）", "business", 56),
)


def _extras(rows: _Rows, cfg: SeedConfig) -> None:
    """Cards of the generated persons (some reported lost), last year's pension qualifications
    of retirees. From hashes of the rows, not the generator: the rest of the data set stays what
    it was for the same seed."""
    lost = set(cfg.lost_cards)
    last_year = int(cfg.end_period[:4]) - 1
    holders = {c[0] for c in rows.cards}
    for p in rows.persons:
        id_number, card_number, status = p[0], p[5], p[7]
        digest = hashlib.sha256(f"{cfg.rng_seed}:{id_number}".encode()).digest()
        if card_number not in holders:
            state = "temporary_lost" if digest[0] < 3 or card_number in lost else "active"
            card_id = card_id_of(id_number[:6], None, card_number)
            rows.cards.append((card_number, card_id, id_number, "sm4", state, 0.0))
        if status == "retired" and digest[1] < 230:  # ~90 % qualified last year
            at = dt.datetime(last_year, 1 + digest[2] % 12, 1 + digest[3] % 28, tzinfo=dt.UTC)
            rows.pension_qualifications.append(
                (id_number, last_year, f"seed-{id_number}", "counter", "counter", at.timestamp())
            )
    if lost:  # a listed holder card too (tests and demos of the lost-card journey)
        rows.cards = [
            (c[0], c[1], c[2], c[3], "temporary_lost" if c[0] in lost else c[4], c[5])
            for c in rows.cards
        ]


def _courses(cfg: SeedConfig) -> list[tuple[Any, ...]]:
    year, month = int(cfg.end_period[:4]), int(cfg.end_period[4:])
    out: list[tuple[Any, ...]] = []
    for i, (title, category, hours) in enumerate(_COURSES):
        m = (month + i // 3) % 12 + 1
        y = year + (month + i // 3) // 12
        start = dt.date(y, m, 1 + (i * 7) % 25).isoformat()
        seats = 2 if i == len(_COURSES) - 1 else 20 + (i * 13) % 30  # the last one fills up
        out.append((f"TC{year}{i + 1:03d}", title, category, start, hours, seats, 0, 1))
    return out


def seed_database(storage: Storage, cfg: SeedConfig, *, recreate: bool = True) -> SeedSummary:
    """(Re)create the schema and load the data set. With `recreate`, every table is dropped
    first (ledger included: this is for demo and test databases, never production)."""
    summary = SeedSummary()
    holders = load_holder_profiles(cfg.profiles_glob, summary.skipped)
    rows = _generate(cfg, holders)
    # Reference photos and templates of the emulated holders (files written by other parts).
    fingers_dir = resolve_path(cfg.fingers_dir)
    media: dict[str, tuple[bytes | None, bytes | None]] = {}
    for h in holders:
        photo = tpl = None
        if h.photo_path is not None:
            photo = h.photo_path.read_bytes()
        if h.demo_finger:
            tpl_path = fingers_dir / f"{h.demo_finger}.tpl"
            if tpl_path.is_file():
                tpl = tpl_path.read_bytes()
            else:
                summary.skipped.append(f"{h.profile}: template {tpl_path.name} not found")
        media[h.id_number] = (photo, tpl)
        summary.holders.append(h.profile)
    persons = [(*p[:12], *media.get(p[0], (None, None))) for p in rows.persons]
    if recreate:
        storage.drop_all()
    storage.create_schema()
    with storage.transaction():
        storage.bulk_insert("persons", persons)
        storage.bulk_insert("contributions", rows.contributions)
        storage.bulk_insert("accounts", rows.accounts)
        storage.bulk_insert("benefits", rows.benefits)
        storage.bulk_insert("wallets", rows.wallets)
        storage.bulk_insert("bills", rows.bills)
        storage.bulk_insert("cards", rows.cards)
        storage.bulk_insert("pension_qualifications", rows.pension_qualifications)
        storage.bulk_insert("courses", _courses(cfg))
        storage.execute(
            "INSERT INTO meta (key, value) VALUES ('seed', ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (json.dumps({"rng_seed": cfg.rng_seed, "persons": cfg.persons, "months": cfg.months}),),
        )
    summary.counts = {
        "persons": len(persons),
        "contributions": len(rows.contributions),
        "accounts": len(rows.accounts),
        "benefits": len(rows.benefits),
        "wallets": len(rows.wallets),
        "bills": len(rows.bills),
        "cards": len(rows.cards),
        "pension_qualifications": len(rows.pension_qualifications),
        "courses": len(_COURSES),
    }
    logger.info("seeded %s (holders: %s)", summary.counts, ", ".join(summary.holders) or "none")
    return summary
