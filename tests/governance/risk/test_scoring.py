"""The scoring function against the default questionnaire, as plain data (no database)."""

from hypothesis import given, settings
from hypothesis import strategies as st

from governance.risk.defaults import DEFAULT_QUESTIONS
from governance.risk.scoring import (
    HIGH,
    LIMITED,
    MINIMAL,
    MULTI,
    NUMBER,
    UNACCEPTABLE,
    ChoiceSpec,
    QuestionSpec,
    score_answers,
    tier_for_score,
)


def as_specs(definitions):
    return tuple(
        QuestionSpec(
            key=q["key"],
            text=q["text"],
            answer_type=q["type"],
            choices=tuple(
                ChoiceSpec(
                    key=c["key"],
                    label=c["label"],
                    weight=c.get("weight", 0),
                    tier_floor=c.get("floor", 1),
                    reason=c.get("reason", ""),
                )
                for c in q.get("choices", [])
            ),
            number_bands=tuple((float(low), weight) for low, weight in q.get("bands", [])),
        )
        for q in definitions
    )


QUESTIONS = as_specs(DEFAULT_QUESTIONS)

LOW_RISK = {
    "data_sensitivity": "public",
    "decision_autonomy": "advisory",
    "affected_people": ["internal_staff"],
    "rights_impacting": "no",
    "safety_impacting": "no",
    "annex_iii_domain": ["none"],
    "prohibited_practice": ["none"],
    "generative_ai": "no",
    "genai_exposure": ["none"],
    "third_party_model": "no",
    "scale": 50,
}


def score(**changes):
    return score_answers(QUESTIONS, {**LOW_RISK, **changes})


def test_low_risk_answers_give_tier_1():
    result = score()
    assert result.tier == MINIMAL and result.complete
    assert result.score == 1


def test_any_prohibited_practice_gives_tier_4_with_reason():
    result = score(prohibited_practice=["social_scoring"])
    assert result.tier == UNACCEPTABLE
    assert any("Social scoring" in line or "social scoring" in line for line in result.rationale)


def test_prohibited_practice_wins_over_everything():
    result = score(
        prohibited_practice=["emotion_recognition"],
        annex_iii_domain=["employment"],
        data_sensitivity="special_category",
    )
    assert result.tier == UNACCEPTABLE
    assert result.rationale[0].startswith("At least Tier 4")


def test_rights_impacting_safety_impacting_and_annex_iii_give_at_least_tier_3():
    assert score(rights_impacting="yes").tier == HIGH
    assert score(safety_impacting="yes").tier == HIGH
    result = score(annex_iii_domain=["essential_services"])
    assert result.tier == HIGH
    assert any("Annex III" in line and "credit scoring" in line for line in result.rationale)


def test_personal_data_and_customer_facing_genai_give_at_least_tier_2():
    personal = score(data_sensitivity="personal")
    assert personal.tier == LIMITED
    assert any("personal data" in line for line in personal.rationale)
    assert score(data_sensitivity="special_category").tier == LIMITED
    genai = score(generative_ai="customer_facing")
    assert genai.tier == LIMITED
    assert any("Customer-facing generative AI" in line for line in genai.rationale)


def test_internal_generative_ai_alone_stays_tier_1():
    assert score(generative_ai="internal").tier == MINIMAL


def test_score_bands_boundaries():
    assert tier_for_score(0) == MINIMAL
    assert tier_for_score(4) == MINIMAL
    assert tier_for_score(5) == LIMITED
    assert tier_for_score(9) == LIMITED
    assert tier_for_score(10) == HIGH


def test_score_alone_can_reach_tier_3_without_floors():
    result = score(
        data_sensitivity="confidential",  # 2
        decision_autonomy="fully_automated",  # 3
        affected_people=["internal_staff"],  # 1
        genai_exposure=["tool_use", "untrusted_input"],  # 4
    )
    assert result.score == 10
    assert result.tier == HIGH
    assert result.rationale[0] == "Tier 3 · high from a risk score of 10:"


def test_number_bands_use_the_highest_band_reached():
    assert score(scale=999).score == 1
    assert score(scale=1000).score == 2
    assert score(scale=100000).score == 3
    assert score(scale=5_000_000).score == 4


def test_unanswered_questions_are_reported():
    result = score_answers(QUESTIONS, {"data_sensitivity": "public"})
    assert not result.complete
    assert "annex_iii_domain" in result.unanswered


def test_credit_scoring_llm_is_tier_3_with_annex_iii_reason():
    result = score(
        data_sensitivity="personal",
        affected_people=["customers"],
        annex_iii_domain=["essential_services"],
        generative_ai="customer_facing",
        third_party_model="yes",
        rights_impacting="yes",
    )
    assert result.tier == HIGH
    assert "Annex III" in " ".join(result.rationale)
    # Lower floors are still explained.
    assert any(line.startswith("Also at least Tier 2") for line in result.rationale)


def choice_weight(question, key):
    choice = question.choice(key)
    return (choice.tier_floor, choice.weight)


@st.composite
def answers_and_riskier(draw):
    """A full set of answers, and the same answers with one answer made riskier."""
    answers = {}
    for question in QUESTIONS:
        if question.answer_type == NUMBER:
            answers[question.key] = draw(st.integers(min_value=0, max_value=2_000_000))
        elif question.answer_type == MULTI:
            keys = [c.key for c in question.choices if c.key != "none"]
            answers[question.key] = draw(st.lists(st.sampled_from(keys), unique=True)) or ["none"]
        else:
            answers[question.key] = draw(st.sampled_from([c.key for c in question.choices]))
    question = draw(st.sampled_from(QUESTIONS))
    riskier = dict(answers)
    current = answers[question.key]
    if question.answer_type == NUMBER:
        riskier[question.key] = current + draw(st.integers(min_value=0, max_value=2_000_000))
    elif question.answer_type == MULTI:
        extra = draw(st.sampled_from([c.key for c in question.choices if c.key != "none"]))
        riskier[question.key] = sorted({*[k for k in current if k != "none"], extra})
    else:
        candidates = [
            c.key
            for c in question.choices
            if choice_weight(question, c.key) >= choice_weight(question, current)
            and c.weight >= question.choice(current).weight
        ]
        riskier[question.key] = draw(st.sampled_from(candidates))
    return answers, riskier


@settings(max_examples=400, deadline=None)
@given(answers_and_riskier())
def test_a_riskier_answer_never_lowers_the_tier(pair):
    answers, riskier = pair
    before, after = score_answers(QUESTIONS, answers), score_answers(QUESTIONS, riskier)
    assert after.tier >= before.tier
    assert after.score >= before.score
