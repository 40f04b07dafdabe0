///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 21+
//DEPS org.junit.jupiter:junit-jupiter:6.1.3
//DEPS org.junit.platform:junit-platform-launcher:6.1.3
//DEPS org.jsoup:jsoup:1.24.1
//DEPS com.google.code.gson:gson:2.15.0
//DEPS org.seleniumhq.selenium:selenium-chrome-driver:4.52.0
//DEPS org.seleniumhq.selenium:selenium-support:4.52.0
//JAVA_OPTIONS --add-opens jdk.httpserver/sun.net.httpserver=ALL-UNNAMED --add-opens java.base/java.io=ALL-UNNAMED
//SOURCES ../test.java ../res.java ../serve.java ../call/*.java ../php/*.java ../store/*.java ../http/*.java ../text/*.java ../cli/*.java ../tls/*.java ../caller/*.java ../server/*.java ../queue/*.java
//SOURCES Support.java LogSink.java Recorder.java TestServer.java ServeProcess.java ../tools/Postgres.java Vectors.java Browser.java *Test.java

import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.core.LauncherFactory;
import org.junit.platform.launcher.listeners.SummaryGeneratingListener;
import org.junit.platform.launcher.listeners.TestExecutionSummary;
import org.junit.platform.engine.TestExecutionResult;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Set;

import static org.junit.platform.engine.discovery.ClassNameFilter.includeClassNamePatterns;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClasspathRoots;
import static org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder.request;

/** The test suite: runs every *Test class (or those named by the words given) with JUnit Jupiter and ends with "N passed, N failed". */
public class main {
    static final String USAGE = """
        Usage: tests [WORD...] [-h]
        Runs the test suite (every tests/*Test.java, JUnit Jupiter) and ends with "N passed, N failed".
          WORD        run only the test classes whose names contain one of the words, e.g. Load or Nginx
          -h, --help  this help
        """;

    public static void main(String... args) throws Exception {
        if (java.util.Arrays.asList(args).contains("-h") || java.util.Arrays.asList(args).contains("--help")) {
            System.out.print(USAGE);
            return;
        }
        for (String word : args) {
            if (!word.matches("[A-Za-z0-9_$]+")) {
                System.err.println("Error: invalid value given for WORD: " + word + " (letters and digits of a class name)");
                System.err.print(USAGE);
                System.exit(2);
            }
        }
        // The JDK's HTTP server reads its settings once, when its first server starts: serve.java's come
        // first, with a request timeout of 3 s instead of 30 so that the stalled-request test is quick.
        System.setProperty("sun.net.httpserver.maxReqTime", "3");
        Class.forName("serve");
        Path classes = Path.of(main.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        LauncherDiscoveryRequest discovery = request()
            .selectors(selectClasspathRoots(Set.of(classes)))
            .filters(includeClassNamePatterns(args.length == 0 ? new String[] {".*Test"}
                : java.util.Arrays.stream(args).map(word -> ".*" + word + ".*").toArray(String[]::new)))
            .build();
        SummaryGeneratingListener summary = new SummaryGeneratingListener();
        Launcher launcher = LauncherFactory.create();
        launcher.execute(discovery, summary, new Progress());
        TestExecutionSummary s = summary.getSummary();
        PrintWriter out = new PrintWriter(System.out, true);
        s.printFailuresTo(out, 20);
        long failed = s.getTestsFailedCount() + s.getTestsAbortedCount();
        out.println(s.getTestsSucceededCount() + " passed, " + failed + " failed"
            + (s.getTestsSkippedCount() > 0 ? ", " + s.getTestsSkippedCount() + " skipped" : ""));
        System.exit(failed == 0 && s.getTestsFoundCount() > 0 ? 0 : 1);
    }

    /** One line per finished test, so that a slow suite shows where it is. */
    static final class Progress implements TestExecutionListener {
        @Override
        public void executionFinished(TestIdentifier id, TestExecutionResult result) {
            if (!id.isTest()) return;
            String mark = switch (result.getStatus()) {
                case SUCCESSFUL -> "ok  ";
                case FAILED -> "FAIL";
                case ABORTED -> "ABORT";
            };
            System.out.println(mark + " " + id.getLegacyReportingName().replaceAll("\\s+", " "));
        }

        @Override
        public void executionSkipped(TestIdentifier id, String reason) {
            System.out.println("skip " + id.getDisplayName() + ": " + reason);
        }
    }
}
