using System.Buffers;
using System.Net;

namespace Lumiku.Worker.Flux;

/// <summary>
/// A provider answer's body, read whole into a buffer rented from the shared pool and never past a
/// cap: no per-job Large Object Heap allocation and no copy on the way. The buffer goes back to the
/// pool when the content is disposed, unless <see cref="TakeBuffer"/> handed it on.
/// </summary>
public sealed class FluxBufferedContent : HttpContent
{
    private const int InitialBuffer = 64 * 1024;

    private byte[]? _buffer;

    private FluxBufferedContent(byte[]? buffer, int length, bool overCap)
    {
        _buffer = buffer;
        Length = length;
        OverCap = overCap;
    }

    /// <summary>Bytes held; with <see cref="OverCap"/>, the first cap + 1 at most.</summary>
    public int Length { get; }

    /// <summary>The provider sent (or declared) more than the cap; the rest was never read.</summary>
    public bool OverCap { get; }

    public ReadOnlyMemory<byte> Memory => _buffer is { } buffer ? buffer.AsMemory(0, Length) : ReadOnlyMemory<byte>.Empty;

    /// <summary>
    /// Reads <paramref name="original"/> (and disposes it) into a pooled buffer, sized by Content-Length
    /// when there is one, stopping as soon as it passes <paramref name="cap"/>; a declared length over
    /// the cap is not read at all. Headers are kept.
    /// </summary>
    public static async Task<FluxBufferedContent> ReadAsync(HttpContent original, int cap, CancellationToken cancellationToken)
    {
        using (original)
        {
            var declared = original.Headers.ContentLength;
            if (declared > cap)
            {
                return WithHeaders(new FluxBufferedContent(null, 0, overCap: true), original);
            }

            var stream = await original.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            await using (stream.ConfigureAwait(false))
            {
                // With a Content-Length the transport never gives more than that, so an exact buffer does.
                var buffer = ArrayPool<byte>.Shared.Rent(declared is { } length ? Math.Max(1, (int)length) : InitialBuffer);
                var filled = 0;
                try
                {
                    while (true)
                    {
                        if (filled == buffer.Length)
                        {
                            if (declared is not null)
                            {
                                break;
                            }

                            buffer = Grow(buffer, filled, cap);
                        }

                        var read = await stream.ReadAsync(buffer.AsMemory(filled), cancellationToken).ConfigureAwait(false);
                        if (read == 0)
                        {
                            break;
                        }

                        filled += read;
                        if (filled > cap)
                        {
                            break;
                        }
                    }
                }
                catch
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    throw;
                }

                return WithHeaders(new FluxBufferedContent(buffer, filled, overCap: filled > cap), original);
            }
        }
    }

    /// <summary>Hands the pooled buffer (its first <see cref="Length"/> bytes) to the caller, who returns it to the pool.</summary>
    public byte[] TakeBuffer() =>
        Interlocked.Exchange(ref _buffer, null) ?? throw new InvalidOperationException("The buffer was already taken or returned.");

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
        stream.WriteAsync(Memory).AsTask();

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken) =>
        stream.WriteAsync(Memory, cancellationToken).AsTask();

    protected override bool TryComputeLength(out long length)
    {
        length = Length;
        return true;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && Interlocked.Exchange(ref _buffer, null) is { } buffer)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        base.Dispose(disposing);
    }

    private static FluxBufferedContent WithHeaders(FluxBufferedContent content, HttpContent original)
    {
        foreach (var header in original.Headers)
        {
            content.Headers.TryAddWithoutValidation(header.Key, header.Value);
        }

        return content;
    }

    private static byte[] Grow(byte[] buffer, int filled, int cap)
    {
        // One byte past the cap is enough to tell "over the cap".
        var size = (int)Math.Min((long)cap + 1, Math.Max(buffer.Length * 2L, InitialBuffer));
        var bigger = ArrayPool<byte>.Shared.Rent(size);
        buffer.AsSpan(0, filled).CopyTo(bigger);
        ArrayPool<byte>.Shared.Return(buffer);
        return bigger;
    }
}
