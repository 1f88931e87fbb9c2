using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;

namespace Lumiku.Worker.Flux;

/// <summary>
/// The <c>probe-models</c> console: one line per event (<c>warn: message</c>), never the exception's
/// stack trace; those go to the debug log.
/// </summary>
public sealed class ProbeConsoleFormatter() : ConsoleFormatter(Name)
{
    public new const string Name = "probe";

    public override void Write<TState>(in LogEntry<TState> logEntry, Microsoft.Extensions.Logging.IExternalScopeProvider? scopeProvider, TextWriter textWriter)
    {
        var message = logEntry.Formatter(logEntry.State, null);
        if (string.IsNullOrEmpty(message))
        {
            return;
        }

        var level = logEntry.LogLevel switch
        {
            LogLevel.Warning => "warn",
            LogLevel.Error => "fail",
            LogLevel.Critical => "crit",
            _ => "info",
        };
        textWriter.WriteLine($"{level}: {message.ReplaceLineEndings(" ")}");
    }
}
