import sys

from lvlm_var.cli import main

sys.exit(main())
