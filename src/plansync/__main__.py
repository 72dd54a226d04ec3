"""`python -m plansync`: the command line."""

from plansync.cli.main import main

main()
