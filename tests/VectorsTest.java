import caller.Send;
import php.Php;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The committed table of what PHP 8.2 does (tests/vectors.json, made by running PHP): http_build_query
 * against Send.httpBuildQuery, and whole requests against res.java, both as a function and over HTTP.
 */
class VectorsTest {
    static TestServer server;

    @BeforeAll
    static void start() throws Exception {
        server = new TestServer("--sleep", "0");
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @TestFactory
    Stream<DynamicTest> httpBuildQueryIsPhps() throws Exception {
        List<DynamicTest> tests = new ArrayList<>();
        for (JsonElement e : Vectors.load().getAsJsonArray("http_build_query")) {
            JsonObject v = e.getAsJsonObject();
            tests.add(DynamicTest.dynamicTest("http_build_query: " + Vectors.str(v, "name"), () ->
                assertEquals(Vectors.str(v, "php"), Send.httpBuildQuery((Map<?, ?>) Vectors.java(v.get("input"))))));
        }
        return tests.stream();
    }

    @TestFactory
    Stream<DynamicTest> requestsAreReadAndPrintedAsPhpDoes() throws Exception {
        List<DynamicTest> tests = new ArrayList<>();
        for (JsonElement e : Vectors.load().getAsJsonArray("requests")) {
            JsonObject v = e.getAsJsonObject();
            tests.add(DynamicTest.dynamicTest("request: " + Vectors.str(v, "name"), () -> check(v)));
        }
        return tests.stream();
    }

    private static void check(JsonObject v) throws Exception {
        String method = Vectors.str(v, "method"), query = Vectors.str(v, "query");
        String type = Vectors.str(v, "content_type"), body = Vectors.str(v, "body"), answer = Vectors.str(v, "answer");
        boolean phpWarned = v.get("warnings").getAsInt() > 0;

        List<String> warnings = new ArrayList<>();
        Map<Object, Object> data = res.data(method, query, type.isEmpty() ? null : type,
            body.getBytes(StandardCharsets.ISO_8859_1), warnings::add);
        assertEquals(answer, Php.printR(data), "res.data + Php.printR");
        assertEquals(phpWarned, !warnings.isEmpty(), "a warning when PHP warned: " + warnings);

        String request = method + " /res.php" + (query.isEmpty() ? "" : "?" + query) + " HTTP/1.1\r\n"
            + "Host: 127.0.0.1\r\nConnection: close\r\n"
            + (type.isEmpty() ? "" : "Content-Type: " + type + "\r\n")
            + "Content-Length: " + body.length() + "\r\n\r\n" + body;
        String sent = Support.raw(server.port(), request);
        assertEquals(v.get("status").getAsInt(), Support.status(sent), sent);
        assertEquals(answer, Support.body(sent), "over HTTP");
    }
}
