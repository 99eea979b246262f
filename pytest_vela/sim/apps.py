"""Which apps run on the simulated watch; the interconnect model plugs in as the agent."""

from __future__ import annotations

from typing import Protocol


class AgentHooks(Protocol):
    def app_started(self) -> None: ...
    def app_stopped(self) -> None: ...


class AppRuntime:
    """Tracks running packages; starting or stopping the agent's package drives the model."""

    def __init__(self, agent_package: str, agent: AgentHooks | None = None) -> None:
        self.agent_package = agent_package
        self.agent = agent
        self._running: list[str] = []

    def start_app(self, package: str) -> None:
        if package in self._running:
            return
        self._running.append(package)
        if package == self.agent_package and self.agent is not None:
            self.agent.app_started()

    def stop_app(self, package: str) -> None:
        if package not in self._running:
            return
        self._running.remove(package)
        if package == self.agent_package and self.agent is not None:
            self.agent.app_stopped()

    def running_apps(self) -> list[str]:
        return list(self._running)
