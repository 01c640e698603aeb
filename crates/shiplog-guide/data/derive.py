#!/usr/bin/env python3
"""Derives data/dora-quickcheck.json from the DORA Quick Check files.

Run from this directory:  python3 data/derive.py ../../../shared/payloads/dora-quickcheck
The values are copied as the files hold them (benchmarks NOT flipped: the crate flips them, and
the test `embedded_data_equals_the_source_files` compares every value with the source files).
"""
import json, sys, os

src = sys.argv[1]
def load(name):
    with open(os.path.join(src, name)) as f:
        return json.load(f)

core = load("dora-core-v2-model.core_data.json")
questions = load("capability_prioritization_questions.json")
responses = load("metrics_question_responses.json")
details = load("metrics_details.json")

groups = []
for gslug, g in core["capabilities"].items():
    groups.append({
        "slug": gslug,
        "name": g["name"],
        "capabilities": [{"slug": s, "name": c["name"], "link": c.get("link")} for s, c in g["entities"].items()],
    })
statements = [{
    "article_url": q["article_url"],
    "name": q["capability_name"],
    "prompt": q["response_prompt"],
    "statements": [s["question_text"] for s in q["questions"]],
} for q in questions]

benchmarks = {}
for edition in ("2024", "2025"):
    for kind in ("industry", "organization_size"):
        d = load(f"editions-{edition}-{kind}_metrics.json")
        benchmarks[f"{edition}-{kind}"] = {
            key: {"name": row["name"], **{m: [v["mean"], v["std"]] for m, v in row.items() if m != "name"}}
            for key, row in d.items()
        }

out = {
    "attribution": "Derived from the DORA Quick Check (github.com/dora-team/dora.dev): code Apache-2.0, content CC BY 4.0, (c) DORA. Values as published; benchmark values for changefailure, rework and software_delivery_instability are stored inverted (p/10) as in the source.",
    "metric_names": {k: v["friendly_name"] for k, v in details.items()},
    "buckets": responses,
    "groups": groups,
    "statements": statements,
    "benchmarks": benchmarks,
}
with open(os.path.join(os.path.dirname(__file__), "dora-quickcheck.json"), "w") as f:
    json.dump(out, f, indent=1, ensure_ascii=False)
    f.write("\n")
