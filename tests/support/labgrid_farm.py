"""A labgrid farm on loopback for tests: a coordinator, an exporter exporting simulated
watches' consoles (each behind an RFC 2217 server) as ``NetworkSerialPort``s and a power switch
(a tiny simplerest HTTP server) as a ``NetworkPowerPort``, and places on it."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from pytest_vela.common.processes import spawn_tied, stop_process

EXPORTER = "exp"
GROUP = "watch"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_listening(port: int, proc: subprocess.Popen[bytes], log: Path, bound: float) -> None:
    deadline = time.monotonic() + bound
    while True:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"labgrid-coordinator did not listen on {port}: {log.read_text()}")
        time.sleep(0.05)


class PowerSwitch:
    """labgrid's ``simplerest`` power protocol on 127.0.0.1: ``GET /relay/0/<0|1>`` switches,
    ``GET /relay/0`` reads "0" or "1". Switching on after off calls ``power_on`` (the watch
    boots); every switch is kept in ``switched``."""

    def __init__(self, power_on: Callable[[], None]) -> None:
        self.power_on = power_on
        self.state = "1"
        self.switched: list[str] = []
        switch = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = self.path.strip("/").split("/")
                if len(parts) == 3 and parts[0] == "relay" and parts[2] in ("0", "1"):
                    switch.switch(parts[2])
                    body = b"OK"
                elif len(parts) == 2 and parts[0] == "relay":
                    body = switch.state.encode()
                else:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/relay/{{index}}/{{value}}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def switch(self, value: str) -> None:
        was, self.state = self.state, value
        self.switched.append(value)
        if was == "0" and value == "1":
            self.power_on()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@dataclass(frozen=True)
class Exported:
    """One watch as the exporter exports it: its console's RFC 2217 port on 127.0.0.1, and
    the URL of its power switch (None: no power resource)."""

    serial_port: int
    power_url: str | None = None

    def yaml(self, group: str) -> str:
        text = (
            f"{group}:\n"
            "  NetworkSerialPort:\n"
            "    host: 127.0.0.1\n"
            f"    port: {self.serial_port}\n"
            "    speed: 921600\n"
            "    protocol: rfc2217\n"
        )
        if self.power_url is not None:
            text += (
                "  NetworkPowerPort:\n"
                "    model: simplerest\n"
                f"    host: '{self.power_url}'\n"
                "    index: 0\n"
            )
        return text


class LabgridFarm:
    """``labgrid-coordinator`` and one ``labgrid-exporter`` on free loopback ports, in
    ``directory`` (the coordinator keeps its places there), exporting each of ``groups`` (by
    the exporter's group name). ``client(...)`` runs labgrid-client against it."""

    def __init__(self, directory: Path, groups: dict[str, Exported]) -> None:
        self.directory = directory
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.groups = groups
        self._procs: list[subprocess.Popen[bytes]] = []

    def _tool(self, name: str) -> str:
        found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
        assert found, f"{name} is not installed (pip install 'pytest-vela[labgrid]')"
        return found

    def start(self) -> LabgridFarm:
        self.directory.mkdir(parents=True, exist_ok=True)
        log = self.directory / "coordinator.log"
        with log.open("wb") as out:
            coordinator = spawn_tied(
                [self._tool("labgrid-coordinator"), "-l", self.address],
                cwd=self.directory,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        self._procs.append(coordinator)
        _wait_listening(self.port, coordinator, log, 20)
        exporter_yaml = self.directory / "exporter.yaml"
        exporter_yaml.write_text(
            "## simulated watches, exported as a farm host exports real ones\n"
            + "".join(exported.yaml(group) for group, exported in self.groups.items())
        )
        with (self.directory / "exporter.log").open("wb") as out:
            exporter = spawn_tied(
                [
                    self._tool("labgrid-exporter"),
                    "-c",
                    self.address,
                    "-n",
                    EXPORTER,
                    "--hostname",
                    "127.0.0.1",
                    str(exporter_yaml),
                ],
                cwd=self.directory,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        self._procs.append(exporter)
        self._wait_for_resources(20)
        return self

    def _wait_for_resources(self, bound: float) -> None:
        deadline = time.monotonic() + bound
        wanted = [f"{EXPORTER}/{group}/NetworkSerialPort" for group in self.groups]
        while not all(name in self.client("resources").stdout for name in wanted):
            assert time.monotonic() < deadline, (self.directory / "exporter.log").read_text()
            time.sleep(0.1)

    def client(
        self, *args: str, user: str | None = None, check: bool = False
    ) -> subprocess.CompletedProcess[str]:
        env = dict(os.environ)
        env.pop("LG_COORDINATOR", None)
        if user is not None:
            env["LG_USERNAME"] = user
        return subprocess.run(
            [self._tool("labgrid-client"), "-x", self.address, *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=30,
            check=check,
        )

    def create_place(self, name: str, group: str = GROUP, tags: str = "") -> None:
        """A place on ``group``'s resources, with ``tags`` (``"board=s4 rack=b"``)."""
        self.client("-p", name, "create", check=True)
        self.client("-p", name, "add-match", f"{EXPORTER}/{group}/*", check=True)
        if tags:
            self.client("-p", name, "set-tags", *tags.split(), check=True)

    def places(self) -> dict[str, tuple[str | None, dict[str, str]]]:
        """Each place's holder (host/user, or None) and tags, from one labgrid-client call."""
        found: dict[str, tuple[str | None, dict[str, str]]] = {}
        name = ""
        for line in self.client("-v", "places", check=True).stdout.splitlines():
            text = line.strip()
            if line.startswith("Place '"):
                name = line.split("'")[1]
                found[name] = (None, {})
            elif text.startswith("tags:"):
                pairs = text.split(":", 1)[1].split(",")
                tags = dict(pair.strip().split("=", 1) for pair in pairs)
                found[name] = (found[name][0], tags)
            elif text.startswith("acquired:"):
                value = text.split(":", 1)[1].strip()
                found[name] = (None if value == "None" else value, found[name][1])
        return found

    def reservations(self) -> list[str]:
        """The coordinator's reservations, one line each: ``TOKEN owner state``."""
        shown = self.client("reservations", check=True).stdout
        found: list[str] = []
        for line in shown.splitlines():
            if line.startswith("Reservation '"):
                found.append(line.split("'")[1])
            elif line.strip().startswith(("owner:", "state:")) and found:
                found[-1] += " " + line.split(":", 1)[1].strip()
        return found

    def holder(self, place: str) -> str | None:
        """Who holds ``place`` now (host/user), or None."""
        shown = self.client("-p", place, "show", check=True).stdout
        for line in shown.splitlines():
            if line.strip().startswith("acquired:"):
                value = line.split(":", 1)[1].strip()
                return None if value == "None" else value
        raise AssertionError(shown)

    def stop(self) -> None:
        for proc in reversed(self._procs):
            stop_process(proc, 5)
        self._procs.clear()
