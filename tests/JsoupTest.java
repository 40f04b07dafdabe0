import org.jsoup.Connection;
import org.jsoup.Jsoup;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** An independent client: forms posted with jsoup reach res.java exactly as jsoup sent them. */
class JsoupTest {
    static TestServer server;
    static final Map<String, String> FIELDS = new LinkedHashMap<>();

    static {
        FIELDS.put("hello", "world!");
        FIELDS.put("name", "Ann Lee & co = 100%");
        FIELDS.put("utf8", "é ü 中 😀");
        FIELDS.put("symbols", "~*!'()+,;:@/?#[]");
        FIELDS.put("empty", "");
    }

    @BeforeAll
    static void start() throws Exception {
        server = new TestServer("--sleep", "0");
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    /** print_r of ['method' => METHOD, 'data' => FIELDS]: a flat array, one "[key] => value" line each. */
    private static String printed(String method) {
        StringBuilder s = new StringBuilder("Array\n(\n    [method] => " + method + "\n    [data] => Array\n        (\n");
        FIELDS.forEach((k, v) -> s.append("            [").append(k).append("] => ").append(v).append('\n'));
        return s.append("        )\n\n)\n").toString();
    }

    private static Connection connect() {
        return Jsoup.connect(server.url("/res.php").toString()).ignoreContentType(true).data(FIELDS);
    }

    @Test
    void aUrlencodedFormArrivesExactly() throws Exception {
        Connection.Response r = connect().method(Connection.Method.POST).execute();
        assertEquals(200, r.statusCode());
        assertEquals(printed("POST"), r.body());
    }

    @Test
    void aMultipartFormArrivesExactlyAndItsFileIsNotInRequest() throws Exception {
        Connection.Response r = connect()
            .data("upload", "notes.txt", new ByteArrayInputStream("not a field".getBytes(StandardCharsets.UTF_8)))
            .method(Connection.Method.POST).execute();
        assertEquals(200, r.statusCode());
        assertEquals(printed("POST"), r.body());
    }

    @Test
    void aGetQueryArrivesExactly() throws Exception {
        Connection.Response r = connect().method(Connection.Method.GET).execute();
        assertEquals(printed("GET"), r.body());
    }
}
