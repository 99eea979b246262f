"""One rig for one pytest session: its lock, its backend (hardware or simulated), provisioning
and the per-test starting state."""
