// A JAX-WS client of vlsim's Horizon View API (VLSI) SOAP endpoint, written against the
// classes `wsimport -p vdi <url>/view-vlsi/sdk?wsdl` generates: the port type VdiPortType,
// the service VdiService, one <Type>FaultMsg exception per fault with getFaultInfo().
//
// Run (test_vlsi_jaxws.py does this in a temp dir):
//   wsimport -p vdi -s gen -d classes -Xnocompile http://127.0.0.1:8080/view-vlsi/sdk?wsdl
//   javac -cp <jaxws jars> -d classes gen/vdi/*.java VlsiJaxwsClient.java
//   java -cp classes:<jaxws jars> VlsiJaxwsClient http://127.0.0.1:8080
//
// Prints one "PASS <check>" line per check and exits 0; the first failed check prints
// "FAIL <check>: <why>" and exits 1. Expects a fresh vlsim with the default world (it
// counts the JWT events it caused).

import java.nio.charset.StandardCharsets;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.X509EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import javax.xml.namespace.QName;
import javax.xml.ws.BindingProvider;

import vdi.AuditEventSummaryView;
import vdi.EntityNotFoundFaultMsg;
import vdi.InsufficientPermissionFaultMsg;
import vdi.InvalidArgumentFaultMsg;
import vdi.InvalidCredentialsFaultMsg;
import vdi.InvalidTypeFaultMsg;
import vdi.JwtPublicKeyInfo;
import vdi.JwtTokenData;
import vdi.JwtTokenGenerationSpec;
import vdi.JwtTokenInfo;
import vdi.ManagedObjectReference;
import vdi.QueryDefinition;
import vdi.QueryFilterEquals;
import vdi.QueryResults;
import vdi.SecureString;
import vdi.SecurityErrorFaultMsg;
import vdi.VdiPortType;
import vdi.VdiService;

public final class VlsiJaxwsClient {
    static final String DOMAIN = "VLSIM";
    static final String NOT_AUTHENTICATED = "The session is not authenticated.";
    static final String GENERATED = "VLSI_JWT_TOKEN_GENERATED";

    static final class CheckFailed extends RuntimeException {
        CheckFailed(String msg) {
            super(msg);
        }
    }

    static String current = "setup";

    static void check(boolean ok, String why) {
        if (!ok) {
            throw new CheckFailed(why);
        }
    }

    static void begin(String name) {
        current = name;
    }

    static void pass() {
        System.out.println("PASS " + current);
    }

    static ManagedObjectReference mor(String type, String value) {
        ManagedObjectReference m = new ManagedObjectReference();
        m.setType(type);
        m.setValue(value);
        return m;
    }

    static final ManagedObjectReference AUTH = mor("AuthenticationManager", "AuthenticationManager");
    static final ManagedObjectReference JWT = mor("JwtToken", "JwtToken");
    static final ManagedObjectReference QS = mor("QueryService", "QueryService");

    static SecureString secure(String password) {
        SecureString s = new SecureString();
        s.setUtf8String(password.getBytes(StandardCharsets.UTF_8)); // base64Binary: JAXB encodes it
        return s;
    }

    static JwtTokenGenerationSpec validity(int minutes) {
        JwtTokenGenerationSpec spec = new JwtTokenGenerationSpec();
        spec.setValidityTime(minutes);
        return spec;
    }

    static JwtTokenData tokenData(String token) {
        JwtTokenData d = new JwtTokenData();
        d.setToken(token);
        return d;
    }

    /** A new port with its own HTTP session (cookie), bound to the endpoint the WSDL names. */
    static VdiPortType newPort(VdiService service, String expectedEndpoint) {
        VdiPortType port = service.getVdiPort();
        Map<String, Object> ctx = ((BindingProvider) port).getRequestContext();
        Object endpoint = ctx.get(BindingProvider.ENDPOINT_ADDRESS_PROPERTY);
        check(expectedEndpoint.equals(endpoint),
                "the served WSDL's soap:address is " + endpoint + ", expected " + expectedEndpoint);
        ctx.put(BindingProvider.SESSION_MAINTAIN_PROPERTY, Boolean.TRUE);
        return port;
    }

    static String claimsJson(String token) {
        String[] parts = token.split("\\.", -1);
        check(parts.length == 3, "token has " + parts.length + " dot-separated parts, expected 3");
        return new String(Base64.getUrlDecoder().decode(parts[1]), StandardCharsets.UTF_8);
    }

    static long numericClaim(String json, String name) {
        Matcher m = Pattern.compile("\"" + name + "\"\\s*:\\s*(\\d+)").matcher(json);
        check(m.find(), "claim " + name + " missing in " + json);
        return Long.parseLong(m.group(1));
    }

    static String stringClaim(String json, String name) {
        Matcher m = Pattern.compile("\"" + name + "\"\\s*:\\s*\"((?:[^\"\\\\]|\\\\.)*)\"").matcher(json);
        check(m.find(), "claim " + name + " missing in " + json);
        return m.group(1).replace("\\\\", "\\");
    }

    static long expirySeconds(JwtTokenInfo info) {
        check(info.getExpiryTime() != null, "JwtTokenInfo.getExpiryTime() is null");
        return info.getExpiryTime().toGregorianCalendar().getTimeInMillis() / 1000;
    }

    /** Verifies an RS256 JWT with one of the PEM (SPKI) keys; other key kinds are skipped. */
    static boolean verifiesWithAny(String token, List<String> pems) throws Exception {
        int dot = token.lastIndexOf('.');
        byte[] signed = token.substring(0, dot).getBytes(StandardCharsets.US_ASCII);
        byte[] sig = Base64.getUrlDecoder().decode(token.substring(dot + 1));
        for (String pem : pems) {
            String b64 = pem.replaceAll("-----(BEGIN|END) PUBLIC KEY-----", "").replaceAll("\\s", "");
            PublicKey key;
            try {
                key = KeyFactory.getInstance("RSA").generatePublic(new X509EncodedKeySpec(Base64.getDecoder().decode(b64)));
            } catch (java.security.spec.InvalidKeySpecException notRsa) {
                continue;
            }
            Signature v = Signature.getInstance("SHA256withRSA");
            v.initVerify(key);
            v.update(signed);
            if (v.verify(sig)) {
                return true;
            }
        }
        return false;
    }

    static void run(String base) throws Exception {
        String wsdl = base + "/view-vlsi/sdk?wsdl";
        String endpoint = base + "/view-vlsi/sdk";
        VdiService service = new VdiService(new java.net.URL(wsdl), new QName("urn:vdi", "VdiService"));

        begin("InvalidCredentialsFaultMsg on a wrong password");
        VdiPortType anon = newPort(service, endpoint);
        try {
            anon.authenticationManagerLogin(AUTH, "administrator", secure("wrong"), DOMAIN);
            check(false, "Login with a wrong password returned normally");
        } catch (InvalidCredentialsFaultMsg e) {
            check(e.getFaultInfo() != null, "no fault info");
            String msg = e.getFaultInfo().getErrorMessage();
            check(msg != null && !msg.isEmpty(), "InvalidCredentials.getErrorMessage() is empty");
        }
        pass();

        begin("SecurityErrorFaultMsg without a session");
        try {
            anon.jwtTokenGenerate(JWT, validity(5));
            check(false, "Generate without a session returned normally");
        } catch (SecurityErrorFaultMsg e) {
            check(NOT_AUTHENTICATED.equals(e.getMessage()), "faultstring is " + e.getMessage());
            check(e.getFaultInfo() != null, "no fault info");
        }
        pass();

        begin("Login as administrator");
        VdiPortType admin = newPort(service, endpoint);
        admin.authenticationManagerLogin(AUTH, "administrator", secure("vmware"), DOMAIN);
        pass();

        begin("Generate without spec lasts 30 minutes");
        JwtTokenInfo dflt = admin.jwtTokenGenerate(JWT, null);
        String claims = claimsJson(dflt.getToken());
        check(numericClaim(claims, "exp") - numericClaim(claims, "iat") == 1800, "exp - iat != 1800 in " + claims);
        check(expirySeconds(dflt) == numericClaim(claims, "exp"), "expiryTime != exp claim");
        pass();

        begin("Generate with validityTime 60");
        JwtTokenInfo info = admin.jwtTokenGenerate(JWT, validity(60));
        claims = claimsJson(info.getToken());
        check(numericClaim(claims, "exp") - numericClaim(claims, "iat") == 3600, "exp - iat != 3600 in " + claims);
        check(expirySeconds(info) == numericClaim(claims, "exp"), "expiryTime != exp claim");
        check("VLSIM\\administrator".equals(stringClaim(claims, "sub")), "sub is " + stringClaim(claims, "sub"));
        pass();

        begin("GetPublicKeys without a session verifies the token");
        List<JwtPublicKeyInfo> infos = anon.jwtTokenGetPublicKeys(JWT);
        check(!infos.isEmpty(), "no JwtPublicKeyInfo");
        List<String> pems = new ArrayList<>();
        for (JwtPublicKeyInfo k : infos) {
            check("cs1.vlsim.test".equals(k.getConnectionServerName()), "connectionServerName " + k.getConnectionServerName());
            pems.addAll(k.getKeys());
        }
        check(!pems.isEmpty() && pems.get(0).startsWith("-----BEGIN PUBLIC KEY-----"), "no PEM keys");
        check(verifiesWithAny(info.getToken(), pems), "the token does not verify with the published keys");
        pass();

        begin("InvalidTypeFaultMsg for _this of the wrong type");
        try {
            admin.jwtTokenGenerate(AUTH, null);
            check(false, "Generate on an AuthenticationManager reference returned normally");
        } catch (InvalidTypeFaultMsg e) {
            check("_this".equals(e.getFaultInfo().getParameterName()), "parameterName " + e.getFaultInfo().getParameterName());
            check("JwtToken".equals(e.getFaultInfo().getExpectedType()), "expectedType " + e.getFaultInfo().getExpectedType());
        }
        pass();

        begin("EntityNotFoundFaultMsg for an unknown _this value");
        try {
            admin.jwtTokenGenerate(mor("JwtToken", "Nope"), null);
            check(false, "Generate on JwtToken 'Nope' returned normally");
        } catch (EntityNotFoundFaultMsg e) {
            check(e.getFaultInfo().getId() != null && "Nope".equals(e.getFaultInfo().getId().getId()), "id is not Nope");
        }
        pass();

        begin("InvalidArgumentFaultMsg for a negative validityTime");
        try {
            admin.jwtTokenGenerate(JWT, validity(-5));
            check(false, "Generate with validityTime -5 returned normally");
        } catch (InvalidArgumentFaultMsg e) {
            check("spec.validityTime".equals(e.getFaultInfo().getParameterName()),
                    "parameterName " + e.getFaultInfo().getParameterName());
            check(e.getFaultInfo().getErrorMessage() != null, "no errorMessage");
        }
        pass();

        begin("QueryService_Query finds the two VLSI_JWT_TOKEN_GENERATED events");
        QueryFilterEquals eq = new QueryFilterEquals();
        eq.setMemberName("eventType");
        eq.setValue(GENERATED); // xsd:anyType: JAXB writes xsi:type="xs:string"
        QueryDefinition def = new QueryDefinition();
        def.setQueryEntityType("AuditEventSummaryView");
        def.setFilter(eq);
        def.setSortDescending(Boolean.TRUE);
        QueryResults page = admin.queryServiceQuery(QS, def);
        check(page.getResults().size() == 2, "results: " + page.getResults().size() + ", expected 2");
        for (Object o : page.getResults()) {
            check(o instanceof AuditEventSummaryView, "result is " + o.getClass().getName() + ", not AuditEventSummaryView");
            AuditEventSummaryView ev = (AuditEventSummaryView) o;
            check(GENERATED.equals(ev.getEventType()), "eventType " + ev.getEventType());
            check("AUDIT_SUCCESS".equals(ev.getSeverity()), "severity " + ev.getSeverity());
            check("VLSIM\\administrator".equals(ev.getUserDisplayName()), "userDisplayName " + ev.getUserDisplayName());
        }
        check(((AuditEventSummaryView) page.getResults().get(0)).getMessage().contains("60 minutes"),
                "newest event is not the 60-minute token");
        pass();

        begin("LoginByToken in a new session");
        VdiPortType byToken = newPort(service, endpoint);
        byToken.authenticationManagerLoginByToken(AUTH, tokenData(info.getToken()));
        claims = claimsJson(byToken.jwtTokenGenerate(JWT, validity(5)).getToken());
        check("VLSIM\\administrator".equals(stringClaim(claims, "sub")), "sub is " + stringClaim(claims, "sub"));
        pass();

        begin("InvalidCredentialsFaultMsg for a tampered token");
        String[] p = info.getToken().split("\\.");
        String sig = p[2];
        String forged = p[0] + "." + p[1] + "." + (sig.charAt(0) == 'A' ? 'B' : 'A') + sig.substring(1);
        try {
            newPort(service, endpoint).authenticationManagerLoginByToken(AUTH, tokenData(forged));
            check(false, "LoginByToken with a forged signature returned normally");
        } catch (InvalidCredentialsFaultMsg e) {
            check(e.getFaultInfo().getErrorMessage() != null, "no errorMessage");
        }
        pass();

        begin("Logout, then Generate is SecurityErrorFaultMsg");
        admin.authenticationManagerLogout(AUTH);
        try {
            admin.jwtTokenGenerate(JWT, null);
            check(false, "Generate after Logout returned normally");
        } catch (SecurityErrorFaultMsg e) {
            check(NOT_AUTHENTICATED.equals(e.getMessage()), "faultstring is " + e.getMessage());
        }
        pass();

        begin("InsufficientPermissionFaultMsg for the auditor");
        VdiPortType auditor = newPort(service, endpoint);
        auditor.authenticationManagerLogin(AUTH, "auditor", secure("vmware"), DOMAIN);
        try {
            auditor.jwtTokenGenerate(JWT, validity(10));
            check(false, "the auditor's Generate returned normally");
        } catch (InsufficientPermissionFaultMsg e) {
            check(e.getFaultInfo().getPrivileges().contains("ADMINISTRATOR"), "privileges " + e.getFaultInfo().getPrivileges());
        }
        pass();
    }

    public static void main(String[] args) {
        if (args.length != 1) {
            System.err.println("usage: VlsiJaxwsClient http://HOST:PORT");
            System.exit(2);
        }
        try {
            run(args[0]);
        } catch (CheckFailed e) {
            System.out.println("FAIL " + current + ": " + e.getMessage());
            System.exit(1);
        } catch (Exception e) {
            System.out.println("FAIL " + current + ": unexpected " + e);
            e.printStackTrace();
            System.exit(1);
        }
        System.out.println("ALL PASSED");
    }
}
