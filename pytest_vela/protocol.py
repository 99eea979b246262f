"""Constants of the bridge protocol (docs/protocol.md) shared by the harness and the
simulated watch."""

# Each agent result and event is mirrored on the console as one line with this prefix.
AGENT_CONSOLE_PREFIX = "VELA-AGENT "
