"""The default risk questionnaire and control library, as data.

``governance.risk.services.library_install_defaults`` loads these into the database (idempotent);
a data migration calls it so every installation starts with them.
"""

from governance.risk.scoring import HIGH, LIMITED, MULTI, NUMBER, SINGLE, UNACCEPTABLE, YES_NO

NO = {"key": "no", "label": "No"}

DEFAULT_QUESTIONS = [
    {
        "key": "data_sensitivity",
        "text": "What is the most sensitive data the system uses?",
        "help": "Consider training data, prompts, retrieved documents and outputs.",
        "type": SINGLE,
        "choices": [
            {"key": "public", "label": "Public"},
            {"key": "internal", "label": "Internal", "weight": 1},
            {"key": "confidential", "label": "Confidential", "weight": 2},
            {
                "key": "personal",
                "label": "Personal data",
                "weight": 3,
                "floor": LIMITED,
                "reason": "It processes personal data.",
            },
            {
                "key": "special_category",
                "label": "Special-category personal data (health, biometrics, beliefs …)",
                "weight": 4,
                "floor": LIMITED,
                "reason": "It processes special-category personal data.",
            },
        ],
    },
    {
        "key": "decision_autonomy",
        "text": "How much does the system decide on its own?",
        "type": SINGLE,
        "choices": [
            {"key": "advisory", "label": "Advisory: people decide"},
            {
                "key": "human_in_the_loop",
                "label": "Human in the loop: a person approves each output",
                "weight": 1,
            },
            {
                "key": "human_on_the_loop",
                "label": "Human on the loop: a person monitors and can intervene",
                "weight": 2,
            },
            {"key": "fully_automated", "label": "Fully automated decisions", "weight": 3},
        ],
    },
    {
        "key": "affected_people",
        "text": "Who is affected by its outputs?",
        "type": MULTI,
        "choices": [
            {"key": "internal_staff", "label": "Internal staff", "weight": 1},
            {"key": "customers", "label": "Customers", "weight": 2},
            {"key": "public", "label": "The general public", "weight": 3},
        ],
    },
    {
        "key": "rights_impacting",
        "text": "Could it affect people's rights, access to services or opportunities?",
        "help": "E.g. credit, employment, housing, insurance, education, benefits.",
        "type": YES_NO,
        "choices": [
            NO,
            {
                "key": "yes",
                "label": "Yes",
                "weight": 3,
                "floor": HIGH,
                "reason": "It is rights-impacting.",
            },
        ],
    },
    {
        "key": "safety_impacting",
        "text": "Could a failure cause physical harm or endanger safety?",
        "type": YES_NO,
        "choices": [
            NO,
            {
                "key": "yes",
                "label": "Yes",
                "weight": 3,
                "floor": HIGH,
                "reason": "It is safety-impacting.",
            },
        ],
    },
    {
        "key": "annex_iii_domain",
        "text": "Is it used in one of the EU AI Act Annex III high-risk areas?",
        "type": MULTI,
        "choices": [
            {"key": "none", "label": "None of these"},
            *[
                {
                    "key": key,
                    "label": label,
                    "weight": 2,
                    "floor": HIGH,
                    "reason": f"EU AI Act Annex III high-risk area: {label.lower()}.",
                }
                for key, label in [
                    ("biometrics", "Biometrics"),
                    ("critical_infrastructure", "Critical infrastructure"),
                    ("education", "Education and vocational training"),
                    ("employment", "Employment and workers management"),
                    (
                        "essential_services",
                        "Essential private and public services, incl. credit scoring",
                    ),
                    ("law_enforcement", "Law enforcement"),
                    ("migration", "Migration, asylum and border control"),
                    ("justice", "Administration of justice and democratic processes"),
                ]
            ],
        ],
    },
    {
        "key": "prohibited_practice",
        "text": "Does it involve any practice prohibited by EU AI Act Article 5?",
        "type": MULTI,
        "choices": [
            {"key": "none", "label": "None of these"},
            *[
                {
                    "key": key,
                    "label": label,
                    "weight": 10,
                    "floor": UNACCEPTABLE,
                    "reason": f"Prohibited practice (EU AI Act Art. 5): {label.lower()}.",
                }
                for key, label in [
                    ("manipulation", "Subliminal or manipulative techniques causing harm"),
                    (
                        "exploiting_vulnerabilities",
                        "Exploiting vulnerabilities of age, disability or situation",
                    ),
                    ("social_scoring", "Social scoring"),
                    ("predictive_policing", "Predicting crime from profiling alone"),
                    ("face_scraping", "Untargeted scraping of facial images"),
                    ("emotion_recognition", "Emotion recognition at work or in education"),
                    ("biometric_categorisation", "Biometric categorisation by sensitive traits"),
                    (
                        "realtime_biometric_id",
                        "Real-time remote biometric identification in public",
                    ),
                ]
            ],
        ],
    },
    {
        "key": "generative_ai",
        "text": "Does it generate content with generative AI?",
        "type": SINGLE,
        "choices": [
            {"key": "no", "label": "No"},
            {"key": "internal", "label": "Yes, for internal users", "weight": 1},
            {
                "key": "customer_facing",
                "label": "Yes, shown to customers or the public",
                "weight": 2,
                "floor": LIMITED,
                "reason": "Customer-facing generative AI.",
            },
        ],
    },
    {
        "key": "genai_exposure",
        "text": "Which generative-AI exposures apply?",
        "type": MULTI,
        "choices": [
            {"key": "none", "label": "None / not generative"},
            {
                "key": "untrusted_input",
                "label": "Reads untrusted input (prompt-injection risk)",
                "weight": 2,
            },
            {"key": "output_leakage", "label": "Outputs could leak confidential data", "weight": 2},
            {"key": "tool_use", "label": "Can take actions through tools or agents", "weight": 2},
        ],
    },
    {
        "key": "third_party_model",
        "text": "Does it rely on a third-party model or AI API?",
        "type": YES_NO,
        "choices": [NO, {"key": "yes", "label": "Yes", "weight": 1}],
    },
    {
        "key": "scale",
        "text": "How many people does it affect per year (approximately)?",
        "type": NUMBER,
        "bands": [[1000, 1], [100000, 2], [1000000, 3]],
    },
]

# code, title, description, kind, applies_when, EU AI Act, NIST AI RMF, ISO/IEC 42001,
# required: list of (gate, minimum tier)
DEFAULT_CONTROLS = [
    {
        "code": "GOV-01",
        "title": "Accountable owner assigned",
        "description": "An active person is accountable for the initiative.",
        "kind": "automated",
        "applies_when": "always",
        "eu_ai_act": "Art. 26(2)",
        "nist": "govern",
        "iso": "5.3",
        "required": [("intake", 1), ("pilot", 1), ("production", 1), ("scale", 1)],
    },
    {
        "code": "RISK-01",
        "title": "Risk assessment current",
        "description": "A completed risk assessment less than 12 months old, made since the "
        "purpose, data or models last changed.",
        "kind": "automated",
        "applies_when": "always",
        "eu_ai_act": "Art. 9",
        "nist": "map",
        "iso": "6.1.2",
        "required": [("intake", 1), ("pilot", 1), ("production", 1), ("scale", 1)],
    },
    {
        "code": "MOD-01",
        "title": "Model card complete",
        "description": "Every linked model has a version whose model card covers intended use, "
        "limitations and human oversight.",
        "kind": "automated",
        "applies_when": "has_models",
        "eu_ai_act": "Art. 11, Annex IV",
        "nist": "map",
        "iso": "A.6.2.7",
        "required": [("production", 2), ("scale", 2), ("model_release", 1)],
    },
    {
        "code": "FAIR-01",
        "title": "Bias and fairness evaluation",
        "description": "A documented bias/fairness evaluation across affected groups.",
        "kind": "manual",
        "applies_when": "always",
        "eu_ai_act": "Art. 10(2)(f)",
        "nist": "measure",
        "iso": "A.7.4",
        "required": [("pilot", 3), ("production", 3), ("scale", 3)],
    },
    {
        "code": "HUM-01",
        "title": "Human-oversight plan",
        "description": "Who oversees outputs, how they can intervene or stop the system.",
        "kind": "manual",
        "applies_when": "always",
        "eu_ai_act": "Art. 14",
        "nist": "manage",
        "iso": "A.9.3",
        "required": [("pilot", 3), ("production", 2), ("scale", 2)],
    },
    {
        "code": "PRIV-01",
        "title": "Privacy impact assessment",
        "description": "A DPIA or privacy assessment, required when personal data is used.",
        "kind": "manual",
        "applies_when": "personal_data",
        "eu_ai_act": "Art. 26(9)",
        "nist": "map",
        "iso": "A.7.5",
        "required": [("pilot", 1), ("production", 1), ("scale", 1)],
    },
    {
        "code": "SEC-01",
        "title": "Security review incl. prompt injection",
        "description": "Threat model and tests for prompt injection, data leakage and unsafe "
        "tool use, required for generative AI.",
        "kind": "manual",
        "applies_when": "generative",
        "eu_ai_act": "Art. 15",
        "nist": "measure",
        "iso": "A.6.2.4",
        "required": [("pilot", 2), ("production", 1), ("scale", 1)],
    },
    {
        "code": "MON-01",
        "title": "Monitoring plan",
        "description": "Metrics, thresholds, drift checks and owners for operating the system.",
        "kind": "manual",
        "applies_when": "always",
        "eu_ai_act": "Art. 72",
        "nist": "manage",
        "iso": "9.1",
        "required": [("production", 1), ("scale", 1)],
    },
    {
        "code": "MON-02",
        "title": "Production models not drifting",
        "description": "No production version of a model the initiative uses reports drift "
        "(status from the monitoring job or entered by hand).",
        "kind": "automated",
        "applies_when": "has_models",
        "eu_ai_act": "Art. 72",
        "nist": "manage",
        "iso": "9.1",
        "required": [("production", 1), ("scale", 1), ("model_release", 1)],
    },
    {
        "code": "INC-01",
        "title": "Risk reassessed after a serious incident",
        "description": "After a SEV1/SEV2 incident or a serious incident (EU AI Act Art. 3(49)) "
        "the initiative's risk assessment is completed again (evaluated from the incident "
        "register).",
        "kind": "automated",
        "applies_when": "always",
        "eu_ai_act": "Art. 73",
        "nist": "manage",
        "iso": "10.2",
        "required": [("production", 1), ("scale", 1)],
    },
    {
        "code": "OPS-01",
        "title": "Incident and rollback plan",
        "description": "How incidents are reported and how the system is rolled back or stopped.",
        "kind": "manual",
        "applies_when": "always",
        "eu_ai_act": "Art. 73",
        "nist": "manage",
        "iso": "A.8.4",
        "required": [("production", 2), ("scale", 2)],
    },
    {
        "code": "DATA-01",
        "title": "Data lineage documented",
        "description": "Sources, provenance, licences and processing of training and input data.",
        "kind": "manual",
        "applies_when": "always",
        "eu_ai_act": "Art. 10",
        "nist": "map",
        "iso": "A.7.3",
        "required": [("production", 2), ("scale", 2)],
    },
    {
        "code": "VEN-01",
        "title": "Vendor due diligence",
        "description": "Due diligence of third-party model or API providers (terms, data "
        "processing, security).",
        "kind": "manual",
        "applies_when": "third_party",
        "eu_ai_act": "Art. 25",
        "nist": "govern",
        "iso": "A.10.3",
        "required": [("pilot", 1), ("production", 1), ("scale", 1)],
    },
    {
        "code": "TRN-01",
        "title": "User notice for people-facing AI",
        "description": "People are told they interact with AI or see AI-generated content.",
        "kind": "manual",
        "applies_when": "people_facing",
        "eu_ai_act": "Art. 50",
        "nist": "govern",
        "iso": "A.8.2",
        "required": [("production", 1), ("scale", 1)],
    },
    {
        "code": "TIER-01",
        "title": "Not an unacceptable-risk use",
        "description": "Tier 4 (prohibited practice) initiatives cannot pass any gate.",
        "kind": "automated",
        "applies_when": "always",
        "eu_ai_act": "Art. 5",
        "nist": "govern",
        "iso": "6.1.3",
        "required": [("pilot", 1), ("production", 1), ("scale", 1), ("gpu_request", 1)],
    },
]
