"""Value types of the ai app, importable by other apps (``OcrLine``, ``CardReading``…)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class OcrLine:
    """One line of text found by OCR: its text, confidence (0–1) and box.

    ``box`` is ``(left, top, right, bottom)`` in pixels of the (possibly resized) image the
    engine saw, scaled back to the input image.
    """

    text: str
    confidence: float
    box: tuple[float, float, float, float]
    #: The four corners the detector found (clockwise from top left): a skewed photo gives
    #: a slanted quadrilateral, from which the parser measures the skew.
    points: tuple[tuple[float, float], ...] = ()

    @property
    def height(self) -> float:
        return self.box[3] - self.box[1]

    @property
    def centre_y(self) -> float:
        return (self.box[1] + self.box[3]) / 2


@dataclass(frozen=True)
class FieldValue:
    """One field read from a card, with the confidence of the OCR lines it came from."""

    value: str
    confidence: float


@dataclass(frozen=True)
class CardReading:
    """The fields read from an ID card front (``kind="id_card"``) or a business licence
    (``kind="business_licence"``).

    ``fields`` maps a field name to its :class:`FieldValue`; fields that could not be read
    are absent. ``problems`` lists what looked wrong (in Chinese, for officials), such as an
    ID number failing its GB 11643 check; ``corrected`` names fields whose single OCR
    confusion was fixed because the check character then verified.
    """

    kind: str
    fields: dict[str, FieldValue] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    corrected: list[str] = field(default_factory=list)

    def get(self, name: str, default: str = "") -> str:
        """The value read for ``name`` or ``default``."""
        found = self.fields.get(name)
        return found.value if found is not None else default

    def values(self) -> dict[str, str]:
        """The plain values, ``{field: text}``."""
        return {name: found.value for name, found in self.fields.items()}


@dataclass(frozen=True)
class Mismatch:
    """A field whose value read from a document differs from the one typed in a form."""

    field: str
    read: str
    expected: str
