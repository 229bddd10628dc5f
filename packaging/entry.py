"""Entry point of the PyInstaller bundle: prepare the environment, then run the CLI."""

from palettelab.app.user_dirs import prepare_frozen_environment

prepare_frozen_environment()  # before anything imports numba

from palettelab.app.cli.main import entry  # noqa: E402

entry()
