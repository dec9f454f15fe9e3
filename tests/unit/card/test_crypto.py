"""Known-answer tests of the card ciphers, then our padding, diversification and KCV on them."""

from __future__ import annotations

import pytest
from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from hypothesis import given
from hypothesis import strategies as st

from drivers.card.crypto import (
    Algorithm,
    CryptoError,
    cryptogram,
    decrypt_ecb,
    diversify,
    encrypt_ecb,
    iso9797_m2_pad,
    key_check_value,
    pad_block,
    process_key,
)

H = bytes.fromhex


# GB/T 32907-2016 appendix A, example 1: key = plaintext = 0123456789abcdeffedcba9876543210.
def test_sm4_gbt32907_appendix_a_example_1() -> None:
    key = H("0123456789abcdeffedcba9876543210")
    ct = encrypt_ecb(Algorithm.SM4, key, key)
    assert ct == H("681edf34d206965e86b3e94f536e4246")
    assert decrypt_ecb(Algorithm.SM4, key, ct) == key


def test_sm4_gbt32907_appendix_a_example_2() -> None:
    # Example 2: the plaintext encrypted 1 000 000 times under the same key (~0.4 s). On the
    # primitive `encrypt_ecb` wraps: a million wrapper calls would take seconds.
    key = H("0123456789abcdeffedcba9876543210")
    enc = Cipher(algorithms.SM4(key), modes.ECB()).encryptor()
    block = key
    for _ in range(1_000_000):
        block = enc.update(block)
    assert block == H("595298c7c6fd271f0402f804c33d3f66")


# draft-ribose-cfrg-sm4-10 A.1.4/A.1.5 (the example of GB/T 32907 with the key halves swapped),
# as shipped in pyca's cryptography_vectors (ciphers/SM4/draft-ribose-cfrg-sm4-10-ecb.txt).
def test_sm4_ribose_draft_example_a14() -> None:
    key = H("fedcba98765432100123456789abcdef")
    plain = H("000102030405060708090a0b0c0d0e0f")
    ct = encrypt_ecb(Algorithm.SM4, key, plain)
    assert ct == H("f766678f13f01adeac1b3ea955adb594")
    assert decrypt_ecb(Algorithm.SM4, key, ct) == plain


def test_sm4_zero_key_zero_block() -> None:
    # Not a published vector: measured on our stack (docs/card.md §11). Kept because the KCV
    # test below relies on it; the published anchors are the two tests above.
    assert encrypt_ecb(Algorithm.SM4, bytes(16), bytes(16)) == H("9f1f7bff6f5511384d9430531e538fd3")


# NIST SP 800-20 (TMOVS) tables A.1 (variable plaintext) and A.2 (variable key), the same rows as
# CAVP TECBvartext.rsp / TECBvarkey.rsp: TDEA with K1 = K2 = K3, which our two-key form
# (K1, K2, K1) reproduces when K1 = K2.
@pytest.mark.parametrize(
    ("key8", "plain", "cipher"),
    [
        ("0101010101010101", "8000000000000000", "95f8a5e5dd31d900"),
        ("0101010101010101", "4000000000000000", "dd7f121ca5015619"),
        ("0101010101010101", "2000000000000000", "2e8653104f3834ea"),
        ("8001010101010101", "0000000000000000", "95a8d72813daa94d"),
    ],
)
def test_tdea_sp800_20_known_answers(key8: str, plain: str, cipher: str) -> None:
    key = H(key8) * 2
    assert encrypt_ecb(Algorithm.TDES, key, H(plain)) == H(cipher)
    assert decrypt_ecb(Algorithm.TDES, key, H(cipher)) == H(plain)


def test_tdea_sp800_67_example_three_keys() -> None:
    # SP 800-67 appendix example: the primitive we wrap, with three distinct keys.
    key = H("0123456789ABCDEF23456789ABCDEF01456789ABCDEF0123")
    enc = Cipher(TripleDES(key), modes.ECB()).encryptor()
    out = enc.update(b"The qufck brown fox jump") + enc.finalize()
    assert out == H("A826FD8CE53B855FCCE21C8112256FE668D5C05DD9B6B900")


# NIST CAVP TDES multi-block message test, keying option 2 (K1 != K2, K3 = K1), file
# TECBMMT2.rsp (tdesmmt.zip; also in pyca's cryptography_vectors ciphers/3DES/ECB/): proves our
# K1-K2-K1 arrangement, which the equal-key TMOVS rows above cannot.
@pytest.mark.parametrize(
    ("direction", "key", "data_in", "data_out"),
    [
        # [ENCRYPT] COUNT = 0
        ("encrypt", "ad192fd064b5579e7a4fb3c8f794f22a", "13bad542f3652d67", "908e543cf2cb254f"),
        # [ENCRYPT] COUNT = 1 (two blocks)
        (
            "encrypt",
            "259df16e7af804fe83b90e9bf7c7e557",
            "a4619c433bbd6787c07c81728f9ac9fa",
            "9e06de155c483c6bcfd834dbc8bd5830",
        ),
        # [DECRYPT] COUNT = 0
        ("decrypt", "b32ff42092024adf2076b9d3d9f19e6d", "2f3f2a49bba807a5", "2249973fa135fb52"),
    ],
)
def test_tdea_two_key_cavp_tecbmmt2(direction: str, key: str, data_in: str, data_out: str) -> None:
    op = encrypt_ecb if direction == "encrypt" else decrypt_ecb
    back = decrypt_ecb if direction == "encrypt" else encrypt_ecb
    assert op(Algorithm.TDES, H(key), H(data_in)) == H(data_out)
    assert back(Algorithm.TDES, H(key), H(data_out)) == H(data_in)


def test_wrong_sizes_are_refused() -> None:
    with pytest.raises(CryptoError):
        encrypt_ecb(Algorithm.SM4, bytes(8), bytes(16))
    with pytest.raises(CryptoError):
        encrypt_ecb(Algorithm.TDES, bytes(16), bytes(7))
    with pytest.raises(CryptoError):
        pad_block(Algorithm.TDES, bytes(9))
    with pytest.raises(CryptoError):
        pad_block(Algorithm.SM4, b"")
    with pytest.raises(CryptoError):
        diversify(Algorithm.SM4, bytes(16), bytes(7))


def test_padding_method_2() -> None:
    assert iso9797_m2_pad(b"\x01", 8) == H("0180000000000000")
    assert iso9797_m2_pad(bytes(8), 8) == bytes(8) + H("8000000000000000")
    assert pad_block(Algorithm.SM4, H("1122334455667788")) == H("11223344556677888000000000000000")
    assert pad_block(Algorithm.TDES, H("1122334455667788")) == H("1122334455667788")


@given(st.binary(min_size=0, max_size=40), st.sampled_from([8, 16]))
def test_padding_is_unambiguous(data: bytes, size: int) -> None:
    padded = iso9797_m2_pad(data, size)
    assert len(padded) % size == 0
    assert padded.rstrip(b"\x00")[:-1] == data


def test_diversification_matches_its_definition() -> None:
    mk = H("00112233445566778899aabbccddeeff")
    f = H("0123456789abcdef")
    nf = bytes(b ^ 0xFF for b in f)
    k3 = diversify(Algorithm.TDES, mk, f)
    assert k3 == encrypt_ecb(Algorithm.TDES, mk, f) + encrypt_ecb(Algorithm.TDES, mk, nf)
    k4 = diversify(Algorithm.SM4, mk, f)
    assert k4 == encrypt_ecb(Algorithm.SM4, mk, f + nf)
    assert len(k3) == len(k4) == 16
    r = H("a0a1a2a3a4a5a6a7")
    assert process_key(Algorithm.SM4, k4, r) == diversify(Algorithm.SM4, k4, r)


def test_cryptogram_sizes_and_kcv() -> None:
    key = H("0123456789abcdeffedcba9876543210")
    assert len(cryptogram(Algorithm.TDES, key, bytes(8))) == 8
    assert len(cryptogram(Algorithm.SM4, key, bytes(8))) == 16
    assert cryptogram(Algorithm.SM4, key, bytes(16)) == encrypt_ecb(Algorithm.SM4, key, bytes(16))
    # KCV = first 3 bytes of the zero block's encryption.
    assert key_check_value(Algorithm.SM4, bytes(16)) == H("9f1f7b")
    assert key_check_value(Algorithm.TDES, H("0101010101010101") * 2) == H("8ca64d")
