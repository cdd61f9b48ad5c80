package dev.brokersim.compat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

/**
 * The broker-sim cluster run.sh started (3 brokers, the binary): where it is, names no
 * other test uses, the control API, and waiting on a condition with a deadline.
 */
final class Cluster {
    private static final String RUN = UUID.randomUUID().toString().substring(0, 6);
    private static final AtomicInteger COUNTER = new AtomicInteger();
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    /** Every wait's deadline; only a broken broker or client gets near it. */
    static final Duration DEADLINE = Duration.ofSeconds(60);

    private Cluster() {}

    static String bootstrap() {
        String servers = System.getenv("BROKER_SIM_BOOTSTRAP");
        if (servers == null || servers.isEmpty()) {
            throw new IllegalStateException("BROKER_SIM_BOOTSTRAP is not set: run client-tests/java/run.sh");
        }
        return servers;
    }

    /** A topic or group name no other test uses, readable in the broker's log. */
    static String unique(String what) {
        return "java." + what + "." + RUN + "." + COUNTER.incrementAndGet();
    }

    static Properties props() {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap());
        return p;
    }

    /** GET on the control API; the body (JSON). */
    static String control(String path) {
        String base = System.getenv("BROKER_SIM_CONTROL");
        try {
            HttpResponse<String> r = HTTP.send(
                    HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(10)).build(),
                    HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 200) {
                throw new AssertionError("GET " + path + ": " + r.statusCode() + " " + r.body());
            }
            return r.body();
        } catch (java.io.IOException | InterruptedException e) {
            throw new AssertionError("GET " + path + ": " + e, e);
        }
    }

    /** POST of a JSON `body` on the control API; the answer's body (JSON). */
    static String controlPost(String path, String body) {
        String base = System.getenv("BROKER_SIM_CONTROL");
        try {
            HttpResponse<String> r = HTTP.send(
                    HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(10))
                            .header("content-type", "application/json")
                            .POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                    HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 200) {
                throw new AssertionError("POST " + path + ": " + r.statusCode() + " " + r.body());
            }
            return r.body();
        } catch (java.io.IOException | InterruptedException e) {
            throw new AssertionError("POST " + path + ": " + e, e);
        }
    }

    /** DELETE on the control API; the answer's body (JSON). */
    static String controlDelete(String path) {
        String base = System.getenv("BROKER_SIM_CONTROL");
        try {
            HttpResponse<String> r = HTTP.send(
                    HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(10)).DELETE().build(),
                    HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 200) {
                throw new AssertionError("DELETE " + path + ": " + r.statusCode() + " " + r.body());
            }
            return r.body();
        } catch (java.io.IOException | InterruptedException e) {
            throw new AssertionError("DELETE " + path + ": " + e, e);
        }
    }

    /** Waits until `done` holds, or fails with `what` at the deadline. */
    static void waitUntil(String what, BooleanSupplier done) {
        Instant deadline = Instant.now().plus(DEADLINE);
        while (!done.getAsBoolean()) {
            if (Instant.now().isAfter(deadline)) {
                throw new AssertionError("timed out waiting until " + what);
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        }
    }
}
