# pytester runs a test file in a subprocess, as a user's pytest run would, to check what
# the plugin reports when a test fails.
pytest_plugins = ["pytester"]
