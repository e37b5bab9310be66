"""Pass/fail counts from pytest's ``--junitxml`` file."""
from __future__ import annotations

import xml.etree.ElementTree as ET


def counts(xml_text: str) -> dict:
    """{"tests", "passed", "failed", "errors", "skipped", "failures": [test ids]} of a JUnit XML report."""
    root = ET.fromstring(xml_text)
    suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
    total = {"tests": 0, "failed": 0, "errors": 0, "skipped": 0}
    for suite in suites:
        total["tests"] += int(suite.get("tests", 0))
        total["failed"] += int(suite.get("failures", 0))
        total["errors"] += int(suite.get("errors", 0))
        total["skipped"] += int(suite.get("skipped", 0))
    failures = [f"{case.get('classname')}::{case.get('name')}" for suite in suites for case in suite.iter("testcase")
                if case.find("failure") is not None or case.find("error") is not None]
    passed = total["tests"] - total["failed"] - total["errors"] - total["skipped"]
    return {**total, "passed": passed, "failures": failures}
