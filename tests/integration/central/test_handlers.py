"""Every RPC method of the contract, answered on both backends, results valid by the contract."""

from __future__ import annotations

import base64
import hashlib
import uuid
from typing import Any

import pytest

from central.config import LedgerConfig, SeedConfig
from central.handlers import RpcService, mask_account, mask_name
from central.ledger import Ledger
from central.seed import holder_bill_accounts
from central.storage import Storage
from kiosk.contract import (
    CONTRACT_VERSION,
    RPC_SCHEMAS,
    Credential,
    RpcMethod,
    RpcRequest,
    RpcResponse,
    decode,
)
from tests.fixtures.central import TEST_HOLDER_ID, TEST_PHOTO, TEST_TEMPLATE

NOW = 1_790_000_000.0
TERMINAL = "SSK-T-0001"


def _service(db: Storage) -> RpcService:
    clock = lambda: NOW  # noqa: E731
    return RpcService(db, Ledger(db, LedgerConfig(), clock), clock)


ALL_CREDENTIALS = frozenset(Credential)


def _token(svc: RpcService, params: dict[str, Any]) -> str:
    """A full-credential session token of the request's person, signed with the central's own
    key (the trust protocol itself is tested in test_trust.py): these tests are about the
    handlers behind it."""
    id_number = str(params.get("id_number", TEST_HOLDER_ID))
    row = svc._db.one("SELECT card_number FROM cards WHERE id_number = ?", (id_number.upper(),))
    card = row[0] if row else "T00000001"
    return svc.trust.issue_for_tests(TERMINAL, id_number, card, ALL_CREDENTIALS)


def _call(
    svc: RpcService,
    method: RpcMethod,
    params: dict[str, Any],
    *,
    deadline: float = NOW + 10,
    terminal: str = TERMINAL,
    token: str | None = None,
) -> RpcResponse:
    req = RpcRequest(
        v=CONTRACT_VERSION,
        msg_id=str(uuid.uuid4()),
        terminal_id=TERMINAL,
        boot_id="b",
        seq=1,
        mono=0.0,
        wall=NOW,
        clock_synced=True,
        method=method,
        params=params,
        deadline=deadline,
        session_token=_token(svc, params) if token is None else token,
    )
    resp = svc.handle(terminal, req)
    assert resp.request_id == req.msg_id
    if resp.ok:  # every result validates against the contract's result model
        assert resp.result is not None
        decode(RPC_SCHEMAS[method][1], resp.result)
    return resp


def _ok(resp: RpcResponse) -> dict[str, Any]:
    assert resp.ok, resp.error
    assert resp.result is not None
    return resp.result


def test_queries_of_a_card_holder(central_db: tuple[Storage, SeedConfig]) -> None:
    db, cfg = central_db
    svc = _service(db)
    person = _ok(_call(svc, RpcMethod.PERSON_SUMMARY, {"id_number": TEST_HOLDER_ID}))
    assert person["name"] == "测试员" and person["gender"] == "F"
    assert person["birth_date"] == "1949-12-31" and person["status"] == "retired"
    assert person["wallet_balance_cents"] == cfg.holder_wallet_cents
    assert set(person["insurances"]) >= {"pension", "medical"}

    accounts = _ok(_call(svc, RpcMethod.ACCOUNTS, {"id_number": TEST_HOLDER_ID}))["accounts"]
    assert [a["kind"] for a in accounts] == ["pension", "medical"]

    benefits = _ok(
        _call(
            svc,
            RpcMethod.BENEFITS,
            {"id_number": TEST_HOLDER_ID, "from_period": "202501", "to_period": "202612"},
        )
    )["payments"]
    assert benefits and all(p["kind"] for p in benefits)
    assert all("*" in p["bank_account"] for p in benefits)  # masked

    photo = _ok(_call(svc, RpcMethod.PHOTO_REFERENCE, {"id_number": TEST_HOLDER_ID}))
    assert base64.b64decode(photo["image_b64"]) == TEST_PHOTO
    assert photo["sha256"] == hashlib.sha256(TEST_PHOTO).hexdigest()

    finger = _ok(_call(svc, RpcMethod.FINGERPRINT_REFERENCE, {"id_number": TEST_HOLDER_ID}))
    assert base64.b64decode(finger["template_b64"]) == TEST_TEMPLATE


def test_contributions_of_a_working_person(central_db: tuple[Storage, SeedConfig]) -> None:
    db, cfg = central_db
    svc = _service(db)
    row = db.one("SELECT id_number FROM persons WHERE status = 'active' ORDER BY id_number")
    assert row is not None
    for insurance in ("pension", "unemployment", "medical", "work_injury", "maternity"):
        records = _ok(
            _call(
                svc,
                RpcMethod.CONTRIBUTIONS,
                {
                    "id_number": row[0],
                    "insurance": insurance,
                    "from_period": "202601",
                    "to_period": cfg.end_period,
                },
            )
        )["records"]
        assert [r["period"] for r in records] == [f"2026{m:02d}" for m in range(1, 11)]
        assert all(r["insurance"] == insurance for r in records)


def test_bills_and_payment_through_handlers(central_db: tuple[Storage, SeedConfig]) -> None:
    db, _ = central_db
    svc = _service(db)
    account = holder_bill_accounts(TEST_HOLDER_ID)["power"]
    bills = _ok(_call(svc, RpcMethod.BILLS, {"utility": "power", "account_number": account}))
    assert len(bills["bills"]) == 1 and bills["bills"][0]["holder"] == "测**"
    bill = bills["bills"][0]
    all_bills = _ok(
        _call(
            svc,
            RpcMethod.BILLS,
            {"utility": "power", "account_number": account, "unpaid_only": False},
        )
    )["bills"]
    assert len(all_bills) == 2
    key = str(uuid.uuid4())
    pay = {
        "payment_key": key,
        "id_number": TEST_HOLDER_ID,
        "purpose": "utility_bill",
        "reference": bill["bill_id"],
        "amount_cents": bill["amount_cents"],
    }
    assert _ok(_call(svc, RpcMethod.PAYMENT_SUBMIT, pay))["state"] == "accepted"
    assert _ok(_call(svc, RpcMethod.PAYMENT_STATUS, {"payment_key": key}))["state"] == "accepted"
    assert (
        _ok(_call(svc, RpcMethod.BILLS, {"utility": "power", "account_number": account}))["bills"]
        == []
    )


def test_activation_methods(central_db: tuple[Storage, SeedConfig]) -> None:
    db, _ = central_db
    svc = _service(db)
    key = str(uuid.uuid4())
    assert _ok(_call(svc, RpcMethod.ACTIVATION_STATUS, {"activation_key": key}))["state"] == "none"
    approved = _ok(
        _call(
            svc,
            RpcMethod.ACTIVATION_APPROVE,
            {"activation_key": key, "id_number": TEST_HOLDER_ID, "card_number": "T00000001"},
        )
    )
    assert approved["state"] == "approved"
    status = _ok(_call(svc, RpcMethod.ACTIVATION_STATUS, {"activation_key": key}))
    assert status["approval_id"] == approved["approval_id"]


@pytest.mark.parametrize(
    ("method", "params", "code"),
    [
        (RpcMethod.PERSON_SUMMARY, {"id_number": "110101199001011237"}, "not_found"),
        (RpcMethod.PERSON_SUMMARY, {"id": "x"}, "invalid_params"),
        (
            RpcMethod.CONTRIBUTIONS,
            {
                "id_number": TEST_HOLDER_ID,
                "insurance": "pension",
                "from_period": "2026-01",
                "to_period": "202610",
            },
            "invalid_params",
        ),
        (RpcMethod.BILLS, {"utility": "power", "account_number": "00000000"}, "not_found"),
        (RpcMethod.PHOTO_REFERENCE, {"id_number": "110101199001011237"}, "not_found"),
        (RpcMethod.PAYMENT_SUBMIT, {"payment_key": "k" * 8, "amount_cents": -1}, "invalid_params"),
    ],
)
def test_errors_are_typed(
    central_db: tuple[Storage, SeedConfig], method: RpcMethod, params: dict[str, Any], code: str
) -> None:
    resp = _call(_service(central_db[0]), method, params)
    assert not resp.ok and resp.error is not None and resp.error.code == code


def test_deadline_and_terminal_are_enforced(central_db: tuple[Storage, SeedConfig]) -> None:
    db, _ = central_db
    svc = _service(db)
    late = _call(svc, RpcMethod.PERSON_SUMMARY, {"id_number": TEST_HOLDER_ID}, deadline=NOW - 1)
    assert late.error is not None and late.error.code == "deadline_passed"
    key = str(uuid.uuid4())
    bill = db.one(
        "SELECT bill_id, amount_cents FROM bills WHERE holder_id = ? AND status = 'unpaid'",
        (TEST_HOLDER_ID,),
    )
    assert bill is not None
    pay = {
        "payment_key": key,
        "id_number": TEST_HOLDER_ID,
        "purpose": "utility_bill",
        "reference": bill[0],
        "amount_cents": int(bill[1]),
    }
    late_pay = _call(svc, RpcMethod.PAYMENT_SUBMIT, pay, deadline=NOW - 1)
    assert late_pay.error is not None and late_pay.error.code == "deadline_passed"
    status = _ok(_call(svc, RpcMethod.PAYMENT_STATUS, {"payment_key": key}))
    assert (status["state"], status["reason"]) == ("declined", "deadline_passed")
    other = _call(svc, RpcMethod.PERSON_SUMMARY, {"id_number": TEST_HOLDER_ID}, terminal="SSK-X-9")
    assert other.error is not None and other.error.code == "forbidden"


def test_masks() -> None:
    assert mask_name("张三丰") == "张**"
    assert mask_account("6217001234567890123") == "621700*********0123"


def test_a_late_redelivery_of_an_applied_payment_is_not_called_late(
    central_db: tuple[Storage, SeedConfig],
) -> None:
    db, _ = central_db
    svc = _service(db)
    bill = db.one(
        "SELECT bill_id, amount_cents FROM bills WHERE holder_id = ? AND status = 'unpaid'",
        (TEST_HOLDER_ID,),
    )
    assert bill is not None
    pay = {
        "payment_key": str(uuid.uuid4()),
        "id_number": TEST_HOLDER_ID,
        "purpose": "utility_bill",
        "reference": bill[0],
        "amount_cents": int(bill[1]),
    }
    in_time = _ok(_call(svc, RpcMethod.PAYMENT_SUBMIT, pay))
    assert in_time["state"] == "accepted"
    redelivered = _call(svc, RpcMethod.PAYMENT_SUBMIT, pay, deadline=NOW - 1)
    assert _ok(redelivered) == in_time
