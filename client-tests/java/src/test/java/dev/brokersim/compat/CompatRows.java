package dev.brokersim.compat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.TestWatcher;

/**
 * One row of the compatibility table per test (client, version as the client reports it,
 * test, pass | fail | skipped), appended to $COMPAT_RESULTS when client-tests/compat.sh
 * sets it. A test class names its client with {@link Client}.
 */
public final class CompatRows implements TestWatcher {
    /** An aborted test whose message starts so is a known gap, shown as such in the table. */
    public static final String EXPECTED_FAILURE = "expected failure: ";

    /** The client a test class exercises, and how to read its version at run time. */
    @java.lang.annotation.Retention(java.lang.annotation.RetentionPolicy.RUNTIME)
    @java.lang.annotation.Target(java.lang.annotation.ElementType.TYPE)
    public @interface Client {
        String value();

        /** A class of the client's jar whose package carries the version. */
        Class<?> versionOf();
    }

    @Override
    public void testSuccessful(ExtensionContext context) {
        row(context, "pass");
    }

    @Override
    public void testFailed(ExtensionContext context, Throwable cause) {
        row(context, "fail");
    }

    @Override
    public void testAborted(ExtensionContext context, Throwable cause) {
        String why = String.valueOf(cause.getMessage());
        row(context, why.startsWith(EXPECTED_FAILURE) ? why : "skipped: " + why);
    }

    @Override
    public void testDisabled(ExtensionContext context, Optional<String> reason) {
        row(context, "skipped: " + reason.orElse("disabled"));
    }

    private static void row(ExtensionContext context, String result) {
        String file = System.getenv("COMPAT_RESULTS");
        if (file == null || file.isEmpty()) {
            return;
        }
        Client client = context.getRequiredTestClass().getAnnotation(Client.class);
        String name = client == null ? context.getRequiredTestClass().getSimpleName() : client.value();
        String version = client == null ? "-" : version(client.versionOf());
        String test = context.getDisplayName().replaceAll("\\(\\)$", "").replace('_', ' ');
        String line = name + "\t" + version + "\t" + test + "\t" + result.replace('\t', ' ').replace('\n', ' ') + "\n";
        try {
            Files.writeString(Path.of(file), line, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new AssertionError("cannot write " + file, e);
        }
    }

    private static String version(Class<?> of) {
        if (of == org.apache.kafka.common.utils.AppInfoParser.class) {
            return org.apache.kafka.common.utils.AppInfoParser.getVersion();
        }
        String v = of.getPackage().getImplementationVersion();
        return v == null ? "-" : v;
    }
}
