"""A small runner for SoapUI 5.x project files, so CI can run examples/soapui/ without SoapUI.

It does what SoapUI's TestCase runner (`testrunner.sh`) does for the features vlsim's example
project uses, read from SoapUI's source, and refuses everything else:

- project properties, overridable like `testrunner.sh -PvlsimUrl=...`; property expansion
  `${#Project#x}`, `${#TestSuite#x}`, `${#TestCase#x}`, `${#Global#x}` in endpoints, requests,
  interface definitions, XPath expressions and expected values (an unknown property is an
  error here; SoapUI would expand it to an empty string);
- TestCases run their enabled steps in order and stop at the first failed step when
  `failOnError` is on (SoapUI's default); "Maintain HTTP session" (`keepSession`) gives the
  TestCase one cookie-keeping HTTP session, otherwise every request gets a fresh one;
- `request` steps (SOAP 1.1 over HTTP POST, `SOAPAction` from the interface's operation);
- `transfer` steps: XPath from a step's Response/Request or a property, into a step's
  Request (XPath) or a property, with SoapUI's text-content semantics;
- assertions, by the `type` SoapUI writes (note SoapUI's swapped ids: "Not SOAP Fault" is
  saved as `SOAP Fault Assertion` and "SOAP Fault" as `Not SOAP Fault Assertion`):
  SOAP Response, Not SOAP Fault, SOAP Fault, XPath Match (lxml's XPath 1.0 engine, with the
  `declare namespace p='uri';` prologue; wildcards `*`), Contains (`Simple Contains`),
  Valid HTTP Status Codes, Schema Compliance (the SOAP 1.1 envelope, then the Body element
  or the fault detail against the schema of the WSDL the interface names, as SoapUI's
  WsdlValidator does).

Anything else (Groovy, other step or assertion types, XQuery, `${=...}` scripts, XML-valued
expected content, ...) fails the step with "not supported by this runner". `check_structure`
checks a project file against the element order and types of SoapUI's project schema for
the parts used here, so an edit that SoapUI could not open fails too.

    python tests/interop/soapui_runner.py examples/soapui/vlsim-soapui-project.xml -PvlsimUrl=http://127.0.0.1:8080
"""
from __future__ import annotations

import dataclasses
import pathlib
import re
import sys

import requests
import xmlschema
from lxml import etree

CON = "http://eviware.com/soapui/config"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
WSDL = "http://schemas.xmlsoap.org/wsdl/"
XSD = "http://www.w3.org/2001/XMLSchema"

HTTP_TIMEOUT = 30
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True)


class ProjectError(Exception):
    """The file is not a SoapUI project this runner (or SoapUI) can load."""


class StepError(Exception):
    """A step could not be run: unsupported feature, missing property, transport error."""


def c(name: str) -> str:
    return f"{{{CON}}}{name}"


def _children(el, name=None):
    return [x for x in el if isinstance(x.tag, str) and (name is None or x.tag == c(name))]


def _child(el, name):
    found = _children(el, name)
    return found[0] if found else None


def _text(el, name, default=None):
    x = _child(el, name)
    return default if x is None else (x.text or "")


def _bool(value, default):
    if value is None:
        return default
    return value.strip() == "true"


# ---------------------------------------------------------------------------
# structure: the parts of SoapUI's project schema (soapui.xsd, namespace CON) used here.
# Each type is a sequence of (child, min, max); None = unbounded. ModelItem's own
# `description?, settings?` come first in every type derived from it.

_MODEL_ITEM = [("description", 0, 1), ("settings", 0, 1)]
_SEQUENCES = {
    "Project": _MODEL_ITEM + [
        ("interface", 0, None), ("testSuite", 0, None), ("mockService", 0, None),
        ("restMockService", 0, None), ("endpointStrategy", 0, 1), ("requirements", 0, 1),
        ("properties", 0, 1), ("afterLoadScript", 0, 1), ("beforeSaveScript", 0, 1),
        ("encryptedContent", 0, 1), ("encryptedContentAlgorithm", 0, 1), ("wssContainer", 0, 1),
        ("databaseConnectionContainer", 0, 1), ("oAuth2ProfileContainer", 0, 1),
        ("oAuth1ProfileContainer", 0, 1), ("reporting", 0, 1), ("reportScript", 0, 1),
        ("beforeRunScript", 0, 1), ("afterRunScript", 0, 1), ("eventHandlers", 0, None),
        ("sensitiveInformation", 0, 1), ("environment", 0, None),
    ],
    "WsdlInterface": _MODEL_ITEM + [("definitionCache", 0, 1), ("endpoints", 1, 1), ("operation", 0, None)],
    "Endpoints": [("endpoint", 0, None)],
    "Operation": _MODEL_ITEM + [("call", 0, None), ("requestParts", 0, 1), ("responseParts", 0, 1)],
    "TestSuite": _MODEL_ITEM + [
        ("runType", 0, 1), ("testCase", 0, None), ("properties", 0, 1), ("setupScript", 0, 1),
        ("tearDownScript", 0, 1), ("reportScript", 0, 1), ("reportTemplates", 0, None),
        ("reportParameters", 0, 1),
    ],
    "TestCase": _MODEL_ITEM + [
        ("testStep", 0, None), ("loadTest", 0, None), ("setupScript", 0, 1), ("tearDownScript", 0, 1),
        ("properties", 0, 1), ("requirements", 0, 1), ("reportTemplates", 0, None), ("reportScript", 0, 1),
        ("reportParameters", 0, 1), ("securityTest", 0, None), ("breakPoints", 0, None),
    ],
    "TestStep": _MODEL_ITEM + [("config", 1, 1), ("reportTemplates", 0, None)],
    "RequestStep": [("interface", 1, 1), ("operation", 1, 1), ("request", 1, 1)],
    "WsdlRequest": _MODEL_ITEM + [
        ("encoding", 1, 1), ("endpoint", 1, 1), ("request", 1, 1), ("originalUri", 0, 1),
        ("assertion", 0, None), ("credentials", 1, 1), ("attachment", 0, None), ("jmsConfig", 0, 1),
        ("jmsPropertyConfig", 0, 1), ("wsaConfig", 0, 1), ("wsrmConfig", 0, 1),
    ],
    "TestAssertion": _MODEL_ITEM + [("configuration", 0, 1)],
    "Credentials": [
        ("username", 0, 1), ("password", 0, 1), ("domain", 0, 1), ("selectedAuthProfile", 0, 1),
        ("addedBasicAuthenticationTypes", 0, None), ("preemptive", 0, 1), ("authType", 1, 1),
    ],
    "PropertyTransfersStep": [("transfers", 0, None)],
    "PropertyTransfer": [
        ("name", 1, 1), ("sourceType", 0, 1), ("sourceStep", 0, 1), ("sourcePath", 0, 1),
        ("targetType", 0, 1), ("targetStep", 0, 1), ("targetPath", 0, 1), ("type", 0, 1),
        ("targetTransferType", 0, 1), ("upgraded", 0, 1),
    ],
    "Properties": [("property", 0, None)],
    "Property": [("name", 1, 1), ("value", 0, 1), ("description", 0, 1), ("defaultValue", 0, 1)],
}
# (type, child) -> type of that child, where this checker descends
_CHILD_TYPES = {
    ("Project", "testSuite"): "TestSuite",
    ("Project", "properties"): "Properties",
    ("WsdlInterface", "endpoints"): "Endpoints",
    ("WsdlInterface", "operation"): "Operation",
    ("Operation", "call"): "WsdlRequest",
    ("TestSuite", "testCase"): "TestCase",
    ("TestSuite", "properties"): "Properties",
    ("TestCase", "testStep"): "TestStep",
    ("TestCase", "properties"): "Properties",
    ("RequestStep", "request"): "WsdlRequest",
    ("WsdlRequest", "assertion"): "TestAssertion",
    ("WsdlRequest", "credentials"): "Credentials",
    ("PropertyTransfersStep", "transfers"): "PropertyTransfer",
    ("Properties", "property"): "Property",
}
# SoapUI's test step type -> the xsi:type of its <con:config>
STEP_CONFIG_TYPES = {
    "request": "RequestStep",
    "transfer": "PropertyTransfersStep",
    "properties": "PropertiesStep",
    "restrequest": "RestRequestStep",
    "mockresponse": "MockResponseStep",
}
_BOOL_ATTRS = {
    "TestCase": ("keepSession", "failOnError", "failTestCaseOnErrors", "disabled", "searchProperties", "discardOkResults"),
    "TestSuite": ("disabled", "abortOnError", "failOnErrors"),
    "TestStep": ("disabled",),
    "TestAssertion": ("disabled",),
    "PropertyTransfer": ("failOnError", "setNullOnMissingSource", "transferTextContent", "ignoreEmpty",
                         "transferToAll", "useXQuery", "disabled", "transferChildNodes", "entitize"),
    "Project": ("abortOnError",),
}


def _xsi_type(el):
    raw = el.get(f"{{{XSI}}}type")
    if raw is None:
        return None
    prefix, _, local = raw.rpartition(":")
    return (el.nsmap.get(prefix or None), local)


def _check_element(el, type_name, where, problems):
    seq = _SEQUENCES[type_name]
    kids = _children(el)
    for x in el:
        if isinstance(x.tag, str) and x.tag != c(etree.QName(x).localname):
            problems.append(f"{where}: element {x.tag} is not in the SoapUI config namespace")
    for attr in _BOOL_ATTRS.get(type_name, ()):
        v = el.get(attr)
        if v is not None and v not in ("true", "false"):
            problems.append(f"{where}: @{attr}={v!r} is not a boolean")
    i = 0
    for name, lo, hi in seq:
        n = 0
        while i < len(kids) and etree.QName(kids[i]).localname == name:
            child_type = _CHILD_TYPES.get((type_name, name))
            label = kids[i].get("name") or _text(kids[i], "name") or ""
            child_where = f"{where}/{name}" + (f"[{label}]" if label else "")
            if child_type:
                _check_element(kids[i], child_type, child_where, problems)
            elif type_name == "TestStep" and name == "config":
                _check_step_config(el, kids[i], child_where, problems)
            n += 1
            i += 1
        if n < lo:
            problems.append(f"{where}: missing <con:{name}>")
        if hi is not None and n > hi:
            problems.append(f"{where}: <con:{name}> {n} times, at most {hi} allowed")
    if i < len(kids):
        allowed = [s[0] for s in seq]
        bad = etree.QName(kids[i]).localname
        why = "out of order" if bad in allowed else "not allowed here"
        problems.append(f"{where}: <con:{bad}> {why} (order: {', '.join(allowed)})")


def _check_step_config(step, config, where, problems):
    step_type = step.get("type")
    want = STEP_CONFIG_TYPES.get(step_type)
    got = _xsi_type(config)
    if want is None:
        return  # a type this checker does not know; the runner refuses to run it
    if got != (CON, want):
        problems.append(f"{where}: a '{step_type}' step needs xsi:type con:{want}, has {config.get(f'{{{XSI}}}type')!r}")
        return
    if want in _SEQUENCES:
        _check_element(config, want, where, problems)


def check_structure(root) -> list[str]:
    """Problems that would keep SoapUI from loading or running this project; [] if none."""
    problems: list[str] = []
    if root.tag != c("soapui-project"):
        return [f"root element is {root.tag}, SoapUI expects {{{CON}}}soapui-project"]
    for attr in ("name", "soapui-version"):
        if not root.get(attr):
            problems.append(f"project: missing @{attr}")
    _check_element(root, "Project", "project", problems)

    ifaces = {}
    for iface in _children(root, "interface"):
        name = iface.get("name")
        where = f"project/interface[{name}]"
        if _xsi_type(iface) != (CON, "WsdlInterface"):
            problems.append(f"{where}: xsi:type must be con:WsdlInterface")
            continue
        _check_element(iface, "WsdlInterface", where, problems)
        for attr in ("name", "definition", "bindingName", "soapVersion"):
            if not iface.get(attr):
                problems.append(f"{where}: missing @{attr}")
        if iface.get("type", "wsdl") != "wsdl":
            problems.append(f"{where}: @type must be 'wsdl'")
        if iface.get("soapVersion") not in ("1_1", "1_2"):
            problems.append(f"{where}: @soapVersion must be 1_1 or 1_2")
        if not re.fullmatch(r"\{[^}]+\}\S+", iface.get("bindingName") or ""):
            problems.append(f"{where}: @bindingName must be {{namespace}}LocalName")
        ops = {}
        for op in _children(iface, "operation"):
            if not op.get("name") or not op.get("bindingOperationName"):
                problems.append(f"{where}: an operation lacks @name or @bindingOperationName")
            ops[op.get("name")] = op
        ifaces[name] = ops

    ids = {}
    for el in root.iter():
        if isinstance(el.tag, str) and el.tag.startswith(f"{{{CON}}}") and el.tag != c("setting") and el.get("id"):
            if el.get("id") in ids:
                problems.append(f"id {el.get('id')} used twice")
            ids[el.get("id")] = el

    for suite in _children(root, "testSuite"):
        case_names = [tc.get("name") for tc in _children(suite, "testCase")]
        if len(set(case_names)) != len(case_names):
            problems.append(f"testSuite[{suite.get('name')}]: TestCase names are not unique")
        for tc in _children(suite, "testCase"):
            where = f"testSuite[{suite.get('name')}]/testCase[{tc.get('name')}]"
            steps = _children(tc, "testStep")
            names = [s.get("name") for s in steps]
            if len(set(names)) != len(names) or not all(names):
                problems.append(f"{where}: test step names must be present and unique")
            for s in steps:
                cfg = _child(s, "config")
                swhere = f"{where}/testStep[{s.get('name')}]"
                if not s.get("type"):
                    problems.append(f"{swhere}: missing @type")
                if cfg is None:
                    continue
                if s.get("type") == "request" and _xsi_type(cfg) == (CON, "RequestStep"):
                    iname, oname = _text(cfg, "interface"), _text(cfg, "operation")
                    if iname not in ifaces:
                        problems.append(f"{swhere}: interface {iname!r} is not in the project")
                    elif oname not in ifaces[iname]:
                        problems.append(f"{swhere}: operation {oname!r} is not in interface {iname!r}")
                    req = _child(cfg, "request")
                    for a in _children(req, "assertion") if req is not None else []:
                        if not a.get("type"):
                            problems.append(f"{swhere}: an assertion lacks @type")
                if s.get("type") == "transfer" and _xsi_type(cfg) == (CON, "PropertyTransfersStep"):
                    for t in _children(cfg, "transfers"):
                        for end in ("sourceStep", "targetStep"):
                            ref = _text(t, end)
                            if ref and not ref.startswith("#") and ref not in names:
                                problems.append(f"{swhere}: transfer {_text(t, 'name')!r} {end} {ref!r} is no step of this TestCase")
    return problems


# ---------------------------------------------------------------------------
# XPath the way SoapUI writes it: "declare namespace p='uri';" lines, then the expression


_DECLARE = re.compile(r"\s*declare\s+namespace\s+([A-Za-z_][\w.-]*)\s*=\s*(['\"])(.*?)\2\s*;", re.S)


def split_xpath(path: str):
    ns = {}
    pos = 0
    while True:
        m = _DECLARE.match(path, pos)
        if not m:
            break
        ns[m.group(1)] = m.group(3)
        pos = m.end()
    expr = path[pos:].strip()
    if expr.startswith("declare ") or "$this" in expr:
        raise StepError(f"XPath prologue or variable not supported by this runner: {expr[:60]!r}")
    return ns, expr


def xpath(doc, path: str):
    ns, expr = split_xpath(path)
    try:
        return doc.xpath(expr, namespaces=ns)
    except etree.XPathError as e:
        raise StepError(f"XPath {expr!r} does not evaluate (lxml, XPath 1.0): {e}") from e


def xpath_value_string(value) -> str:
    """An atomic XPath result as SoapUI (Saxon) prints it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


def wildcard_match(expected: str, actual: str) -> bool:
    """SoapUI's Tools.isSimilar with '*': literal pieces in order, '*' anything in between."""
    if expected == "*":
        return True
    pieces = [re.escape(p) for p in expected.split("*") if p]
    pattern = ("(?s)" + (".*" if expected.startswith("*") else "") + ".*".join(pieces)
               + (".*" if expected.endswith("*") else ""))
    return re.fullmatch(pattern, actual or "") is not None


# ---------------------------------------------------------------------------
# running


@dataclasses.dataclass
class StepResult:
    name: str
    ok: bool
    messages: list[str]
    status: int | None = None
    response: str | None = None


@dataclasses.dataclass
class CaseResult:
    suite: str
    case: str
    steps: list[StepResult]

    @property
    def ok(self) -> bool:
        return all(s.ok for s in self.steps)

    @property
    def failures(self) -> list[str]:
        return [f"{s.name}: {m}" for s in self.steps if not s.ok for m in s.messages]

    def report(self) -> str:
        lines = [f"TestCase [{self.suite}/{self.case}]"]
        for s in self.steps:
            lines.append(f"  {'OK    ' if s.ok else 'FAILED'} {s.name}" + (f" (HTTP {s.status})" if s.status else ""))
            lines += [f"           {m}" for m in s.messages]
        return "\n".join(lines)


class _Exchange:
    def __init__(self, status, content: bytes, headers):
        self.status = status
        self.content = content
        self.text = content.decode("utf-8", "replace")
        self.headers = headers
        try:
            self.doc = etree.fromstring(content, _PARSER)
        except etree.XMLSyntaxError:
            self.doc = None


class Project:
    def __init__(self, path):
        self.path = pathlib.Path(path)
        try:
            self.root = etree.parse(str(self.path), _PARSER).getroot()
        except etree.XMLSyntaxError as e:
            raise ProjectError(f"{self.path} is not well-formed XML: {e}") from e
        problems = check_structure(self.root)
        if problems:
            raise ProjectError(f"{self.path}: SoapUI could not load it:\n  " + "\n  ".join(problems))

    def properties(self, holder) -> dict:
        props = _child(holder, "properties")
        if props is None:
            return {}
        return {_text(p, "name"): _text(p, "value", "") for p in _children(props, "property")}

    def testcases(self):
        for suite in _children(self.root, "testSuite"):
            for tc in _children(suite, "testCase"):
                yield suite.get("name"), tc.get("name")

    def interface(self, name):
        for iface in _children(self.root, "interface"):
            if iface.get("name") == name:
                return iface
        raise StepError(f"no interface {name!r}")


class Runner:
    """Runs TestCases of a Project; `overrides` are project properties, as `-P` sets them."""

    def __init__(self, project: Project, overrides: dict | None = None, global_props: dict | None = None):
        self.project = project
        self.project_props = {**project.properties(project.root), **(overrides or {})}
        self.global_props = dict(global_props or {})
        self._wsdl_cache: dict[str, tuple] = {}

    # -- property expansion ---------------------------------------------------

    def expand(self, text, ctx, depth=0):
        if text is None:
            return None
        if depth > 8:
            raise StepError(f"property expansion nests too deep in {text[:80]!r}")

        def one(m):
            ref = m.group(1)
            if ref.startswith("="):
                raise StepError(f"script expansion ${{{ref}}} is not supported by this runner")
            scopes = {
                "#Project#": self.project_props,
                "#TestSuite#": ctx["suite_props"],
                "#TestCase#": ctx["case_props"],
                "#Global#": self.global_props,
            }
            for prefix, props in scopes.items():
                if ref.startswith(prefix):
                    key = ref[len(prefix):]
                    if key not in props:
                        raise StepError(f"property ${{{ref}}} is not defined")
                    return self.expand(props[key], ctx, depth + 1)
            raise StepError(f"property expansion ${{{ref}}} is not supported by this runner")

        return re.sub(r"\$\{([^}]*)\}", one, text)

    # -- TestCase -------------------------------------------------------------

    def run_testcase(self, suite_name: str, case_name: str) -> CaseResult:
        suite = next((s for s in _children(self.project.root, "testSuite") if s.get("name") == suite_name), None)
        if suite is None:
            raise ProjectError(f"no TestSuite {suite_name!r}")
        tc = next((t for t in _children(suite, "testCase") if t.get("name") == case_name), None)
        if tc is None:
            raise ProjectError(f"no TestCase {case_name!r} in {suite_name!r}")
        # a private copy: transfers write into requests, as they do in SoapUI's model
        tc = etree.fromstring(etree.tostring(tc), _PARSER)
        ctx = {
            "suite_props": self.project.properties(suite),
            "case_props": self.project.properties(tc),
            "steps": {s.get("name"): s for s in _children(tc, "testStep")},
            "props": {},  # step name -> {"Request": ..., "Response": ...}
            "session": _session() if _bool(tc.get("keepSession"), False) else None,
        }
        fail_on_error = _bool(tc.get("failOnError"), True)
        results = []
        for step in _children(tc, "testStep"):
            if _bool(step.get("disabled"), False):
                continue
            res = self._run_step(step, ctx)
            results.append(res)
            if not res.ok and fail_on_error:
                break
        if ctx["session"] is not None:
            ctx["session"].close()
        return CaseResult(suite_name, case_name, results)

    def _run_step(self, step, ctx) -> StepResult:
        name = step.get("name")
        kind = step.get("type")
        try:
            if kind == "request":
                return self._run_request(step, ctx)
            if kind == "transfer":
                return self._run_transfer(step, ctx)
            raise StepError(f"test step type {kind!r} is not supported by this runner")
        except StepError as e:
            return StepResult(name, False, [str(e)])

    # -- request steps ----------------------------------------------------------

    def _run_request(self, step, ctx) -> StepResult:
        name = step.get("name")
        cfg = _child(step, "config")
        req = _child(cfg, "request")
        iface = self.project.interface(_text(cfg, "interface"))
        if iface.get("soapVersion") != "1_1":
            raise StepError("only SOAP 1.1 interfaces are supported by this runner")
        op_name = _text(cfg, "operation")
        op = next(o for o in _children(iface, "operation") if o.get("name") == op_name)
        if _child(req, "attachment") is not None:
            raise StepError("attachments are not supported by this runner")
        for attr in ("useWsAddressing", "useWsReliableMessaging"):
            if _bool(req.get(attr), False):
                raise StepError(f"{attr}=true is not supported by this runner")
        if req.get("outgoingWss") or req.get("incomingWss"):
            raise StepError("WS-Security configurations are not supported by this runner")
        auth = _text(_child(req, "credentials"), "authType")
        if auth not in ("No Authorization", "Global HTTP Settings"):
            raise StepError(f"authType {auth!r} is not supported by this runner")
        settings = _child(req, "settings")
        for s in _children(settings, "setting") if settings is not None else []:
            if s.get("id", "").endswith("@request-headers") and "<entry" in (s.text or ""):
                raise StepError("custom request headers are not supported by this runner")

        props = ctx["props"].setdefault(name, {})
        raw_request = props.get("Request", _text(req, "request"))
        props["Request"] = raw_request
        endpoint = self.expand(_text(req, "endpoint"), ctx)
        body = self.expand(raw_request, ctx)
        encoding = _text(req, "encoding") or "UTF-8"
        headers = {
            "Content-Type": f"text/xml;charset={encoding}",
            "SOAPAction": f'"{op.get("action") or ""}"',
        }
        session = ctx["session"] or _session()
        try:
            r = session.post(endpoint, data=body.encode(encoding), headers=headers, timeout=HTTP_TIMEOUT)
        except requests.RequestException as e:
            raise StepError(f"POST {endpoint} failed: {e}") from e
        finally:
            if ctx["session"] is None:
                session.close()
        ex = _Exchange(r.status_code, r.content, r.headers)
        props["Response"] = ex.text

        messages = []
        for a in _children(req, "assertion"):
            if _bool(a.get("disabled"), False):
                continue
            label = a.get("name") or a.get("type")
            try:
                self._assert(a, ex, iface, op_name, ctx)
            except StepError as e:
                messages.append(f"[{label}] {e}")
            except AssertionError as e:
                messages.append(f"[{label}] {e}")
        return StepResult(name, not messages, messages, ex.status, ex.text)

    # -- property transfer steps ------------------------------------------------

    def _run_transfer(self, step, ctx) -> StepResult:
        messages, failed = [], False
        for t in _children(_child(step, "config"), "transfers"):
            if _bool(t.get("disabled"), False):
                continue
            try:
                self._transfer(t, ctx)
            except StepError as e:
                messages.append(f"[{_text(t, 'name')}] {e}")
                if _bool(t.get("failOnError"), False):
                    failed = True
                    break
        return StepResult(step.get("name"), not failed, messages)

    def _holder(self, name, ctx):
        scopes = {"#Project#": self.project_props, "#TestSuite#": ctx["suite_props"],
                  "#TestCase#": ctx["case_props"], "#Global#": self.global_props}
        if name in scopes:
            return scopes[name], False
        step = ctx["steps"].get(name)
        if step is None:
            raise StepError(f"no test step {name!r}")
        if step.get("type") != "request":
            raise StepError(f"properties of a {step.get('type')!r} step are not supported by this runner")
        props = ctx["props"].setdefault(name, {})
        props.setdefault("Request", _text(_child(_child(step, "config"), "request"), "request"))
        return props, True

    def _transfer(self, t, ctx):
        for flag in ("useXQuery", "transferChildNodes", "entitize"):
            if _bool(t.get(flag), False):
                raise StepError(f"{flag}=true is not supported by this runner")
        for kind in ("type", "targetTransferType"):
            if _text(t, kind, "XPATH") != "XPATH":
                raise StepError(f"{kind} {_text(t, kind)!r} is not supported by this runner (XPATH only)")
        null_on_missing = _bool(t.get("setNullOnMissingSource"), True)
        ignore_empty = _bool(t.get("ignoreEmpty"), False)
        text_content = _bool(t.get("transferTextContent"), True)
        to_all = _bool(t.get("transferToAll"), False)

        src_props, _ = self._holder(_text(t, "sourceStep", ""), ctx)
        src_name = _text(t, "sourceType", "")
        src_name = "Response" if src_name == "ResponseAsXml" else src_name
        if src_name not in src_props:
            raise StepError(f"Missing source property {src_name!r} of {_text(t, 'sourceStep')!r}")
        source = src_props[src_name]
        tgt_props, tgt_is_step = self._holder(_text(t, "targetStep", ""), ctx)
        tgt_name = _text(t, "targetType", "")
        if tgt_is_step and tgt_name != "Request":
            raise StepError(f"target property {tgt_name!r} of a request step is not writable")
        src_path = (_text(t, "sourcePath", "") or "").strip()
        tgt_path = (_text(t, "targetPath", "") or "").strip()

        # read: the source nodes (XPath) or the whole value
        if src_path:
            if source is None:
                raise StepError("Source property is null")
            doc = _parse(source, "source property")
            nodes = xpath(doc, self.expand(src_path, ctx))
            if not isinstance(nodes, list):
                values = [xpath_value_string(nodes)]
            else:
                values = [_node_value(n, text_content) for n in nodes]
            if not values:
                if ignore_empty and not null_on_missing:
                    return
                if not null_on_missing:
                    raise StepError(f"Missing match for Source XPath [{_oneline(src_path)}]")
                values = [None]
        else:
            values = [source]

        # write: into the target nodes (XPath) or the whole value
        if not tgt_path:
            if not (ignore_empty and not values[0]):
                tgt_props[tgt_name] = values[0]
            return
        doc = _parse(tgt_props.get(tgt_name), "target property")
        targets = xpath(doc, self.expand(tgt_path, ctx))
        if not isinstance(targets, list) or not targets:
            raise StepError(f"Missing match for Target XPath [{_oneline(tgt_path)}]")
        pairs = list(zip(values, targets))
        if to_all and len(targets) > len(values):
            pairs += [(values[-1], tn) for tn in targets[len(values):]]
        for value, target in pairs:
            if ignore_empty and not value:
                continue
            if isinstance(target, etree._Element) and isinstance(target.tag, str):
                target.text = value
            elif isinstance(target, etree._ElementUnicodeResult) and target.is_attribute:
                target.getparent().set(target.attrname, value or "")
            else:
                raise StepError(f"cannot write into {target!r}: target XPath must select elements or attributes")
        tgt_props[tgt_name] = etree.tostring(doc, encoding="unicode")

    # -- assertions -------------------------------------------------------------

    def _assert(self, a, ex: _Exchange, iface, op_name, ctx):
        kind = a.get("type")
        cfg = _child(a, "configuration")

        def conf(key, default=None):
            return _conf(cfg, key, default)

        if kind == "SOAP Response":
            errs = soap11_envelope_errors(ex.doc)
            assert not errs, "; ".join(errs)
        elif kind == "SOAP Fault Assertion":  # label "Not SOAP Fault"
            assert not is_soap_fault(ex), "Response is a SOAP Fault"
        elif kind == "Not SOAP Fault Assertion":  # label "SOAP Fault"
            assert is_soap_fault(ex), "Response is not a SOAP Fault"
        elif kind == "Valid HTTP Status Codes":
            codes = [x.strip() for x in self.expand(conf("codes", ""), ctx).split(",")]
            assert str(ex.status) in codes, f"Response status code:{ex.status} is not in acceptable list of status codes"
        elif kind == "Simple Contains":
            token = (self.expand(conf("token", ""), ctx) or "").replace("\r\n", "\n")
            content = ex.text.replace("\r\n", "\n")
            if token:
                if _bool(conf("useRegEx"), False):
                    flags = re.S | (re.I if _bool(conf("ignoreCase"), False) else 0)
                    found = re.search(token, content, flags) is not None
                elif _bool(conf("ignoreCase"), False):
                    found = token.upper() in content.upper()
                else:
                    found = token in content
                assert found, f"Missing token [{token}] in Response"
        elif kind == "XPath Match":
            self._xpath_match(cfg, ex, ctx)
        elif kind == "Schema Compliance":
            if (conf("definition") or "").strip():
                raise StepError("Schema Compliance with its own definition URL is not supported by this runner")
            errs = self._schema_errors(ex, iface, op_name, ctx)
            assert not errs, "; ".join(errs)
        else:
            raise StepError(f"assertion type {kind!r} is not supported by this runner")

    def _xpath_match(self, cfg, ex: _Exchange, ctx):
        path = _conf(cfg, "path")
        expected = _conf(cfg, "content")
        if path is None or expected is None:
            raise AssertionError("Missing path or content for XPath assertion")
        if _bool(_conf(cfg, "ignoreNamspaceDifferences"), False):
            raise StepError("ignoreNamspaceDifferences is not supported by this runner")
        wildcards = _bool(_conf(cfg, "allowWildcards"), False)
        path = self.expand(path, ctx)
        expected = self.expand(expected, ctx)
        if not path.rstrip().endswith("text()") and _looks_like_xml(expected):
            raise StepError("XPath Match with XML as expected content is not supported by this runner")
        if ex.doc is None:
            raise AssertionError("Response is not XML")
        got = xpath(ex.doc, path)
        if not isinstance(got, list):
            actual = xpath_value_string(got)
            assert actual == expected, (
                f"XPathContains comparison failed for path [{_oneline(path)}], expecting [{expected}], actual was [{actual}]")
            return
        if not got:
            raise AssertionError(f"Missing content for xpath [{_oneline(path)}] in Response")
        actuals = []
        for item in got:  # SoapUI passes when any selected node matches
            if isinstance(item, etree._Element):
                if not isinstance(item.tag, str):
                    raise StepError("XPath selected a comment or processing instruction: not supported")
                actual, fuzzy = item.text, wildcards
            elif isinstance(item, etree._ElementUnicodeResult):
                actual, fuzzy = str(item), wildcards and item.is_attribute
            else:
                raise StepError(f"XPath result {item!r} not supported by this runner")
            if (wildcard_match(expected, actual) if fuzzy else actual == expected):
                return
            actuals.append(actual)
        raise AssertionError(
            f"XPathContains comparison failed for path [{_oneline(path)}], expecting [{expected}], actual was [{actuals[-1]}]")

    # -- Schema Compliance ------------------------------------------------------

    def _wsdl(self, iface, ctx):
        url = self.expand(iface.get("definition"), ctx)
        if url not in self._wsdl_cache:
            if url.startswith(("http://", "https://")):
                try:
                    s = _session()
                    r = s.get(url, timeout=HTTP_TIMEOUT)
                    s.close()
                except requests.RequestException as e:
                    raise StepError(f"cannot load the interface definition {url}: {e}") from e
                if r.status_code != 200:
                    raise StepError(f"GET {url} -> HTTP {r.status_code}")
                content = r.content
            elif url.startswith("file:") or pathlib.Path(url).is_absolute():
                content = pathlib.Path(url.removeprefix("file://").removeprefix("file:")).read_bytes()
            else:
                raise StepError(f"definition {url!r}: relative paths (resourceRoot) are not supported by this runner")
            wsdl = etree.fromstring(content, _PARSER)
            schemas = wsdl.findall(f"{{{WSDL}}}types/{{{XSD}}}schema")
            if len(schemas) != 1:
                raise StepError(f"{url}: {len(schemas)} inline schemas; this runner handles exactly one")
            self._wsdl_cache[url] = (wsdl, xmlschema.XMLSchema(etree.tostring(schemas[0]).decode("utf-8")))
        return self._wsdl_cache[url]

    def _schema_errors(self, ex: _Exchange, iface, op_name, ctx) -> list[str]:
        errs = soap11_envelope_errors(ex.doc)
        if errs:
            return errs
        wsdl, schema = self._wsdl(iface, ctx)
        ns = {"w": WSDL, "s": "http://schemas.xmlsoap.org/wsdl/soap/"}
        bns, _, blocal = iface.get("bindingName")[1:].partition("}")
        binding = next((b for b in wsdl.findall("w:binding", ns)
                        if b.get("name") == blocal and wsdl.get("targetNamespace") == bns), None)
        if binding is None:
            return [f"binding {iface.get('bindingName')} is not in the WSDL"]
        bop = next((o for o in binding.findall("w:operation", ns) if o.get("name") == op_name), None)
        if bop is None:
            return [f"Missing operation [{op_name}] in wsdl definition"]
        if binding.find("s:binding", ns).get("style", "document") != "document" or \
                bop.find("w:output/s:body", ns).get("use") != "literal":
            raise StepError("only document/literal operations are supported by this runner")
        pt_name = binding.get("type").rpartition(":")[2]
        pt_op = next(o for pt in wsdl.findall("w:portType", ns) if pt.get("name") == pt_name
                     for o in pt.findall("w:operation", ns) if o.get("name") == op_name)

        def part_element(msg_ref):
            msg = next(m for m in wsdl.findall("w:message", ns) if m.get("name") == msg_ref.rpartition(":")[2])
            part = msg.find("w:part", ns)
            prefix, _, local = part.get("element").rpartition(":")
            return f"{{{part.nsmap.get(prefix or None)}}}{local}"

        body = ex.doc.find(f"{{{SOAP11}}}Body")
        fault = body.find(f"{{{SOAP11}}}Fault")
        if fault is not None:
            detail = fault.find("detail")
            declared = {part_element(f.get("message")) for f in pt_op.findall("w:fault", ns)}
            for child in _children_any(detail) if detail is not None else []:
                if child.tag in declared:
                    return _validate(schema, child)
            return []  # SoapUI only logs a warning when no declared fault matches
        want = part_element(pt_op.find("w:output", ns).get("message"))
        kids = _children_any(body)
        got = [k for k in kids if k.tag == want]
        if len(got) != 1:
            return [f"Missing message part with name [{want}]"]
        errs = [f"Invalid element [{k.tag}] in SOAP Body" for k in kids if k.tag != want]
        return errs + _validate(schema, got[0])


def _oneline(s: str) -> str:
    return " ".join(s.split())


def _conf(cfg, key, default=None):
    if cfg is None:
        return default
    for x in cfg:
        if isinstance(x.tag, str) and etree.QName(x).localname == key and etree.QName(x).namespace in (None, CON):
            return x.text or ""
    return default


def _parse(text, what):
    try:
        return etree.fromstring((text or "").encode("utf-8"), _PARSER)
    except etree.XMLSyntaxError as e:
        raise StepError(f"Error parsing {what} [{e}]") from e


def _node_value(node, text_content: bool):
    """What SoapUI transfers from a selected node: an element's first text, or the node's value."""
    if isinstance(node, etree._Element):
        if not isinstance(node.tag, str):
            raise StepError("source XPath selected a comment or processing instruction")
        if text_content and (node.text is not None or len(node) == 0):
            return node.text
        raise StepError("transferring an element with child elements is not supported by this runner")
    return str(node)


def _looks_like_xml(s: str) -> bool:
    try:
        etree.fromstring(s.encode("utf-8"), _PARSER)
        return True
    except etree.XMLSyntaxError:
        return False


def _children_any(el):
    return [x for x in el if isinstance(x.tag, str)]


def _validate(schema, el) -> list[str]:
    errors = list(schema.iter_errors(etree.tostring(el).decode("utf-8")))
    return [f"{e.reason or e.message} (at {e.path})" for e in errors]


def _session() -> requests.Session:
    s = requests.Session()
    s.trust_env = False
    return s


def is_soap_fault(ex: _Exchange) -> bool:
    if ex.doc is None:
        return False
    return bool(ex.doc.xpath("//e:Fault", namespaces={"e": SOAP11}))


def soap11_envelope_errors(doc) -> list[str]:
    """The SOAP 1.1 envelope schema's rules, as SoapUI's envelope validation applies them."""
    if doc is None:
        return ["Response is not well-formed XML"]
    if doc.tag != f"{{{SOAP11}}}Envelope":
        return [f"root element is {doc.tag}, expected {{{SOAP11}}}Envelope"]
    kids = _children_any(doc)
    i = 0
    if i < len(kids) and kids[i].tag == f"{{{SOAP11}}}Header":
        i += 1
    if i >= len(kids) or kids[i].tag != f"{{{SOAP11}}}Body":
        return ["Envelope has no Body (after an optional Header)"]
    body = kids[i]
    errs = [f"element {k.tag} after Body must be of another namespace" for k in kids[i + 1:]
            if etree.QName(k).namespace == SOAP11]
    if (doc.text or "").strip() or any((k.tail or "").strip() for k in kids):
        errs.append("Envelope has text content")
    for fault in body.findall(f"{{{SOAP11}}}Fault"):
        names = [k.tag for k in _children_any(fault)]
        order = ["faultcode", "faultstring", "faultactor", "detail"]
        if names[:2] != order[:2] or any(n not in order[2:] for n in names[2:]) or names[2:] != sorted(names[2:], key=order.index) or len(set(names)) != len(names):
            errs.append(f"Fault children are {names}, expected faultcode, faultstring, faultactor?, detail?")
        code = fault.findtext("faultcode") or ""
        prefix, sep, local = code.strip().rpartition(":")
        if not local or (sep and prefix not in fault.find("faultcode").nsmap):
            errs.append(f"faultcode {code!r} is not a QName with a declared prefix")
    return errs


def main(argv):
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("project")
    ap.add_argument("-P", action="append", default=[], metavar="NAME=VALUE", help="set a project property")
    ap.add_argument("-s", help="only this TestSuite")
    ap.add_argument("-c", help="only this TestCase")
    args = ap.parse_args(argv)
    overrides = dict(p.split("=", 1) for p in args.P)
    project = Project(args.project)
    failed = 0
    ran = 0
    for suite, case in project.testcases():
        if (args.s and suite != args.s) or (args.c and case != args.c):
            continue
        res = Runner(project, overrides).run_testcase(suite, case)
        ran += 1
        print(res.report())
        failed += not res.ok
    print(f"{ran - failed} passed, {failed} failed")
    return 1 if failed or not ran else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
