using System.Globalization;
using System.Text;
using Azure.Storage.Blobs;
using Serverless.Pipeline.Data;
using Serverless.Pipeline.Monitoring;
using Serverless.Pipeline.Tests.Data;
using Serverless.Testing;

namespace Serverless.Pipeline.Tests.Training;

/// <summary>
/// The README's sample data (ages, tenures, a zero-heavy count of calls, amounts, categories, a half-empty notes
/// column, an id), shuffled and split
/// in two: the second half, scored against a profile of the first, drifts nowhere; the same half with the spend
/// shifted drifts there only.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class SampleDataDriftTests(AzuriteFixture azurite)
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task ShuffledHalves_NoColumnDrifts(int seed)
    {
        var (training, scoring) = await HalvesAsync(seed, shift: false);

        var drift = DriftDetector.Compare(training.Profile, scoring, training.Schema.Label);

        Assert.All(drift, d => Assert.True(d.Verdict is DriftVerdict.Stable or DriftVerdict.Skipped, $"{d.Column}: {d.Verdict}, PSI {d.Psi}, p {d.PValue}"));
        Assert.All(drift.Where(d => d.Psi is not null), d => Assert.True(d.Psi < 0.1, $"{d.Column}: PSI {d.Psi}"));
        Assert.Contains(drift, d => d.Column == "customer_id" && d.Verdict == DriftVerdict.Skipped && d.Note == "free text: not compared");
        Assert.Contains(drift, d => d.Column == "notes" && d.Verdict == DriftVerdict.Stable && d.Test == "chi2");
        Assert.Contains(drift, d => d.Column == "support_calls" && d.Verdict == DriftVerdict.Stable && d.Test == "ks");
    }

    [Fact]
    public async Task ShiftedSpend_OnlyItDrifts()
    {
        var (training, scoring) = await HalvesAsync(1, shift: true);

        var drift = DriftDetector.Compare(training.Profile, scoring, training.Schema.Label);

        Assert.Equal(["monthly_spend"], drift.Where(d => d.Verdict == DriftVerdict.Major).Select(d => d.Column));
        Assert.DoesNotContain(drift, d => d.Verdict == DriftVerdict.Moderate);
    }

    private async Task<(DatasetSnapshot Training, IReadOnlyList<ColumnProfile> Scoring)> HalvesAsync(int seed, bool shift)
    {
        var lines = File.ReadAllLines(Path.Combine(RepositoryPaths.Root(), "samples", "training", "churn.csv"));
        var random = new Random(seed);
        var rows = lines[1..].OrderBy(_ => random.Next()).ToArray();
        var half = rows.Length / 2;
        var trainingCsv = string.Join('\n', [lines[0], .. rows[..half]]) + "\n";
        var ingestor = new DatasetIngestor(new BlobContainerClient(azurite.ConnectionString, $"dr-{Guid.NewGuid():N}"[..24]), TimeProvider.System);
        var snapshot = await ingestor.IngestAsync(new MemoryStream(Encoding.UTF8.GetBytes(trainingCsv)), "churn.csv", new IngestOptions(Label: "churned"), CancellationToken.None);

        var spend = Array.IndexOf(lines[0].Split(','), "monthly_spend");
        var other = rows[half..].Select(r => shift ? Shift(r, spend) : r);
        var scoringCsv = string.Join('\n', [lines[0], .. other]) + "\n";
        var columns = snapshot.Schema.Columns.Where(c => c.Name != "churned").ToList();
        return (snapshot, BatchProfiler.Profile(new MemoryStream(Encoding.UTF8.GetBytes(scoringCsv)), columns, 50_000, snapshot.Profile));
    }

    private static string Shift(string row, int column)
    {
        var cells = row.Split(',');
        if (double.TryParse(cells[column], NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
        {
            cells[column] = (value * 1.5).ToString("0.##", CultureInfo.InvariantCulture);
        }

        return string.Join(',', cells);
    }
}
