// The Durable Task Framework as the local host runs it, on this machine: Azurite (in memory) and the host in one
// process, or in processes of their own for the crash recovery. Medians of timed runs after a warm-up.
//   dotnet run -c Release --project bench/Serverless.Bench.Durable -- [throughput|recovery|training|all] [runs]
using System.Globalization;
using Serverless.Bench.Durable;
using Serverless.Testing;

var mode = args.Length > 0 ? args[0] : "all";
var runs = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 3;

var azurite = new AzuriteFixture();
await azurite.InitializeAsync();
try
{
    var report = new List<string>();
    if (mode is "throughput" or "all")
    {
        report.AddRange(await Throughput.RunAsync(azurite.ConnectionString, sequential: 200, fanOut: 1000, runs));
    }

    if (mode is "recovery" or "all")
    {
        report.AddRange(await Recovery.RunAsync(azurite.ConnectionString, runs));
    }

    if (mode is "training" or "all")
    {
        report.AddRange(await TrainingRun.RunAsync(azurite.ConnectionString, runs));
    }

    Console.WriteLine();
    report.ForEach(Console.WriteLine);
    Console.WriteLine($"Machine: {Environment.ProcessorCount} cores, .NET {Environment.Version}, {DateTime.UtcNow:yyyy-MM-dd}");
}
finally
{
    await azurite.DisposeAsync();
}

/// <summary>Medians and ranges of a benchmark's timed runs.</summary>
internal static class Stats
{
    public static double Median(IReadOnlyList<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }

    public static string Range(IEnumerable<double> values, string format) =>
        string.Join(", ", values.Select(v => v.ToString(format, CultureInfo.InvariantCulture)));
}
