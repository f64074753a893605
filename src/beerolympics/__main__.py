from beerolympics.cli import main

main()
