import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIf;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** GET /calls in Chromium: the dashboard asks for the token, counts, lists, filters, runs again and cancels, and follows live. */
class DashboardTest {
    static final String TOKEN = "dashboard-test-token";
    static final String BEARER = "Bearer " + TOKEN;

    static WebElement row(WebDriver d, String id) {
        List<WebElement> rows = d.findElements(By.cssSelector("tr[data-id='" + id + "']"));
        return rows.isEmpty() ? null : rows.get(0);
    }

    /** Clicks what the selector finds, in one step of the page: its rows are made anew each time it reads the calls again. */
    static void click(ChromeDriver d, String selector) {
        d.executeScript("document.querySelector(arguments[0]).click()", selector);
    }

    /** Waits until the call's row shows state. */
    static void awaitRow(WebDriverWait wait, String id, String state) {
        wait.until(d -> state.equals(((ChromeDriver) d).executeScript(
            "const r = document.querySelector(arguments[0]); return r && r.dataset.state", "tr[data-id='" + id + "']")));
    }

    static void awaitCount(WebDriverWait wait, String state, int n) {
        wait.until(d -> d.findElements(By.cssSelector("[data-count='" + state + "'][data-n='" + n + "']")).size() == 1);
    }

    @Test
    @EnabledIf(value = "Browser#installed", disabledReason = Browser.MISSING)
    void theDashboardListsFiltersRunsAgainAndCancelsCallsAndFollowsThemLive(@TempDir Path dir) throws Exception {
        Path fixed = dir.resolve("fixed"), gate = dir.resolve("gate");
        String script = "case \"$QUERY_STRING\" in fail) [ -e " + Support.quote(fixed.toString()) + " ] || { echo broken >&2; exit 1; };;"
            + " hold) while [ ! -e " + Support.quote(gate.toString()) + " ]; do sleep 0.05; done;; esac; echo ok";
        try (TestServer server = new TestServer("--store", dir.resolve("calls.db").toString(), "--workers", "1", "--attempts", "1",
                "--token-file", Files.writeString(dir.resolve("token"), TOKEN).toString(), "--run", script)) {
            String failed = RetryTest.id(RetryTest.call(server.url("/res.php?fail"), "Authorization", BEARER));
            RetryTest.end(server, "/calls/" + failed, 1);
            String held = RetryTest.id(RetryTest.call(server.url("/res.php?hold"), "Authorization", BEARER));
            String queued = RetryTest.id(RetryTest.call(server.url("/res.php?queued"), "Authorization", BEARER));
            ChromeDriver driver = Browser.start(1400, 900);
            try {
                WebDriverWait wait = new WebDriverWait(driver, Duration.ofSeconds(15));
                driver.get(server.url("/calls").toString());
                // No data without the token: the page asks for it once, and keeps it in the tab.
                wait.until(d -> d.findElement(By.id("token")).isDisplayed());
                driver.findElement(By.id("token-value")).sendKeys(TOKEN);
                driver.findElement(By.cssSelector("#token button")).click();
                awaitCount(wait, "failed", 1);
                awaitCount(wait, "working", 1);
                awaitCount(wait, "queued", 1);
                assertEquals(3, driver.findElements(By.cssSelector("tbody tr[data-id]")).size());
                assertEquals(null, driver.executeScript("return document.cookie || null"), "the token is in no cookie");

                new Select(driver.findElement(By.id("f-state"))).selectByVisibleText("failed");
                driver.findElement(By.cssSelector("#filters button:not([type])")).click();
                wait.until(d -> d.findElements(By.cssSelector("tbody tr[data-id]")).size() == 1 && row(d, failed) != null);
                driver.findElement(By.id("clear")).click();
                wait.until(d -> d.findElements(By.cssSelector("tbody tr[data-id]")).size() == 3);

                click(driver, "tr[data-id='" + queued + "']");
                wait.until(d -> queued.equals(d.findElement(By.id("detail")).getDomAttribute("data-id")));
                click(driver, "#detail [data-action=cancel]");
                awaitRow(wait, queued, "cancelled");

                Files.writeString(fixed, "");
                click(driver, "tr[data-id='" + failed + "']");
                wait.until(d -> failed.equals(d.findElement(By.id("detail")).getDomAttribute("data-id"))
                    && d.findElement(By.cssSelector("#detail [data-action=retry]")).isEnabled());
                assertTrue(driver.findElement(By.id("d-tries")).getText().contains("broken"), driver.findElement(By.id("d-tries")).getText());
                click(driver, "#detail [data-action=retry]");
                awaitRow(wait, failed, "queued"); // behind the held call: --workers 1
                Files.writeString(gate, "");
                awaitRow(wait, held, "done");
                awaitRow(wait, failed, "done");
                // A call made elsewhere shows up without a reload.
                String fresh = RetryTest.id(RetryTest.call(server.url("/res.php?fresh"), "Authorization", BEARER));
                awaitRow(wait, fresh, "done");
                awaitCount(wait, "done", 3);
                String shot = System.getenv("DASHBOARD_SCREENSHOT");
                if (shot != null) Files.copy(driver.getScreenshotAs(OutputType.FILE).toPath(), Path.of(shot), StandardCopyOption.REPLACE_EXISTING);
            } finally {
                driver.quit();
            }
        }
    }

    /** 100,000 calls in the store: the page reads one page of them, and its counts, and shows them quickly. */
    @Test
    @EnabledIf(value = "Browser#installed", disabledReason = Browser.MISSING)
    void aHundredThousandStoredCallsAreShownAPageAtATime(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("calls.db");
        try (TestServer made = new TestServer("--store", file.toString())) {
            // its table, made as serve makes it
        }
        long now = System.currentTimeMillis();
        SqliteTest.sqlite3(file, "-write", "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000)"
            + " INSERT INTO asynccall_calls (id, state, accepted_ms, started_ms, finished_ms, status, work_status, attempts, method, uri)"
            + " SELECT printf('%032x', i), CASE i % 10 WHEN 0 THEN 'failed' ELSE 'done' END, " + now + " - (100000 - i) * 10, " + now + ", "
            + now + ", 202, 200, 1, 'GET', '/res.php?n=' || i FROM n");
        try (TestServer server = new TestServer("--store", file.toString())) {
            ChromeDriver driver = Browser.start(1400, 900);
            try {
                long start = System.nanoTime();
                driver.get(server.url("/calls").toString());
                WebDriverWait wait = new WebDriverWait(driver, Duration.ofSeconds(30));
                awaitCount(wait, "done", 90_000);
                wait.until(d -> d.findElements(By.cssSelector("tbody tr[data-id]")).size() == 50);
                long ms = (System.nanoTime() - start) / 1_000_000;
                assertEquals(String.format("%032x", 100_000), driver.executeScript("return document.querySelector('tbody tr[data-id]').dataset.id"));
                click(driver, "#older");
                wait.until(d -> row(d, String.format("%032x", 99_950)) != null);
                assertTrue(ms < 10_000, "100,000 calls stored: counts and the first page shown after " + ms + " ms");
                System.out.println("     dashboard: 100,000 calls stored, counts and the newest 50 shown " + ms + " ms after the request");
            } finally {
                driver.quit();
            }
        }
    }
}
