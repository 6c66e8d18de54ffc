using System.Globalization;
using System.Text;
using Azure.Storage.Blobs;
using Serverless.Pipeline.Data;
using Serverless.Pipeline.Scoring;
using Serverless.Pipeline.Tests.Data;
using Serverless.Pipeline.Training;
using Serverless.Testing;

namespace Serverless.Pipeline.Tests.Scoring;

/// <summary>
/// The compiled path (field text → feature vector → trees or dot product, on several cores) against ML.NET's featurizer
/// and engine on one core, over records that test every rule: missing-value tokens, spaces, unseen and missing
/// categories, quoted keys with commas and quotes, CRLF, empty lines, bad numbers and booleans, wrong field counts, bad
/// quoting, and a last record without its line end.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class CompiledScoringTests(AzuriteFixture azurite)
{
    private const string Header = "customer_id,x1,x2,color,member";

    private static readonly string Tricky = string.Join(
        "\n",
        "C-1,0.5,1.25,red,yes",
        "C-2, 0.5 ,NA,green,no",
        "C-3,,?,blue,Y",
        "\"C-4, Jr.\",1e-3,-2,RED,n",
        "\"C \"\"5\"\"\",-1.5,3,purple,",
        "C-6,1.5,2, blue ,TRUE\r",
        "",
        "C-8,abc,1,red,yes",
        "C-9,1,2,red",
        "C-10,1,2,red,maybe",
        "C-11,\"1\"x,2,red,yes",
        "C-12,1\"5,2,red,yes",
        "C-13,NaN,null,(missing),F",
        "C-14,2,1,-,yes");

    [Theory]
    [InlineData("LightGbm")]
    [InlineData("Lbfgs")]
    [InlineData("FastTree")]
    public async Task Score_CompiledOnCores_EqualsMlNetEngine(string trainer)
    {
        var (plan, model) = await TrainAsync(trainer);
        var compiled = new BatchScorer(new MemoryStream(model), plan);
        var reference = new BatchScorer(new MemoryStream(model), plan, compile: false);
        var input = string.Join("\n", SyntheticRows(3000)) + "\n" + Tricky;

        var fast = await ScoreAsync(compiled, input, parallelism: 2);
        var slow = await ScoreAsync(reference, input, parallelism: 1);

        Assert.NotNull(compiled.Compiled);
        Assert.Null(reference.Vector);
        Assert.Equal(slow.Counts, fast.Counts);
        Assert.Equal(slow.Errors, fast.Errors);
        Assert.Equal(slow.Lines.Length, fast.Lines.Length);
        for (var i = 0; i < slow.Lines.Length; i++)
        {
            var (a, b) = (slow.Lines[i].Split(','), fast.Lines[i].Split(','));
            Assert.Equal(a[..^2], b[..^2]);
            Assert.InRange(double.Parse(b[^1], CultureInfo.InvariantCulture) - double.Parse(a[^1], CultureInfo.InvariantCulture), -2e-6, 2e-6);
        }

        Assert.Contains("\"C-4, Jr.\",", fast.Lines[3003], StringComparison.Ordinal);
        Assert.StartsWith("3008,", fast.Errors.Split('\n')[0], StringComparison.Ordinal);
    }

    /// <summary>
    /// Records cut across reads anywhere (a quote, a doubled quote, a line break inside quotes, a CRLF split in two)
    /// are scanned as in one read: the chunker's scanner resumes where the last read ended.
    /// </summary>
    [Fact]
    public async Task Score_ReadsOfAFewBytes_SameAsOneRead()
    {
        var (plan, model) = await TrainAsync("LightGbm");
        var scorer = new BatchScorer(new MemoryStream(model), plan);
        var quoted = Enumerable.Range(0, 300).Select(i => i % 3 == 0 ? $"\"K \"\"{i}\"\"\nline\",1.5,2,red,yes\r" : $"K-{i},{i % 7 - 3},1,blue,no");
        var input = string.Join("\n", quoted.Concat(SyntheticRows(500))) + "\n" + Tricky;

        var whole = await ScoreAsync(scorer, new MemoryStream(Encoding.UTF8.GetBytes(input)), 2);
        var trickled = await ScoreAsync(scorer, new TrickleStream(Encoding.UTF8.GetBytes(input)), 2);

        Assert.Equal(whole.Counts, trickled.Counts);
        Assert.Equal(whole.Lines, trickled.Lines);
        Assert.Equal(whole.Errors, trickled.Errors);
        Assert.Equal(300 + 500 + 14, whole.Counts.RowsIn);
        Assert.Equal(("2,\"K \"\"0\"\"", "line\","), (whole.Lines[0], whole.Lines[1][..6]));
    }

    private static IEnumerable<string> SyntheticRows(int count)
    {
        var random = new Random(7);
        string[] colors = ["red", "green", "blue"];
        for (var i = 0; i < count; i++)
        {
            yield return FormattableString.Invariant($"S-{i},{random.NextDouble() * 4 - 2:0.####},{random.NextDouble() * 4 - 2:0.####},{colors[random.Next(3)]},{(random.Next(2) == 0 ? "yes" : "no")}");
        }
    }

    private static Task<(ScoringCounts Counts, string[] Lines, string Errors)> ScoreAsync(BatchScorer scorer, string input, int parallelism) =>
        ScoreAsync(scorer, new MemoryStream(Encoding.UTF8.GetBytes(input)), parallelism);

    private static async Task<(ScoringCounts Counts, string[] Lines, string Errors)> ScoreAsync(BatchScorer scorer, Stream input, int parallelism)
    {
        using var predictions = new MemoryStream();
        using var errors = new MemoryStream();
        var counts = await scorer.ScoreAsync(input, Header, 2, "customer_id", predictions, errors, parallelism, CancellationToken.None);
        var lines = Encoding.UTF8.GetString(predictions.ToArray()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        return (counts with { Duration = TimeSpan.Zero }, lines, Encoding.UTF8.GetString(errors.ToArray()));
    }

    private async Task<(FeaturizationPlan Plan, byte[] Model)> TrainAsync(string trainer)
    {
        var random = new Random(1);
        var text = new StringBuilder(Header + ",churned\n");
        string[] colors = ["red", "green", "blue"];
        for (var i = 0; i < 800; i++)
        {
            var (x1, x2, color, member) = (random.NextDouble() * 4 - 2, random.NextDouble() * 4 - 2, colors[random.Next(3)], random.Next(2) == 0);
            var x1Text = i % 23 == 0 ? string.Empty : x1.ToString("0.####", CultureInfo.InvariantCulture);
            var churned = 2 * x1 - x2 + (color == "red" ? 1 : 0) + (member ? 0.5 : 0) + (random.NextDouble() - 0.5) > 0.3;
            text.Append(CultureInfo.InvariantCulture, $"C-{i},{x1Text},{x2:0.####},{color},{(member ? "yes" : "no")},{(churned ? "yes" : "no")}\n");
        }

        var training = Encoding.UTF8.GetBytes(text.ToString());
        var ingestor = new DatasetIngestor(new BlobContainerClient(azurite.ConnectionString, $"cs-{Guid.NewGuid():N}"[..24]), TimeProvider.System);
        var snapshot = await ingestor.IngestAsync(new MemoryStream(training), "train.csv", new IngestOptions(Label: "churned"), CancellationToken.None);
        var plan = FeaturizationPlan.Create(snapshot.Schema, snapshot.Profile, "churned");
        var model = new TrialRunner().Run(new MemoryStream(training), snapshot, plan, new TrialConfiguration(trainer, new Dictionary<string, double>())).Model;
        return (plan, model);
    }

    /// <summary>A stream that returns 1 to 7 bytes a read.</summary>
    private sealed class TrickleStream(byte[] bytes) : MemoryStream(bytes)
    {
        private int _reads;

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            base.ReadAsync(buffer[..Math.Min(buffer.Length, 1 + (_reads++ % 7))], cancellationToken);
    }
}
