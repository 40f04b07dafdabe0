package cli;

import java.time.Duration;

/**
 * The command-line words of a script, walked once, as jwebserver walks its options: each option
 * takes its value with one of these, and a bad one is an IllegalArgumentException whose message is
 * the fixed "no value given for X" or "invalid value given for X: V".
 */
public final class Args {
    private final String[] words;
    private int at = -1;

    public Args(String... words) {
        this.words = words;
    }

    public boolean hasNext() {
        return at + 1 < words.length;
    }

    /** The next word: an option, or an operand. */
    public String next() {
        return words[++at];
    }

    /** The word last taken. */
    public String current() {
        return words[at];
    }

    /** The value of option, the word after it. */
    public String value(String option) {
        if (!hasNext()) throw new IllegalArgumentException("no value given for " + option);
        return next();
    }

    /** Seconds from 0 to 86400, decimals allowed. */
    public Duration seconds(String option) {
        String s = value(option);
        try {
            double v = Double.parseDouble(s);
            if (v >= 0 && v <= 86_400 && !s.matches(".*[a-zA-Z].*")) return Duration.ofNanos(Math.round(v * 1e9));
        } catch (NumberFormatException bad) {
            // said below
        }
        throw invalid(option, s);
    }

    /** Seconds as seconds(), more than 0. */
    public Duration positiveSeconds(String option) {
        Duration d = seconds(option);
        if (d.isZero()) throw invalid(option, current() + " (more than 0)");
        return d;
    }

    /** A whole number from min to max. */
    public long number(String option, long min, long max) {
        String s = value(option);
        try {
            long v = Long.parseLong(s);
            if (v >= min && v <= max) return v;
        } catch (NumberFormatException bad) {
            // said below
        }
        throw invalid(option, s);
    }

    /** A count of at least 1 (an int). */
    public int count(String option) {
        return (int) number(option, 1, Integer.MAX_VALUE);
    }

    public static IllegalArgumentException invalid(String option, String value) {
        return new IllegalArgumentException("invalid value given for " + option + ": " + value);
    }

    public static IllegalArgumentException unknown(String option) {
        return new IllegalArgumentException("unknown option: " + option);
    }
}
