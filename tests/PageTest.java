import server.Page;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIf;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The article's page in a real browser: /test.php loads at once, and its four calls turn done live. */
class PageTest {

    @Test
    @EnabledIf(value = "Browser#installed", disabledReason = Browser.MISSING)
    void thePageLoadsAtOnceAndItsFourCallsTurnDoneWithoutAReload() throws Exception {
        try (TestServer server = new TestServer("--sleep", "2")) {
            ChromeDriver driver = Browser.start(1000, 700);
            try {
                driver.get(server.url("/test.php").toString());
                long load = new WebDriverWait(driver, Duration.ofSeconds(10)).until(d -> {
                    Object ms = driver.executeScript("return performance.timing.loadEventEnd - performance.timing.navigationStart");
                    return ms instanceof Number n && n.longValue() > 0 ? n.longValue() : null;
                });
                assertTrue(load < 500, "the page's load event came after " + load + " ms");
                List<WebElement> calls = driver.findElements(By.cssSelector("li[data-call]"));
                assertEquals(List.of("curl-get", "curl-post", "sock-get", "sock-post"),
                    calls.stream().map(e -> e.getDomAttribute("data-call")).toList());
                for (WebElement call : calls) assertEquals("fired", call.getDomAttribute("data-state"), call.getText());
                WebDriverWait fiveSeconds = new WebDriverWait(driver, Duration.ofSeconds(5));
                for (WebElement call : calls) fiveSeconds.until(ExpectedConditions.attributeToBe(call, "data-state", "done"));
                for (WebElement call : calls) assertTrue(call.getText().contains("done at "), call.getText());
                server.log.await("\\[20[02]\\]: (GET|POST) /res\\.php", 4, Duration.ofSeconds(5));
                System.out.println("     page: load event after " + load + " ms, four calls done about 2 s later");
            } finally {
                driver.quit();
            }
        }
    }

    @Test
    void everythingThePageShowsFromARequestIsEscaped() {
        assertEquals("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;", Page.escape("<script>alert('x')</script> & \"q\""));
    }

    @Test
    void theEventsStreamStartsAtOnceLongBeforeTheFirstCallEnds() throws Exception {
        try (TestServer server = new TestServer("--sleep", "30");
             java.net.Socket events = new java.net.Socket("127.0.0.1", server.port())) {
            String page = Support.raw(server.port(), "GET /test.php HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            java.util.regex.Matcher id = java.util.regex.Pattern.compile("/events\\?page=([0-9a-f]{16})").matcher(page);
            assertTrue(id.find(), page);
            events.setSoTimeout(5000); // the calls work 30 s: what comes must come from the stream's start
            events.getOutputStream().write(("GET /events?page=" + id.group(1) + " HTTP/1.1\r\nHost: x\r\n\r\n").getBytes());
            java.io.BufferedReader in = new java.io.BufferedReader(new java.io.InputStreamReader(events.getInputStream()));
            assertEquals("HTTP/1.1 200 OK", in.readLine());
            String line;
            while (!(line = in.readLine()).isEmpty()) {
                if (line.toLowerCase().startsWith("content-type:")) assertTrue(line.contains("text/event-stream"), line);
            }
            assertTrue(in.readLine().matches("[0-9a-f]+"), "a chunk"); // chunked: its size, then the comment line
            assertEquals(": the calls are working", in.readLine());
        }
    }

    @Test
    void thePageIsHtmlWithAStrictContentSecurityPolicyAndEventsNeedAKnownPage() throws Exception {
        try (TestServer server = new TestServer("--sleep", "0")) {
            String page = Support.raw(server.port(), "GET /test.php HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            assertEquals(200, Support.status(page));
            assertTrue(page.toLowerCase().contains("\r\ncontent-security-policy: default-src 'none'; script-src 'nonce-"), page);
            assertEquals(4, page.split("<li data-call=\"").length - 1, page);
            String unknown = Support.raw(server.port(), "GET /events?page=%3Cscript%3E HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            assertEquals(404, Support.status(unknown));
            assertFalse(unknown.contains("<script>"), unknown);
            assertEquals(404, Support.status(Support.raw(server.port(), "POST /test.php HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")));
        }
    }
}
