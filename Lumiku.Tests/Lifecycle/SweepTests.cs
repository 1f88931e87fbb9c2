using Lumiku.Generation;
using Lumiku.Generation.Redis;
using Lumiku.Tests.Infrastructure;
using Lumiku.Worker.Lifecycle;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using StackExchange.Redis;

namespace Lumiku.Tests.Lifecycle;

/// <summary>
/// The worker's sweeps on a real Redis and a real image folder, with the clock in the test's hand:
/// retention deletes failed and canceled generations after the window and never before, the orphan
/// sweep deletes images no record points to after the grace period, gone consumers leave the group.
/// </summary>
public sealed class SweepTests(TwoApisFixture apis) : IClassFixture<TwoApisFixture>
{
    private static readonly LifecycleOptions Options = new() { FailedDays = 30, OrphanImageGrace = TimeSpan.FromHours(1) };

    private static NewGeneration Job(string user) => new(user, "A portrait for a sweep test", null, 256, 256, null, FluxModels.Schnell);

    private RetentionSweep Retention(TimeProvider time) =>
        new(apis.Store(time), apis.Images, Microsoft.Extensions.Options.Options.Create(Options), TwoApisFixture.Telemetry(), time, NullLogger<RetentionSweep>.Instance);

    [Fact]
    public async Task FailedAndCanceledGenerations_AreGoneAfterTheRetentionWindow_WithTheirImages_NeverBefore_AndAvatarsStay()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var store = apis.Store(time);
        var user = LumikuAppFixture.NewUser("retained");
        var canceled = (await store.SubmitAsync(Job(user))).GenerationId!;
        await store.CancelAsync(canceled, user);
        var failed = (await store.SubmitAsync(Job(user))).GenerationId!;
        await apis.FailAfterImageAsync(store, failed);
        var avatar = (await store.SubmitAsync(Job(user))).GenerationId!;
        await apis.SucceedAsync(store, avatar);

        time.Advance(TimeSpan.FromDays(30) - TimeSpan.FromMinutes(1));
        await Retention(time).SweepOnceAsync(CancellationToken.None);
        Assert.NotNull(await store.GetAsync(canceled));
        Assert.NotNull(await store.GetAsync(failed));
        Assert.NotNull(await apis.Images.OpenAsync(failed) is { } kept ? kept.Content.Length : null);

        time.Advance(TimeSpan.FromMinutes(2));
        var removed = await Retention(time).SweepOnceAsync(CancellationToken.None);
        Assert.True(removed >= 2, $"removed {removed}");
        Assert.Null(await store.GetAsync(canceled));
        Assert.Null(await store.GetAsync(failed));
        Assert.Null(await apis.Images.OpenAsync(failed));
        Assert.Equal([avatar], (await store.ListAsync(user, null, 10)).Items.Select(r => r.Id));
        Assert.NotNull(await apis.Images.OpenAsync(avatar) is { } image ? image.ContentType : null);
        Assert.Equal(0, await Retention(time).SweepOnceAsync(CancellationToken.None));
    }

    [Fact]
    public async Task OrphanImages_AreSweptAfterTheGracePeriod_AndAnImageWithACommittedRecordStays()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var store = apis.Store(time);
        var user = LumikuAppFixture.NewUser("orphans");
        var avatar = (await store.SubmitAsync(Job(user))).GenerationId!;
        await apis.SucceedAsync(store, avatar);
        var orphan = GenerationStore.NewId();
        await apis.Images.SaveAsync(orphan, new byte[] { 4, 5, 6 }, "image/png");
        var sweep = new OrphanImageSweep(store, apis.Images, Microsoft.Extensions.Options.Options.Create(Options), TwoApisFixture.Telemetry(), time, NullLogger<OrphanImageSweep>.Instance);

        await sweep.SweepOnceAsync(CancellationToken.None);
        Assert.NotNull(await apis.Images.OpenAsync(orphan) is { } young ? young.ContentType : null);

        time.Advance(TimeSpan.FromHours(1) + TimeSpan.FromMinutes(1));
        Assert.True(await sweep.SweepOnceAsync(CancellationToken.None) >= 1);
        Assert.Null(await apis.Images.OpenAsync(orphan));
        Assert.NotNull(await apis.Images.OpenAsync(avatar) is { } kept ? kept.ContentType : null);
    }

    [Fact]
    public async Task GoneConsumers_LeaveTheGroup_AndOneHoldingAnEntryStays()
    {
        var store = apis.Store();
        var user = LumikuAppFixture.NewUser("consumers");
        var id = (await store.SubmitAsync(Job(user))).GenerationId!;
        await apis.ReadEntryAsync(id, consumer: "busy-worker");
        // A worker that finished its last job (acked) and then went away.
        var done = (await store.SubmitAsync(Job(user))).GenerationId!;
        var last = await apis.ReadEntryAsync(done, consumer: "gone-worker");
        await apis.Db.StreamAcknowledgeAsync(RedisKeys.Stream, RedisKeys.ConsumerGroup, last.Id);
        await Task.Delay(20);

        var removed = await store.RemoveGoneConsumersAsync(TimeSpan.FromMilliseconds(10));

        Assert.Contains("gone-worker", removed);
        var left = (await apis.Db.StreamConsumerInfoAsync(RedisKeys.Stream, RedisKeys.ConsumerGroup)).Select(c => (string)c.Name!).ToArray();
        Assert.Contains("busy-worker", left);
        Assert.DoesNotContain("gone-worker", left);
    }

    [Fact]
    public async Task TheDeadLetterStream_IsCapped()
    {
        var store = apis.Store();
        for (var i = 0; i < 300; i++)
        {
            await store.DeadLetterMalformedAsync("0-1", "test");
        }

        await store.TrimDeadLettersAsync(100);
        Assert.InRange(await apis.Db.StreamLengthAsync(RedisKeys.DeadLetterStream), 100, 200);
    }
}
