"""Fictitious data for each document: the technician's test prints, the demo and the tests."""

from __future__ import annotations

from typing import Any

from drivers.personal import Masked, PersonalKind

__all__ = ["sample_data"]


def _holder() -> dict[str, Any]:
    return {
        "holder_name": Masked("王建国", PersonalKind.NAME),
        "id_number": Masked("330304198808080037", PersonalKind.ID_NUMBER),
        "card_number": Masked("A12345678", PersonalKind.CARD_NUMBER),
    }


def sample_data(
    name: str, *, terminal: str = "SSK-DEMO-0001", time: str = "2026-12-03 09:30"
) -> dict[str, Any]:
    """Data that fills document `name` (fictitious person, masked like real data)."""
    if name == "test_page":
        return {"terminal": terminal, "time": time}
    if name == "payment_receipt":
        return {
            **_holder(),
            "item": "电费 / Electricity",
            "account": "1100234567",
            "amount": "86.40",
            "balance": "413.60",
            "reference": "PAY-20261203-7F3A9C",
            "time": time,
            "terminal": terminal,
        }
    if name == "insured_certificate":
        return {
            **_holder(),
            "issued": time[:10],
            "code": "CERT-9K2M-X7QP-44TA",
            "periods": [
                {"insurance": "养老保险", "start": "2010-07", "end": "2026-11", "months": 197},
                {"insurance": "医疗保险", "start": "2010-07", "end": "2026-11", "months": 197},
                {"insurance": "失业保险", "start": "2012-01", "end": "2026-11", "months": 179},
            ],
        }
    if name == "contribution_statement":
        records = [
            {
                "period": f"2025-{m:02d}",
                "base": "6000.00",
                "employer": "960.00",
                "personal": "480.00",
            }
            for m in range(1, 13)
        ]
        return {
            **_holder(),
            "insurance": "养老保险",
            "years": "2025",
            "records": records,
            "total": "17280.00",
            "time": time,
        }
    raise KeyError(name)
