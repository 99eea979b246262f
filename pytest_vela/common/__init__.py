"""Small mechanisms every layer uses: fire-and-forget tasks, byte queues, child processes,
waiting until a deadline, compact JSON."""
