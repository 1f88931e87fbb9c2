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

    [Fact]
    public void CurveSizes_AreReadAsPositiveIntegers_AndNonsenseIsRefusedWithAReason()
    {
        Assert.Equal([1000, 100000, 1000000], BenchOptions.Parse(["--sizes", "1000, 100_000,1000000"]).Sizes);
        Assert.Contains("positive integers", Assert.Throws<ArgumentException>(() => BenchOptions.Parse(["--sizes", "10,lots"])).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => BenchOptions.Parse(["--sizes", "0"]));
    }

    [Fact]
    public void CompareStacks_KeepsTheOldStacksConcurrency_UnlessTheCommandLineSetsOne()
    {
        Assert.Null(BenchOptions.Parse(["--compare-stacks", "2"]).PeerWorkerConcurrency);
        Assert.Equal(2, BenchOptions.Parse(["--compare-stacks", "2"]).CompareStacks);
        Assert.Equal(8, BenchOptions.Parse(["--compare-stacks", "1", "--worker-concurrency", "8"]).PeerWorkerConcurrency);
    }
}
