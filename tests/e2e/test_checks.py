"""The checks every journey step runs can fail: a page with an accessibility fault, or one wider
than a phone, is reported with what to fix."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e

FAULTY = """<!DOCTYPE html><html lang="en-GB"><head><title>Faulty</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><main><h1>Faulty</h1><img src="data:," id="no-alt">
<p id="wide" style="white-space: nowrap">{}</p></main></body></html>"""


def test_a_faulty_page_is_reported_with_rule_target_and_width(journey):
    journey.page.set_content(FAULTY.format("Far too long to fit on a phone screen without wrapping " * 3))
    journey.check("faulty page")

    assert any("image-alt at `#no-alt`" in problem for problem in journey.problems), journey.problems
    wide = [problem for problem in journey.problems if "px wide on a 390px screen" in problem]
    if journey.viewport.mobile:
        assert len(wide) == 1 and "p#wide" in wide[0], journey.problems
    else:
        assert not wide
    with pytest.raises(AssertionError, match="image-alt"):
        journey.assert_no_problems()


def test_axe_runs_on_a_page_whose_content_security_policy_forbids_inline_scripts(journey):
    """The site's CSP allows no inline script; axe is still injected and reports what it finds."""
    url = journey.base_url + "/e2e-check/strict-csp/"
    journey.page.route(
        url,
        lambda route: route.fulfill(
            status=200,
            headers={"Content-Security-Policy": "default-src 'self'; script-src 'self'"},
            content_type="text/html; charset=utf-8",
            body=FAULTY.format("Short."),
        ),
    )
    journey.goto("/e2e-check/strict-csp/", "strict CSP page")

    assert any("image-alt at `#no-alt`" in problem for problem in journey.problems), journey.problems
