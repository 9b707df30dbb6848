from papercycle.cli.main import main

main()
