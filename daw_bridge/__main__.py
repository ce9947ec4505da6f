import sys

from daw_bridge.cli import main

sys.exit(main())
