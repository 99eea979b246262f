"""Allure steps for the phone side's calls (``Interconnect``, ``Peer``, the ``EventLog``): the
call with its arguments as the step's title and parameters, its outcome appended to the title
when it returns (``interconnect.send({"n":1}) → success``); Allure times each step."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import allure_commons
import pytest
from allure_commons.model2 import Parameter
from allure_commons.utils import uuid4

from pytest_vela.peer.steps import CallStep, Outcome

PARAMETER_LIMIT = 2000  # characters of one argument kept in a step's parameters


def _value(value: Any) -> str:
    if isinstance(value, str):
        text = value
    else:
        try:
            text = json.dumps(value, ensure_ascii=False)
        except (TypeError, ValueError):
            text = repr(value)
    return text if len(text) <= PARAMETER_LIMIT else text[: PARAMETER_LIMIT - 1] + "…"


def call_steps(config: pytest.Config) -> CallStep:
    """The step hook for this run's Allure listener."""

    def step_result(uuid: str) -> Any:
        listener = config.pluginmanager.get_plugin("allure_listener")
        reporter = getattr(listener, "allure_logger", None)
        return reporter.get_item(uuid) if reporter is not None else None

    @contextmanager
    def step(title: str, params: Mapping[str, Any]) -> Iterator[Outcome]:
        uuid = uuid4()
        hook = allure_commons.plugin_manager.hook
        hook.start_step(uuid=uuid, title=title, params={k: _value(v) for k, v in params.items()})
        said: list[str] = []
        try:
            yield said.append
        except BaseException as exc:
            hook.stop_step(uuid=uuid, exc_type=type(exc), exc_val=exc, exc_tb=exc.__traceback__)
            raise
        if said:
            result = step_result(uuid)
            if result is not None:
                result.name = f"{title} → {said[-1]}"
                result.parameters.append(Parameter(name="outcome", value=said[-1]))
        hook.stop_step(uuid=uuid, exc_type=None, exc_val=None, exc_tb=None)

    return step
