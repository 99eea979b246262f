"""Host side of the simulated watch: start its process, talk to its control channel, end it.

The process runs in its own session (a Ctrl-C at the terminal reaches pytest, which then ends
it in order) and dies with its parent (a killed pytest leaves nothing behind).
"""

from __future__ import annotations

import atexit
import json
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

from pytest_vela.common.processes import log_tail, read_line, spawn_tied, stop_process
from pytest_vela.errors import SimulatorError, shown_path
from pytest_vela.rigfile.schema import RigSettings
from pytest_vela.wire.control import ControlOp, parse_reply, request


class SimulatorProcess:
    """One simulated watch process; ``port`` is the stable console path once started."""

    def __init__(
        self,
        settings: RigSettings,
        run_dir: Path,
        bus_address: str | None = None,
        log_path: Path | None = None,
    ) -> None:
        self.settings = settings
        self.run_dir = run_dir
        self.bus_address = bus_address
        self.port = ""
        self.control_path = run_dir / "control.sock"
        self.stderr_path = log_path or run_dir / "sim.stderr.log"
        self._proc: subprocess.Popen[bytes] | None = None
        #: Why the simulated watch cannot run apps (no Node.js), or None.
        self.apps_unavailable: str | None = None

    def start(self, timeout: float = 15.0) -> str:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        settings_file = self.run_dir / "settings.json"
        settings_file.write_text(self.settings.model_dump_json())
        cmd = [
            sys.executable,
            "-m",
            "pytest_vela.sim",
            "--settings",
            str(settings_file),
            "--run-dir",
            str(self.run_dir),
        ]
        if self.bus_address:
            cmd += ["--bus", self.bus_address]
        with self.stderr_path.open("wb") as err:
            self._proc = spawn_tied(
                cmd,
                stdout=subprocess.PIPE,
                stderr=err,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        atexit.register(self.stop)
        ready = self._read_ready_line(timeout)
        self.port = str(ready["port"])
        self.apps_unavailable = ready.get("apps_unavailable")
        return self.port

    def _read_ready_line(self, timeout: float) -> dict[str, Any]:
        proc = self._proc
        assert proc is not None and proc.stdout is not None
        line = read_line(proc.stdout, timeout)
        if not line:
            self.stop()
            why = (
                f"did not start within {timeout:g} s"
                if line is None
                else f"exited while starting (code {proc.returncode})"
            )
            raise SimulatorError(
                f"the simulated watch {why}; its log: {shown_path(self.stderr_path)}\n"
                f"{log_tail(self.stderr_path)}"
            )
        result: dict[str, Any] = json.loads(line)
        return result

    @property
    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def control(self, op: ControlOp, timeout: float = 10.0, **args: Any) -> dict[str, Any]:
        """Send one order to the simulated watch and return its reply."""
        if not self.alive:
            raise SimulatorError(
                f"the simulated watch is not running; its log: {shown_path(self.stderr_path)}"
            )
        answer = b""
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.settimeout(timeout)
                sock.connect(str(self.control_path))
                sock.sendall(request(op, **args))
                while not answer.endswith(b"\n"):
                    chunk = sock.recv(65536)
                    if not chunk:
                        break
                    answer += chunk
        except OSError as exc:
            raise SimulatorError(
                f"control order {op.value!r} failed: {exc}; log: {shown_path(self.stderr_path)}"
            ) from None
        result = parse_reply(answer)
        if not result.get("ok"):
            raise SimulatorError(f"the simulated watch refused {op.value!r}: {result.get('error')}")
        return result

    def stop(self, timeout: float = 5.0) -> None:
        proc, self._proc = self._proc, None
        atexit.unregister(self.stop)
        stop_process(proc, timeout)
