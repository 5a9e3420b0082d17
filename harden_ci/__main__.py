from harden_ci.entry import main

main()
