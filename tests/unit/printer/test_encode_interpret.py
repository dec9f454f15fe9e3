"""Documents → ESC/POS (python-escpos + GB18030) → the emulator's interpreter → the same text."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.personal import Masked, PersonalKind
from drivers.printer.document import Document, Feed, Line, Qr, Rule
from drivers.printer.emulator.interpreter import Interpreter, PaperQr, PrintedLine
from drivers.printer.encode import CHINESE_MODE_ON, encode
from kiosk.documents import TEMPLATES, DocumentError, render_document


def _interpret(data: bytes) -> Interpreter:
    it = Interpreter()
    it.feed(data)
    return it


def test_mixed_chinese_and_ascii_survive() -> None:
    doc = Document("t", (Line("社保卡 余额：12.50元 ¥3", align="center", bold=True, size=2),))
    data = encode(doc)
    assert CHINESE_MODE_ON in data and b"\x1b\x74" not in data  # no code-page switching
    (receipt,) = _interpret(data).finished
    (line,) = [i for i in receipt.items if isinstance(i, PrintedLine) and i.text]
    assert line.text == "社保卡 余额：12.50元 ￥3"
    assert line.align == "center" and line.runs[0].bold and line.runs[0].width == 2


def test_qr_rule_feed_and_cut() -> None:
    doc = Document("t", (Rule(), Qr("SSK-REF-123", module=5), Feed(2), Line("end")))
    (receipt,) = _interpret(encode(doc)).finished
    qrs = [i for i in receipt.items if isinstance(i, PaperQr)]
    assert qrs == [PaperQr("SSK-REF-123", 5, "M", "center")]
    assert receipt.cut and receipt.text.splitlines()[0] == "-" * 48


@given(
    st.lists(
        st.text(
            alphabet=st.characters(codec="gb2312", exclude_categories=("Cc", "Cs", "Zl", "Zp")),
            max_size=30,
        ),
        min_size=1,
        max_size=8,
    ),
    st.integers(1, 37),
)
def test_any_text_round_trips_in_any_chunking(lines: list[str], cut: int) -> None:
    data = encode(Document("t", tuple(Line(t) for t in lines)))
    it = Interpreter()
    for i in range(0, len(data), cut):
        it.feed(data[i : i + cut])
    (receipt,) = it.finished
    printed = [i.text for i in receipt.items if isinstance(i, PrintedLine)]
    # The cut feeds the paper past the cutter: blank lines after the document's own.
    assert printed[: len(lines)] == lines and not any(printed[len(lines) :])
    assert it.unknown == 0


@given(st.binary(max_size=3000))
def test_interpreter_survives_garbage(noise: bytes) -> None:
    it = Interpreter()
    it.feed(noise)
    it.feed(b"\x1b@")


def _holder() -> dict[str, object]:
    return {
        "holder_name": Masked("王建国", PersonalKind.NAME),
        "id_number": Masked("330304198808080037", PersonalKind.ID_NUMBER),
        "card_number": Masked("A12345678", PersonalKind.CARD_NUMBER),
    }


def test_receipt_prints_personal_values_masked_only() -> None:
    data = {
        **_holder(),
        "item": "电费",
        "account": "1100234567",
        "amount": "86.40",
        "balance": "413.60",
        "reference": "PAY-7F3A9C",
        "time": "2026-12-03 09:30",
        "terminal": "SSK-0001",
    }
    doc = render_document("payment_receipt", data)
    text = doc.plain_text()
    assert "王**" in text and "A******78" in text
    assert "王建国" not in text and "A12345678" not in text
    assert "[QR PAY-7F3A9C]" in text and "￥86.40" in text
    en = render_document("payment_receipt", data, lang="en").plain_text()
    assert "Payment receipt" in en and "Amount" in en


def test_raw_personal_value_is_refused() -> None:
    with pytest.raises(DocumentError, match="personal"):
        render_document(
            "insured_certificate",
            {
                "holder_name": "王建国",
                "id_number": _holder()["id_number"],
                "issued": "x",
                "periods": [],
                "code": "C",
            },
        )


def test_missing_value_is_a_document_error() -> None:
    with pytest.raises(DocumentError, match="needs a value"):
        render_document("test_page", {"terminal": "SSK-1"})


def test_statement_rows_fit_the_paper() -> None:
    records = [
        {"period": f"2024-{m:02d}", "base": "6000.00", "employer": "960.00", "personal": "480.00"}
        for m in range(1, 13)
    ]
    doc = render_document(
        "contribution_statement",
        {
            **_holder(),
            "insurance": "养老保险",
            "years": "2024",
            "records": records,
            "total": "17280.00",
            "time": str(dt.date(2026, 12, 3)),
        },
    )
    rows = [b for b in doc.blocks if isinstance(b, Line) and b.text.startswith("2024-")]
    assert len(rows) == 12 and all(len(r.text) <= 48 for r in rows)


def test_every_template_loads() -> None:
    assert set(TEMPLATES) == {
        "payment_receipt",
        "insured_certificate",
        "contribution_statement",
        "test_page",
    }
