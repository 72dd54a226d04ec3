"""The click commands: each parses its options, calls one use case and prints."""
