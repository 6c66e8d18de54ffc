using System.Diagnostics;

namespace Serverless.Pipeline.Scoring;

/// <summary>
/// Where scoring's time goes, per stage, summed over workers (for benchmarks: a timestamp per stage per record costs
/// about 100 ns a record). Set on <see cref="BatchScorer.Stages"/> to collect.
/// </summary>
public sealed class ScoringStages
{
    /// <summary>The stages, in the order a record goes through them.</summary>
    public static readonly string[] Names =
        ["records and fields", "numbers parsed and checked", "categories featurized", "model", "line formatted"];

    private readonly long[] _ticks = new long[Names.Length];

    /// <summary>Each stage's time, summed over the workers that ran it.</summary>
    public IReadOnlyList<TimeSpan> Totals => [.. _ticks.Select(t => Stopwatch.GetElapsedTime(0, t))];

    internal void Add(ReadOnlySpan<long> ticks)
    {
        for (var i = 0; i < ticks.Length; i++)
        {
            Interlocked.Add(ref _ticks[i], ticks[i]);
        }
    }
}
