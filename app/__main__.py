"""``python -m app`` runs the PaletteLab command line, the same as the ``palettelab`` script."""

import sys

from app.cli import main

if __name__ == "__main__":
    sys.exit(main())
