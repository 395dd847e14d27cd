"""Parses a Prometheus text exposition (stdin) with prometheus_client's own parser; prints JSON.

Output: a list of families, each {"name", "type", "documentation", "samples": [{"name", "labels",
"value"}]}; values are strings (repr of the float) so that NaN and +Inf survive JSON.
"""
import json
import sys

from prometheus_client.parser import text_string_to_metric_families

families = []
for family in text_string_to_metric_families(sys.stdin.read()):
    families.append(
        {
            "name": family.name,
            "type": family.type,
            "documentation": family.documentation,
            "samples": [
                {"name": s.name, "labels": dict(s.labels), "value": repr(float(s.value))}
                for s in family.samples
            ],
        }
    )
json.dump(families, sys.stdout)
