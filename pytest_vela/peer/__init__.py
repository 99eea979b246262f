"""The phone side of the link: the agent client, ``Interconnect``, ``Peer`` and the ``EventLog``."""
