using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Serverless.Pipeline.Data;
using Serverless.Pipeline.Registry;
using Serverless.Pipeline.Scoring;
using Serverless.Pipeline.Tests.Data;
using Serverless.Pipeline.Training;
using Serverless.Testing;

namespace Serverless.Pipeline.Tests.Scoring;

/// <summary>A registered model served from the registry on a real Azurite: online predictions, the cache, and blob scoring whole and in parts.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class ServingTests(AzuriteFixture azurite) : IAsyncLifetime
{
    private readonly string _name = $"serve-{Guid.NewGuid():N}"[..20];
    private readonly BlobContainerClient _artifacts = new(azurite.ConnectionString, "models");
    private readonly BlobContainerClient _files = new(azurite.ConnectionString, $"sv-{Guid.NewGuid():N}"[..24]);
    private ModelRegistry _registry = null!;
    private ModelRegistration _registration = null!;
    private byte[] _model = [];

    public async Task InitializeAsync()
    {
        _registry = new ModelRegistry(new TableServiceClient(azurite.ConnectionString), _artifacts, TimeProvider.System);
        await _registry.EnsureCreatedAsync(CancellationToken.None);
        await _files.CreateAsync();
        var training = SyntheticData.CustomersCsv(600, seed: 1, withLabel: true, badEvery: 0);
        var snapshot = await new DatasetIngestor(_files, TimeProvider.System).IngestAsync(new MemoryStream(Encoding.UTF8.GetBytes(training)), "train.csv", new IngestOptions(Label: "churned"), CancellationToken.None);
        var plan = FeaturizationPlan.Create(snapshot.Schema, snapshot.Profile, "churned");
        var trial = new TrialRunner().Run(new MemoryStream(Encoding.UTF8.GetBytes(training)), snapshot, plan, new TrialConfiguration("LightGbm", new Dictionary<string, double> { ["numberOfIterations"] = 30 }));
        _model = trial.Model;
        _registration = new ModelRegistration(_name, "run-1", "LightGbm", trial.Configuration.Parameters, trial.Metrics, ModelSignature.From(snapshot.Schema, plan, snapshot.Profile), plan, snapshot.Id);
        await _registry.RegisterAsync(_registration, new MemoryStream(_model), CancellationToken.None);
        await _registry.SetAliasAsync(_name, "champion", 1, CancellationToken.None);
    }

    public Task DisposeAsync() => _files.DeleteIfExistsAsync();

    [Fact]
    public async Task Predict_ByAlias_ClassAndProbabilityBadRowNamesTheColumn()
    {
        var model = await new ModelCache(_registry).GetByAliasAsync(_name, "champion", CancellationToken.None);

        var results = model!.Predict([Row("1.5", "-1", "red"), Row("oops", "0", "blue"), Row("-2", "2", "green")]);

        Assert.Equal(["x1", "x2", "color"], model.Version.Signature.Inputs.Select(i => i.Name));
        Assert.Equal("yes", results[0].Prediction);
        Assert.InRange((double)results[0].Probabilities!["probability_yes"], 0.5, 1);
        Assert.Equal(1, (double)results[0].Probabilities!["probability_no"] + (double)results[0].Probabilities!["probability_yes"], 5);
        Assert.Equal(["prediction", "probability_no", "probability_yes"], model.Version.Signature.Outputs);
        Assert.Equal("yes", model.Version.Signature.PositiveClass);
        Assert.Equal("row 2: 'x1': 'oops' is not a number", results[1].Error);
        Assert.Null(results[1].Prediction);
        Assert.Equal("no", results[2].Prediction);
    }

    [Fact]
    public async Task Predict_RowWithoutARequiredColumn_ErrorNamesIt()
    {
        var model = await new ModelCache(_registry).GetByAliasAsync(_name, "champion", CancellationToken.None);
        var partial = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase) { ["x1"] = "1", ["x2"] = "0" };

        var results = model!.Predict([partial, Row("1.5", "-1", "red")]);

        Assert.All(model.Version.Signature.Inputs, i => Assert.True(i.Required, i.Name));
        Assert.Equal("row 1: 'color' is missing; the model needs it (it had no missing value in training)", results[0].Error);
        Assert.Null(results[0].Prediction);
        Assert.Equal("yes", results[1].Prediction);
    }

    [Fact]
    public async Task Predict_ManyThreadsAtOnce_SameAnswersAsOneThread()
    {
        var model = await new ModelCache(_registry).GetAsync(_name, 1, CancellationToken.None);
        var random = new Random(5);
        var rows = Enumerable.Range(0, 400).Select(_ => Row($"{(random.NextDouble() * 4) - 2:0.###}", $"{(random.NextDouble() * 4) - 2:0.###}", random.Next(2) == 0 ? "red" : "blue")).ToList();
        var sequential = rows.Select(r => model.Predict([r])[0]).ToList();

        var parallel = new OnlinePrediction[rows.Count];
        Parallel.For(0, rows.Count, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i => parallel[i] = model.Predict([rows[i]])[0]);

        Assert.Equal(sequential.Select(p => JsonSerializer.Serialize(p)), parallel.Select(p => JsonSerializer.Serialize(p)));
    }

    [Fact]
    public async Task Evaluate_LabeledBatch_MetricsTrackTheTruthAndNoLabelGivesNone()
    {
        var model = await new ModelCache(_registry).GetAsync(_name, 1, CancellationToken.None);
        var labeled = SyntheticData.CustomersCsv(2000, seed: 6, withLabel: true, badEvery: 100);
        var flipped = labeled.Replace(",yes\n", ",tmp\n", StringComparison.Ordinal).Replace(",no\n", ",yes\n", StringComparison.Ordinal).Replace(",tmp\n", ",no\n", StringComparison.Ordinal);

        var good = model.Batch.Evaluate(new MemoryStream(Encoding.UTF8.GetBytes(labeled)), 1500);
        var bad = model.Batch.Evaluate(new MemoryStream(Encoding.UTF8.GetBytes(flipped)), 1500);
        var none = model.Batch.Evaluate(new MemoryStream(Encoding.UTF8.GetBytes(SyntheticData.CustomersCsv(100, seed: 6, withLabel: false, badEvery: 0))), 1500);

        Assert.InRange(good!["auc"], 0.9, 1.0);
        Assert.InRange(bad!["auc"], 0.0, 0.1);
        Assert.Equal(1500, good["labeledRows"]);
        Assert.Null(none);
    }

    [Fact]
    public async Task Cache_MoreVersionsThanCapacity_EvictsTheLeastRecentlyUsed()
    {
        await _registry.RegisterAsync(_registration with { RunId = "run-2" }, new MemoryStream(_model), CancellationToken.None);
        await _registry.RegisterAsync(_registration with { RunId = "run-3" }, new MemoryStream(_model), CancellationToken.None);
        var cache = new ModelCache(_registry, capacity: 2);

        var first = await cache.GetAsync(_name, 1, CancellationToken.None);
        await cache.GetAsync(_name, 2, CancellationToken.None);
        var again = await cache.GetAsync(_name, 1, CancellationToken.None);
        await cache.GetAsync(_name, 3, CancellationToken.None);

        Assert.Same(first, again);
        Assert.Equal([$"{_name}/3", $"{_name}/1"], cache.Loaded);
    }

    /// <summary>
    /// What an alias points at is kept for a few seconds, so a prediction does not read the registry's table: a move
    /// through the same registry is seen at once, a move by another instance (another registry) once that time passed.
    /// </summary>
    [Fact]
    public async Task Cache_AliasMoved_SeenAtOnceHereAndAfterTheLifetimeFromElsewhere()
    {
        await _registry.RegisterAsync(_registration with { RunId = "run-2" }, new MemoryStream(_model), CancellationToken.None);
        await _registry.RegisterAsync(_registration with { RunId = "run-3" }, new MemoryStream(_model), CancellationToken.None);
        var clock = new ManualClock();
        var cache = new ModelCache(_registry, time: clock);
        var elsewhere = new ModelRegistry(new TableServiceClient(azurite.ConnectionString), _artifacts, TimeProvider.System);

        var before = await cache.GetByAliasAsync(_name, "champion", CancellationToken.None);
        await _registry.SetAliasAsync(_name, "champion", 2, CancellationToken.None);
        var movedHere = await cache.GetByAliasAsync(_name, "champion", CancellationToken.None);
        await elsewhere.SetAliasAsync(_name, "champion", 3, CancellationToken.None);
        var stale = await cache.GetByAliasAsync(_name, "champion", CancellationToken.None);
        clock.Advance(ModelCache.AliasLifetime + TimeSpan.FromMilliseconds(1));
        var fresh = await cache.GetByAliasAsync(_name, "champion", CancellationToken.None);

        Assert.Equal([1, 2, 2, 3], new[] { before, movedHere, stale, fresh }.Select(m => m!.Version.Version));
    }

    [Fact]
    public async Task Cache_ArtifactChangedAfterRegistration_RefusedAndNotCached()
    {
        await _artifacts.GetBlobClient($"{_name}/1/model.zip").UploadAsync(BinaryData.FromString("tampered"), overwrite: true);
        var cache = new ModelCache(_registry);

        var error = await Assert.ThrowsAsync<ModelRegistryConflictException>(() => cache.GetAsync(_name, 1, CancellationToken.None));

        Assert.Contains("SHA-256", error.Message, StringComparison.Ordinal);
        Assert.Empty(cache.Loaded);
    }

    [Fact]
    public async Task ScoreBlob_MissingInputColumn_RejectedNamingItNothingWritten()
    {
        var input = _files.GetBlobClient("in/no-color.csv");
        await input.UploadAsync(BinaryData.FromString("customer_id,x1,x2\nC-1,1,2\n"));
        var model = await new ModelCache(_registry).GetAsync(_name, 1, CancellationToken.None);

        var result = await BlobScoring.ScoreAsync(input, (await input.GetPropertiesAsync()).Value.ETag, model, _files, "out/no-color.csv", CancellationToken.None);

        Assert.Equal(BlobScoringStatus.Rejected, result.Status);
        Assert.Contains($"{_files.Name}/in/no-color.csv, row 1: no column 'color'", result.Problems.Single(), StringComparison.Ordinal);
        Assert.False(await _files.GetBlobClient("out/no-color.csv/predictions.csv").ExistsAsync());
    }

    /// <summary>The check: a 1M-row file scored in four parts, merged, equals the file scored whole (and so does scoring it on two cores at once); bad rows go to errors; the input is untouched.</summary>
    [Fact]
    public async Task ScoreBlob_MillionRowsInParts_EqualsWholeRejectsWrittenInputUntouched()
    {
        const int Rows = 1_000_000;
        var input = _files.GetBlobClient("in/million.csv");
        await input.UploadAsync(BinaryData.FromString(SyntheticData.CustomersCsv(Rows, seed: 9, withLabel: false, badEvery: 1000)));
        var before = (await input.GetPropertiesAsync()).Value;
        var model = await new ModelCache(_registry).GetAsync(_name, 1, CancellationToken.None);

        var whole = await BlobScoring.ScoreAsync(input, before.ETag, model, _files, "out/whole", CancellationToken.None);
        var (header, ranges) = await BlobScoring.PlanPartsAsync(input, before.ETag, 4, CancellationToken.None);
        var parts = await Task.WhenAll(ranges.Select(r => BlobScoring.ScorePartAsync(input, before.ETag, model, header, r, _files, "out/parts", CancellationToken.None)));
        await BlobScoring.MergeAsync(model, header, ranges.Count, _files, "out/parts", CancellationToken.None);
        var onTwoCores = await BlobScoring.ScoreAsync(input, before.ETag, model, _files, "out/two-cores", CancellationToken.None, parallelism: 2);

        Assert.Equal((Rows, Rows - 1000L, 1000L), (whole.Counts.RowsIn, whole.Counts.RowsScored, whole.Counts.RowsRejected));
        Assert.Equal(4, ranges.Count);
        Assert.Equal(whole.Counts.RowsIn, parts.Sum(p => p.RowsIn));
        Assert.Equal(await HashAsync("out/whole/predictions.csv"), await HashAsync("out/parts/predictions.csv"));
        Assert.Equal(await HashAsync("out/whole/errors.csv"), await HashAsync("out/parts/errors.csv"));
        Assert.Equal(await HashAsync("out/whole/predictions.csv"), await HashAsync("out/two-cores/predictions.csv"));
        Assert.Equal((whole.Counts.RowsScored, whole.Counts.RowsRejected), (onTwoCores.Counts.RowsScored, onTwoCores.Counts.RowsRejected));
        var errors = (await _files.GetBlobClient("out/parts/errors.csv").DownloadContentAsync()).Value.Content.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["row,reason", "1001,column 2: 'not-a-number' is not a number"], errors[..2]);
        Assert.Empty(_files.GetBlobs(Azure.Storage.Blobs.Models.BlobTraits.None, Azure.Storage.Blobs.Models.BlobStates.None, "out/parts/parts/", CancellationToken.None));
        var after = (await input.GetPropertiesAsync()).Value;
        Assert.Equal((before.ETag, before.ContentLength), (after.ETag, after.ContentLength));
    }

    private async Task<string> HashAsync(string blob)
    {
        await using var content = await _files.GetBlobClient(blob).OpenReadAsync();
        return Convert.ToHexStringLower(await SHA256.HashDataAsync(content));
    }

    private static Dictionary<string, string?> Row(string x1, string x2, string color) => new() { ["x1"] = x1, ["X2"] = x2, ["color"] = color, ["customer_id"] = "C-1" };

    /// <summary>A clock that moves only when told.</summary>
    private sealed class ManualClock : TimeProvider
    {
        private long _ticks;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => _ticks;

        public void Advance(TimeSpan by) => _ticks += by.Ticks;
    }
}
