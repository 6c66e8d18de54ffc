using System.Globalization;
using System.Text;
using Azure.Storage.Blobs;
using Serverless.Pipeline.Data;
using Serverless.Pipeline.Scoring;
using Serverless.Pipeline.Tests.Data;
using Serverless.Pipeline.Training;
using Serverless.Testing;

namespace Serverless.Pipeline.Tests.Scoring;

/// <summary>A real model, trained here, scoring a file whole and in parts.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class BatchScorerTests(AzuriteFixture azurite) : IAsyncLifetime
{
    private FeaturizationPlan _plan = null!;
    private byte[] _model = [];

    public async Task InitializeAsync()
    {
        var training = SyntheticData.CustomersCsv(600, seed: 1, withLabel: true, badEvery: 0);
        var ingestor = new DatasetIngestor(new BlobContainerClient(azurite.ConnectionString, $"sc-{Guid.NewGuid():N}"[..24]), TimeProvider.System);
        var snapshot = await ingestor.IngestAsync(new MemoryStream(Encoding.UTF8.GetBytes(training)), "train.csv", new IngestOptions(Label: "churned"), CancellationToken.None);
        _plan = FeaturizationPlan.Create(snapshot.Schema, snapshot.Profile, "churned");
        _model = new TrialRunner().Run(new MemoryStream(Encoding.UTF8.GetBytes(training)), snapshot, _plan, new TrialConfiguration("LightGbm", new Dictionary<string, double> { ["numberOfIterations"] = 30 })).Model;
    }

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public void Score_WholeFile_PredictionsForValidRowsErrorsForTheRest()
    {
        var input = SyntheticData.CustomersCsv(2000, seed: 2, withLabel: false, badEvery: 97);
        var (header, ranges) = CsvRanges.Split(new MemoryStream(Encoding.UTF8.GetBytes(input)), 1);
        var (predictions, errors, counts) = ScoreParts(input, header, ranges);

        var bad = Enumerable.Range(1, 2000).Count(i => i % 97 == 0);
        Assert.Equal((2000L, 2000L - bad, (long)bad), (counts.RowsIn, counts.RowsScored, counts.RowsRejected));
        Assert.Equal(2000 - bad, predictions.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        var firstError = errors.Split('\n', StringSplitOptions.RemoveEmptyEntries)[0].Trim();
        Assert.Equal("98,column 2: 'not-a-number' is not a number", firstError);
        var firstPrediction = predictions.Split('\n')[0].Split(',');
        Assert.Equal(("2", "C-0001"), (firstPrediction[0], firstPrediction[1]));
        Assert.Contains(firstPrediction[2], new[] { "no", "yes" });
        Assert.InRange(double.Parse(firstPrediction[3], CultureInfo.InvariantCulture), 0, 1);
    }

    /// <summary>Badly quoted records in the middle of a part are error rows; every record after them is scored (before: the part stopped there).</summary>
    [Fact]
    public void Score_BadQuotingMidPart_ErrorRowsAndTheRestScored()
    {
        var lines = SyntheticData.CustomersCsv(3000, seed: 2, withLabel: false, badEvery: 0).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        lines[9] = "C-0009,\"1.5\"x,0.3,red";
        lines[1500] = "C-1500,1\"5,0.3,red";
        var input = string.Join('\n', lines) + "\n";
        var (header, ranges) = CsvRanges.Split(new MemoryStream(Encoding.UTF8.GetBytes(input)), 1);

        var (predictions, errors, counts) = ScoreParts(input, header, ranges);

        Assert.Equal((3000L, 2998L, 2L), (counts.RowsIn, counts.RowsScored, counts.RowsRejected));
        var errorLines = errors.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("10,\"not valid CSV: field 2: text after a closing quote", errorLines[0], StringComparison.Ordinal);
        Assert.StartsWith("1501,\"not valid CSV: field 2: a quote inside an unquoted field", errorLines[1], StringComparison.Ordinal);
        Assert.StartsWith("3001,", predictions.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1], StringComparison.Ordinal);
    }

    /// <summary>A record past the reader's limit (a 3 MB line) is an error row that says it was skipped; the records after it are scored.</summary>
    [Fact]
    public void Score_RecordPastTheLimit_ErrorRowAndTheRestScored()
    {
        var lines = SyntheticData.CustomersCsv(100, seed: 2, withLabel: false, badEvery: 0).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        lines[50] = $"C-0050,{new string('9', 3_000_000)},0.3,red";
        var input = string.Join('\n', lines) + "\n";
        var (header, ranges) = CsvRanges.Split(new MemoryStream(Encoding.UTF8.GetBytes(input)), 1);

        var (_, errors, counts) = ScoreParts(input, header, ranges);

        Assert.Equal((100L, 99L, 1L), (counts.RowsIn, counts.RowsScored, counts.RowsRejected));
        Assert.StartsWith("51,", errors, StringComparison.Ordinal);
        Assert.Contains("over 2 MiB", errors, StringComparison.Ordinal);
        Assert.Contains("skipped", errors, StringComparison.Ordinal);
    }

    [Fact]
    public void Score_InParts_MergedInInputOrderEqualsWhole()
    {
        var input = SyntheticData.CustomersCsv(5000, seed: 3, withLabel: false, badEvery: 250);
        var bytes = Encoding.UTF8.GetBytes(input);
        var (header, whole) = CsvRanges.Split(new MemoryStream(bytes), 1);
        var (_, parts) = CsvRanges.Split(new MemoryStream(bytes), 4);

        var one = ScoreParts(input, header, whole);
        var four = ScoreParts(input, header, parts);

        Assert.Equal(4, parts.Count);
        Assert.Equal(one.Predictions, four.Predictions);
        Assert.Equal(one.Errors, four.Errors);
        Assert.Equal((one.Counts.RowsIn, one.Counts.RowsScored, one.Counts.RowsRejected), (four.Counts.RowsIn, four.Counts.RowsScored, four.Counts.RowsRejected));
    }

    /// <summary>Tree ensembles score through their own evaluator (QuickScorer); every line matches ML.NET's engine.</summary>
    [Fact]
    public void Score_TreeModel_QuickScorerMatchesMlNetEngine()
    {
        var scorer = new BatchScorer(new MemoryStream(_model), _plan);
        var input = SyntheticData.CustomersCsv(3000, seed: 4, withLabel: false, badEvery: 0);
        var (header, ranges) = CsvRanges.Split(new MemoryStream(Encoding.UTF8.GetBytes(input)), 1);
        using var lines = new StringWriter();
        scorer.Score(new MemoryStream(Encoding.UTF8.GetBytes(input), (int)ranges[0].Offset, (int)ranges[0].Length), header, 2, "customer_id", lines, TextWriter.Null);

        var builder = new FeatureRowBuilder(_plan, BatchScorer.ParseHeader(header), "customer_id");
        var mlNet = scorer.CreateMlNetPredictor();
        var expected = input.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select((line, i) => mlNet(builder.TryBuild(line.Split(','), i + 2, out _)!)).ToList();
        var actual = lines.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(',')).ToList();

        Assert.True(scorer.EvaluatesTrees);
        Assert.Equal(3000, actual.Count);
        Assert.Equal(expected.Select(e => e.Label), actual.Select(a => a[2]));
        Assert.All(expected.Zip(actual), p => Assert.InRange(double.Parse(p.Second[^1], CultureInfo.InvariantCulture) - p.First.Value, -2e-6, 2e-6));
        Assert.Contains("yes", actual.Select(a => a[2]));
        Assert.Contains("no", actual.Select(a => a[2]));
    }

    /// <summary>
    /// A file whose lines end with a lone CR is refused at its header, saying why (before, it was one line: its header,
    /// and nothing was scored); CRLF files and a CR inside quotes are read as before.
    /// </summary>
    [Fact]
    public void ReadHeader_LoneCarriageReturns_RefusedSayingSo()
    {
        static Stream Text(string text) => new MemoryStream(Encoding.UTF8.GetBytes(text));

        var error = Assert.Throws<FormatException>(() => CsvRanges.ReadHeader(Text("customer_id,x1\rC-1,2\rC-2,3\r")));

        Assert.Contains("lone carriage return", error.Message, StringComparison.Ordinal);
        Assert.Equal(("customer_id,x1", 16L), CsvRanges.ReadHeader(Text("customer_id,x1\r\nC-1,2\r\n")));
        Assert.Equal(("\"a\rb\",x1", 9L), CsvRanges.ReadHeader(Text("\"a\rb\",x1\nC-1,2\n")));
    }

    [Fact]
    public void Split_QuotedLineBreaks_NeverCutsARecord()
    {
        var text = new StringBuilder("id,notes\n");
        for (var i = 0; i < 300; i++)
        {
            text.Append(CultureInfo.InvariantCulture, $"{i},\"line one\nline two, with \"\"quotes\"\"\"\n");
        }

        var bytes = Encoding.UTF8.GetBytes(text.ToString());
        var (header, ranges) = CsvRanges.Split(new MemoryStream(bytes), 7);

        Assert.Equal("id,notes", header);
        Assert.Equal(bytes.Length - ranges[0].Offset, ranges.Sum(r => r.Length));
        var counted = 0L;
        foreach (var range in ranges)
        {
            Assert.Equal(counted + 2, range.FirstRow);
            var part = Encoding.UTF8.GetString(bytes, (int)range.Offset, (int)range.Length);
            Assert.StartsWith($"{counted},\"line one", part, StringComparison.Ordinal);
            counted += part.Split("line two").Length - 1;
        }

        Assert.Equal(300, counted);
    }

    [Fact]
    public void Score_InputWithoutAFeatureColumn_NamesIt()
    {
        var scorer = new BatchScorer(new MemoryStream(_model), _plan);

        var error = Assert.Throws<ArgumentException>(() => scorer.Score(new MemoryStream([]), "customer_id,x1,color", 2, null, TextWriter.Null, TextWriter.Null));

        Assert.Contains("'x2'", error.Message, StringComparison.Ordinal);
    }

    private (string Predictions, string Errors, ScoringCounts Counts) ScoreParts(string input, string header, IReadOnlyList<CsvRange> ranges)
    {
        var bytes = Encoding.UTF8.GetBytes(input);
        var scorer = new BatchScorer(new MemoryStream(_model), _plan);
        var predictions = new StringBuilder();
        var errors = new StringBuilder();
        var counts = new List<ScoringCounts>();
        foreach (var range in ranges)
        {
            // Each part is scored on its own, as a separate activity would, then appended in range order.
            using var partPredictions = new StringWriter();
            using var partErrors = new StringWriter();
            counts.Add(scorer.Score(new MemoryStream(bytes, (int)range.Offset, (int)range.Length), header, range.FirstRow, "customer_id", partPredictions, partErrors));
            predictions.Append(partPredictions);
            errors.Append(partErrors);
        }

        return (predictions.ToString(), errors.ToString(), ScoringCounts.Sum(counts));
    }
}
