namespace Lumiku.Tests.Infrastructure;

/// <summary>Where the repository's projects are, found from the test binary's folder.</summary>
public static class RepoPaths
{
    public static string Root { get; } = FindRoot();

    public static string Project(string name) => Path.Combine(Root, name);

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Lumiku.Aspire.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("Lumiku.Aspire.sln not found above " + AppContext.BaseDirectory);
    }
}
