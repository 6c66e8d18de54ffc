using System.Globalization;
using System.Text.Json;

namespace Serverless.Bench.Quality;

/// <summary>One split: the app's test metric, its run's seconds and peak memory, its trainer, the baseline, and the peers (metric, seconds).</summary>
internal sealed record SplitResult(
    string Split, double Ours, double Seconds, double PeakMiB, string Trainer, double Baseline, IReadOnlyDictionary<string, (double Value, double Seconds)> Peers);

internal sealed record DatasetResult(string Name, JsonElement Info, IReadOnlyList<SplitResult> Splits);

/// <summary>The markdown table for docs/BENCHMARKS.md, and the count the issue's goal is about.</summary>
internal static class Report
{
    /// <summary>Within this much of the best peer counts as "close" (the goal's tolerance).</summary>
    private const double Tolerance = 0.005;

    public static void Write(IReadOnlyList<DatasetResult> rows)
    {
        Console.WriteLine("| dataset | rows × features (categorical, missing cells) | metric | this app | best peer | gap | LightGBM defaults | HistGB · GB · linear | app's run, s (median) | peak MiB | chosen |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|---|");
        var (met, close) = (0, 0);
        foreach (var row in rows)
        {
            var peers = row.Splits[0].Peers.Keys.ToDictionary(p => p, p => row.Splits.Average(s => s.Peers[p].Value));
            var best = peers.MaxBy(p => p.Value);
            var ours = row.Splits.Average(s => s.Ours);
            var gap = ours - best.Value;
            met += gap >= 0 ? 1 : 0;
            close += gap < 0 && gap >= -Tolerance ? 1 : 0;
            var info = row.Info;
            var metric = info.GetProperty("metric").GetString() switch { "auc" => "AUC", "macroAccuracy" => "macro accuracy", _ => "R²" };
            var splits = row.Splits.Count > 1 ? $" ({row.Splits.Count} splits)" : string.Empty;
            var linear = peers.Where(p => p.Key is "LogisticRegression" or "Ridge").Select(p => p.Value).Single();
            string[] cells =
            [
                $"{row.Name}{splits}",
                string.Create(CultureInfo.InvariantCulture, $"{info.GetProperty("rows").GetInt32():N0} × {info.GetProperty("features").GetInt32()}"
                    + $" ({info.GetProperty("categorical").GetInt32()}, {info.GetProperty("missing").GetInt32():N0})"),
                metric,
                $"**{F(ours)}**",
                $"{F(best.Value)} {best.Key}",
                (gap >= 0 ? "+" : string.Empty) + F(gap),
                F(row.Splits.Average(s => s.Baseline)),
                $"{F(Peer(peers, "HistGradientBoosting"))} · {F(Peer(peers, "GradientBoosting"))} · {F(linear)}",
                Median(row.Splits.Select(s => s.Seconds)).ToString("0.0", CultureInfo.InvariantCulture),
                row.Splits.Max(s => s.PeakMiB).ToString("0", CultureInfo.InvariantCulture),
                string.Join(", ", row.Splits.Select(s => s.Trainer)),
            ];
            Console.WriteLine($"| {string.Join(" | ", cells)} |");
        }

        Console.WriteLine();
        Console.WriteLine($"Reaches or beats the best peer on {met} of {rows.Count}; within {Tolerance} on {close} more; behind by more on {rows.Count - met - close}.");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Machine: {Environment.ProcessorCount} cores, .NET {Environment.Version}, {DateTime.UtcNow:yyyy-MM-dd}"));
    }

    private static double Peer(Dictionary<string, double> peers, string name) => peers.GetValueOrDefault(name, double.NaN);

    private static string F(double value) => value.ToString("0.0000", CultureInfo.InvariantCulture);

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }
}

/// <summary>The process's peak resident memory (VmHWM), reset between runs through /proc/self/clear_refs.</summary>
internal static class Memory
{
    public static void ResetPeak()
    {
        GC.Collect();
        File.WriteAllText("/proc/self/clear_refs", "5");
    }

    public static double PeakMiB()
    {
        var line = File.ReadLines("/proc/self/status").First(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        return double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024;
    }
}
