"""The quality set of unified search and the assistant: colloquial questions
(``quality/questions.tsv``) with the matters whose guide answers them, and the top-1 and
top-3 hit rates of a ranking function over it (used by the test on the demo catalogue and
by benchmarks/search_quality.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

QUESTIONS = Path(__file__).with_name("quality") / "questions.tsv"
PREFIX = "339900-"


@dataclass(frozen=True)
class Question:
    text: str
    answers: tuple[str, ...]  # document keys that answer it: a matter, its FAQs, a bundle

    def answered_by(self, key: str) -> bool:
        for answer in self.answers:
            if answer.startswith("service:bundle:"):
                if key == answer:
                    return True
            elif key == answer or key.startswith(answer.replace("service:", "faq:") + ":"):
                return True
        return False


@dataclass
class Report:
    total: int = 0
    top1: int = 0
    top3: int = 0
    misses: list[tuple[str, list[str]]] = field(default_factory=list)

    @property
    def top1_rate(self) -> float:
        return self.top1 / self.total if self.total else 0.0

    @property
    def top3_rate(self) -> float:
        return self.top3 / self.total if self.total else 0.0


def load_questions(path: Path = QUESTIONS) -> list[Question]:
    found = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        text, _tab, answers = line.partition("\t")
        keys = []
        for answer in answers.split("|"):
            answer = answer.strip()
            keys.append(f"service:{answer}" if answer.startswith("bundle:")
                        else f"service:{PREFIX}{answer}")
        found.append(Question(text.strip(), tuple(keys)))
    return found


def evaluate(rank: Callable[[str], list[str]], questions: list[Question] | None = None
             ) -> Report:
    """Hit rates of ``rank`` (a question → document keys, best first)."""
    report = Report()
    for question in questions if questions is not None else load_questions():
        keys = rank(question.text)
        report.total += 1
        hits = [question.answered_by(k) for k in keys[:3]]
        if hits[:1] == [True]:
            report.top1 += 1
        if any(hits):
            report.top3 += 1
        else:
            report.misses.append((question.text, keys[:3]))
    return report
