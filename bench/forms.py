"""Benchmark: hard written forms and the reading view — recall, precision and speed, against the old scanner.

    python -m bench.forms [--seeds 11,12,13] [--per-class 200] [--distractors 2000]
                          [--throughput-docs 5000] [--repeat 5] [--ks 1000,8000,64000]
                          [--old-max-k 8000] [--current-max-k 64000]
                          [--baseline-commit beacaf2] [--baseline-file PATH]

The baseline is the scanner before the reading view: ``src/archivist/identifiers_text.py``
of ``--baseline-commit``, written by ``git show`` (read-only) to ``--baseline-file`` outside
the repository and imported from there, side by side with the current one in the same process.

(a) Recall and precision per form class on ``hard_cases(seed, per_class)`` for each seed:
    every identifier of a case a request on its own, each occurrence at its exact span, any
    span replaced for a negative (a stranger, a wrong reading) a false positive — the rule of
    ``hard_forms.score_cases``, with the scanner's ``identifier_spans`` pluggable.
(b) Distractor texts (IBANs, accounts, dates, amounts, order ids, …, no number or address in
    them): the share of texts for which ``find_phones``/``find_emails`` report any reading.
(c) Throughput at ingestion: ``archivist.archive.mentions.identifiers_in(texts, "NO")`` per
    document (all its field texts) of ``generate_corpus``, one process, caches cleared before
    each repetition (as a fresh process); current and old alternate, medians of ``--repeat``.
(e) The wild corpus (``tests/corpus/wild_forms.py``: forms real systems write, each class citing
    its sources): per class, recall and precision of the identifiers a reader finds there, old
    and current (``find_phones`` readings and ``find_emails``), and the rows read exactly right.
(d) Replacement time against the number of mentions in one text: ``"912 34 567 " * k`` and
    ``"912 34 567, " * k``, and a 2 MB body with ~180,000 mentions (current only). The old
    scanner checks each candidate against every span chosen so far (quadratic), so it is
    skipped above ``--old-max-k``. The current one is linear on both texts (amounts are
    read in one pass since the amount exclusion stopped backtracking); ``--current-max-k``
    (default 64,000) still caps it on the space-separated text, for a scanner that is
    quadratic there again. A replacement that takes over 2 s is run once.
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Collection, Iterable
from pathlib import Path
from types import ModuleType

from tests.corpus.corpus import Score, generate_corpus
from tests.corpus.hard_forms import DISTRACTOR_CLASSES, FORM_CLASSES, Case, distractor_texts, hard_cases
from tests.corpus.wild_forms import CASES, CLASSES, Wild

from archivist import identifiers_text, reading
from archivist.archive.mentions import identifiers_in
from archivist.archive.models import MentionKind
from bench.common import median, table, write_result

REPO = Path(__file__).resolve().parent.parent
SCANNER_PATH = "src/archivist/identifiers_text.py"
PHONE = "+4791234567"
BASELINE_FILE = Path(tempfile.gettempdir()) / "old_scanner" / "identifiers_text_v1.py"

SpansFn = Callable[[str, Collection[str], str], list[tuple[int, int]]]


# ---------------------------------------------------------------------------------------------
# The baseline: the old scanner, imported from a file outside the repository
# ---------------------------------------------------------------------------------------------


def load_baseline(commit: str, path: Path) -> ModuleType:
    if not path.exists():
        source = subprocess.run(  # read-only: git show of one file
            ["git", "show", f"{commit}:{SCANNER_PATH}"],
            cwd=REPO,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source)
    spec = importlib.util.spec_from_file_location("identifiers_text_baseline", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


def _cold(module: ModuleType) -> None:
    """Forget the readings and addresses a scanner has cached, as a fresh process would."""
    for name in ("_readings", "_normalize_email"):
        cached = getattr(module, name, None)
        if cached is not None and hasattr(cached, "cache_clear"):
            cached.cache_clear()
    if module is identifiers_text:
        reading._read_char.cache_clear()


# ---------------------------------------------------------------------------------------------
# (a) Recall and precision per form class
# ---------------------------------------------------------------------------------------------


def score(cases: Iterable[Case], spans: SpansFn) -> dict[str, Score]:
    """``hard_forms.score_cases`` with the scanner's ``identifier_spans`` as a parameter."""
    scores: dict[str, Score] = {}
    for case in cases:
        s = scores.setdefault(case.form_class, Score())
        for identifier, true_spans in case.truths:
            predicted = set(spans(case.text, (identifier,), case.country))
            true = set(true_spans)
            s.true_positives += len(predicted & true)
            s.false_positives += len(predicted - true)
            s.false_negatives += len(true - predicted)
        for identifier in case.negatives:
            s.false_positives += len(spans(case.text, (identifier,), case.country))
    return scores


def _add(total: Score, part: Score) -> None:
    total.true_positives += part.true_positives
    total.false_positives += part.false_positives
    total.false_negatives += part.false_negatives


def bench_quality(old: ModuleType, seeds: list[int], per_class: int) -> str:
    current: dict[str, Score] = {c: Score() for c in FORM_CLASSES}
    baseline: dict[str, Score] = {c: Score() for c in FORM_CLASSES}
    for seed in seeds:
        cases = hard_cases(seed=seed, per_class=per_class)
        for totals, fn in ((current, identifiers_text.identifier_spans), (baseline, old.identifier_spans)):
            for form_class, s in score(cases, fn).items():
                _add(totals[form_class], s)
    rows = []
    all_current, all_old = Score(), Score()
    for form_class in (*FORM_CLASSES, "all"):
        if form_class == "all":
            c, o = all_current, all_old
        else:
            c, o = current[form_class], baseline[form_class]
            _add(all_current, c)
            _add(all_old, o)
        rows.append(
            [
                f"**{form_class}**" if form_class == "all" else form_class,
                f"{c.true_positives + c.false_negatives:,}",
                f"{o.recall:.4f}",
                f"{c.recall:.4f}",
                f"{o.precision:.4f}",
                f"{c.precision:.4f}",
                f"{o.false_positives:,} / {c.false_positives:,}",
            ]
        )
    return table(
        [
            "form class",
            "true mentions",
            "recall, old",
            "recall, current",
            "precision, old",
            "precision, current",
            "wrong spans, old / current",
        ],
        rows,
    )


# ---------------------------------------------------------------------------------------------
# (b) Distractors
# ---------------------------------------------------------------------------------------------


def _reads_any(module: ModuleType, text: str) -> bool:
    return bool(_found(module, text, "NO"))


def bench_distractors(old: ModuleType, seed: int, n: int) -> str:
    texts = distractor_texts(seed=seed, n=n)
    rows = []
    totals = [0, 0, 0]
    for name in DISTRACTOR_CLASSES:
        mine = [t for c, t in texts if c == name]
        old_hits = sum(_reads_any(old, t) for t in mine)
        new_hits = sum(_reads_any(identifiers_text, t) for t in mine)
        totals[0] += len(mine)
        totals[1] += old_hits
        totals[2] += new_hits
        rows.append([name, f"{len(mine):,}", f"{old_hits / len(mine):.1%}", f"{new_hits / len(mine):.1%}"])
    rows.append(["**all**", f"{totals[0]:,}", f"{totals[1] / totals[0]:.1%}", f"{totals[2] / totals[0]:.1%}"])
    return table(["distractor class", "texts", "any reading, old", "any reading, current"], rows)


# ---------------------------------------------------------------------------------------------
# (e) The wild corpus: forms real systems write, from public sources (tests/corpus/wild_forms.py)
# ---------------------------------------------------------------------------------------------


def _found(module: ModuleType, text: str, country: str) -> set[str]:
    """Every identifier a scanner reads in ``text``: its phones' readings and its addresses."""
    return {e164 for _, _, e164 in module.find_phones(text, country)} | {a for _, _, a in module.find_emails(text)}


def _wild_score(module: ModuleType, cases: Iterable[Wild]) -> tuple[int, int, int]:
    """(identifiers read right, identifiers read, rows read exactly right)."""
    right = found = exact = 0
    for case in cases:
        read = _found(module, case.text, case.country)
        truth = set(case.identifiers)
        right += len(read & truth)
        found += len(read)
        exact += read == truth
    return right, found, exact


def _ratio(part: int, whole: int) -> str:
    return f"{part / whole:.3f}" if whole else "–"


def bench_wild(old: ModuleType) -> str:
    """Per class: identifiers a reader finds, and the scanners' recall and precision on them
    (identifiers counted, not rows), and the rows read exactly right."""
    rows = []
    for form_class, cases in [*((c, [w for w in CASES if w.form_class == c]) for c in CLASSES), ("**all**", CASES)]:
        expected = sum(len(case.identifiers) for case in cases)
        o_right, o_found, o_exact = _wild_score(old, cases)
        c_right, c_found, c_exact = _wild_score(identifiers_text, cases)
        rows.append(
            [
                form_class,
                f"{len(cases)}",
                f"{expected}",
                _ratio(o_right, expected),
                _ratio(o_right, o_found),
                _ratio(c_right, expected),
                _ratio(c_right, c_found),
                f"{o_exact} / {c_exact}",
            ]
        )
    return table(
        [
            "wild class",
            "rows",
            "identifiers a reader finds",
            "recall, old",
            "precision, old",
            "recall, current",
            "precision, current",
            "rows exactly right, old / current",
        ],
        rows,
    )


# ---------------------------------------------------------------------------------------------
# (c) Throughput at ingestion
# ---------------------------------------------------------------------------------------------


def _old_identifiers_in(old: ModuleType) -> Callable[[Iterable[str | None], str], set[tuple[MentionKind, str]]]:
    """``mentions.identifiers_in`` over the old scanner's ``find_phones``/``find_emails``."""

    def identifiers(texts: Iterable[str | None], country: str) -> set[tuple[MentionKind, str]]:
        found: set[tuple[MentionKind, str]] = set()
        for text in texts:
            if not text:
                continue
            found.update((MentionKind.PHONE, e164) for _, _, e164 in old.find_phones(text, country))
            found.update((MentionKind.EMAIL, address) for _, _, address in old.find_emails(text))
        return found

    return identifiers


def bench_throughput(old: ModuleType, n: int, repeat: int) -> str:
    corpus = generate_corpus(2_000, n, seed=11)
    documents = [[f.text for f in d.fields.values()] for d in corpus.documents]
    texts = sum(len(d) for d in documents)
    chars = sum(len(t) for d in documents for t in d)
    scanners = {"old": (old, _old_identifiers_in(old)), "current": (identifiers_text, identifiers_in)}
    wall: dict[str, list[float]] = {name: [] for name in scanners}
    cpu: dict[str, list[float]] = {name: [] for name in scanners}
    found: dict[str, int] = {}
    for _ in range(repeat):
        for name, (module, fn) in scanners.items():
            _cold(module)
            gc.collect()
            started, cpu_started = time.perf_counter(), time.process_time()
            count = 0
            for texts_of_document in documents:
                count += len(fn(texts_of_document, "NO"))
            wall[name].append(time.perf_counter() - started)
            cpu[name].append(time.process_time() - cpu_started)
            found[name] = count
    rows = []
    for name in scanners:
        w, c = median(wall[name]), median(cpu[name])
        runs = ", ".join(f"{n / x:,.0f}" for x in wall[name])
        rows.append(
            [
                name,
                f"{n:,} ({texts:,} texts, {chars / 1e6:.1f} M chars)",
                f"{w:.2f} s",
                f"{n / w:,.0f} ({runs})",
                f"{n / c:,.0f}",
                f"{found[name]:,}",
            ]
        )
    ratio = median(wall["current"]) / median(wall["old"])
    print(f"throughput: current takes {ratio:.2f}× the old scanner's time")
    rows.append(["current / old", "", f"{ratio:.2f}×", f"{1 / ratio:.2f}×", "", ""])
    return table(
        [
            "scanner",
            "documents",
            "time, median",
            "documents/s, median (runs)",
            "documents per CPU-second",
            "identifiers found",
        ],
        rows,
    )


# ---------------------------------------------------------------------------------------------
# (d) Replacement time against mentions per text
# ---------------------------------------------------------------------------------------------


def _time_replace(module: ModuleType, text: str, identifiers: tuple[str, ...], repeat: int) -> tuple[float, int, int]:
    """Median seconds of ``replace_identifiers``, mentions replaced, runs (one only if a run takes > 2 s)."""
    times: list[float] = []
    count = 0
    while len(times) < repeat and not (times and times[0] > 2):
        _cold(module)
        started = time.perf_counter()
        _, count = module.replace_identifiers(text, identifiers, "NO", "[fjernet]")
        times.append(time.perf_counter() - started)
    return median(times), count, len(times)


def _cell(t: float, n: int, runs: int) -> str:
    return f"{t:.3f} s ({n:,}{'' if runs > 1 else ', 1 run'})"


def bench_replace(old: ModuleType, ks: list[int], old_max_k: int, current_max_k: int, repeat: int) -> str:
    rows = []
    for sep, current_cap in ((" ", current_max_k), (", ", max(ks))):
        for k in ks:
            text = f"912 34 567{sep}" * k
            new_t = 0.0
            if k <= current_cap:
                new_t, new_n, new_runs = _time_replace(identifiers_text, text, (PHONE,), repeat)
                new_cell, per = _cell(new_t, new_n, new_runs), f"{new_t / new_n * 1e6:.1f} µs"
            else:
                new_cell, per = f"skipped (> {current_cap:,}: --current-max-k)", "—"
            if k <= old_max_k:
                old_t, old_n, old_runs = _time_replace(old, text, (PHONE,), repeat)
                old_cell = _cell(old_t, old_n, old_runs)
                ratio = f"{new_t / old_t:.2f}×" if new_t else "—"
            else:
                old_cell, ratio = f"skipped (> {old_max_k:,}: quadratic)", "—"
            rows.append([f'`"912 34 567{sep}" * {k:,}`', f"{len(text) / 1e6:.2f} MB", new_cell, per, old_cell, ratio])
            print(f"replace {sep!r} k={k:,}: current {new_cell}, old {old_cell}", flush=True)
    # ~2 MB, ~180,000 mentions: two forms of the number alternating, comma-separated.
    pair = "912 34 567, 91234567; "
    body = pair * (2_000_000 // len(pair))
    big_t, big_n, big_runs = _time_replace(identifiers_text, body, (PHONE,), repeat)
    rows.append(
        [
            f'2 MB body `"{pair}" * {2_000_000 // len(pair):,}`',
            f"{len(body) / 1e6:.2f} MB",
            _cell(big_t, big_n, big_runs),
            f"{big_t / big_n * 1e6:.1f} µs",
            "not run",
            "—",
        ]
    )
    print(f"replace 2 MB body: {big_t:.3f} s, {big_n:,} mentions", flush=True)
    return table(
        [
            "text",
            "size",
            "current: `replace_identifiers`, median (mentions replaced)",
            "current per mention",
            "old, median (mentions replaced)",
            "current / old",
        ],
        rows,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", default="11,12,13")
    parser.add_argument("--per-class", type=int, default=200)
    parser.add_argument("--distractors", type=int, default=2_000, help="texts, spread over the classes")
    parser.add_argument("--throughput-docs", type=int, default=5_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--ks", default="1000,8000,64000", help="mentions per text for (d)")
    parser.add_argument("--old-max-k", type=int, default=8_000, help="largest k the old scanner is run at")
    parser.add_argument(
        "--current-max-k", type=int, default=64_000, help='largest k the current scanner is run at on "912 34 567 " * k'
    )
    parser.add_argument("--baseline-commit", default="beacaf2")
    parser.add_argument("--baseline-file", type=Path, default=BASELINE_FILE)
    args = parser.parse_args()
    old = load_baseline(args.baseline_commit, args.baseline_file)
    seeds = [int(s) for s in args.seeds.split(",")]

    quality = bench_quality(old, seeds, args.per_class)
    print(quality)
    distractors = bench_distractors(old, seeds[0], args.distractors)
    print(distractors)
    wild = bench_wild(old)
    print(wild)
    throughput = bench_throughput(old, args.throughput_docs, args.repeat)
    print(throughput)
    replace = bench_replace(old, [int(k) for k in args.ks.split(",")], args.old_max_k, args.current_max_k, args.repeat)
    print(replace)
    write_result(
        "forms",
        f"### Recall and precision per form class (seeds {args.seeds}, {args.per_class} cases per class each)\n\n"
        + quality
        + "\n\n### Distractors: texts with any reading\n\n"
        + distractors
        + "\n\n### The wild corpus (`tests/corpus/wild_forms.py`)\n\n"
        + wild
        + "\n\n### Throughput at ingestion (`identifiers_in`, one process)\n\n"
        + throughput
        + "\n\n### Replacement time against mentions per text\n\n"
        + replace,
    )


if __name__ == "__main__":
    main()
