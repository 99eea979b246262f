"""The bridge's GATT profile and console mirror, shared by the harness and the simulated watch
(docs/protocol.md)."""

BRIDGE_SERVICE_UUID = "7a5e0001-5e1a-4c1d-9a00-76656c610000"
BRIDGE_RX_UUID = "7a5e0002-5e1a-4c1d-9a00-76656c610000"  # the harness writes here
BRIDGE_TX_UUID = "7a5e0003-5e1a-4c1d-9a00-76656c610000"  # the watch notifies here

# Each agent result and event is mirrored on the console as one line with this prefix.
AGENT_CONSOLE_PREFIX = "VELA-AGENT "
