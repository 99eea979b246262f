"""The bridge's GATT profile and console mirror, shared by the harness and the simulated watch
(docs/protocol.md)."""

BRIDGE_SERVICE_UUID = "7a5e0001-5e1a-4c1d-9a00-76656c610000"
BRIDGE_RX_UUID = "7a5e0002-5e1a-4c1d-9a00-76656c610000"  # the harness writes here
BRIDGE_TX_UUID = "7a5e0003-5e1a-4c1d-9a00-76656c610000"  # the watch notifies here

# Each agent result and event is mirrored on the console as one line with this prefix.
AGENT_CONSOLE_PREFIX = "VELA-AGENT "

AGENT_FOLD = "console: agent protocol lines"  # where folded agent lines are attached whole


def is_agent_line(line: str) -> bool:
    """A line of the agent's console mirror (a result or an event of its, for machines)."""
    return AGENT_CONSOLE_PREFIX in line


def split_agent_lines(text: str, fold: bool = False) -> tuple[list[str], list[str]]:
    """The console text's lines apart from the agent's mirror lines: (the others, the agent's).
    With ``fold``, each run of agent lines leaves one line among the others saying how many
    it held and where they are (``AGENT_FOLD``)."""
    kept: list[str] = []
    agent: list[str] = []
    run = 0
    for line in [*text.splitlines(), None]:  # None: the end, where a last run is folded
        if line is not None and is_agent_line(line):
            agent.append(line)
            run += 1
            continue
        if fold and run:
            kept.append(f"⋯ {run} agent protocol line{'s' if run > 1 else ''} ({AGENT_FOLD})")
        run = 0
        if line is not None:
            kept.append(line)
    return kept, agent
