using Lumiku.LoadTest;

namespace Lumiku.Tests.Bench;

/// <summary>The benchmark's command line for the multi-host comparisons (parsing only: no benchmark runs).</summary>
public sealed class BenchOptionsTests
{
    [Fact]
    public void ApiReplicasAndBlobStorage_AreReadFromTheCommandLine()
    {
        var options = BenchOptions.Parse(["--api-replicas", "2", "--storage", "blob", "--blob-connection-string", "UseDevelopmentStorage=true"]);

        Assert.Equal(2, options.ApiReplicas);
        Assert.Equal("blob", options.Storage);
        Assert.Equal("UseDevelopmentStorage=true", options.BlobConnectionString);
        Assert.Equal("files", BenchOptions.Parse([]).Storage);
        Assert.Equal(1, BenchOptions.Parse([]).ApiReplicas);
    }

    [Fact]
    public void BlobStorage_WithoutAConnectionString_OrAnUnknownStorage_IsRefusedWithAReason()
    {
        if (Environment.GetEnvironmentVariable("ConnectionStrings__images") is null)
        {
            Assert.Contains("--blob-connection-string", Assert.Throws<ArgumentException>(() => BenchOptions.Parse(["--storage", "blob"])).Message, StringComparison.Ordinal);
        }

        Assert.Throws<ArgumentException>(() => BenchOptions.Parse(["--storage", "s3"]));
    }
}
