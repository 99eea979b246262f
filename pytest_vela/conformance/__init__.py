"""The interconnect conformance suite: ``pytest --pyargs pytest_vela.conformance --rig NAME``.

It checks a watch against the ``@system.interconnect`` contract and link model of
docs/interconnect.md, using only the public fixtures, so it runs unchanged on the simulated
watch and on hardware.
"""
