"""``python -m palettelab`` is the ``palettelab`` command."""

from palettelab.app.cli.main import entry

if __name__ == "__main__":
    entry()
