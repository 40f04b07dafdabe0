package call;

/** Work other than the article's: a command (--run), a Java function. What it throws fails the call. */
public interface Work {
    Result work(Call call, Received received) throws Exception;
}
