///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 21+
//DEPS org.seleniumhq.selenium:selenium-chrome-driver:4.52.0
//DEPS org.seleniumhq.selenium:selenium-support:4.52.0
//SOURCES ../serve.java ../tests/Browser.java

import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/** Takes docs/test-page.png: the page of a server with --sleep 2, once its four calls are done. */
public class screenshot {
    public static void main(String... args) throws Exception {
        Path out = Path.of(args.length > 0 ? args[0] : "docs/test-page.png");
        try (serve.Server server = serve.Server.start(serve.Options.parse("127.0.0.1:0", "--sleep", "2"), new ByteArrayOutputStream())) {
            ChromeDriver driver = Browser.start(1000, 820);
            try {
                driver.get(server.url() + "/test.php");
                WebDriverWait wait = new WebDriverWait(driver, Duration.ofSeconds(10));
                for (var call : driver.findElements(By.cssSelector("li[data-call]"))) {
                    wait.until(ExpectedConditions.attributeToBe(call, "data-state", "done"));
                }
                Files.write(out, driver.getScreenshotAs(OutputType.BYTES));
                System.out.println("wrote " + out);
            } finally {
                driver.quit();
            }
        }
        System.exit(0);
    }
}
