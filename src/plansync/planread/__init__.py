"""Reading plans: the YAML checker, plan files, the Russian date reader, importers."""
