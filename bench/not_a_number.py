"""Benchmark: the no-number search, tried only where a match can begin, against its plain forms (issue 27).

    python -m bench.not_a_number [--repeat 5]

``identifiers_text._excluded`` finds what is no phone number (amounts, org numbers, meeting
ids, ...). It reads only the windows around the text's digits, and in them tries its searches
only where a match can begin (``_no_number_starts``). The baselines, in the same run, are the
plain searches (``tests.unit.test_not_a_number.searched_everywhere``) at every position of the
whole text (as it read first) and of the windows around digits (as it read next). Three texts:
the string literals of the scanner's corpora and tests (short, digit-dense), the body and HTML
of ``bench.email``'s typical message (an order number every 170 characters), and this
repository's README (prose). CPU seconds, the best of ``--repeat``; all must find the same spans.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

from tests.unit.test_not_a_number import searched_everywhere
from tests.unit.test_reading_tokens import literals

from archivist import identifiers_text
from archivist.archive.mime import parse_message
from bench.common import table, write_result
from bench.email import NOW, typical_message


def _windows(text: str) -> list[tuple[int, int]]:
    return identifiers_text._digit_windows(text, [run.span() for run in identifiers_text._DIGIT_RUN.finditer(text)])


def cpu(fn: Callable[[], object], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.process_time()
        fn()
        best = min(best, time.process_time() - started)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    mail = parse_message(typical_message(3), received_at=NOW)
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    corpora = {
        "corpora's literals": list(literals()),
        "typical email (x50)": [mail.body or "", mail.html or ""] * 50,
        "README (x5)": [readme] * 5,
    }
    rows = []
    for name, texts in corpora.items():
        now = [identifiers_text._excluded(text) for text in texts]
        assert [searched_everywhere(text) for text in texts] == now
        assert [searched_everywhere(text, _windows(text)) for text in texts] == now
        whole = cpu(lambda: [searched_everywhere(text) for text in texts], args.repeat)  # noqa: B023
        around = cpu(lambda: [searched_everywhere(text, _windows(text)) for text in texts], args.repeat)  # noqa: B023
        anchored = cpu(lambda: [identifiers_text._excluded(text) for text in texts], args.repeat)  # noqa: B023
        chars = sum(len(text) for text in texts)
        covered = sum(e - s for text in texts for s, e in _windows(text))
        rows.append(
            [
                name,
                f"{chars:,}",
                f"{covered / chars:.0%}",
                f"{whole:.4f}",
                f"{around:.4f}",
                f"{anchored:.4f}",
                f"{around / anchored:.2f}×",
            ]
        )
    text_ = "\n".join(
        [
            f"## The no-number search (CPU seconds, best of {args.repeat})",
            "",
            table(
                [
                    "texts",
                    "characters",
                    "in windows",
                    "whole text",
                    "windows, every position",
                    "windows, where a match can begin",
                    "speed-up on windows",
                ],
                rows,
            ),
        ]
    )
    print(text_)
    print(f"written to {write_result('not_a_number', text_)}")


if __name__ == "__main__":
    main()
