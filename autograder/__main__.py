"""``python -m autograder <command>``: the instructor's grading commands.

    grade <assignment>   grade a whole class (see ``autograder/grading/pipeline.py``)
    fetch <assignment>   download a Canvas assignment's submissions, with their times
    export <assignment>  the file an LMS's gradebook import takes (Canvas, Moodle, CSV)
    upload <assignment>  send grades and feedback to Canvas

Other tools run as their own modules (``python -m autograder.release``, ``autograder.strip``).
"""

from __future__ import annotations

import sys

COMMANDS = {"grade": "autograder.grading.cli", "fetch": "autograder.lms.fetch_command",
            "export": "autograder.lms.export_command", "upload": "autograder.lms.upload_command"}


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] not in COMMANDS:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    import importlib

    module = importlib.import_module(COMMANDS[args[0]])
    return int(module.main(args[1:]))


if __name__ == "__main__":
    sys.exit(main())
