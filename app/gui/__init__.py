"""The Qt GUI: a main window shell holding the Image and Points workspaces, and the worker
host that runs ``core`` for them in a QThread."""
