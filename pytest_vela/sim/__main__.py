import sys

from pytest_vela.sim.process import main

sys.exit(main())
