package call;

/** Work other than the article's: a command (--run), a Java function. What it throws fails the call; null is the article's answer (print_r). */
public interface Work {
    Result work(Call call, Received received) throws Exception;
}
