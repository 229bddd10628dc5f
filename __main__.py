"""``python -m palettelab`` is the ``palettelab`` command."""

import sys

from palettelab.app.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
