"""The risk-tier scoring function: pure, deterministic, no database.

Input is the questionnaire as plain data (``QuestionSpec``/``ChoiceSpec``) and the answers
(question key → choice key, list of choice keys, bool or number). Output is the tier 1–4 with
a rationale naming the answers that drove it.

Rules, in order of precedence:
1. any answer whose choice has a tier floor raises the tier to at least that floor (the
   default questionnaire uses floors for: prohibited practice → 4; rights- or
   safety-impacting use or an EU AI Act Annex III domain → 3; personal data or customer-facing
   generative AI → 2);
2. otherwise the tier follows the total weight of all answers (``SCORE_BANDS``).
Weights and floors are never negative, so a riskier answer can never lower the tier.
"""

from dataclasses import dataclass, field

MINIMAL, LIMITED, HIGH, UNACCEPTABLE = 1, 2, 3, 4
TIER_LABELS = {
    MINIMAL: "Tier 1 · minimal",
    LIMITED: "Tier 2 · limited",
    HIGH: "Tier 3 · high",
    UNACCEPTABLE: "Tier 4 · unacceptable (blocked)",
}
# Total weight → tier when no floor applies: up to 4 is Tier 1, up to 9 Tier 2, above Tier 3.
SCORE_BANDS = ((4, MINIMAL), (9, LIMITED))

SINGLE, MULTI, YES_NO, NUMBER = "single", "multi", "yes_no", "number"


@dataclass(frozen=True)
class ChoiceSpec:
    key: str
    label: str
    weight: int = 0
    tier_floor: int = MINIMAL
    reason: str = ""


@dataclass(frozen=True)
class QuestionSpec:
    key: str
    text: str
    answer_type: str
    choices: tuple[ChoiceSpec, ...] = ()
    # For NUMBER questions: ((minimum value, weight), …) — the highest band reached applies.
    number_bands: tuple[tuple[float, int], ...] = ()

    def choice(self, key: str) -> ChoiceSpec | None:
        return next((choice for choice in self.choices if choice.key == key), None)


@dataclass(frozen=True)
class TierResult:
    tier: int
    score: int
    rationale: tuple[str, ...]
    unanswered: tuple[str, ...] = field(default=())

    @property
    def label(self) -> str:
        return TIER_LABELS[self.tier]

    @property
    def complete(self) -> bool:
        return not self.unanswered


def tier_for_score(score: int) -> int:
    for ceiling, tier in SCORE_BANDS:
        if score <= ceiling:
            return tier
    return HIGH


def selected_choices(question: QuestionSpec, answer) -> list[ChoiceSpec]:
    """The choices an answer selects; unknown keys are ignored (validated elsewhere)."""
    if answer is None or answer == "" or answer == []:
        return []
    if question.answer_type == MULTI:
        keys = answer if isinstance(answer, list | tuple | set) else [answer]
    elif question.answer_type == YES_NO:
        keys = ["yes" if answer in (True, "yes", "true", "1", 1) else "no"]
    elif question.answer_type == NUMBER:
        return []
    else:
        keys = [answer]
    return [choice for key in keys if (choice := question.choice(str(key))) is not None]


def number_weight(question: QuestionSpec, answer) -> int:
    try:
        value = float(answer)
    except (TypeError, ValueError):
        return 0
    weight = 0
    for minimum, band_weight in question.number_bands:
        if value >= minimum:
            weight = max(weight, band_weight)
    return weight


def is_answered(question: QuestionSpec, answer) -> bool:
    if question.answer_type == YES_NO:
        return answer is not None and answer != ""
    return answer not in (None, "", [])


def score_answers(questions, answers: dict) -> TierResult:
    """Compute the tier and its rationale from ``answers`` to ``questions``."""
    score = 0
    floor = MINIMAL
    floor_reasons: dict[int, list[str]] = {}
    weighted: list[tuple[int, str]] = []
    unanswered = []
    for question in questions:
        answer = answers.get(question.key)
        if not is_answered(question, answer):
            unanswered.append(question.key)
            continue
        if question.answer_type == NUMBER:
            weight = number_weight(question, answer)
            if weight:
                score += weight
                weighted.append((weight, f"{question.text}: {answer} (+{weight})"))
            continue
        for choice in selected_choices(question, answer):
            score += choice.weight
            description = choice.reason or f"{question.text}: {choice.label}"
            if choice.tier_floor > MINIMAL:
                floor = max(floor, choice.tier_floor)
                floor_reasons.setdefault(choice.tier_floor, []).append(description)
            elif choice.weight:
                weighted.append((choice.weight, f"{description} (+{choice.weight})"))

    by_score = tier_for_score(score)
    tier = max(floor, by_score)
    rationale = []
    if floor >= by_score and floor > MINIMAL:
        rationale.append(f"At least {TIER_LABELS[floor]} because:")
        rationale.extend(f"• {reason}" for reason in floor_reasons[floor])
    else:
        rationale.append(f"{TIER_LABELS[tier]} from a risk score of {score}:")
        rationale.extend(f"• {text}" for _, text in sorted(weighted, key=lambda item: -item[0])[:6])
    lower_floors = [level for level in floor_reasons if level < tier]
    for level in sorted(lower_floors, reverse=True):
        rationale.append(f"Also at least {TIER_LABELS[level]}:")
        rationale.extend(f"• {reason}" for reason in floor_reasons[level])
    if tier == MINIMAL and score == 0:
        rationale = [f"{TIER_LABELS[MINIMAL]}: no answer raised the risk."]
    return TierResult(tier, score, tuple(rationale), tuple(unanswered))
