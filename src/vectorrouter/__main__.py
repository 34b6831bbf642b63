import sys

from vectorrouter.cli.main import main

sys.exit(main())
