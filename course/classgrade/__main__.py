"""`python -m course.classgrade`: the command line of course/classgrade/cli.py."""

import sys

from course.classgrade.cli import main

if __name__ == "__main__":
    sys.exit(main())
