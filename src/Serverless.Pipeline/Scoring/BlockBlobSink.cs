using System.Buffers;
using System.Text;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;

namespace Serverless.Pipeline.Scoring;

/// <summary>
/// A write-only stream into a block blob that stages its blocks several at a time while the writer goes on (the SDK's
/// write stream stages one block and waits), and commits them in order only at <see cref="CompleteAsync"/>: a writer
/// that fails half-way leaves the blob as it was, not a partial file.
/// </summary>
internal sealed class BlockBlobSink(BlockBlobClient blob, string contentType, int blockBytes = 4 << 20, int inFlight = 4) : Stream
{
    private readonly List<string> _blocks = [];
    private readonly List<Task> _staging = [];
    private readonly SemaphoreSlim _slots = new(inFlight);
    private byte[] _buffer = ArrayPool<byte>.Shared.Rent(blockBytes);
    private int _filled;
    private long _length;
    private bool _completed;

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => !_completed;

    public override long Length => _length;

    public override long Position { get => _length; set => throw new NotSupportedException(); }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_completed, this);
        while (buffer.Length > 0)
        {
            var take = Math.Min(buffer.Length, blockBytes - _filled);
            buffer.Span[..take].CopyTo(_buffer.AsSpan(_filled));
            (_filled, _length, buffer) = (_filled + take, _length + take, buffer[take..]);
            if (_filled == blockBytes)
            {
                await StageAsync(cancellationToken);
            }
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer, offset, count).GetAwaiter().GetResult();

    /// <summary>Stages what is left, waits for every block, and commits them in order: the blob now holds what was written.</summary>
    public async Task CompleteAsync(CancellationToken cancellationToken)
    {
        if (_filled > 0 || _blocks.Count == 0)
        {
            await StageAsync(cancellationToken);
        }

        await Task.WhenAll(_staging);
        var options = new CommitBlockListOptions { HttpHeaders = new BlobHttpHeaders { ContentType = contentType } };
        await blob.CommitBlockListAsync(_blocks, options, cancellationToken);
        _completed = true;
    }

    public override void Flush()
    {
    }

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override async ValueTask DisposeAsync()
    {
        // Without CompleteAsync nothing is committed; staged blocks the service drops on its own after a week.
        await Task.WhenAll(_staging).ContinueWith(_ => { }, TaskScheduler.Default);
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = [];
        _slots.Dispose();
        await base.DisposeAsync();
    }

    private async Task StageAsync(CancellationToken cancellationToken)
    {
        // Fails fast: a block that failed to stage stops the writer at its next block.
        foreach (var failed in _staging.Where(t => t.IsFaulted))
        {
            await failed;
        }

        await _slots.WaitAsync(cancellationToken);
        var id = Convert.ToBase64String(Encoding.ASCII.GetBytes($"block-{_blocks.Count:D8}"));
        _blocks.Add(id);
        var (block, length) = (_buffer, _filled);
        (_buffer, _filled) = (ArrayPool<byte>.Shared.Rent(blockBytes), 0);
        _staging.Add(Task.Run(
            async () =>
            {
                try
                {
                    using var content = new MemoryStream(block, 0, length, writable: false);
                    await blob.StageBlockAsync(id, content, cancellationToken: cancellationToken);
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(block);
                    _slots.Release();
                }
            },
            cancellationToken));
    }
}
