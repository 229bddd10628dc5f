"""The ``palettelab`` command line. It never imports Qt: the GUI is imported only when the
window is launched (an import contract checks it)."""
