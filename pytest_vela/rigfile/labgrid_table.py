"""The rig file's ``[labgrid]`` table: the place a watch is on, or the tags by which a pool of
such watches is reserved, and how long to wait for one.

Tags are checked as labgrid checks them (``labgrid.remote.common``: ``TAG_KEY`` and ``TAG_VAL``,
applied with ``re.match`` by ``labgrid-client set-tags`` and ``reserve`` and by the coordinator),
so that a tag the farm could give its places is never refused here, and one the coordinator
would refuse is refused at start-up, in the rig file, rather than in the middle of a run.
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field

from pytest_vela.rigfile.values import HostPort, PauseSeconds, Section, Word

# labgrid's key pattern, applied with re.match: only a key's beginning is checked. Its value
# pattern, [a-z0-9_]?, matches the empty beginning of any text, so labgrid takes any value;
# '=' is where set-tags and reserve split KEY=VALUE, and an empty value deletes a tag.
TAG_KEY = re.compile(r"[a-z][a-z0-9_]+")
EXAMPLE = 'tags = { board = "s4" }'


def _tags(value: Any) -> Any:
    """A table of strings whose keys and values ``labgrid-client set-tags`` takes."""
    if not isinstance(value, dict):
        raise ValueError(f"a table of strings, as {EXAMPLE}")
    if not value:
        raise ValueError(
            "an empty table would reserve any place of the coordinator: name the tags the "
            f"pool's places carry, as {EXAMPLE}, or leave tags out to name places one by one"
        )
    for key, text in value.items():
        if not TAG_KEY.match(key) or "=" in key:
            raise ValueError(
                f"tag key {key!r} is not one labgrid takes: a key begins with a lowercase letter "
                f"and a lowercase letter, digit or '_' (labgrid's {TAG_KEY.pattern}) and holds "
                f"no '=', as in {EXAMPLE}"
            )
        if not isinstance(text, str):
            raise ValueError(
                f"tag {key!r}: the value is {type(text).__name__} {text!r}; labgrid's tags are "
                f'strings: write {key} = "{text}"'
            )
        if not text or "=" in text or "\x00" in text:
            raise ValueError(
                f"tag {key!r}: value {text!r} is not one a place can carry: give a non-empty "
                "text without '=' or NUL (labgrid-client set-tags deletes a tag given an empty "
                f"value, and splits KEY=VALUE at '='), as in {EXAMPLE}"
            )
    return value


def _finite(value: float) -> float:
    if not math.isfinite(value):
        raise ValueError("must be a finite number (labgrid-client reserve --prio)")
    return value


Tags = Annotated[dict[str, str], BeforeValidator(_tags)]
Priority = Annotated[float, AfterValidator(_finite)]


class LabgridSettings(Section):
    """A watch on a labgrid place: the coordinator hands out its console and power."""

    place: Word = Field(description="the labgrid place (labgrid-client -p PLACE create)")
    coordinator: HostPort | None = Field(
        default=None,
        description="HOST:PORT of labgrid-coordinator; unset: $LG_COORDINATOR, else "
        "127.0.0.1:20408 (labgrid's own default)",
    )
    wait: PauseSeconds = Field(
        default=0.0,
        description="seconds to wait in a labgrid reservation while another holds the place "
        "(0: refuse at once); in a pool with tags, while no place with the tags is free; not "
        "used in a pool without tags, which passes a held place over for the next",
    )
    tags: Tags | None = Field(
        default=None,
        description="the tags of a pool's places (labgrid-client set-tags): --rig pool:NAME "
        "reserves a place with all of them, and the coordinator chooses which; every rig file "
        "of the pool gives the same tags, coordinator, wait and priority",
    )
    priority: Priority = Field(
        default=0.0,
        description="the priority of the labgrid reservation the run waits in (labgrid-client "
        "reserve --prio): the coordinator serves higher first, then the oldest",
    )


def pool_misfit(pool: str, members: list[tuple[str, LabgridSettings | None]]) -> str | None:
    """Why the rig files of ``pool`` (each as shown, with its table) cannot share one labgrid
    reservation, or None: when one gives tags, every one gives the same tags, coordinator, wait
    and priority (the pool makes one reservation for them all)."""
    if not any(labgrid is not None and labgrid.tags for _, labgrid in members):
        return None

    def terms(labgrid: LabgridSettings | None) -> str:
        if labgrid is None:
            return "no [labgrid] table"
        if not labgrid.tags:
            return f"no tags (place {labgrid.place!r} named alone)"
        tags = " ".join(f"{k}={v}" for k, v in sorted(labgrid.tags.items()))
        return (
            f"tags {tags}, coordinator {labgrid.coordinator or 'unset'}, wait {labgrid.wait:g}, "
            f"priority {labgrid.priority:g}"
        )

    said = {path: terms(labgrid) for path, labgrid in members}
    if len(set(said.values())) == 1:
        return None
    lines = "\n".join(f"  {path}: {what}" for path, what in said.items())
    return (
        f"pool {pool!r}: its rig files disagree on the labgrid reservation the pool is reserved "
        f"by:\n{lines}\ngive every rig file of the pool the same [labgrid] tags, coordinator, "
        "wait and priority (or leave tags out of all of them to name their places one by one)"
    )
