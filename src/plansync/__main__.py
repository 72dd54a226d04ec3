from plansync.cli.main import main

main()
