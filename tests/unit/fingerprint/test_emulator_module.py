"""The emulated module as a pure state machine (no pty), and the committed demo templates."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.fingerprint import codec
from drivers.fingerprint.codec import Packet, PacketParser
from drivers.fingerprint.emulator import (
    DEMO_FINGERS,
    PROFILES,
    FakeModule,
    FaultKind,
    Quality,
    Sensor,
    finger_template,
    get_profile,
)
from drivers.fingerprint.emulator.fingers import finger_key, match_score

ROOT = Path(__file__).resolve().parents[3]


def talk(module: FakeModule, frame: bytes) -> list[Packet]:
    parser = PacketParser()
    for reply in module.receive(frame):
        parser.feed(reply.data)
    return [p for p in parser.packets() if isinstance(p, Packet)]


def ack(module: FakeModule, frame: bytes) -> Packet:
    (pkt,) = talk(module, frame)[:1]
    return pkt


@pytest.mark.parametrize("finger", DEMO_FINGERS)
def test_committed_demo_templates_equal_the_emulator(finger: str) -> None:
    path = ROOT / "config" / "demo" / "fingers" / f"{finger}.tpl"
    assert path.read_bytes() == finger_template(finger, PROFILES["r307"].template_size)


def test_templates_are_deterministic_and_distinct() -> None:
    assert finger_template("f01") == finger_template("f01")
    keys = {finger_key(finger_template(f)) for f in DEMO_FINGERS}
    assert len(keys) == len(DEMO_FINGERS)
    assert match_score(finger_template("f01"), finger_template("f01", 1536)) >= 50
    assert match_score(finger_template("f01"), finger_template("f02")) == 0
    assert match_score(b"not a template at all", finger_template("f02")) == 0


def test_handshake_and_parameters_per_profile() -> None:
    for name, profile in PROFILES.items():
        module = FakeModule(profile)
        assert ack(module, codec.cmd_verify_password(0)).code == 0
        p = codec.SystemParameters.decode(ack(module, codec.cmd_read_sys_para()).payload)
        assert p.capacity == profile.capacity, name
        assert p.packet_size == {0: 32, 1: 64, 2: 128, 3: 256}[profile.packet_code]


def test_password_locks_every_other_command() -> None:
    module = FakeModule(get_profile("r307"), password=0x1234)
    assert ack(module, codec.cmd_template_count()).code == 0x21
    assert ack(module, codec.cmd_verify_password(1)).code == 0x13
    assert ack(module, codec.cmd_verify_password(0x1234)).code == 0
    assert ack(module, codec.cmd_template_count()).code == 0


def test_foreign_address_gets_no_reply_and_bad_checksum_gets_0x01() -> None:
    module = FakeModule(get_profile("r307"))
    assert module.receive(codec.cmd_gen_img(address=0x12345678)) == []
    bad = bytearray(codec.cmd_gen_img())
    bad[-1] ^= 1
    assert ack(module, bytes(bad)).code == 0x01


def test_scripted_sensor_no_finger_then_finger_then_lift() -> None:
    sensor = Sensor()
    module = FakeModule(get_profile("r307"), sensor=sensor)
    sensor.place("f03", after_polls=2)
    codes = [ack(module, codec.cmd_gen_img()).code for _ in range(5)]
    assert codes == [0x02, 0x02, 0x00, 0x02, 0x02]


def test_poor_image_and_image_failure_codes() -> None:
    sensor = Sensor()
    module = FakeModule(get_profile("r307"), sensor=sensor)
    sensor.place("f01", quality=Quality.POOR)
    assert ack(module, codec.cmd_gen_img()).code == 0x00
    assert ack(module, codec.cmd_img2tz(1)).code == 0x07
    sensor.place("f01", quality=Quality.IMAGE_FAIL, after_polls=1)
    # one poll sees the lift after the poor capture, one the scripted empty window
    assert [ack(module, codec.cmd_gen_img()).code for _ in range(3)] == [0x02, 0x02, 0x03]


def test_upload_is_chunked_by_the_profiles_packet_size() -> None:
    module = FakeModule(get_profile("r307-64"), sensor=Sensor("f05"))
    ack(module, codec.cmd_gen_img())
    assert ack(module, codec.cmd_img2tz(1)).code == 0
    packets = talk(module, codec.cmd_up_char(1))
    assert packets[0].pid == 0x07 and packets[0].code == 0
    data = packets[1:]
    assert [len(p.payload) for p in data] == [64] * 8
    assert data[-1].pid == 0x08
    assert b"".join(p.payload for p in data) == finger_template("f05")


def test_download_then_match_and_search() -> None:
    module = FakeModule(get_profile("r307"), sensor=Sensor("f02"))
    assert ack(module, codec.cmd_down_char(2)).code == 0
    for frame in codec.chunk_data(finger_template("f02"), 128):
        assert module.receive(frame) == []  # data packets are never acknowledged
    ack(module, codec.cmd_gen_img())
    ack(module, codec.cmd_img2tz(1))
    m = ack(module, codec.cmd_match())
    assert m.code == 0 and codec.decode_match(m.payload) >= 50
    assert ack(module, codec.cmd_store(2, 7)).code == 0
    s = ack(module, codec.cmd_search(1, 0, 1000))
    assert s.code == 0 and codec.decode_search(s.payload)[0] == 7
    assert codec.decode_index_table(ack(module, codec.cmd_read_index_table(0)).payload, 0) == [7]
    assert ack(module, codec.cmd_empty()).code == 0
    assert ack(module, codec.cmd_search(1, 0, 1000)).code == 0x09


def test_download_in_packets_of_an_assumed_size_ruins_the_buffer() -> None:
    # the module announces 64-byte packets; a host that assumed 128 gets no usable template
    module = FakeModule(get_profile("r307-64"), sensor=Sensor("f02"))
    assert ack(module, codec.cmd_down_char(2)).code == 0
    for frame in codec.chunk_data(finger_template("f02"), 128):
        module.receive(frame)
    assert module.bad_downloads == 1 and module.data_packet_sizes[0] == 128
    ack(module, codec.cmd_gen_img())
    ack(module, codec.cmd_img2tz(1))
    assert ack(module, codec.cmd_match()).code == 0x08  # the reference never arrived
    # the size the module reported works
    assert ack(module, codec.cmd_down_char(2)).code == 0
    for frame in codec.chunk_data(finger_template("f02"), 64):
        module.receive(frame)
    assert module.bad_downloads == 1
    assert ack(module, codec.cmd_match()).code == 0


def test_unsupported_instruction_answers_0xfc() -> None:
    module = FakeModule(get_profile("zfm20"))
    assert ack(module, codec.cmd_aura_led(3, 0, 1, 0)).code == 0xFC
    module = FakeModule(get_profile("r503"))
    replies = module.receive(codec.cmd_aura_led(3, 0, 1, 0))
    assert replies[0].data[0] == 0x55  # lone ready byte after power-on, before the reply


def test_faults_shape_the_reply() -> None:
    module = FakeModule(get_profile("r307"))
    module.faults.add(FaultKind.DROP)
    assert module.receive(codec.cmd_template_count()) == []
    module.faults.add(FaultKind.GARBAGE, garbage=b"\x00\x55")
    module.faults.add(FaultKind.BAD_CHECKSUM)
    (reply,) = module.receive(codec.cmd_template_count())
    assert reply.data[:2] == b"\x00\x55"
    with pytest.raises(ValueError, match="checksum"):
        codec.parse_packet(reply.data[2:])
    module.faults.add(FaultKind.DELAY, delay=0.5)
    assert module.receive(codec.cmd_template_count())[0].delay == 0.5
    assert module.receive(codec.cmd_template_count())[0].delay == 0.0


def test_latency_emulation_scales_with_wire_time() -> None:
    module = FakeModule(get_profile("r307"), latency_scale=1.0)
    (reply,) = module.receive(codec.cmd_template_count())
    assert reply.delay > 12 * 10 / 57600


@given(st.lists(st.integers(1, 40), min_size=1, max_size=30), st.binary(max_size=20))
def test_module_receiver_handles_any_slicing_and_junk(cuts: list[int], junk: bytes) -> None:
    module = FakeModule(get_profile("r307"))
    stream = junk.replace(b"\xef", b"\x00") + codec.cmd_template_count() * 3
    replies = []
    at = 0
    for n in [*cuts, len(stream)]:
        replies += module.receive(stream[at : at + n])
        at += n
    assert len(replies) == 3
    assert all(codec.parse_packet(r.data).code == 0 for r in replies)
