"""A console whose port goes away, or was never there: the loss ends the wait at once, the
log up to that moment is kept, the port reopens on its stable path, and messages name paths as
the project sees them."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_vela.console.port import Console
from pytest_vela.errors import SerialLost, shown_path
from pytest_vela.rig.sim_process import SimulatorProcess
from pytest_vela.wire.control import ControlOp
from tests.support.console_logs import log_text
from tests.support.ptys import RawPty


def test_a_port_that_vanishes_raises_serial_lost_at_the_next_use_and_keeps_the_log(
    raw_pty: RawPty, pty_console: Console
) -> None:
    raw_pty.send(b"last words\r\n")
    pty_console.expect("last words")
    raw_pty.vanish()
    # A long timeout: the loss must end the wait, not the clock.
    with pytest.raises(SerialLost) as err:
        pty_console.expect("anything", timeout=60)
    assert pty_console.url in str(err.value)
    assert pty_console.log_shown in str(err.value)
    with pytest.raises(SerialLost):
        pty_console.write_line("help")
    log = log_text(pty_console)
    assert "last words" in log
    assert "port lost" in log


def test_opening_a_missing_port_is_a_serial_lost(tmp_path: Path) -> None:
    console = Console(str(tmp_path / "ttyNOPE"), 921600, tmp_path / "c.log")
    with pytest.raises(SerialLost, match="cannot open serial port"):
        console.open()
    console.close()


def test_sim_unplug_then_reopen_on_the_stable_path(
    simulated_watch: SimulatorProcess, sim_console: Console
) -> None:
    simulated_watch.control(ControlOp.UNPLUG)
    with pytest.raises(SerialLost):
        sim_console.expect("never", timeout=30)
    simulated_watch.control(ControlOp.REPLUG)
    sim_console.reopen()
    sim_console.write_line("echo back")
    sim_console.expect(r"\r\nback\r\n", timeout=10)


def test_messages_name_a_path_as_the_project_sees_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert shown_path(tmp_path / "reports" / "sim" / "console.log") == "reports/sim/console.log"
    assert shown_path(Path("reports/sim/console.log")) == "reports/sim/console.log"
    assert shown_path(Path("/var/log/watch.log")) == "/var/log/watch.log"  # outside: whole
