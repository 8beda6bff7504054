from tongbao.cli.main import main

main()
