from plansync.cli import main

main()
