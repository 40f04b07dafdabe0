package store;

import call.Call;
import call.Received;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** A call's request as a row of the store keeps it (the body in a column of its own). */
final class Rows {
    private Rows() {}

    // A call's request as a row keeps it: everything of Call and Received but the body, length-prefixed.

    /** A call's request as its row keeps it: everything of Call and Received but the body, length-prefixed. */
    static byte[] encode(Call call, Received r) {
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream(512);
            DataOutputStream out = new DataOutputStream(bytes);
            write(out, call.method());
            write(out, call.uri().toString());
            write(out, call.from().getAddress().getHostAddress());
            out.writeInt(call.from().getPort());
            write(out, call.key());
            write(out, r.rawQuery());
            write(out, r.contentType());
            out.writeInt(r.headers().size());
            for (Map.Entry<String, List<String>> h : r.headers().entrySet()) {
                write(out, h.getKey());
                out.writeInt(h.getValue().size());
                for (String v : h.getValue()) write(out, v);
            }
            write(out, r.local().getAddress().getHostAddress());
            out.writeInt(r.local().getPort());
            write(out, r.protocol());
            out.writeBoolean(r.secure());
            return bytes.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The call a row keeps, with its body, at its attempt, as it was planned. */
    static Store.Claimed decode(String id, byte[] request, byte[] body, int attempt, call.Plan plan, java.time.Instant due) {
        try {
            DataInputStream in = new DataInputStream(new ByteArrayInputStream(request));
            String method = read(in);
            URI uri = URI.create(read(in));
            InetSocketAddress from = new InetSocketAddress(InetAddress.getByName(read(in)), in.readInt());
            String key = read(in);
            String rawQuery = read(in), contentType = read(in);
            Map<String, List<String>> headers = new LinkedHashMap<>();
            for (int n = in.readInt(); n > 0; n--) {
                String name = read(in);
                List<String> values = new ArrayList<>();
                for (int m = in.readInt(); m > 0; m--) values.add(read(in));
                headers.put(name, List.copyOf(values));
            }
            InetSocketAddress local = new InetSocketAddress(InetAddress.getByName(read(in)), in.readInt());
            String protocol = read(in);
            boolean secure = in.readBoolean();
            Call call = new Call(id, method, uri, from, key, attempt);
            return new Store.Claimed(call, new Received(method, rawQuery, contentType, headers, body == null ? new byte[0] : body,
                local, protocol, secure), plan, due);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A string (null allowed) as its length (-1: null) and its UTF-16 chars. */
    private static void write(DataOutputStream out, String s) throws IOException {
        if (s == null) {
            out.writeInt(-1);
            return;
        }
        out.writeInt(s.length());
        // The bytes out.writeChars(s) writes, in one write instead of two a char (each a lock of the byte array's stream).
        byte[] chars = new byte[2 * s.length()];
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            chars[2 * i] = (byte) (c >>> 8);
            chars[2 * i + 1] = (byte) c;
        }
        out.write(chars);
    }

    private static String read(DataInputStream in) throws IOException {
        int n = in.readInt();
        if (n < 0) return null;
        char[] chars = new char[n];
        for (int i = 0; i < n; i++) chars[i] = in.readChar();
        return new String(chars);
    }
}
