using System.Buffers;
using System.Diagnostics;
using System.Text;
using System.Threading.Channels;
using Serverless.Pipeline.Data;

namespace Serverless.Pipeline.Scoring;

/// <summary>
/// Scores a stream of CSV records in one pass on several cores: a reader cuts the bytes into chunks of whole records
/// (about 1 MiB, with the same record scanner the workers use) and numbers them; workers score chunks at once, each with
/// its own <see cref="ChunkScorer"/>; a writer appends their prediction and error lines to the outputs in input order.
/// Reading, scoring and writing overlap, and memory is bounded by the chunks in flight whatever the file's size.
/// </summary>
internal static class ScoringPipeline
{
    private const int ChunkBytes = 1 << 20;

    /// <summary>A record longer than this is an error row, and reading goes on after it.</summary>
    public const int MaxRecordBytes = CsvText.MaxRecordBytes * 2;

    private static readonly string Overlong =
        $"not valid CSV: the record is over {MaxRecordBytes / (1024 * 1024)} MiB (a quoted field never closed, or not a CSV file); it was skipped.";

    /// <summary>Scores the records of <paramref name="records"/> (after the header) into the two outputs.</summary>
    public static async Task<ScoringCounts> RunAsync(
        BatchScorer scorer,
        Stream records,
        string header,
        long firstRow,
        string? keyColumn,
        Stream predictions,
        Stream errors,
        int parallelism,
        CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        parallelism = Math.Max(1, parallelism);
        var work = Channel.CreateBounded<Chunk>(parallelism * 2);
        var order = Channel.CreateBounded<Chunk>(parallelism * 3);
        var delimiter = CsvText.Delimiter(header);
        var scorers = Enumerable.Range(0, parallelism).Select(_ => new ChunkScorer(scorer, header, keyColumn)).ToList();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var reader = Task.Run(() => ReadAsync(records, delimiter, firstRow, work.Writer, order.Writer, stop.Token), stop.Token);
        var workers = scorers.Select(s => Task.Run(() => WorkAsync(s, work.Reader, stop.Token), stop.Token)).ToList();
        long rows = 0, scored = 0, rejected = 0;
        try
        {
            await foreach (var chunk in order.Reader.ReadAllAsync(stop.Token))
            {
                var result = await chunk.Result.Task.WaitAsync(stop.Token);
                await predictions.WriteAsync(result.Predictions.WrittenMemory, stop.Token);
                if (result.Errors.WrittenCount > 0)
                {
                    await errors.WriteAsync(result.Errors.WrittenMemory, stop.Token);
                }

                (rows, scored, rejected) = (rows + result.Rows, scored + result.Scored, rejected + result.Rejected);
                Writers.Return(result.Predictions);
                Writers.Return(result.Errors);
            }

            await reader;
            await Task.WhenAll(workers);
        }
        catch
        {
            await stop.CancelAsync();
            await Task.WhenAll(workers.Append(reader)).ContinueWith(_ => { }, TaskScheduler.Default);
            throw;
        }

        return new ScoringCounts(rows, scored, rejected, clock.Elapsed);
    }

    private static async Task ReadAsync(
        Stream records, char delimiter, long firstRow, ChannelWriter<Chunk> work, ChannelWriter<Chunk> order, CancellationToken cancellationToken)
    {
        try
        {
            var scanner = new CsvRecordScanner<byte>(delimiter);
            var buffer = ArrayPool<byte>.Shared.Rent(ChunkBytes * 2);
            var filled = 0;   // bytes in buffer
            var scanned = 0;  // bytes of buffer the scanner has seen
            var complete = 0; // bytes of buffer in whole records
            var count = 0L;   // whole records in buffer
            var row = firstRow;
            var skipping = false; // inside a record past the limit, dropping its bytes
            while (true)
            {
                // Never past the limit of the record being read, so an overlong record is seen before it is whole.
                var room = Math.Min(buffer.Length - filled, complete + MaxRecordBytes + 1 - filled);
                var read = await records.ReadAsync(buffer.AsMemory(filled, room), cancellationToken);
                filled += read;
                while (scanned < filled)
                {
                    var end = scanner.FindEnd(buffer.AsSpan(scanned, filled - scanned));
                    if (end < 0)
                    {
                        scanned = filled;
                        break;
                    }

                    scanned += end + 1;
                    if (skipping)
                    {
                        Buffer.BlockCopy(buffer, scanned, buffer, 0, filled - scanned);
                        (filled, scanned, complete, skipping) = (filled - scanned, 0, 0, false);
                        continue;
                    }

                    complete = scanned;
                    count++;
                }

                var atEnd = read == 0;
                if (atEnd && filled > complete && !skipping)
                {
                    complete = filled; // the last record, without its line end
                    count++;
                }

                var overlong = !skipping && filled - complete > MaxRecordBytes;
                if (complete > 0 && (atEnd || overlong || complete >= ChunkBytes || filled == buffer.Length))
                {
                    var next = ArrayPool<byte>.Shared.Rent(Math.Max(ChunkBytes * 2, filled - complete + ChunkBytes));
                    buffer.AsSpan(complete, filled - complete).CopyTo(next);
                    await EmitAsync(new Chunk(buffer, complete, row, null), work, order, cancellationToken);
                    row += count;
                    (buffer, filled, scanned, complete, count) = (next, filled - complete, scanned - complete, 0, 0);
                }

                if (atEnd)
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    break;
                }

                if (overlong)
                {
                    // An error row for the record, whose bytes are then dropped up to its end.
                    await EmitAsync(new Chunk(null, 0, row, Overlong), work, order, cancellationToken);
                    row++;
                    (filled, scanned, skipping) = (0, 0, true);
                }
                else if (skipping)
                {
                    // Every byte read so far belongs to the record being skipped.
                    (filled, scanned) = (0, 0);
                }
                else if (filled == buffer.Length)
                {
                    var larger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                    buffer.AsSpan(0, filled).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }
            }

            work.Complete();
            order.Complete();
        }
        catch (Exception ex)
        {
            work.Complete(ex);
            order.Complete(ex);
        }
    }

    private static async Task EmitAsync(Chunk chunk, ChannelWriter<Chunk> work, ChannelWriter<Chunk> order, CancellationToken token)
    {
        await order.WriteAsync(chunk, token);
        await work.WriteAsync(chunk, token);
    }

    private static async Task WorkAsync(ChunkScorer chunkScorer, ChannelReader<Chunk> work, CancellationToken cancellationToken)
    {
        var chars = Array.Empty<char>();
        await foreach (var chunk in work.ReadAllAsync(cancellationToken))
        {
            try
            {
                var predictions = Writers.Rent();
                var errors = Writers.Rent();
                if (chunk.Bytes is null)
                {
                    ChunkScorer.WriteError(errors, chunk.FirstRow, chunk.Problem!);
                    chunk.Result.SetResult(new ChunkResult(predictions, errors, 1, 0, 1));
                    continue;
                }

                if (chars.Length < chunk.Length)
                {
                    chars = new char[Math.Max(chunk.Length, chars.Length * 2)];
                }

                var length = Encoding.UTF8.GetChars(chunk.Bytes.AsSpan(0, chunk.Length), chars);
                ArrayPool<byte>.Shared.Return(chunk.Bytes);
                var (rows, scored, rejected) = chunkScorer.Score(chars.AsSpan(0, length), chunk.FirstRow, predictions, errors);
                chunk.Result.SetResult(new ChunkResult(predictions, errors, rows, scored, rejected));
            }
            catch (Exception ex)
            {
                chunk.Result.SetException(ex);
                throw;
            }
        }
    }

    /// <summary>A chunk of whole records (or, without bytes, a record past the limit), and its result when scored.</summary>
    private sealed record Chunk(byte[]? Bytes, int Length, long FirstRow, string? Problem)
    {
        public TaskCompletionSource<ChunkResult> Result { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private sealed record ChunkResult(
        ArrayBufferWriter<byte> Predictions, ArrayBufferWriter<byte> Errors, long Rows, long Scored, long Rejected);

    /// <summary>Output buffers, reused across chunks and files.</summary>
    private static class Writers
    {
        private static readonly System.Collections.Concurrent.ConcurrentBag<ArrayBufferWriter<byte>> Pool = [];

        public static ArrayBufferWriter<byte> Rent() => Pool.TryTake(out var writer) ? writer : new ArrayBufferWriter<byte>(1 << 16);

        public static void Return(ArrayBufferWriter<byte> writer)
        {
            writer.ResetWrittenCount();
            if (Pool.Count < 64 && writer.Capacity <= 8 << 20)
            {
                Pool.Add(writer);
            }
        }
    }
}
