#!/usr/bin/env python3
"""Regenerate wsdl/vdi.wsdl from wsdl/vdi.xsd (standard library only).

The WSDL inlines the <xsd:schema> element of vdi.xsd verbatim (re-indented) and
adds messages, portType, binding and service for the operations below.

    python3 wsdl/generate.py          # rewrite wsdl/vdi.wsdl
    python3 wsdl/generate.py --check  # exit 1 if wsdl/vdi.wsdl is stale
"""
import pathlib
import sys

HERE = pathlib.Path(__file__).resolve().parent
XSD = HERE / "vdi.xsd"
WSDL = HERE / "vdi.wsdl"

SOAP_ACTION = "urn:vdi/2406"
ADDRESS = "https://vlsim.invalid/view-vlsi/sdk"

COMMON_FAULTS = [
    "EntityNotFound",
    "InsufficientPermission",
    "InvalidArgument",
    "InvalidType",
    "UnexpectedFault",
    "SecurityError",
]
LOGIN_FAULTS = ["InvalidCredentials"]

# (operation, faults)
OPERATIONS = [
    ("AuthenticationManager_Login", COMMON_FAULTS + LOGIN_FAULTS + ["InvalidRequest"]),
    ("AuthenticationManager_LoginByToken", COMMON_FAULTS + LOGIN_FAULTS + ["InvalidRequest"]),
    ("AuthenticationManager_Logout", COMMON_FAULTS + ["InvalidRequest"]),
    ("AuthenticationManager_SetLocale", COMMON_FAULTS + ["InvalidRequest"]),
    ("JwtToken_Generate", COMMON_FAULTS + ["InvalidRequest"]),
    ("JwtToken_GetPublicKeys", COMMON_FAULTS + ["InvalidRequest"]),
    ("QueryService_Create", COMMON_FAULTS + ["InvalidRequest", "InvalidState"]),
    ("QueryService_Delete", COMMON_FAULTS + ["InvalidRequest"]),
    ("QueryService_DeleteAll", COMMON_FAULTS + ["InvalidRequest"]),
    ("QueryService_DeleteByIds", COMMON_FAULTS + ["InvalidRequest"]),
    ("QueryService_GetCount", COMMON_FAULTS + ["InvalidRequest"]),
    ("QueryService_GetNext", COMMON_FAULTS + ["InvalidRequest"]),
    ("QueryService_Query", COMMON_FAULTS + ["InvalidRequest"]),
]


def schema_text() -> str:
    text = XSD.read_text(encoding="utf-8")
    start = text.index("<xsd:schema")
    end = text.rindex("</xsd:schema>") + len("</xsd:schema>")
    lines = text[start:end].split("\n")
    return "\n".join(("    " + l) if l.strip() else "" for l in lines)


def build() -> str:
    out = []
    w = out.append
    w('<?xml version="1.0" encoding="UTF-8"?>')
    w("<!-- vlsim: Horizon View API (VLSI) WSDL subset. GENERATED from vdi.xsd by generate.py; do not edit by hand. -->")
    w('<wsdl:definitions xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/"')
    w('                  xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/"')
    w('                  xmlns:xsd="http://www.w3.org/2001/XMLSchema"')
    w('                  xmlns:vdi="urn:vdi"')
    w('                  targetNamespace="urn:vdi"')
    w('                  name="VdiService">')
    w("  <wsdl:types>")
    w(schema_text())
    w("  </wsdl:types>")
    w("")
    faults = []
    for _, fl in OPERATIONS:
        for f in fl:
            if f not in faults:
                faults.append(f)
    for op, _ in OPERATIONS:
        w(f'  <wsdl:message name="{op}RequestMsg">')
        w(f'    <wsdl:part name="parameters" element="vdi:{op}"/>')
        w("  </wsdl:message>")
        w(f'  <wsdl:message name="{op}ResponseMsg">')
        w(f'    <wsdl:part name="parameters" element="vdi:{op}Response"/>')
        w("  </wsdl:message>")
    for f in faults:
        w(f'  <wsdl:message name="{f}FaultMsg">')
        w(f'    <wsdl:part name="fault" element="vdi:{f}Fault"/>')
        w("  </wsdl:message>")
    w("")
    w('  <wsdl:portType name="VdiPortType">')
    for op, fl in OPERATIONS:
        w(f'    <wsdl:operation name="{op}">')
        w(f'      <wsdl:input message="vdi:{op}RequestMsg"/>')
        w(f'      <wsdl:output message="vdi:{op}ResponseMsg"/>')
        for f in fl:
            w(f'      <wsdl:fault name="{f}Fault" message="vdi:{f}FaultMsg"/>')
        w("    </wsdl:operation>")
    w("  </wsdl:portType>")
    w("")
    w('  <wsdl:binding name="VdiBinding" type="vdi:VdiPortType">')
    w('    <soap:binding style="document" transport="http://schemas.xmlsoap.org/soap/http"/>')
    for op, fl in OPERATIONS:
        w(f'    <wsdl:operation name="{op}">')
        w(f'      <soap:operation soapAction="{SOAP_ACTION}" style="document"/>')
        w('      <wsdl:input><soap:body use="literal"/></wsdl:input>')
        w('      <wsdl:output><soap:body use="literal"/></wsdl:output>')
        for f in fl:
            w(f'      <wsdl:fault name="{f}Fault"><soap:fault name="{f}Fault" use="literal"/></wsdl:fault>')
        w("    </wsdl:operation>")
    w("  </wsdl:binding>")
    w("")
    w('  <wsdl:service name="VdiService">')
    w('    <wsdl:port name="VdiPort" binding="vdi:VdiBinding">')
    w(f'      <soap:address location="{ADDRESS}"/>')
    w("    </wsdl:port>")
    w("  </wsdl:service>")
    w("</wsdl:definitions>")
    return "\n".join(out) + "\n"


def main(argv):
    text = build()
    if "--check" in argv:
        current = WSDL.read_text(encoding="utf-8") if WSDL.exists() else ""
        if current != text:
            print(f"{WSDL} is stale: run python3 wsdl/generate.py", file=sys.stderr)
            return 1
        return 0
    WSDL.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
