"""examples/soapui/vlsim-soapui-project.xml, run the way SoapUI's testrunner.sh runs it.

soapui_runner.py loads the project (and checks its structure against SoapUI's project
schema), sets `vlsimUrl` as `-PvlsimUrl=...` would, and runs each TestCase over one HTTP
session with every assertion the file declares. Copies of the file with a broken expected
value, an unsupported step or assertion, or a structure SoapUI could not load must fail.
"""
from __future__ import annotations

import re
import subprocess
import sys

import pytest
from lxml import etree

from soapui_runner import CON, Project, ProjectError, Runner, check_structure, wildcard_match, xpath_value_string
from vlsi_helpers import REPO_ROOT, http_session

PROJECT = REPO_ROOT / "examples" / "soapui" / "vlsim-soapui-project.xml"
RUNNER = REPO_ROOT / "tests" / "interop" / "soapui_runner.py"
SUITE = "Horizon VLSI JwtToken"
ADMIN_CASE = "Administrator: Login, Generate, GetPublicKeys, LoginByToken, Logout"
AUDITOR_CASE = "Auditor: Generate is InsufficientPermission"
FAULTS_CASE = "Typed faults of JwtToken_Generate"
QUERY_CASE = "QueryService: VLSI_JWT_TOKEN_GENERATED events"
CASES = [ADMIN_CASE, AUDITOR_CASE, FAULTS_CASE, QUERY_CASE]


def run_case(url: str, case: str, path=PROJECT):
    return Runner(Project(path), {"vlsimUrl": url}).run_testcase(SUITE, case)


def assert_passed(result):
    if not result.ok:
        pytest.fail(result.report(), pytrace=False)


def variant(tmp_path, old: str, new: str, count: int = 1):
    """A copy of the project with `old` replaced by `new` (which must occur `count` times)."""
    text = PROJECT.read_text(encoding="utf-8")
    assert text.count(old) == count, f"{old!r} occurs {text.count(old)} times in the project, expected {count}"
    path = tmp_path / "variant-soapui-project.xml"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path


def con(name):
    return f"{{{CON}}}{name}"


# ---------------------------------------------------------------------------
# the file itself (no server)


def test_project_loads_and_has_the_expected_shape():
    project = Project(PROJECT)  # raises ProjectError listing what SoapUI could not load
    root = project.root
    assert root.get("soapui-version", "").startswith("5.")
    assert project.properties(root)["vlsimUrl"] == "http://127.0.0.1:8080"
    (iface,) = root.findall(con("interface"))
    assert iface.get("definition") == "${#Project#vlsimUrl}/view-vlsi/sdk?wsdl"
    assert iface.get("bindingName") == "{urn:vdi}VdiBinding"
    assert [e.text for e in iface.iter(con("endpoint"))] == ["${#Project#vlsimUrl}/view-vlsi/sdk"]
    assert list(project.testcases()) == [(SUITE, c) for c in CASES]
    for tc in root.iter(con("testCase")):
        assert tc.get("keepSession") == "true", f"TestCase {tc.get('name')}: Maintain HTTP session is off"
    # every request goes to the endpoint held in the project property
    for ep in root.iter(con("endpoint")):
        assert ep.text == "${#Project#vlsimUrl}/view-vlsi/sdk"


def test_project_uses_the_assertion_kinds_soapui_users_write():
    root = Project(PROJECT).root
    kinds = {a.get("type") for a in root.iter(con("assertion"))}
    assert kinds == {
        "SOAP Response",
        "SOAP Fault Assertion",  # shown as "Not SOAP Fault"
        "Not SOAP Fault Assertion",  # shown as "SOAP Fault"
        "XPath Match",
        "Simple Contains",  # shown as "Contains"
        "Valid HTTP Status Codes",
        "Schema Compliance",
    }
    paths = [a.findtext("con:configuration/path", namespaces={"con": CON}) for a in root.iter(con("assertion"))
             if a.get("type") == "XPath Match"]
    assert all(p.startswith("declare namespace ") for p in paths)
    joined = "\n".join(paths)
    for needle in ("/@xsi:type", "vdi:token", "vdi:expiryTime"):
        assert needle in joined, needle
    steps = [s.get("type") for s in root.iter(con("testStep"))]
    assert set(steps) == {"request", "transfer"} and steps.count("transfer") == 1


BROKEN_STRUCTURES = {
    "root element renamed": ("<con:soapui-project ", "<con:soapui-workspace ", "</con:soapui-project>", "</con:soapui-workspace>"),
    "request step with a transfer config": (
        '<con:testStep type="request" name="GetPublicKeys"',
        '<con:testStep type="transfer" name="GetPublicKeys"', None, None),
    "testCase properties before its steps": (
        "<con:settings/>\n      <con:testStep", "<con:settings/>\n      <con:properties/>\n      <con:testStep", None, None),
    "operation the interface lacks": (
        "<con:operation>JwtToken_GetPublicKeys</con:operation>", "<con:operation>JwtToken_GetKeys</con:operation>", None, None),
    "interface without xsi:type": ('<con:interface xsi:type="con:WsdlInterface" ', "<con:interface ", None, None),
    "keepSession not a boolean": ('keepSession="true"', 'keepSession="yes"', None, None),
    "transfer into a step that does not exist": (
        "<con:targetStep>LoginByToken</con:targetStep>", "<con:targetStep>Login By Token</con:targetStep>", None, None),
}


@pytest.mark.parametrize("name", sorted(BROKEN_STRUCTURES))
def test_structure_soapui_could_not_load_is_rejected(name):
    old, new, old2, new2 = BROKEN_STRUCTURES[name]
    text = PROJECT.read_text(encoding="utf-8")
    assert old in text, old
    text = text.replace(old, new, 1)
    if old2:
        text = text.replace(old2, new2, 1)
    problems = check_structure(etree.fromstring(text.encode("utf-8")))
    assert problems, f"{name}: check_structure found nothing wrong"


def test_structure_problem_is_a_load_error(tmp_path):
    path = variant(tmp_path, "<con:encoding>UTF-8</con:encoding>\n            <con:endpoint>", "<con:endpoint>", count=19)
    with pytest.raises(ProjectError, match="missing <con:encoding>"):
        Project(path)


@pytest.mark.parametrize(
    "expected,actual,match",
    [("*-*-*T*:*:*Z", "2026-12-02T00:40:01Z", True), ("*-*-*T*:*:*Z", "2026-12-02", False),
     ("*valid for 15 minutes*", "User X generated a JWT token valid for 15 minutes", True),
     ("abc", "abc", True), ("a*c", "abXc", True), ("a*c", "abX", False), ("*", "", True), ("a.c", "abc", False)],
)
def test_wildcards_as_soapui_matches_them(expected, actual, match):
    assert wildcard_match(expected, actual) is match


@pytest.mark.parametrize("value,text", [(True, "true"), (False, "false"), (3.0, "3"), (0.5, "0.5"), ("x", "x")])
def test_xpath_values_print_as_saxon_prints_them(value, text):
    assert xpath_value_string(value) == text


# ---------------------------------------------------------------------------
# against vlsim


@pytest.mark.parametrize("case", CASES)
def test_soapui_testcase_passes(vlsim_url, case):
    result = run_case(vlsim_url, case)
    assert_passed(result)
    names = [s.name for s in result.steps]
    tc = next(t for t in Project(PROJECT).root.iter(con("testCase")) if t.get("name") == case)
    assert names == [s.get("name") for s in tc.findall(con("testStep"))], "not every step ran"


def test_broken_expected_value_fails_naming_the_step(vlsim_url, tmp_path):
    broken = variant(tmp_path, "<content>InvalidType</content>", "<content>InvalidArgument</content>")
    result = run_case(vlsim_url, FAULTS_CASE, broken)
    assert not result.ok
    assert len(result.failures) == 1, result.report()
    failure = result.failures[0]
    assert failure.startswith("Generate on an AuthenticationManager reference: [fault detail is xsi:type InvalidType]"), failure
    assert "expecting [InvalidArgument], actual was [InvalidType]" in failure, failure
    with pytest.raises(pytest.fail.Exception, match="FAILED Generate on an AuthenticationManager reference"):
        assert_passed(result)
    # the steps after the failed one did not run (failOnError)
    assert [s.name for s in result.steps][-1] == "Generate on an AuthenticationManager reference"


def test_broken_copy_fails_the_command_line_runner(vlsim_url, tmp_path):
    broken = variant(tmp_path, "<content>cs1.vlsim.test</content>", "<content>cs2.vlsim.test</content>")
    r = subprocess.run([sys.executable, str(RUNNER), str(broken), f"-PvlsimUrl={vlsim_url}", "-c", ADMIN_CASE],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "FAILED GetPublicKeys" in r.stdout and "expecting [cs2.vlsim.test], actual was [cs1.vlsim.test]" in r.stdout
    assert r.stdout.rstrip().endswith("0 passed, 1 failed"), r.stdout


def test_without_maintain_http_session_the_login_is_lost(vlsim_url, tmp_path):
    copy = variant(tmp_path, 'keepSession="true"', 'keepSession="false"', count=4)
    result = run_case(vlsim_url, AUDITOR_CASE, copy)
    assert [s.name for s in result.steps if not s.ok] == ["Generate as auditor"]
    # a fresh HTTP session per request: the second request has no session cookie
    assert 'xsi:type="SecurityError"' in result.steps[-1].response, result.steps[-1].response


def test_property_transfer_without_a_source_fails_the_transfer_step(vlsim_url, tmp_path):
    copy = variant(tmp_path, "//vdi:returnval/vdi:token</con:sourcePath>", "//vdi:returnval/vdi:jwt</con:sourcePath>")
    result = run_case(vlsim_url, ADMIN_CASE, copy)
    assert [s.name for s in result.steps if not s.ok] == ["Transfer the token"], result.report()
    assert "Missing match for Source XPath" in result.failures[0], result.failures


def test_schema_compliance_checks_against_the_interface_wsdl(vlsim_url, tmp_path):
    wsdl = http_session().get(f"{vlsim_url}/view-vlsi/sdk?wsdl", timeout=10).text
    old = '<xsd:element name="expiryTime" type="xsd:dateTime" minOccurs="0"/>'
    assert wsdl.count(old) == 1
    stricter = tmp_path / "stricter.wsdl"
    stricter.write_text(wsdl.replace(old, '<xsd:element name="expiryTime" type="xsd:date" minOccurs="0"/>'), encoding="utf-8")
    copy = variant(tmp_path, 'definition="${#Project#vlsimUrl}/view-vlsi/sdk?wsdl"', f'definition="{stricter}"')
    result = run_case(vlsim_url, ADMIN_CASE, copy)
    assert [s.name for s in result.steps if not s.ok] == ["Generate (default validity)"]
    (failure,) = result.failures
    assert "[Schema Compliance]" in failure and "expiryTime" in failure, failure


UNSUPPORTED = {
    "a Groovy assertion": (
        '<con:assertion type="SOAP Response" id=',
        '<con:assertion type="GroovyScriptAssertion" name="script"><con:configuration><scriptText>assert true</scriptText>'
        '</con:configuration></con:assertion><con:assertion type="SOAP Response" id=',
        "assertion type 'GroovyScriptAssertion' is not supported",
    ),
    "a Groovy test step": (
        '<con:testStep type="request" name="Login auditor"',
        '<con:testStep type="groovy" name="log"><con:config><script>log.info "hi"</script></con:config></con:testStep>'
        '<con:testStep type="request" name="Login auditor"',
        "test step type 'groovy' is not supported",
    ),
    "a script expansion": ("<urn:username>auditor</urn:username>", "<urn:username>${='auditor'}</urn:username>",
                           "script expansion ${='auditor'} is not supported"),
    "an undefined property": ("<urn:username>auditor</urn:username>", "<urn:username>${#TestCase#user}</urn:username>",
                              "property ${#TestCase#user} is not defined"),
}


@pytest.mark.parametrize("name", sorted(UNSUPPORTED))
def test_unsupported_feature_is_a_failure_not_a_skip(vlsim_url, tmp_path, name):
    old, new, message = UNSUPPORTED[name]
    text = PROJECT.read_text(encoding="utf-8")
    start = text.index(f'<con:testCase name="{AUDITOR_CASE}"')
    i = text.index(old, start)  # the first occurrence inside the auditor's TestCase
    path = tmp_path / "unsupported-soapui-project.xml"
    path.write_text(text[:i] + new + text[i + len(old):], encoding="utf-8")
    result = run_case(vlsim_url, AUDITOR_CASE, path)
    assert not result.ok
    assert any(message in f for f in result.failures), result.report()
    assert re.search(r"FAILED (log|Login auditor)", result.report())
