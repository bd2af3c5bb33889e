// A Java service calling DashScope with java.net.http (the compatible-mode and native endpoints
// of the loopback fake server) and logging its outcomes through the Log4j2 API with the
// JsonLayout of log4j2.xml here (properties="true": ThreadContext fields in "contextMap";
// stacktraceAsString="true"). Run by hand through ../run_program.py (README.md).
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.apache.logging.log4j.ThreadContext;

public class Capture {
    static final Logger log = LogManager.getLogger("assistant.chat");
    static final String MODEL = "qwen-plus";
    static final String BASE = System.getenv("FAKE_BASE");
    static final HttpClient http = HttpClient.newHttpClient();
    static final ObjectMapper json = new ObjectMapper();
    static final String MESSAGES = "[{\"role\":\"user\",\"content\":\"用一句话介绍你自己。\"}]";

    /** An app's own exception for a non-2xx answer: the status and the body in its message. */
    static class QwenCallException extends RuntimeException {
        final String requestId;
        QwenCallException(int status, String body, String requestId) {
            super("chat completion failed: HTTP " + status + " - " + body);
            this.requestId = requestId;
        }
    }

    static void plan(int status, String code) throws Exception {
        String body = "[[" + status + "," + (code == null ? "null" : "\"" + code + "\"") + "]]";
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(System.getenv("FAKE_CONTROL")))
            .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 204) throw new IllegalStateException("plan failed");
    }

    static HttpResponse<String> post(String path, String body) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(BASE + path))
            .header("Authorization", "Bearer sk-test").header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    static String compat() throws Exception {
        HttpResponse<String> r = post("/compatible-mode/v1/chat/completions",
            "{\"model\":\"" + MODEL + "\",\"messages\":" + MESSAGES + "}");
        String rid = r.headers().firstValue("x-request-id").orElse(null);
        if (r.statusCode() != 200) throw new QwenCallException(r.statusCode(), r.body(), rid);
        return rid;
    }

    static JsonNode nativeCall() throws Exception {
        HttpResponse<String> r = post("/api/v1/services/aigc/text-generation/generation",
            "{\"model\":\"" + MODEL + "\",\"input\":{\"messages\":" + MESSAGES + "}}");
        JsonNode body = json.readTree(r.body());
        ((com.fasterxml.jackson.databind.node.ObjectNode) body).put("status_code", r.statusCode());
        return body;
    }

    static void ok(String rid) {
        ThreadContext.put("request_id", rid);
        ThreadContext.put("model", MODEL);
        log.info("chat ok");
        ThreadContext.clearMap();
    }

    static void fields(JsonNode b) {
        ThreadContext.put("status_code", b.get("status_code").asText());
        ThreadContext.put("code", b.get("code").asText());
        ThreadContext.put("error_message", b.get("message").asText());
        ThreadContext.put("request_id", b.get("request_id").asText());
        ThreadContext.put("model", MODEL);
        log.error("qwen call failed");
        ThreadContext.clearMap();
    }

    static void exception(QwenCallException e, boolean withId) {
        ThreadContext.put("model", MODEL);
        if (withId) ThreadContext.put("request_id", e.requestId);
        log.error("qwen call failed", e);
        ThreadContext.clearMap();
    }

    public static void main(String[] args) throws Exception {
        plan(200, null);                              // 1 a compat success
        ok(compat());
        plan(429, "Throttling.RateQuota");            // 2 the exception, no id beside
        try { compat(); } catch (QwenCallException e) { exception(e, false); }
        plan(401, "InvalidApiKey");                   // 3 native fields
        fields(nativeCall());
        plan(500, "InternalError");                   // 4 the exception and its id
        try { compat(); } catch (QwenCallException e) { exception(e, true); }
        plan(200, null);                              // 5 a native success
        ok(nativeCall().get("request_id").asText());
        Thread.sleep(50);
        plan(400, "DataInspectionFailed");            // 6
        try { compat(); } catch (QwenCallException e) { exception(e, true); }
        plan(429, "Throttling.AllocationQuota");      // 7
        fields(nativeCall());
        plan(200, null);                              // 8
        ok(nativeCall().get("request_id").asText());
    }
}
