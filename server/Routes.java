package server;

import call.Call;
import call.Received;
import call.Result;
import call.Work;

import java.util.Map;

/**
 * serve --route PATH CMD: one serve, several kinds of work, as webhook's hooks are: each path its own
 * command (a Command, the CGI contract of --run), any other path of the endpoint the default work.
 */
public final class Routes implements Work {
    private final Map<String, Command> commands;
    private final Work otherwise;

    /** @param otherwise the work of /res.php and /res (one that returns null answers as the article's, print_r) */
    public Routes(Map<String, Command> commands, Work otherwise) {
        this.commands = Map.copyOf(commands);
        this.otherwise = otherwise;
    }

    @Override
    public Result work(Call call, Received received) throws Exception {
        Command command = commands.get(call.uri().getPath()); // decoded, as the server matched it (/m%61il is /mail)
        return command != null ? command.work(call, received) : otherwise.work(call, received);
    }

    /** The paths, with /res.php and /res beside them: the endpoint serves each exactly. */
    public java.util.Set<String> paths() {
        return commands.keySet();
    }

    /** Lines for the log at start: each command's own. */
    public java.util.List<String> started() {
        return commands.values().stream().flatMap(c -> c.started().stream()).distinct().toList();
    }

    public void stop() {
        commands.values().forEach(Command::stop);
    }
}
