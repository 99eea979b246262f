"""The bridge's wire protocol, shared by the harness and the simulated watch: MTU framing, the
typed messages, the GATT profile and the YMODEM checksum."""
