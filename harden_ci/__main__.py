from harden_ci.cli import main

main()
