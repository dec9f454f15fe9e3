"""The real driver through pyserial on a real pty, against the emulated module and its faults."""

from __future__ import annotations

import threading

import pytest

from drivers.fingerprint.emulator import FaultKind, Quality, finger_template
from drivers.fingerprint.errors import (
    CaptureTimeoutError,
    FingerprintDisconnectedError,
    FingerprintModuleError,
    FingerprintProtocolError,
    FingerprintTimeoutError,
    PasswordError,
    PoorImageError,
)
from drivers.fingerprint.results import Prompt
from drivers.vocabulary import DeviceHealth, DeviceHealthChanged, ErrorCode, FingerPlaced
from tests.fixtures.fingerprint import FingerprintRig


def health_changes(rig: FingerprintRig) -> list[DeviceHealth]:
    return [e.health for e in rig.events if isinstance(e, DeviceHealthChanged)]


@pytest.mark.parametrize("profile", ["zfm20", "r307", "as608", "r503", "r307-64"])
def test_info_reads_the_modules_parameters(fp_rig: FingerprintRig, profile: str) -> None:
    emu = fp_rig.emulator(profile=profile)
    drv = fp_rig.driver()
    info = drv.info()
    assert info.capacity == emu.module.profile.capacity
    assert info.packet_size == emu.module.chunk  # read from the module, never assumed
    assert (info.baudrate, info.security_level, info.templates_stored) == (57600, 3, 0)
    assert drv.health is DeviceHealth.ONLINE


@pytest.mark.parametrize("profile", ["r307", "r307-64", "r503"])
def test_verify_one_to_one_match_and_mismatch(fp_rig: FingerprintRig, profile: str) -> None:
    emu = fp_rig.emulator(profile=profile, finger="f03")
    drv = fp_rig.driver()
    size = emu.module.profile.template_size
    prompts: list[Prompt] = []
    ok = drv.verify(finger_template("f03", size), on_prompt=prompts.append)
    assert ok.matched and ok.score >= 50
    assert prompts == [Prompt.PLACE_FINGER]
    assert not drv.verify(finger_template("f04", size)).matched  # unknown finger
    # nothing of the citizen went into the module's library
    assert emu.module.library == {} and drv.template_count() == 0
    assert any(isinstance(e, FingerPlaced) for e in fp_rig.events)


def test_enroll_returns_the_template_that_then_verifies(fp_rig: FingerprintRig) -> None:
    emu = fp_rig.emulator(finger="f06")
    drv = fp_rig.driver()
    prompts: list[Prompt] = []
    template = drv.enroll(on_prompt=prompts.append)
    assert bytes(template) == finger_template("f06")
    assert prompts == [Prompt.PLACE_FINGER, Prompt.LIFT_FINGER, Prompt.PLACE_AGAIN]
    assert drv.verify(template).matched
    assert emu.module.library == {}


def blank(buffer: bytes | None) -> bool:
    return buffer is None or not any(buffer)


def test_nothing_of_the_citizen_stays_in_the_modules_ram(fp_rig: FingerprintRig) -> None:
    emu = fp_rig.emulator(finger="f03")
    drv = fp_rig.driver()
    assert drv.verify(finger_template("f03")).matched
    drv.template_count()  # one more round trip: the module has taken in every packet sent
    assert blank(emu.module.char_buffer(1)) and blank(emu.module.char_buffer(2))
    template = drv.enroll()
    drv.template_count()
    assert bytes(template) == finger_template("f03")
    assert blank(emu.module.char_buffer(1)) and blank(emu.module.char_buffer(2))
    # also when the check fails: no finger came, the reference was already in buffer 2
    emu.module.sensor.no_finger(1000)
    with pytest.raises(CaptureTimeoutError):
        drv.verify(finger_template("f03"), timeout=0.1)
    drv.template_count()
    assert blank(emu.module.char_buffer(2))
    assert drv.stats.unclear_buffers == 0 and emu.module.library == {}


def test_enroll_with_two_different_fingers_fails_to_merge(fp_rig: FingerprintRig) -> None:
    emu = fp_rig.emulator(finger=None)
    emu.module.sensor.place("f01")
    emu.module.sensor.place("f02", after_polls=1)
    drv = fp_rig.driver()
    with pytest.raises(FingerprintModuleError) as e:
        drv.enroll()
    assert e.value.raw == 0x0A and e.value.code is ErrorCode.FINGERPRINT_MODULE


def test_no_finger_polls_then_capture(fp_rig: FingerprintRig) -> None:
    emu = fp_rig.emulator(finger=None)
    emu.module.sensor.place("f01", after_polls=5)
    drv = fp_rig.driver()
    assert drv.verify(finger_template("f01")).matched
    assert emu.module.sensor.polls == 6


def test_no_finger_times_out_with_a_typed_error(fp_rig: FingerprintRig) -> None:
    fp_rig.emulator(finger=None)
    drv = fp_rig.driver(capture_timeout_s=0.2)
    with pytest.raises(CaptureTimeoutError) as e:
        drv.verify(finger_template("f01"))
    assert e.value.code is ErrorCode.FINGER_TIMEOUT
    assert drv.health is DeviceHealth.ONLINE  # a citizen not placing a finger is no device fault


@pytest.mark.parametrize(
    ("quality", "raw"), [(Quality.POOR, 0x07), (Quality.SMUDGED, 0x06), (Quality.IMAGE_FAIL, 0x03)]
)
def test_poor_image_is_a_typed_error(fp_rig: FingerprintRig, quality: Quality, raw: int) -> None:
    emu = fp_rig.emulator(finger=None)
    emu.module.sensor.place("f01", quality=quality)
    drv = fp_rig.driver()
    with pytest.raises(PoorImageError) as e:
        drv.capture(1)
    assert e.value.raw == raw and e.value.code is ErrorCode.FINGER_POOR_IMAGE


def test_garbage_before_the_header_is_skipped(fp_rig: FingerprintRig) -> None:
    emu = fp_rig.emulator()
    drv = fp_rig.driver()
    emu.module.faults.add(FaultKind.GARBAGE, count=3, garbage=b"\x55\x00\xef\xef\x01\x07")
    assert drv.template_count() == 0
    assert drv.verify(finger_template("f01")).matched
    assert drv.stats.garbage_bytes >= 6 and drv.stats.retries == 0


def test_a_healthy_line_is_never_drained(fp_rig: FingerprintRig) -> None:
    # Draining costs a quiet period per command: only a timeout or a resync may cause one,
    # never routine (ESPHome's flush-before-every-command is what this rules out).
    emu = fp_rig.emulator(profile="r503", finger="f04")
    drv = fp_rig.driver(open_now=False)
    drv.start()
    size = emu.module.profile.template_size
    assert drv.info().templates_stored == 0
    template = drv.enroll()
    assert drv.verify(template).matched
    assert not drv.verify(finger_template("f05", size)).matched
    assert drv.self_test().passed
    assert drv.led(3, 1) is True
    assert drv.stats.garbage_bytes == 1  # the R503's lone 0x55 after power-on: skipped
    assert (drv.stats.drains, drv.stats.retries, drv.stats.timeouts) == (0, 0, 0)
    # and a garbage prefix is resynchronised on the header, without draining either
    emu.module.faults.add(FaultKind.GARBAGE, count=2, garbage=b"\x00\x55\xef")
    assert drv.template_count() == 0 and drv.template_count() == 0
    assert drv.stats.drains == 0


def test_r503_ready_byte_after_power_on_is_noise(fp_rig: FingerprintRig) -> None:
    fp_rig.emulator(profile="r503")
    drv = fp_rig.driver()
    assert drv.stats.garbage_bytes == 1  # the lone 0x55 before the first reply
    assert drv.led(3, 1) is True


def test_led_absent_is_tolerated(fp_rig: FingerprintRig) -> None:
    emu = fp_rig.emulator(profile="zfm20")
    drv = fp_rig.driver()
    assert drv.led(3, 1) is False
    assert drv.led(4, 1) is False  # not asked again
    assert emu.module.commands_seen.count(0x35) == 1
    assert drv.health is DeviceHealth.ONLINE


def test_one_bad_checksum_is_retried(fp_rig: FingerprintRig) -> None:
    emu = fp_rig.emulator()
    drv = fp_rig.driver()
    emu.module.faults.add(FaultKind.BAD_CHECKSUM)
    assert drv.template_count() == 0
    assert (drv.stats.bad_frames, drv.stats.retries, drv.stats.drains) == (1, 1, 1)


def test_checksum_errors_in_the_data_phase_retry_the_transfer(fp_rig: FingerprintRig) -> None:
    emu = fp_rig.emulator(finger="f02")
    drv = fp_rig.driver()
    drv.capture(1)
    emu.module.faults.add(FaultKind.BAD_CHECKSUM)  # UpChar's ACK
    assert bytes(drv.upload_template(1)) == finger_template("f02")
    assert drv.stats.retries == 1
    emu.module.faults.add(FaultKind.BAD_CHECKSUM, frame=3)  # the third data packet
    assert bytes(drv.upload_template(1)) == finger_template("f02")
    assert (drv.stats.retries, drv.stats.bad_frames) == (2, 2)


def test_checksum_errors_every_time_give_a_protocol_error(fp_rig: FingerprintRig) -> None:
    emu = fp_rig.emulator()
    drv = fp_rig.driver()
    emu.module.faults.add(FaultKind.BAD_CHECKSUM, count=-1)
    with pytest.raises(FingerprintProtocolError) as e:
        drv.template_count()
    assert e.value.code is ErrorCode.FINGERPRINT_LINK
    assert drv.health is DeviceHealth.HARDWARE_ERROR
    emu.module.faults.clear()
    assert drv.template_count() == 0
    assert health_changes(fp_rig)[-1] is DeviceHealth.ONLINE
    assert health_changes(fp_rig)[-2:] == [DeviceHealth.HARDWARE_ERROR, DeviceHealth.ONLINE]


def test_one_dropped_reply_is_retried(fp_rig: FingerprintRig) -> None:
    emu = fp_rig.emulator()
    drv = fp_rig.driver()
    emu.module.faults.add(FaultKind.DROP)
    assert drv.template_count() == 0
    assert (drv.stats.timeouts, drv.stats.retries) == (1, 1)
    assert drv.health is DeviceHealth.ONLINE


def test_silent_module_times_out_after_bounded_retries(fp_rig: FingerprintRig) -> None:
    emu = fp_rig.emulator()
    drv = fp_rig.driver()
    emu.module.faults.add(FaultKind.DROP, count=-1)
    with pytest.raises(FingerprintTimeoutError):
        drv.template_count()
    assert drv.stats.timeouts == 1 + drv.settings.retries
    assert drv.health is DeviceHealth.OFFLINE
    emu.module.faults.clear()
    assert drv.template_count() == 0
    assert health_changes(fp_rig) == [
        DeviceHealth.ONLINE,
        DeviceHealth.OFFLINE,
        DeviceHealth.ONLINE,
    ]


def test_late_reply_is_drained_not_taken_for_the_next_one(fp_rig: FingerprintRig) -> None:
    emu = fp_rig.emulator(finger="f01")
    drv = fp_rig.driver(drain_quiet_s=0.3)
    # The TempleteNum reply comes after its deadline; the retry must not read it as Match's.
    emu.module.faults.add(FaultKind.DELAY, delay=drv.settings.query_timeout + 0.1)
    assert drv.template_count() == 0
    assert drv.stats.timeouts == 1 and drv.stats.drains == 1
    drv.capture(1)
    drv.download_template(2, finger_template("f01"))
    assert drv.match().matched


def test_dribbled_reply_is_assembled(fp_rig: FingerprintRig) -> None:
    emu = fp_rig.emulator()
    drv = fp_rig.driver()
    emu.module.faults.add(FaultKind.DRIBBLE)
    assert drv.info().capacity == 1000
    assert drv.stats.retries == 0


def test_truncated_reply_hits_the_in_frame_deadline_and_is_retried(
    fp_rig: FingerprintRig,
) -> None:
    emu = fp_rig.emulator()
    drv = fp_rig.driver()
    emu.module.faults.add(FaultKind.TRUNCATE)
    assert drv.read_parameters().capacity == 1000
    assert (drv.stats.timeouts, drv.stats.retries, drv.stats.drains) == (1, 1, 1)


def test_wrong_baud_rate_is_garbage_then_a_timeout(fp_rig: FingerprintRig) -> None:
    fp_rig.emulator(baudrate=115200)
    drv = fp_rig.driver(open_now=False, autobaud=False)  # the driver speaks 57600
    with pytest.raises(FingerprintTimeoutError):
        drv.open()
    assert drv.stats.garbage_bytes > 0
    assert drv.health is DeviceHealth.OFFLINE


@pytest.mark.parametrize("module_baud", [115200, 9600])
def test_autobaud_finds_a_module_left_at_another_rate(
    fp_rig: FingerprintRig, module_baud: int
) -> None:
    emu = fp_rig.emulator(baudrate=module_baud)
    drv = fp_rig.driver()  # configured for 57600, auto-baud on (the default)
    assert drv.info().baudrate == module_baud
    assert emu.host_baudrate() == module_baud
    assert drv.verify(finger_template("f01")).matched
    assert drv.health is DeviceHealth.ONLINE


def test_wrong_password_is_a_clear_error(fp_rig: FingerprintRig) -> None:
    fp_rig.emulator(password=0x5EC2E7)
    drv = fp_rig.driver(open_now=False)
    with pytest.raises(PasswordError) as e:
        drv.open()
    assert e.value.raw == 0x13
    assert fp_rig.driver(password=0x5EC2E7).template_count() == 0


def test_start_empties_the_library_and_never_raises(fp_rig: FingerprintRig) -> None:
    emu = fp_rig.emulator()
    emu.module.library[3] = finger_template("f07")
    drv = fp_rig.driver(open_now=False)
    drv.start()
    assert emu.module.library == {}
    assert drv.health is DeviceHealth.ONLINE


def test_module_absent_at_start_is_emptied_before_its_first_use(fp_rig: FingerprintRig) -> None:
    drv = fp_rig.driver(open_now=False, reopen_attempts=2)
    drv.start()  # no module yet
    assert drv.health is DeviceHealth.NO_DEVICE
    emu = fp_rig.emulator()
    emu.module.library[5] = finger_template("f07")  # left by an earlier tool
    assert drv.template_count() == 0  # the first open emptied it before anything else
    assert emu.module.library == {}


def test_replugged_module_is_emptied_again(fp_rig: FingerprintRig) -> None:
    emu = fp_rig.emulator()
    drv = fp_rig.driver(open_now=False)
    drv.start()
    emu.unplug()
    emu.module.library[9] = finger_template("f07")  # another module, or another tool meanwhile
    emu.replug()
    assert drv.template_count() == 0
    assert emu.module.library == {} and drv.stats.reopens == 1


def test_a_one_shot_tool_does_not_empty_the_library(fp_rig: FingerprintRig) -> None:
    # `kiosk fingerprint info` never calls start(): it reports what the module holds
    emu = fp_rig.emulator()
    emu.module.library[2] = finger_template("f07")
    assert fp_rig.driver().template_count() == 1


@pytest.mark.parametrize("code", [0, 1, 2, 3])
def test_data_packets_have_the_size_the_module_reported(fp_rig: FingerprintRig, code: int) -> None:
    emu = fp_rig.emulator(finger="f03")
    emu.module.packet_code = code  # as if set by SetSysPara long ago: only ReadSysPara tells
    drv = fp_rig.driver()
    size = {0: 32, 1: 64, 2: 128, 3: 256}[code]
    assert drv.parameters is not None and drv.parameters.packet_size == size
    drv.download_template(2, finger_template("f03"))
    # the round trip of UpChar also proves the module has taken in every data packet
    assert bytes(drv.upload_template(2)) == finger_template("f03")
    sizes = emu.module.data_packet_sizes
    assert sizes[:-1] == [size] * (len(sizes) - 1) and 0 < sizes[-1] <= size
    assert drv.verify(finger_template("f03")).matched
    assert emu.module.bad_downloads == 0


def test_packet_size_is_read_again_after_a_replug(fp_rig: FingerprintRig) -> None:
    emu = fp_rig.emulator(finger="f03")
    drv = fp_rig.driver()
    assert drv.verify(finger_template("f03")).matched
    emu.unplug()
    emu.module.packet_code = 0  # a different module comes back: 32-byte packets
    emu.replug()
    emu.module.data_packet_sizes.clear()
    assert drv.verify(finger_template("f03")).matched
    assert drv.parameters is not None and drv.parameters.packet_size == 32
    assert set(emu.module.data_packet_sizes) == {32} and emu.module.bad_downloads == 0


def test_start_without_a_device_reports_no_device(fp_rig: FingerprintRig) -> None:
    drv = fp_rig.driver(open_now=False, reopen_attempts=2)
    drv.start()  # no emulator at the link
    assert drv.health is DeviceHealth.NO_DEVICE
    with pytest.raises(FingerprintDisconnectedError):
        drv.info()


def test_unplug_and_replug_reopens_at_the_same_path(fp_rig: FingerprintRig) -> None:
    emu = fp_rig.emulator()
    drv = fp_rig.driver()
    first = emu.device
    emu.unplug()
    timer = threading.Timer(0.1, emu.replug)
    timer.start()
    try:
        assert drv.template_count() == 0  # survives: closes, reopens with backoff, handshakes
    finally:
        timer.join()
    assert drv.stats.reopens == 1
    assert emu.device != first or emu.plugged
    assert health_changes(fp_rig) == [
        DeviceHealth.ONLINE,
        DeviceHealth.NO_DEVICE,
        DeviceHealth.ONLINE,
    ]
    assert drv.verify(finger_template("f01")).matched


def test_unplugged_for_good_is_no_device_then_recovers(fp_rig: FingerprintRig) -> None:
    emu = fp_rig.emulator()
    drv = fp_rig.driver()
    emu.unplug()
    with pytest.raises(FingerprintDisconnectedError) as e:
        drv.template_count()
    assert e.value.code is ErrorCode.FINGERPRINT_LINK
    assert drv.health is DeviceHealth.NO_DEVICE
    emu.replug()
    assert drv.template_count() == 0
    assert health_changes(fp_rig)[-1] is DeviceHealth.ONLINE
    assert health_changes(fp_rig).count(DeviceHealth.NO_DEVICE) == 1  # logged once per change


def test_self_test_uses_the_library_and_leaves_it_empty(fp_rig: FingerprintRig) -> None:
    emu = fp_rig.emulator(finger="f08")
    drv = fp_rig.driver()
    report = drv.self_test()
    assert report.passed, report.steps
    assert [s[0] for s in report.steps][-1] == "empty library again"
    assert emu.module.library == {}
    assert 0x06 in emu.module.commands_seen and 0x04 in emu.module.commands_seen


def test_self_test_reports_a_failing_step(fp_rig: FingerprintRig) -> None:
    emu = fp_rig.emulator(finger=None)
    drv = fp_rig.driver(capture_timeout_s=0.1)
    report = drv.self_test()
    assert not report.passed
    assert report.steps[2][:2] == ("capture", False)
    assert report.steps[-1][:2] == ("empty library again", True)
    assert emu.module.library == {}


def test_replug_during_a_check_runs_the_check_again(fp_rig: FingerprintRig) -> None:
    emu = fp_rig.emulator(finger="f01")
    emu.module.sensor.no_finger(40)  # the citizen hesitates while the adapter is replugged
    drv = fp_rig.driver()

    def replug() -> None:
        emu.unplug()
        threading.Timer(0.05, emu.replug).start()

    timer = threading.Timer(0.05, replug)
    timer.start()
    result = drv.verify(finger_template("f01"))
    timer.join()
    assert result.matched  # not a false "no match" from the module's wiped RAM
    assert drv.stats.reopens == 1


def test_driver_is_a_core_device(fp_rig: FingerprintRig) -> None:
    from kiosk.device import Device

    drv = fp_rig.driver(open_now=False)
    assert isinstance(drv, Device)


def test_callers_on_several_threads_are_serialised(fp_rig: FingerprintRig) -> None:
    fp_rig.emulator(finger="f01")
    drv = fp_rig.driver()
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(20):
                assert drv.template_count() == 0
                assert drv.verify(finger_template("f01")).matched
        except BaseException as e:  # collected for the main thread's assertion
            errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert drv.stats.retries == 0
    # No input draining on a healthy line: only after a timeout or a resync (it costs throughput).
    assert drv.stats.drains == 0
