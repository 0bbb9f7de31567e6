"""`python -m lambic` runs the CLI."""

from lambic.cli import main

main()
