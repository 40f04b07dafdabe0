
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** tests/vectors.json, made by running PHP (tests/php/make-vectors.php), and its JSON as Java values. */
final class Vectors {
    private Vectors() {}

    /** tests/vectors.json, made by running PHP (tests/php/make-vectors.php). */
    static JsonObject load() throws IOException {
        return JsonParser.parseString(Files.readString(Support.ROOT.resolve("tests/vectors.json"))).getAsJsonObject();
    }

    /** JSON as the Java values a caller would pass: maps, lists, Long or Double, String, Boolean, null. */
    static Object java(JsonElement e) {
        if (e.isJsonNull()) return null;
        if (e.isJsonObject()) {
            Map<String, Object> m = new LinkedHashMap<>();
            for (Map.Entry<String, JsonElement> kv : e.getAsJsonObject().entrySet()) m.put(kv.getKey(), java(kv.getValue()));
            return m;
        }
        if (e.isJsonArray()) {
            List<Object> l = new ArrayList<>();
            for (JsonElement x : (JsonArray) e) l.add(java(x));
            return l;
        }
        var p = e.getAsJsonPrimitive();
        if (p.isBoolean()) return p.getAsBoolean();
        if (p.isString()) return p.getAsString();
        String n = p.getAsNumber().toString();
        return n.matches("-?[0-9]+") ? (Object) Long.parseLong(n) : (Object) Double.parseDouble(n);
    }

    static String str(JsonObject o, String key) {
        return o.get(key).getAsString();
    }
}
