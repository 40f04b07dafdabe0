package server;

import com.sun.net.httpserver.HttpServer;

import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The connections com.sun.net.httpserver holds, read from its own sets, since it has no public way to count
 * them or to close one: how many are open, which one a task of it reads, and closing one or the oldest of a
 * kind, as its own idle and request timers do (remove from the kind's set, then from all, then close); and what it has
 * buffered of a plain connection's request. Needs serve's --add-opens jdk.httpserver/sun.net.httpserver=ALL-UNNAMED
 * (of() is empty without it) and, for the buffer, java.base/java.io.
 */
final class OpenConnections {
    /** A kind of connection, its set in the JDK's server and the field saying since when it is so. */
    enum Kind {
        IDLE("idleConnections", "idleStartTime"),
        SILENT("newlyAcceptedConnections", "idleStartTime"),
        SLOW("reqConnections", "reqStartedTime");

        final String set;
        final String since;

        Kind(String set, String since) {
            this.set = set;
            this.since = since;
        }
    }

    private final Set<?> all;
    private final Map<Kind, Set<?>> sets = new EnumMap<>(Kind.class);
    private final Map<Kind, Field> since = new EnumMap<>(Kind.class);
    private final Method close;
    private final Field taskConnection;
    private final Field raw, channel;
    /** BufferedInputStream's own fields, or null where java.io is closed to serve. */
    private final Field buffer, count, position;

    private OpenConnections(Object server) throws ReflectiveOperationException {
        this.all = (Set<?>) field(server.getClass(), "allConnections").get(server);
        Class<?> connection = Class.forName("sun.net.httpserver.HttpConnection");
        this.close = connection.getDeclaredMethod("close");
        close.setAccessible(true);
        this.taskConnection = field(Class.forName("sun.net.httpserver.ServerImpl$Exchange"), "connection");
        this.raw = field(connection, "raw");
        this.channel = field(connection, "chan");
        Field[] buffered;
        try {
            buffered = new Field[] {field(java.io.BufferedInputStream.class, "buf"), field(java.io.BufferedInputStream.class, "count"),
                field(java.io.BufferedInputStream.class, "pos")};
        } catch (ReflectiveOperationException | RuntimeException closed) {
            buffered = new Field[3];
        }
        this.buffer = buffered[0];
        this.count = buffered[1];
        this.position = buffered[2];
        for (Kind kind : Kind.values()) {
            sets.put(kind, (Set<?>) field(server.getClass(), kind.set).get(server));
            since.put(kind, field(connection, kind.since));
        }
    }

    /** The view of this server's connections, or empty where the JDK's internals are closed or differ. */
    static Optional<OpenConnections> of(HttpServer http) {
        try {
            return Optional.of(new OpenConnections(field(http.getClass(), "server").get(http)));
        } catch (ReflectiveOperationException | RuntimeException closedOrChanged) {
            return Optional.empty();
        }
    }

    int open() {
        return all.size();
    }

    int count(Kind kind) {
        return sets.get(kind).size();
    }

    /** The JDK's connection (an opaque object) a task of its server reads and answers, or null for another task. */
    Object connectionOf(Runnable task) {
        try {
            return taskConnection.getDeclaringClass().isInstance(task) ? taskConnection.get(task) : null;
        } catch (IllegalAccessException e) {
            throw new IllegalStateException("the JDK's HTTP server changed under us", e);
        }
    }

    /**
     * The bytes the JDK's buffer of a plain connection's input holds, or null (TLS, or java.io closed to serve).
     * Read bytes stay in it until new ones are read over them, from its start.
     */
    byte[] buffer(Object connection) {
        if (buffer == null) return null;
        try {
            return raw.get(connection) instanceof java.io.BufferedInputStream in ? (byte[]) buffer.get(in) : null;
        } catch (IllegalAccessException e) {
            throw new IllegalStateException("the JDK's HTTP server changed under us", e);
        }
    }

    /**
     * Before a kept-alive connection's next request is read: the bytes of its requests before are zeroed in the
     * JDK's buffer, so that what it holds is this request's (those not read yet are kept).
     */
    void forgetRead(Object connection) {
        try {
            if (buffer == null || !(raw.get(connection) instanceof java.io.BufferedInputStream in)) return;
            byte[] bytes = (byte[]) buffer.get(in);
            if (bytes == null) return; // closed meanwhile
            int from = Math.clamp(position.getInt(in), 0, bytes.length), to = Math.clamp(count.getInt(in), from, bytes.length);
            java.util.Arrays.fill(bytes, 0, from, (byte) 0);
            java.util.Arrays.fill(bytes, to, bytes.length, (byte) 0);
        } catch (IllegalAccessException | RuntimeException e) {
            // the look at LF line ends is not made for this request: it is read all the same
        }
    }

    /** Where a connection is from, or null. */
    java.net.InetSocketAddress remote(Object connection) {
        try {
            return (java.net.InetSocketAddress) ((java.nio.channels.SocketChannel) channel.get(connection)).getRemoteAddress();
        } catch (IllegalAccessException | java.io.IOException | RuntimeException gone) {
            return null;
        }
    }

    /**
     * Sends answer on a connection whose request is still coming, and closes it, unless the request came meanwhile
     * (taken from the JDK's sets first, so that only one answers). The write is a thread's of its own, closed within
     * a second whatever happens: a caller that reads nothing cannot hold the one who answers.
     */
    boolean answerSlow(Object connection, byte[] answer) {
        if (!sets.get(Kind.SLOW).remove(connection)) return false;
        all.remove(connection);
        java.nio.channels.SocketChannel c;
        try {
            c = (java.nio.channels.SocketChannel) channel.get(connection);
        } catch (IllegalAccessException e) {
            throw new IllegalStateException("the JDK's HTTP server changed under us", e);
        }
        Runnable close = () -> {
            try {
                this.close.invoke(connection);
            } catch (ReflectiveOperationException e) {
                // closed by the JDK already, or it changed: the channel is closed below all the same
            }
            try {
                c.close();
            } catch (java.io.IOException closed) {
                // it was
            }
        };
        Thread.ofVirtual().start(() -> {
            try {
                c.write(java.nio.ByteBuffer.wrap(answer));
            } catch (java.io.IOException gone) {
                // the caller went: it is closed all the same
            } finally {
                close.run();
            }
        });
        Thread.ofVirtual().start(() -> {
            try {
                Thread.sleep(1000);
            } catch (InterruptedException e) {
                // closed now
            }
            close.run();
        });
        return true;
    }

    /** Whether the JDK's buffers of connections can be read (java.io is open to serve). */
    boolean readsBuffers() {
        return buffer != null;
    }

    /** Closes a connection whose request is still coming, unless it came meanwhile; returns whether it did. */
    boolean closeSlow(Object connection) {
        return close(sets.get(Kind.SLOW), connection);
    }

    /** Closes up to n connections of a kind that have been so for minAgeMillis at least, oldest first; returns how many. */
    int closeOldest(Kind kind, int n, long minAgeMillis) {
        if (n <= 0) return 0;
        try {
            Set<?> set = sets.get(kind);
            List<Object> candidates;
            synchronized (set) {
                candidates = new ArrayList<>(set);
            }
            long now = System.currentTimeMillis();
            List<long[]> aged = new ArrayList<>();
            for (int i = 0; i < candidates.size(); i++) {
                long from = since.get(kind).getLong(candidates.get(i));
                if (now - from >= minAgeMillis) aged.add(new long[] {from, i});
            }
            aged.sort(Comparator.comparingLong(a -> a[0]));
            int closed = 0;
            for (int i = 0; i < aged.size() && closed < n; i++) {
                if (close(set, candidates.get((int) aged.get(i)[1]))) closed++;
            }
            return closed;
        } catch (IllegalAccessException e) {
            throw new IllegalStateException("the JDK's HTTP server changed under us", e);
        }
    }

    /** Taken from its set first: if the JDK took it meanwhile (it became busy, or its request came), it is left alone. */
    private boolean close(Set<?> set, Object connection) {
        if (!set.remove(connection)) return false;
        all.remove(connection);
        try {
            close.invoke(connection);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("the JDK's HTTP server changed under us", e);
        }
        return true;
    }

    private static Field field(Class<?> type, String name) throws NoSuchFieldException {
        for (Class<?> c = type; c != null; c = c.getSuperclass()) {
            try {
                Field f = c.getDeclaredField(name);
                f.setAccessible(true);
                return f;
            } catch (NoSuchFieldException notHere) {
                // its superclass may have it
            }
        }
        throw new NoSuchFieldException(type.getName() + "." + name);
    }
}
