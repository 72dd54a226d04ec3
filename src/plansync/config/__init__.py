"""The configuration file and the environment variables that override it."""
