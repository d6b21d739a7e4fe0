from gapctl.cli import main

main()
