"""The simulated watch itself: pacing arithmetic, file store, control channel, and the
``pytest-vela sim`` command (its shell: tests/test_sim_shell.py)."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import serial

from pytest_vela.console.port import Console
from pytest_vela.device.watch import Watch
from pytest_vela.errors import AppLoadFailed, SimulatorError
from pytest_vela.rig.backends.simulated import SimPowerCycle
from pytest_vela.rig.sim_faults import ORDER_TIMEOUT, VelaSim
from pytest_vela.rig.sim_process import SimulatorProcess
from pytest_vela.rigfile.loader import Rig
from pytest_vela.rigfile.schema import RigSettings
from pytest_vela.sim.filestore import FileStore
from pytest_vela.sim.pacing import LineRate
from pytest_vela.sim.process import SimulatedWatch
from pytest_vela.wire.control import ControlOp, parse_reply
from tests.support.rigs import fast_sim_settings, write_rig


def test_file_store_keeps_paths_inside_its_root(tmp_path: Path) -> None:
    store = FileStore(tmp_path)
    assert store.resolve("../../etc/passwd", "/data") == tmp_path / "etc" / "passwd"
    assert store.resolve("app/x.rpk", "/data") == tmp_path / "data" / "app" / "x.rpk"
    assert store.listdir("/data") == ["app/", "ota/"]


def test_line_rate_schedule_persists_across_writes() -> None:
    rate = LineRate(921600)
    assert rate.bytes_per_second == 92160
    assert rate.reserve(9216, now=10.0) == pytest.approx(10.1)
    # A write booked while the line is busy starts after the previous one.
    assert rate.reserve(9216, now=10.05) == pytest.approx(10.2)
    # An idle line starts at once.
    assert rate.reserve(92160, now=20.0) == pytest.approx(21.0)
    assert LineRate(921600, enabled=False).reserve(10**6, now=5.0) == 5.0


def test_control_channel_refuses_unknown_orders(simulated_watch: SimulatorProcess) -> None:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(10)
        sock.connect(str(simulated_watch.control_path))
        sock.sendall(b'{"op": "explode"}\n')
        answer = sock.makefile("rb").readline()
    refused = parse_reply(answer)
    assert refused["ok"] is False
    assert "explode" in refused["error"]
    assert "crash" in refused["error"]  # the known orders are listed
    assert simulated_watch.control(ControlOp.PING)["plugged"] is True


def test_the_watch_serves_every_order_the_host_can_send(tmp_path: Path) -> None:
    """The two ends of the control channel agree: one handler per ``ControlOp``, no more."""
    watch = SimulatedWatch(fast_sim_settings(), tmp_path / "run")
    assert set(watch.control.handlers) == set(ControlOp)


def test_a_failing_order_is_answered_with_its_error(simulated_watch: SimulatorProcess) -> None:
    with pytest.raises(SimulatorError, match=r"garbage: ValueError: .*'many'"):
        simulated_watch.control(ControlOp.GARBAGE, n="many")
    with pytest.raises(SimulatorError, match="has no BLE bridge"):
        simulated_watch.control(ControlOp.DROP_LINK)  # this one was started without a bus
    assert simulated_watch.control(ControlOp.PING)["plugged"] is True


def test_sim_process_ends_on_stop(simulated_watch: SimulatorProcess) -> None:
    assert simulated_watch.alive
    simulated_watch.stop()
    assert not simulated_watch.alive
    with pytest.raises(SimulatorError, match="not running"):
        simulated_watch.control(ControlOp.PING)


# --- the pytest-vela sim command ----------------------------------------------------------


def _cli(*args: str, cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "pytest_vela.cli", "sim", *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _sim_children(marker: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().decode(errors="replace")
            except OSError:
                continue
            if "pytest_vela.sim" in cmdline and marker in cmdline:
                found.append(int(entry.name))
    return found


def test_sim_command_prints_a_port_that_answers_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    write_rig(tmp_path / "rigs", "sim", '[serial]\nprompt = "openvela-ap> "\n')
    proc = _cli(cwd=tmp_path)
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        hint = proc.stdout.readline()
        port = first.rsplit(": ", 1)[1].strip()
        assert hint.split() == [
            "talk",
            "to",
            "it:",
            "python",
            "-m",
            "serial.tools.miniterm",
            port,
            "921600",
        ]
        run_dir = str(Path(port).parent)
        assert _sim_children(run_dir)
        with serial.serial_for_url(port, 921600, timeout=10) as link:
            # Input is ignored while it boots: wait for a prompt first.
            link.write(b"\r")
            assert link.read_until(b"openvela-ap> ").endswith(b"openvela-ap> ")
            link.reset_input_buffer()
            link.write(b"echo via-cli\r")
            seen = link.read_until(b"via-cli\r\nopenvela-ap> \x1b[K")
            assert seen.endswith(b"via-cli\r\nopenvela-ap> \x1b[K"), seen
        proc.send_signal(signal.SIGINT)
        assert proc.wait(30) == 0
        assert _sim_children(run_dir) == []
        assert not Path(run_dir).exists()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_sim_command_refuses_a_hardware_rig_and_unknown_names(tmp_path: Path) -> None:
    write_rig(
        tmp_path / "rigs",
        "desk",
        '[serial]\nport = "/dev/ttyUSB0"\n[ble]\nname = "Watch"\n',
    )
    proc = _cli("--rig", "desk", cwd=tmp_path)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 2
    assert "hardware rig" in err
    proc = _cli("--rig", "nope", cwd=tmp_path)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 2
    assert "Known rigs: desk, sim" in err


def test_a_simulator_that_dies_while_starting_says_why(tmp_path: Path) -> None:
    # A unix socket path longer than the kernel allows makes the control channel fail.
    run_dir = tmp_path / ("x" * 120)
    sim = SimulatorProcess(RigSettings(kind="sim"), run_dir)
    with pytest.raises(SimulatorError, match=r"exited while starting \(code 1\)") as raised:
        sim.start(timeout=20)
    assert "AF_UNIX path too long" in str(raised.value)  # the tail of its own log
    assert not sim.alive


# --- fault orders that take their time on the line ------------------------------------------


class _RecordingSim:
    """Stands in for a SimulatorProcess: records each control order and its timeout."""

    def __init__(self, settings: RigSettings) -> None:
        self.settings = settings
        self.orders: list[tuple[str, float, dict[str, object]]] = []

    def control(self, op: str, timeout: float = 10.0, **args: object) -> dict[str, object]:
        self.orders.append((op, timeout, args))
        return {"ok": True}


def test_a_garbage_order_waits_as_long_as_the_line_takes() -> None:
    sim = _RecordingSim(RigSettings(kind="sim"))
    VelaSim(sim).garbage(2_000_000)  # type: ignore[arg-type]
    ((op, timeout, args),) = sim.orders
    assert (op, args) == ("garbage", {"n": 2_000_000})
    assert timeout == pytest.approx(ORDER_TIMEOUT + 2_000_000 / 92_160)
    unpaced = _RecordingSim(RigSettings.model_validate({"kind": "sim", "sim": {"pace": False}}))
    VelaSim(unpaced).garbage(2_000_000)  # type: ignore[arg-type]
    assert unpaced.orders[0][1] == ORDER_TIMEOUT


@pytest.mark.parametrize("n", [-1, 1.5, True, "many"])
def test_a_garbage_order_needs_a_byte_count(n: object) -> None:
    sim = _RecordingSim(RigSettings(kind="sim"))
    with pytest.raises(ValueError, match=r"garbage\(n\): n is a number of bytes, 0 or more"):
        VelaSim(sim).garbage(n)  # type: ignore[arg-type]
    assert sim.orders == []


def test_garbage_that_outlasts_the_order_timeout_is_written_whole(tmp_path: Path) -> None:
    """At 9600 baud, 11 000 bytes take 11.5 s on the line: longer than an order may take."""
    settings = RigSettings.model_validate(
        {"kind": "sim", "serial": {"baud": 9600}, "sim": {"boot_ms": 20}}
    )
    sim = SimulatorProcess(settings, tmp_path / "run", log_path=tmp_path / "sim.log")
    sim.start()
    console = Console(sim.port, 9600, tmp_path / "console.log")
    try:
        console.open()
        console.write(b"\r\n")
        console.expect("nsh> ", timeout=10)
        started = time.monotonic()
        VelaSim(sim).garbage(11_000)
        assert time.monotonic() - started > ORDER_TIMEOUT
        assert sim.control(ControlOp.PING)["plugged"] is True
    finally:
        console.close()


def test_without_node_the_watch_says_no_app_can_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))  # no node to be found
    sim = SimulatorProcess(fast_sim_settings(), tmp_path / "run", log_path=tmp_path / "sim.log")
    sim.start()
    try:
        assert sim.apps_unavailable is not None and "Node.js" in sim.apps_unavailable
        settings = fast_sim_settings()
        console = Console(sim.port, 921600, tmp_path / "console.log")
        console.open()
        try:
            watch = Watch(Rig("sim", settings, None), console, SimPowerCycle(sim))
            watch.wake()
            # The device says only that the app cannot open: the rig session knows why.
            with pytest.raises(AppLoadFailed, match=r"Failed to open: .*Node\.js"):
                watch.launch("com.vela.agent")
        finally:
            console.close()
        assert "no app can be launched" in (tmp_path / "sim.log").read_text()
    finally:
        sim.stop()


@pytest.mark.parametrize("line_end", ["\r\n", "\r\r\n"])
def test_the_watch_talks_to_a_simulated_shell_with_either_line_end(
    tmp_path: Path, line_end: str
) -> None:
    settings = fast_sim_settings(line_end=line_end, dialect="apache")
    sim = SimulatorProcess(settings, tmp_path / "run", log_path=tmp_path / "sim.log")
    sim.start()
    try:
        console = Console(sim.port, 921600, tmp_path / "console.log").open()
        try:
            watch = Watch(Rig("sim", settings, None), console, SimPowerCycle(sim))
            watch.wake()
            assert watch.shell('echo "nsh> x"') == "nsh> x\n"
            assert f"nsh> x{line_end}nsh> " in console.recent
            assert watch.shell("ps").splitlines()[0].startswith("  TID   PID  PPID")
            watch.reset()
            assert watch.shell("uname -s") == "NuttX\n"
        finally:
            console.close()
    finally:
        sim.stop()
