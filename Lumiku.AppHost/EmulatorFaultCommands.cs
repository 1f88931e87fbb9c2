using System.Text;

namespace Aspire.Hosting;

/// <summary>
/// The inference emulator's fault commands in the dashboard: each one <c>PUT</c>s a set of fault
/// knobs to the running emulator's <c>/faults</c> (replacing the previous set), "Faults: clear"
/// goes back to its configuration. For trying the worker's retries, breaker and fallback by hand.
/// </summary>
public static class EmulatorFaultCommands
{
    public static IResourceBuilder<ProjectResource> WithFaultCommands(this IResourceBuilder<ProjectResource> emulator) => emulator
        .WithFaults("fault-provider-down", "Fault: provider down (503)", """{"Error503Rate": 1.0}""", "CloudOff",
            "Every request answers 503 until cleared: the worker retries, then its circuit breaker opens.")
        .WithFaults("fault-free-tier", "Fault: free tier (FLUX.1-dev 400)", """{"Tier": "free"}""", "LockClosed",
            "FLUX.1-dev answers 400 as without PRO access: every job falls back to FLUX.1-schnell.")
        .WithFaults("fault-stall-body", "Fault: stalled image bodies", """{"StallBodyRate": 1.0}""", "HourglassHalf",
            "Image answers send their headers and half the image, then hang: each attempt is cut by the attempt timeout.")
        .WithHttpCommand("/faults", "Faults: clear", commandName: "fault-clear", commandOptions: new HttpCommandOptions
        {
            Method = HttpMethod.Delete,
            Description = "Back to the emulator's configuration.",
            IconName = "ArrowReset",
        });

    private static IResourceBuilder<ProjectResource> WithFaults(this IResourceBuilder<ProjectResource> emulator, string name, string displayName, string faults, string icon, string description) =>
        emulator.WithHttpCommand("/faults", displayName, commandName: name, commandOptions: new HttpCommandOptions
        {
            Method = HttpMethod.Put,
            Description = description,
            IconName = icon,
            PrepareRequest = context =>
            {
                context.Request.Content = new StringContent(faults, Encoding.UTF8, "application/json");
                return Task.CompletedTask;
            },
        });
}
