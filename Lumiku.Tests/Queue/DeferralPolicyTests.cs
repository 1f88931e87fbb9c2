using Lumiku.Generation;
using Lumiku.Worker.Flux;
using Lumiku.Worker.Queue;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Polly.CircuitBreaker;

namespace Lumiku.Tests.Queue;

/// <summary>What happens to a job after a failure, on a fake clock.</summary>
public sealed class DeferralPolicyTests
{
    private static readonly DateTimeOffset Submitted = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);

    private readonly FakeTimeProvider _time = new(Submitted.AddMinutes(1));
    private readonly DeferralPolicy _policy;

    public DeferralPolicyTests()
    {
        var worker = new WorkerOptions
        {
            JobDeadline = TimeSpan.FromMinutes(15),
            DeferDelay = TimeSpan.FromSeconds(10),
            MaxDeferDelay = TimeSpan.FromMinutes(2),
            RetryDelay = TimeSpan.FromSeconds(1),
            MaxDeliveries = 5,
        };
        var flux = new FluxOptions { Resilience = { CircuitBreakerBreakDuration = TimeSpan.FromSeconds(30) } };
        _policy = new DeferralPolicy(Options.Create(worker), new StaticMonitor<FluxOptions>(flux), _time);
    }

    [Theory]
    [InlineData(400, FluxErrorCodes.BadRequest)]
    [InlineData(401, FluxErrorCodes.Unauthorized)]
    [InlineData(402, FluxErrorCodes.PaymentRequired)]
    [InlineData(403, FluxErrorCodes.Forbidden)]
    [InlineData(404, FluxErrorCodes.ModelNotFound)]
    [InlineData(410, FluxErrorCodes.Gone)]
    [InlineData(422, FluxErrorCodes.ValidationFailed)]
    public void FinalProviderAnswer_FailsAtOnce(int status, string code)
    {
        var (classified, retryable) = FluxErrorClassifier.Classify(status);
        Assert.Equal(code, classified);

        var decision = _policy.Decide(Job(), new FluxException(code, "no", retryable, status));

        Assert.Equal(DeferralAction.Fail, decision.Action);
        Assert.False(decision.PastDeadline);
    }

    [Fact]
    public void ProviderSaysLater_WithRetryAfter_WaitsThatLong()
    {
        var decision = _policy.Decide(Job(), Unavailable(retryAfter: TimeSpan.FromSeconds(42)));

        Assert.Equal(DeferralAction.RetryLater, decision.Action);
        Assert.Equal(_time.GetUtcNow().AddSeconds(42), decision.DueAt);
        Assert.Equal(TimeSpan.Zero, decision.CloseIntakeFor);
    }

    [Theory]
    [InlineData(0, 10)]
    [InlineData(1, 20)]
    [InlineData(3, 80)]
    [InlineData(9, 120)]
    public void ProviderSaysLater_WithoutAWait_BacksOffPerDeferral_UpToTheCap(int deferrals, int seconds)
    {
        var decision = _policy.Decide(Job(deferrals), Unavailable());

        Assert.Equal(_time.GetUtcNow().AddSeconds(seconds), decision.DueAt);
    }

    [Fact]
    public void ProviderSaysLater_NeverWaitsPastTheDeadline_AndFailsOnceItHasPassed()
    {
        _time.SetUtcNow(Submitted.AddMinutes(15).AddSeconds(-5));
        var lastTry = _policy.Decide(Job(), Unavailable(retryAfter: TimeSpan.FromMinutes(1)));
        Assert.Equal(DeferralAction.RetryLater, lastTry.Action);
        Assert.Equal(Submitted.AddMinutes(15), lastTry.DueAt);

        _time.SetUtcNow(Submitted.AddMinutes(15));
        var after = _policy.Decide(Job(), Unavailable());
        Assert.Equal(DeferralAction.Fail, after.Action);
        Assert.True(after.PastDeadline);
    }

    [Fact]
    public void BreakerOpen_RequeuesAtOnce_AndClosesTheIntakeUntilTheBreakerMayHalfOpen()
    {
        var open = new FluxException(FluxErrorCodes.CircuitOpen, "open", retryable: true, inner: new BrokenCircuitException(TimeSpan.FromSeconds(7)));

        var decision = _policy.Decide(Job(), open);

        Assert.Equal(DeferralAction.RequeueNow, decision.Action);
        Assert.Equal(_time.GetUtcNow(), decision.DueAt);
        Assert.Equal(TimeSpan.FromSeconds(7), decision.CloseIntakeFor);
    }

    [Fact]
    public void BreakerOpen_WithoutItsRetryAfter_ClosesTheIntakeForTheBreakDuration()
    {
        var decision = _policy.Decide(Job(), new FluxException(FluxErrorCodes.CircuitOpen, "open", retryable: true));

        Assert.Equal(TimeSpan.FromSeconds(30), decision.CloseIntakeFor);
    }

    [Fact]
    public void FailedLocalStep_IsRetriedWithDoublingWaits_UntilTheDeliveryLimit()
    {
        Assert.Equal(
            [TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(8), null],
            Enumerable.Range(1, 5).Select(_policy.StepRetryDelay));
    }

    [Fact]
    public void ClassifiedAnswer_CarriesTheWaitTheProviderNamed()
    {
        var loading = new ProviderError(FluxModels.Dev, 503, "Service Unavailable", "loading", null, EstimatedTimeSeconds: 12.5);
        var limited = new ProviderError(FluxModels.Dev, 429, "Too Many Requests", "slow down", null, null) { RetryAfter = TimeSpan.FromSeconds(3) };
        var call = new FluxCallState(new FluxRequest("p", null, 512, 512, 1, FluxModels.Dev), new Lumiku.Worker.Flux.Providers.FluxProviderSet(new FluxOptions(), TimeProvider.System), 0);

        Assert.Equal(TimeSpan.FromSeconds(12.5), FluxErrorClassifier.FromResponse(loading, call).RetryAfter);
        Assert.Equal(TimeSpan.FromSeconds(3), FluxErrorClassifier.FromResponse(limited, call).RetryAfter);
        Assert.Equal(TimeSpan.FromSeconds(9), FluxErrorClassifier.FromException(new BrokenCircuitException(TimeSpan.FromSeconds(9)), call).RetryAfter);
    }

    private static GenerationRecord Job(int deferrals = 0) => new()
    {
        Id = "gen1",
        UserId = "user1",
        Status = GenerationStatus.Processing,
        Prompt = "p",
        Model = FluxModels.Dev,
        CreatedAt = Submitted,
        Deferrals = deferrals,
    };

    private static FluxException Unavailable(TimeSpan? retryAfter = null) =>
        new(FluxErrorCodes.Unavailable, "503", retryable: true, 503) { RetryAfter = retryAfter };

    private sealed class StaticMonitor<T>(T value) : IOptionsMonitor<T>
    {
        public T CurrentValue => value;

        public T Get(string? name) => value;

        public IDisposable? OnChange(Action<T, string?> listener) => null;
    }
}
