"""`python -m refdb` runs the command line."""

from refdb.cli import main

main()
